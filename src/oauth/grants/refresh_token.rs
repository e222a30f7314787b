//! The refresh token grant (RFC 6749 §6) with rotation and reuse detection
//! (RFC 9700 §4.14.2).
//!
//! Each success retires the presented token and issues its successor in the
//! same session. A retired token presented again means two parties hold it;
//! since we cannot tell which one is legitimate, the whole session dies.

use crate::crypto::opaque;
use crate::domain::{Client, RefreshTokenRecord, Scope};
use crate::events::{TokenEvent, TokenEventKind};
use crate::oauth::{Chain, OAuthError, TokenGrant, TokenRequest, TokenService};
use crate::store::RotateOutcome;
use crate::store::tokens::ROTATED;

const INVALID: &str = "the refresh token is invalid, expired or revoked";

impl TokenService {
    pub(in crate::oauth) async fn refresh_token_grant(
        &self,
        client: &Client,
        request: &TokenRequest,
    ) -> Result<TokenGrant, OAuthError> {
        let params = &request.params;
        let ctx = &request.context;
        let presented = params
            .get("refresh_token")
            .or_else(|| {
                request
                    .refresh_cookie
                    .as_deref()
                    .filter(|_| client.refresh_cookie)
            })
            .ok_or_else(|| {
                OAuthError::InvalidRequest("the parameter `refresh_token` is required".into())
            })?;
        let digest = opaque::digest(presented);
        let invalid = || OAuthError::InvalidGrant(INVALID.into());

        let token = self
            .store
            .find_refresh_token(&digest)
            .await?
            .ok_or_else(invalid)?;
        if token.client_id != client.client_id {
            return Err(invalid());
        }
        if token.revoked_at.is_some() {
            if token.revoked_reason.as_deref() == Some(ROTATED) {
                self.reuse_detected(&token, ctx.now).await?;
            }
            return Err(invalid());
        }
        if token.expires_at <= ctx.now
            || token.session_expires_at <= ctx.now
            || token.session_revoked_at.is_some()
        {
            return Err(invalid());
        }
        let scope = match params.get("scope") {
            None => token.session_scope.clone(),
            Some(raw) => {
                let asked = Scope::parse(raw).map_err(OAuthError::InvalidScope)?;
                if !asked.is_subset_of(&token.session_scope) {
                    return Err(OAuthError::InvalidScope(
                        "the requested scope exceeds the scope originally granted".into(),
                    ));
                }
                asked
            }
        };
        if token.user.disabled {
            return Err(invalid());
        }

        let chain = Chain {
            user_id: &token.user_id,
            client_id: &client.client_id,
            session_id: &token.session_id,
            session_expires_at: token.session_expires_at,
        };
        let (issued, successor) =
            self.new_refresh_token(&chain, Some(token.id.clone()), &scope, ctx);
        let successor_id = successor.id.clone();
        match self.store.rotate(&digest, successor, ctx.now).await? {
            RotateOutcome::Rotated => {
                let metrics = crate::metrics::get();
                metrics.refresh_tokens_rotated.inc();
                metrics.refresh_tokens_issued.inc();
                self.events.publish(TokenEvent {
                    kind: TokenEventKind::Rotated,
                    user_id: token.user_id.clone(),
                    client_id: client.client_id.clone(),
                    session_id: Some(token.session_id.clone()),
                    token_id: Some(successor_id),
                    reason: None,
                    at: ctx.now,
                })
            }
            RotateOutcome::AlreadyRetired => {
                // Lost the race to another presentation of the same token.
                self.reuse_detected(&token, ctx.now).await?;
                return Err(invalid());
            }
        }
        let access_token =
            self.user_access_token(&token.user, client, &scope, &token.session_id, ctx.now)?;
        Ok(TokenGrant {
            access_token,
            expires_in: self.access_expires_in(),
            scope,
            refresh_token: Some(issued),
            refresh_in_cookie: client.refresh_cookie,
        })
    }

    async fn reuse_detected(
        &self,
        token: &RefreshTokenRecord,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), OAuthError> {
        let revoked = self
            .store
            .revoke_session(&token.session_id, "reuse_detected", now)
            .await?;
        self.revocations.session_revoked(&token.session_id);
        crate::metrics::get().refresh_token_reuse.inc();
        self.events.publish(TokenEvent {
            kind: TokenEventKind::ReuseDetected,
            user_id: token.user_id.clone(),
            client_id: token.client_id.clone(),
            session_id: Some(token.session_id.clone()),
            token_id: Some(token.id.clone()),
            reason: Some("reuse_detected".into()),
            at: now,
        });
        tracing::warn!(
            target: "tessera::security",
            event = crate::telemetry::events::REFRESH_TOKEN_REUSE,
            token_id = %token.id,
            session_id = %token.session_id,
            user_id = %token.user_id,
            client_id = %token.client_id,
            revoked,
            "refresh token reuse detected: session revoked"
        );
        Ok(())
    }
}
