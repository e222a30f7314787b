//! Revoking one refresh token by its id, and ending a client's tokens.

use chrono::Utc;

use crate::events::{TokenEvent, TokenEventKind};
use crate::oauth::TokenService;
use crate::store::{RefreshTokenInfo, StoreError};

impl TokenService {
    /// Revokes a refresh token by id; `None` if there is no such token.
    ///
    /// An unretired token is the head of its session's chain (rotation
    /// retires every other), so revoking it ends the login: the session is
    /// revoked with it, and with the session its access tokens (RFC 7009
    /// §2.1 asks the same of the revocation endpoint). A token already
    /// retired is returned unchanged.
    #[tracing::instrument(level = "debug", skip_all, fields(%token_id, reason), err)]
    pub async fn revoke_refresh_token_by_id(
        &self,
        token_id: &str,
        reason: &str,
    ) -> Result<Option<RefreshTokenInfo>, StoreError> {
        let Some(token) = self.store.find_refresh_token_info(token_id).await? else {
            return Ok(None);
        };
        if token.revoked_at.is_some() {
            return Ok(Some(token));
        }
        let now = Utc::now();
        self.store
            .revoke_session(&token.session_id, reason, now)
            .await?;
        self.revocations.session_revoked(&token.session_id);
        self.events.publish(TokenEvent {
            kind: TokenEventKind::Revoked,
            user_id: token.user_id.clone(),
            client_id: token.client_id.clone(),
            session_id: Some(token.session_id.clone()),
            token_id: Some(token.id.clone()),
            reason: Some(reason.to_string()),
            at: now,
        });
        self.store.find_refresh_token_info(token_id).await
    }

    /// Deletes a client. Its sessions and refresh tokens go with it, and
    /// the access tokens it was issued are refused from now on. `false` if
    /// there was no such client.
    #[tracing::instrument(level = "debug", skip_all, fields(%client_id), err)]
    pub async fn delete_client(&self, client_id: &str, reason: &str) -> Result<bool, StoreError> {
        let Some(sessions) = self.store.delete_client(client_id).await? else {
            return Ok(false);
        };
        self.revocations.client_deleted(client_id);
        let now = Utc::now();
        for (session_id, user_id) in sessions {
            self.revocations.session_revoked(&session_id);
            self.events.publish(TokenEvent {
                kind: TokenEventKind::Revoked,
                user_id,
                client_id: client_id.to_string(),
                session_id: Some(session_id),
                token_id: None,
                reason: Some(reason.to_string()),
                at: now,
            });
        }
        tracing::info!(%client_id, "client deleted");
        Ok(true)
    }
}
