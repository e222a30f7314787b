//! Batched lookups for the GraphQL DataLoaders: one statement for many keys,
//! so that a list of N items with nested fields costs the same few queries
//! whatever N is.

use entity::{refresh_token, user};
use sea_orm::sea_query::{Alias, Asterisk, Expr, ExprTrait, Order, Query, WindowStatement};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::views::RefreshTokenInfo;
use super::{Store, StoreError};
use crate::domain::User;

impl Store {
    /// The users with these ids (unknown ids are left out).
    #[tracing::instrument(level = "debug", skip_all, fields(keys = ids.len()), err)]
    pub async fn users_by_ids(&self, ids: &[String]) -> Result<Vec<User>, StoreError> {
        Ok(user::Entity::find()
            .filter(user::Column::Id.is_in(ids.iter().cloned()))
            .all(&self.db)
            .await?
            .into_iter()
            .map(User::from)
            .collect())
    }

    /// The `per_session` newest refresh tokens of each of these sessions, in
    /// one statement (a window function numbers each session's tokens).
    #[tracing::instrument(level = "debug", skip_all, fields(keys = session_ids.len()), err)]
    pub async fn recent_tokens_of_sessions(
        &self,
        session_ids: &[String],
        per_session: u64,
    ) -> Result<Vec<RefreshTokenInfo>, StoreError> {
        if session_ids.is_empty() || per_session == 0 {
            return Ok(Vec::new());
        }
        let numbered = Query::select()
            .column(Asterisk)
            .expr_window_as(
                Expr::cust("ROW_NUMBER()"),
                WindowStatement::partition_by(refresh_token::Column::SessionId)
                    .order_by(refresh_token::Column::Id, Order::Desc)
                    .to_owned(),
                "rn",
            )
            .from(refresh_token::Entity)
            .and_where(
                Expr::col(refresh_token::Column::SessionId).is_in(session_ids.iter().cloned()),
            )
            .to_owned();
        let newest = Query::select()
            .column(Asterisk)
            .from_subquery(numbered, Alias::new("numbered"))
            .and_where(Expr::col(Alias::new("rn")).lte(per_session))
            .order_by(refresh_token::Column::Id, Order::Desc)
            .to_owned();
        let statement = self.db.get_database_backend().build(&newest);
        Ok(refresh_token::Entity::find()
            .from_raw_sql(statement)
            .all(&self.db)
            .await?
            .into_iter()
            .map(RefreshTokenInfo::from)
            .collect())
    }
}
