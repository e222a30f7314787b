//! Revocation: of one token, a session, or everything a user holds. Used by
//! RFC 7009 `/oauth/revoke` and by the GraphQL mutations alike, so that every
//! path records a reason, publishes an event and updates the revocation list.

use chrono::Utc;

use super::{Credentials, OAuthError, TokenService};
use crate::crypto::opaque;
use crate::events::{TokenEvent, TokenEventKind};
use crate::oauth::request::Params;
use crate::store::StoreError;

/// One RFC 7009 request.
pub struct RevocationRequest {
    pub params: Params,
    pub authorization: Option<String>,
    /// The `refresh_token` cookie, used only for cookie clients.
    pub refresh_cookie: Option<String>,
}

impl TokenService {
    /// Revokes a session and all its tokens; returns how many tokens that was.
    #[tracing::instrument(level = "debug", skip_all, fields(%session_id, reason), err)]
    pub async fn revoke_session(&self, session_id: &str, reason: &str) -> Result<u64, StoreError> {
        let now = Utc::now();
        let Some(session) = self.store.find_session(session_id).await? else {
            return Ok(0);
        };
        if session.revoked_at.is_some() {
            // Already dead: no second event, and its first reason stands.
            self.revocations.session_revoked(session_id);
            return Ok(0);
        }
        let revoked = self.store.revoke_session(session_id, reason, now).await?;
        self.revocations.session_revoked(session_id);
        self.events.publish(TokenEvent {
            kind: TokenEventKind::Revoked,
            user_id: session.user_id,
            client_id: session.client_id,
            session_id: Some(session.id),
            token_id: None,
            reason: Some(reason.to_string()),
            at: now,
        });
        Ok(revoked)
    }

    /// Revokes every session of a user but `keep`; returns how many tokens.
    #[tracing::instrument(level = "debug", skip_all, fields(%user_id, reason), err)]
    pub async fn revoke_user_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        reason: &str,
    ) -> Result<u64, StoreError> {
        let now = Utc::now();
        let revoked = self
            .store
            .revoke_user_sessions(user_id, keep, reason, now)
            .await?;
        // The access tokens of those sessions must die too.
        self.revocations
            .reload(&self.store, self.policy.access_ttl)
            .await?;
        self.events.publish(TokenEvent {
            kind: TokenEventKind::Revoked,
            user_id: user_id.to_string(),
            client_id: String::new(),
            session_id: None,
            token_id: None,
            reason: Some(reason.to_string()),
            at: now,
        });
        Ok(revoked)
    }

    /// RFC 7009: the client proves who it is, then any refresh token of its
    /// own that it names is revoked with its whole session. Unknown,
    /// already-revoked and other clients' tokens answer the same 200, so the
    /// endpoint tells nothing about tokens it did not revoke.
    #[tracing::instrument(level = "debug", skip_all, fields(client_id), err)]
    pub async fn revoke(&self, request: RevocationRequest) -> Result<(), OAuthError> {
        let credentials =
            Credentials::from_request(request.authorization.as_deref(), &request.params)?;
        let client = credentials.authenticate(&self.store).await?;
        tracing::Span::current().record("client_id", client.client_id.as_str());
        let token = request
            .params
            .get("token")
            .or_else(|| {
                request
                    .refresh_cookie
                    .as_deref()
                    .filter(|_| client.refresh_cookie)
            })
            .ok_or_else(|| {
                OAuthError::InvalidRequest("the parameter `token` is required".into())
            })?;
        // The hint only orders the lookups (RFC 7009 §2.1); both kinds are tried.
        let session_id = if request.params.get("token_type_hint") == Some("access_token") {
            match self.access_token_session(token, &client.client_id).await {
                Some(sid) => Some(sid),
                None => self.refresh_token_session(token, &client.client_id).await?,
            }
        } else {
            match self.refresh_token_session(token, &client.client_id).await? {
                Some(sid) => Some(sid),
                None => self.access_token_session(token, &client.client_id).await,
            }
        };
        if let Some(session_id) = session_id {
            self.revoke_session(&session_id, "revoked_by_client")
                .await?;
        }
        Ok(())
    }

    /// The session of a refresh token issued to `client_id`.
    async fn refresh_token_session(
        &self,
        token: &str,
        client_id: &str,
    ) -> Result<Option<String>, OAuthError> {
        Ok(self
            .store
            .find_refresh_token(&opaque::digest(token))
            .await?
            .filter(|r| r.client_id == client_id)
            .map(|r| r.session_id))
    }

    /// The session of a valid access token issued to `client_id`: revoking
    /// an access token ends the login it belongs to. The token may name a key
    /// another instance has just rotated in; its session must die all the same.
    async fn access_token_session(&self, token: &str, client_id: &str) -> Option<String> {
        let now = Utc::now();
        self.reload_keys_if_unknown(token, now).await;
        self.jwt
            .verify(token, now)
            .ok()
            .filter(|c| c.client_id == client_id)
            .and_then(|c| c.sid)
    }
}
