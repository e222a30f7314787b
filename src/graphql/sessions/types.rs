//! The `Session` type: one login and its chain of refresh tokens.

use async_graphql::{Context, ID, Object};
use chrono::{DateTime, Utc};

use crate::graphql::error::ApiResult;
use crate::graphql::guard::Caller;
use crate::graphql::loaders::{self, SessionTokens};
use crate::graphql::pagination;
use crate::graphql::tokens::RefreshTokenNode;
use crate::graphql::users::UserNode;
use crate::oauth::management::split_reason;
use crate::store::SessionInfo;

/// A session, with the instant its tokens' states are judged at.
pub struct SessionNode {
    pub info: SessionInfo,
    pub now: DateTime<Utc>,
}

impl SessionNode {
    pub fn new(info: SessionInfo, now: DateTime<Utc>) -> Self {
        SessionNode { info, now }
    }
}

#[Object(name = "Session")]
impl SessionNode {
    async fn id(&self) -> ID {
        ID(self.info.id.clone())
    }

    /// Whose login this is (batched across a list).
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

    /// The scope granted at login: the widest any refresh may ask for.
    async fn scope(&self) -> String {
        self.info.scope.to_string()
    }

    async fn created_at(&self) -> DateTime<Utc> {
        self.info.created_at
    }

    async fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        self.info.last_refreshed_at
    }

    /// The absolute end of the login; refreshing never extends it.
    async fn expires_at(&self) -> DateTime<Utc> {
        self.info.expires_at
    }

    async fn revoked_at(&self) -> Option<DateTime<Utc>> {
        self.info.revoked_at
    }

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

    /// Whether it still holds a usable refresh token.
    async fn is_active(&self) -> bool {
        self.info.active
    }

    /// Whether this is the session of the access token making the request.
    async fn is_current(&self, ctx: &Context<'_>) -> bool {
        matches!(ctx.data_opt::<Caller>(), Some(Caller::User(p)) if p.session_id == self.info.id)
    }

    async fn created_by_ip(&self) -> Option<&str> {
        self.info.created_by_ip.as_deref()
    }

    async fn user_agent(&self) -> Option<&str> {
        self.info.user_agent.as_deref()
    }

    /// The newest `first` refresh tokens of the chain (batched across a list).
    #[graphql(complexity = "pagination::cost(Some(first), child_complexity)")]
    async fn tokens(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> ApiResult<Vec<RefreshTokenNode>> {
        let first = pagination::checked_first(Some(first))?;
        let key = SessionTokens {
            session_id: self.info.id.clone(),
            first,
        };
        let tokens = loaders::of(ctx)?
            .session_tokens
            .load_one(key)
            .await?
            .unwrap_or_default();
        Ok(tokens
            .into_iter()
            .map(|t| RefreshTokenNode::new(t, self.now))
            .collect())
    }
}
