//! Sessions and refresh tokens: login, rotation, revocation.
//!
//! Tokens are found by the digest of their value, never by the value.

use chrono::{DateTime, Utc};
use entity::{refresh_token, session, user};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveValue::Set, ColumnTrait, EntityTrait, QueryFilter};

use super::{Store, StoreError};
use crate::domain::{RefreshTokenRecord, Scope, User};

/// The reason stored on a token spent by rotation; every other reason is a
/// revocation.
pub const ROTATED: &str = "rotated";

pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub scope: Scope,
    pub expires_at: DateTime<Utc>,
    pub created_by_ip: Option<String>,
    pub user_agent: Option<String>,
}

pub struct NewRefreshToken {
    pub id: String,
    pub token_hash: String,
    pub user_id: String,
    pub client_id: String,
    pub session_id: String,
    pub parent_id: Option<String>,
    pub scope: Scope,
    pub expires_at: DateTime<Utc>,
    pub created_by_ip: Option<String>,
    pub user_agent: Option<String>,
}

impl NewRefreshToken {
    pub(super) fn into_active(self, now: DateTime<Utc>) -> refresh_token::ActiveModel {
        refresh_token::ActiveModel {
            id: Set(self.id),
            token_hash: Set(self.token_hash),
            user_id: Set(self.user_id),
            client_id: Set(self.client_id),
            session_id: Set(self.session_id),
            parent_id: Set(self.parent_id),
            replaced_by_id: Set(None),
            scope: Set(self.scope.to_string()),
            created_at: Set(now),
            expires_at: Set(self.expires_at),
            revoked_at: Set(None),
            revoked_reason: Set(None),
            created_by_ip: Set(self.created_by_ip),
            user_agent: Set(self.user_agent),
        }
    }
}

/// What became of a rotation.
#[derive(Debug, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The presented token was active and is now retired; the successor is stored.
    Rotated,
    /// Someone retired the presented token first (a concurrent refresh, or a
    /// revocation): nothing was written.
    AlreadyRetired,
}

impl Store {
    /// Starts a session with its first refresh token, atomically.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn start_session(
        &self,
        new: NewSession,
        first_token: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let session = session::ActiveModel {
            id: Set(new.id),
            user_id: Set(new.user_id),
            client_id: Set(new.client_id),
            scope: Set(new.scope.to_string()),
            created_at: Set(now),
            last_refreshed_at: Set(None),
            expires_at: Set(new.expires_at),
            revoked_at: Set(None),
            revoked_reason: Set(None),
            created_by_ip: Set(new.created_by_ip),
            user_agent: Set(new.user_agent),
        };
        let txn = self.begin_write().await?;
        session::Entity::insert(session)
            .exec_without_returning(txn.conn())
            .await?;
        refresh_token::Entity::insert(first_token.into_active(now))
            .exec_without_returning(txn.conn())
            .await?;
        txn.commit().await
    }

    /// Looks a refresh token up by its digest, with its session.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn find_refresh_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<RefreshTokenRecord>, StoreError> {
        if let Some(direct) = &self.direct {
            return direct.find_refresh_token(token_hash);
        }
        // One round trip for the token, its session and its user.
        let found = refresh_token::Entity::find()
            .filter(refresh_token::Column::TokenHash.eq(token_hash))
            .find_also_related(session::Entity)
            .find_also_related(user::Entity)
            .one(&self.db)
            .await?;
        Ok(found.and_then(|(token, session, user)| {
            let (session, user) = (session?, user?);
            Some(RefreshTokenRecord {
                id: token.id,
                user_id: token.user_id,
                client_id: token.client_id,
                session_id: token.session_id,
                scope: Scope::from_stored(&token.scope),
                created_at: token.created_at,
                expires_at: token.expires_at,
                revoked_at: token.revoked_at,
                revoked_reason: token.revoked_reason,
                session_scope: Scope::from_stored(&session.scope),
                session_expires_at: session.expires_at,
                session_revoked_at: session.revoked_at,
                user: User::from(user),
            })
        }))
    }

    /// Revokes a session and every still-active token of it; returns how many
    /// tokens that revoked.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn revoke_session(
        &self,
        session_id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // Tokens before the session, the order `rotate` locks them in, so
        // that a revocation racing a rotation waits instead of deadlocking.
        // The session row is what counts: a successor a racing rotation
        // inserts is dead with its session even if this update missed it.
        let txn = self.begin_write().await?;
        let tokens = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .col_expr(refresh_token::Column::RevokedReason, Expr::value(reason))
            .filter(refresh_token::Column::SessionId.eq(session_id))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(txn.conn())
            .await?
            .rows_affected;
        session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .col_expr(session::Column::RevokedReason, Expr::value(reason))
            .filter(session::Column::Id.eq(session_id))
            .filter(session::Column::RevokedAt.is_null())
            .exec(txn.conn())
            .await?;
        txn.commit().await?;
        crate::metrics::get().revoked(reason, tokens);
        Ok(tokens)
    }
}

/// A session as stored.
#[derive(Debug, Clone)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    pub client_id: String,
    pub revoked_at: Option<DateTime<Utc>>,
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn find_session(&self, id: &str) -> Result<Option<SessionRecord>, StoreError> {
        Ok(session::Entity::find_by_id(id.to_string())
            .one(&self.db)
            .await?
            .map(|s| SessionRecord {
                id: s.id,
                user_id: s.user_id,
                client_id: s.client_id,
                revoked_at: s.revoked_at,
            }))
    }

    /// Revokes one refresh token if it is still active; `true` if it was.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn revoke_refresh_token(
        &self,
        id: &str,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let _w = self.write_lock().await;
        let n = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .col_expr(refresh_token::Column::RevokedReason, Expr::value(reason))
            .filter(refresh_token::Column::Id.eq(id))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec(&self.db)
            .await?
            .rows_affected;
        crate::metrics::get().revoked(reason, n);
        Ok(n == 1)
    }

    /// Revokes every session and active token of a user, except the session
    /// `keep` (the caller's own, when changing a password). Returns how many
    /// tokens were revoked.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let txn = self.begin_write().await?;
        let mut sessions = session::Entity::update_many()
            .col_expr(session::Column::RevokedAt, Expr::value(now))
            .col_expr(session::Column::RevokedReason, Expr::value(reason))
            .filter(session::Column::UserId.eq(user_id))
            .filter(session::Column::RevokedAt.is_null());
        let mut tokens = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .col_expr(refresh_token::Column::RevokedReason, Expr::value(reason))
            .filter(refresh_token::Column::UserId.eq(user_id))
            .filter(refresh_token::Column::RevokedAt.is_null());
        if let Some(keep) = keep {
            sessions = sessions.filter(session::Column::Id.ne(keep));
            tokens = tokens.filter(refresh_token::Column::SessionId.ne(keep));
        }
        // Tokens first: the lock order of `rotate` (see `revoke_session`).
        let revoked = tokens.exec(txn.conn()).await?.rows_affected;
        sessions.exec(txn.conn()).await?;
        txn.commit().await?;
        crate::metrics::get().revoked(reason, revoked);
        Ok(revoked)
    }

    /// Ids of sessions revoked after `since`: access tokens of older ones
    /// have expired anyway.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn sessions_revoked_since(
        &self,
        since: DateTime<Utc>,
    ) -> Result<Vec<String>, StoreError> {
        use sea_orm::QuerySelect;
        Ok(session::Entity::find()
            .select_only()
            .column(session::Column::Id)
            .filter(session::Column::RevokedAt.gt(since))
            .into_tuple::<String>()
            .all(&self.db)
            .await?)
    }
}
