//! The `RefreshToken` type. It has every fact about a token but its value,
//! which is never stored (only its digest is, and that is not shown either).

use async_graphql::{Context, Enum, ID, Object};
use chrono::{DateTime, Utc};

use crate::graphql::error::ApiResult;
use crate::graphql::loaders;
use crate::graphql::users::UserNode;
use crate::oauth::management::split_reason;
use crate::store::{RefreshTokenInfo, TokenStatus};

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
#[graphql(name = "RefreshTokenStatus")]
pub enum Status {
    /// Usable: neither retired nor expired.
    Active,
    /// Never retired, but past its expiry.
    Expired,
    /// Retired by a revocation.
    Revoked,
    /// Retired by rotation: a successor replaced it.
    Rotated,
}

impl From<TokenStatus> for Status {
    fn from(s: TokenStatus) -> Self {
        match s {
            TokenStatus::Active => Status::Active,
            TokenStatus::Expired => Status::Expired,
            TokenStatus::Revoked => Status::Revoked,
            TokenStatus::Rotated => Status::Rotated,
        }
    }
}

impl From<Status> for TokenStatus {
    fn from(s: Status) -> Self {
        match s {
            Status::Active => TokenStatus::Active,
            Status::Expired => TokenStatus::Expired,
            Status::Revoked => TokenStatus::Revoked,
            Status::Rotated => TokenStatus::Rotated,
        }
    }
}

/// A token, with the instant its state was judged at (so that `status`
/// agrees with the filter that listed it).
pub struct RefreshTokenNode {
    pub info: RefreshTokenInfo,
    pub now: DateTime<Utc>,
}

impl RefreshTokenNode {
    pub fn new(info: RefreshTokenInfo, now: DateTime<Utc>) -> Self {
        RefreshTokenNode { info, now }
    }
}

#[Object(name = "RefreshToken")]
impl RefreshTokenNode {
    async fn id(&self) -> ID {
        ID(self.info.id.clone())
    }

    /// The token's owner (batched across a list).
    async fn user(&self, ctx: &Context<'_>) -> ApiResult<Option<UserNode>> {
        Ok(loaders::of(ctx)?
            .users
            .load_one(self.info.user_id.clone())
            .await?
            .map(UserNode))
    }

    async fn user_id(&self) -> ID {
        ID(self.info.user_id.clone())
    }

    async fn client_id(&self) -> &str {
        &self.info.client_id
    }

    /// The login this token belongs to.
    async fn session_id(&self) -> ID {
        ID(self.info.session_id.clone())
    }

    /// Space-separated scopes.
    async fn scope(&self) -> String {
        self.info.scope.to_string()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.info.created_at
    }

    async fn expires_at(&self) -> DateTime<Utc> {
        self.info.expires_at
    }

    /// When it was retired, by rotation or revocation.
    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.info.revoked_at
    }

    /// Why: `rotated`, `reuse_detected`, `revoked_by_user`,
    /// `revoked_by_admin`, `logout_everywhere`, `password_changed`,
    /// `user_disabled`, `revoked_by_client` (RFC 7009)…
    async fn revoked_reason(&self) -> Option<&str> {
        self.info
            .revoked_reason
            .as_deref()
            .map(|r| split_reason(r).0)
    }

    /// The user who revoked it, when a person did.
    async fn revoked_by(&self) -> Option<ID> {
        let stored = self.info.revoked_reason.as_deref()?;
        split_reason(stored).1.map(|who| ID(who.to_string()))
    }

    /// The token this one replaced on rotation.
    async fn parent_id(&self) -> Option<ID> {
        self.info.parent_id.clone().map(ID)
    }

    /// The token that replaced this one on rotation.
    async fn replaced_by_id(&self) -> Option<ID> {
        self.info.replaced_by_id.clone().map(ID)
    }

    async fn status(&self) -> Status {
        self.info.status(self.now).into()
    }

    async fn is_active(&self) -> bool {
        self.info.status(self.now) == TokenStatus::Active
    }

    async fn is_expired(&self) -> bool {
        self.info.expires_at <= self.now
    }

    async fn created_by_ip(&self) -> Option<&str> {
        self.info.created_by_ip.as_deref()
    }

    async fn user_agent(&self) -> Option<&str> {
        self.info.user_agent.as_deref()
    }
}
