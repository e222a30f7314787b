//! `revokeSession`: ends one login.

use async_graphql::{Context, ID, Object};
use chrono::Utc;

use super::types::SessionNode;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::guard;

#[derive(Default)]
pub struct SessionsMutation;

#[Object]
impl SessionsMutation {
    /// Revokes a session: every refresh token of it, and its access tokens.
    /// Revoking a session already revoked changes nothing.
    async fn revoke_session(&self, ctx: &Context<'_>, id: ID) -> ApiResult<SessionNode> {
        let state = guard::state(ctx)?;
        let session = state.store.find_session(&id).await?;
        let p = guard::owner(ctx, session.as_ref().map(|s| s.user_id.as_str()), "session")?;
        if let Some(session) = session.filter(|s| s.revoked_at.is_none()) {
            let reason = p.revocation_reason(&session.user_id, "revoked_by_user");
            state.tokens.revoke_session(&id, &reason).await?;
        }
        let now = Utc::now();
        let revoked = state
            .store
            .find_session_info(&id, now)
            .await?
            .ok_or(ApiError::NotFound("session"))?;
        Ok(SessionNode::new(revoked, now))
    }
}
