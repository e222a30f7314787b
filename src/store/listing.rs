//! Paginated, filtered reads for the management API: users, sessions and
//! refresh tokens, newest first.
//!
//! Pages are keyset pages on the primary key. Ids are UUIDv7 strings, which
//! sort by creation time, so "after this id" stays the same set of rows when
//! new ones arrive (they sort before every cursor), unlike an offset.

use chrono::{DateTime, Utc};
use entity::{refresh_token, session, user};
use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, Query};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};

use super::views::{RefreshTokenInfo, SessionInfo, TokenStatus};
use super::{Store, StoreError};
use crate::domain::User;
use crate::store::tokens::ROTATED;

/// Which page: at most `first` rows whose id sorts below `after`.
#[derive(Debug, Clone)]
pub struct PageRequest {
    pub first: u64,
    pub after: Option<String>,
}

/// One page, whether more follow, and how many rows match in all.
#[derive(Debug)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub has_next: bool,
    pub total: u64,
}

/// The tokens of a user, optionally in one state.
pub struct TokenFilter {
    pub user_id: String,
    pub status: Option<TokenStatus>,
    pub now: DateTime<Utc>,
}

/// The sessions of a user, optionally only those still usable.
pub struct SessionFilter {
    pub user_id: String,
    pub active_only: bool,
    pub now: DateTime<Utc>,
}

/// Refresh tokens in `status` as of `now`.
fn status_condition(status: TokenStatus, now: DateTime<Utc>) -> Condition {
    use refresh_token::Column as C;
    match status {
        TokenStatus::Active => Condition::all()
            .add(C::RevokedAt.is_null())
            .add(C::ExpiresAt.gt(now)),
        TokenStatus::Expired => Condition::all()
            .add(C::RevokedAt.is_null())
            .add(C::ExpiresAt.lte(now)),
        TokenStatus::Rotated => Condition::all()
            .add(C::RevokedAt.is_not_null())
            .add(C::RevokedReason.eq(ROTATED)),
        TokenStatus::Revoked => Condition::all().add(C::RevokedAt.is_not_null()).add(
            Condition::any()
                .add(C::RevokedReason.is_null())
                .add(C::RevokedReason.ne(ROTATED)),
        ),
    }
}

/// Sessions that still hold an active refresh token as of `now`. Only a
/// live, unrevoked session can: revoking a session revokes its tokens, and
/// no token outlives its session.
fn session_active_condition(now: DateTime<Utc>) -> Condition {
    let live_token = Query::select()
        .expr(Expr::val(1))
        .from(refresh_token::Entity)
        .and_where(
            Expr::col((refresh_token::Entity, refresh_token::Column::SessionId))
                .equals((session::Entity, session::Column::Id)),
        )
        .and_where(Expr::col((refresh_token::Entity, refresh_token::Column::RevokedAt)).is_null())
        .and_where(Expr::col((refresh_token::Entity, refresh_token::Column::ExpiresAt)).gt(now))
        .to_owned();
    Condition::all()
        .add(session::Column::RevokedAt.is_null())
        .add(session::Column::ExpiresAt.gt(now))
        .add(Expr::exists(live_token))
}

/// `%…%` for a LIKE, with the pattern characters of `needle` escaped.
fn contains_pattern(needle: &str) -> LikeExpr {
    let mut escaped = String::with_capacity(needle.len() + 2);
    escaped.push('%');
    for c in needle.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    LikeExpr::new(escaped).escape('\\')
}

impl Store {
    /// Runs a keyset page over `select`: the total, then `first + 1` rows
    /// below the cursor, newest first.
    async fn keyset_page<E>(
        &self,
        select: Select<E>,
        id: E::Column,
        page: &PageRequest,
    ) -> Result<(Vec<E::Model>, bool, u64), StoreError>
    where
        E: EntityTrait,
        E::Model: Sync,
    {
        let total = select.clone().count(&self.db).await?;
        let mut select = select;
        if let Some(after) = &page.after {
            select = select.filter(id.lt(after.clone()));
        }
        let mut rows = select
            .order_by_desc(id)
            .limit(page.first.saturating_add(1))
            .all(&self.db)
            .await?;
        let has_next = rows.len() as u64 > page.first;
        rows.truncate(usize::try_from(page.first).unwrap_or(usize::MAX));
        Ok((rows, has_next, total))
    }

    /// Users, optionally those whose email or name contains `search`
    /// (case-insensitively).
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn list_users(
        &self,
        search: Option<&str>,
        page: &PageRequest,
    ) -> Result<Page<User>, StoreError> {
        let mut select = user::Entity::find();
        if let Some(needle) = search.map(str::trim).filter(|s| !s.is_empty()) {
            let lower = |c: user::Column| Expr::expr(Func::lower(Expr::col(c)));
            select = select.filter(
                Condition::any()
                    .add(lower(user::Column::EmailNormalized).like(contains_pattern(needle)))
                    .add(lower(user::Column::FirstName).like(contains_pattern(needle)))
                    .add(lower(user::Column::LastName).like(contains_pattern(needle))),
            );
        }
        let (rows, has_next, total) = self.keyset_page(select, user::Column::Id, page).await?;
        Ok(Page {
            items: rows.into_iter().map(User::from).collect(),
            has_next,
            total,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn list_refresh_tokens(
        &self,
        filter: &TokenFilter,
        page: &PageRequest,
    ) -> Result<Page<RefreshTokenInfo>, StoreError> {
        let mut select =
            refresh_token::Entity::find().filter(refresh_token::Column::UserId.eq(&filter.user_id));
        if let Some(status) = filter.status {
            select = select.filter(status_condition(status, filter.now));
        }
        let (rows, has_next, total) = self
            .keyset_page(select, refresh_token::Column::Id, page)
            .await?;
        Ok(Page {
            items: rows.into_iter().map(RefreshTokenInfo::from).collect(),
            has_next,
            total,
        })
    }

    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn list_sessions(
        &self,
        filter: &SessionFilter,
        page: &PageRequest,
    ) -> Result<Page<SessionInfo>, StoreError> {
        let mut select =
            session::Entity::find().filter(session::Column::UserId.eq(&filter.user_id));
        if filter.active_only {
            select = select.filter(session_active_condition(filter.now));
        }
        let (rows, has_next, total) = self.keyset_page(select, session::Column::Id, page).await?;
        let items = self.with_activity(rows, filter.now).await?;
        Ok(Page {
            items,
            has_next,
            total,
        })
    }

    /// Attaches to each session whether it is active, in one query.
    pub(super) async fn with_activity(
        &self,
        rows: Vec<session::Model>,
        now: DateTime<Utc>,
    ) -> Result<Vec<SessionInfo>, StoreError> {
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let ids: Vec<String> = rows.iter().map(|s| s.id.clone()).collect();
        let active: std::collections::HashSet<String> = session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .filter(session::Column::Id.is_in(ids))
            .filter(session_active_condition(now))
            .into_tuple::<String>()
            .all(&self.db)
            .await?
            .into_iter()
            .collect();
        Ok(rows
            .into_iter()
            .map(|m| {
                let is_active = active.contains(&m.id);
                SessionInfo::new(m, is_active)
            })
            .collect())
    }

    /// One session with its activity, by id.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn find_session_info(
        &self,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionInfo>, StoreError> {
        let Some(model) = session::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
        else {
            return Ok(None);
        };
        Ok(self.with_activity(vec![model], now).await?.pop())
    }

    /// One refresh token, by id (not by value).
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn find_refresh_token_info(
        &self,
        id: &str,
    ) -> Result<Option<RefreshTokenInfo>, StoreError> {
        Ok(refresh_token::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .map(RefreshTokenInfo::from))
    }
}
