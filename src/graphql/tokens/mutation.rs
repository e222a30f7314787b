//! `revokeRefreshToken` and `revokeAllRefreshTokens` ("log out everywhere").

use async_graphql::{Context, ID, Object};
use chrono::Utc;

use super::types::RefreshTokenNode;
use crate::graphql::error::{ApiError, ApiResult};
use crate::graphql::guard;

#[derive(Default)]
pub struct TokensMutation;

#[Object]
impl TokensMutation {
    /// Revokes a refresh token, and with it the login it belongs to (its
    /// session and that session's access tokens). Revoking a token that
    /// is already retired changes nothing.
    async fn revoke_refresh_token(&self, ctx: &Context<'_>, id: ID) -> ApiResult<RefreshTokenNode> {
        let state = guard::state(ctx)?;
        let token = state.store.find_refresh_token_info(&id).await?;
        let p = guard::owner(
            ctx,
            token.as_ref().map(|t| t.user_id.as_str()),
            "refresh token",
        )?;
        let owner = token.map(|t| t.user_id).unwrap_or_default();
        let reason = p.revocation_reason(&owner, "revoked_by_user");
        let revoked = state
            .tokens
            .revoke_refresh_token_by_id(&id, &reason)
            .await?
            .ok_or(ApiError::NotFound("refresh token"))?;
        Ok(RefreshTokenNode::new(revoked, Utc::now()))
    }

    /// Revokes every session and refresh token of `userId` (yours when
    /// omitted; anyone's for an admin), the caller's current one included.
    /// Returns how many refresh tokens were revoked.
    async fn revoke_all_refresh_tokens(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
    ) -> ApiResult<u64> {
        let (p, user_id) = guard::target_user(ctx, user_id.as_ref()).await?;
        let reason = p.revocation_reason(&user_id, "logout_everywhere");
        Ok(guard::state(ctx)?
            .tokens
            .revoke_user_sessions(&user_id, None, &reason)
            .await?)
    }
}
