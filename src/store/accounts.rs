//! Changes to users made by the management API: password, roles, disabled.

use chrono::{DateTime, Utc};
use entity::user;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::{Store, StoreError};
use crate::domain::User;

impl Store {
    /// Replaces a user's password hash; `false` if there is no such user.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn set_password_hash(
        &self,
        user_id: &str,
        password_hash: String,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _w = self.write_lock().await;
        let n = user::Entity::update_many()
            .col_expr(user::Column::PasswordHash, Expr::value(password_hash))
            .col_expr(user::Column::UpdatedAt, Expr::value(now))
            .filter(user::Column::Id.eq(user_id))
            .exec(&self.db)
            .await?
            .rows_affected;
        Ok(n == 1)
    }

    /// Replaces a user's roles; the updated user, or `None` if unknown.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn set_user_roles(
        &self,
        user_id: &str,
        roles: &[String],
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        {
            let _w = self.write_lock().await;
            user::Entity::update_many()
                .col_expr(user::Column::Roles, Expr::value(roles.join(" ")))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(user_id))
                .exec(&self.db)
                .await?;
        }
        self.find_user(user_id).await
    }

    /// Disables or re-enables a user; the updated user, or `None` if unknown.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn set_user_disabled(
        &self,
        user_id: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<User>, StoreError> {
        {
            let _w = self.write_lock().await;
            user::Entity::update_many()
                .col_expr(user::Column::Disabled, Expr::value(disabled))
                .col_expr(user::Column::UpdatedAt, Expr::value(now))
                .filter(user::Column::Id.eq(user_id))
                .exec(&self.db)
                .await?;
        }
        self.find_user(user_id).await
    }
}
