//! Token introspection (RFC 7662): a resource server asks whether a token
//! is active and what it carries.
//!
//! Any authenticated client may introspect access tokens (that is what
//! resource servers do); a refresh token is described only to the client it
//! was issued to. Everything else answers exactly `{"active": false}`.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Credentials, OAuthError, TokenService};
use crate::crypto::opaque;
use crate::oauth::request::Params;

pub struct IntrospectionRequest {
    pub params: Params,
    pub authorization: Option<String>,
    pub now: DateTime<Utc>,
}

/// The RFC 7662 §2.2 response; inactive tokens serialise to `{"active":false}`.
#[derive(Debug, Default, Serialize, PartialEq)]
pub struct Introspection {
    pub active: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aud: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iss: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    /// The session (login) the token belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
}

impl TokenService {
    #[tracing::instrument(level = "debug", skip_all, fields(client_id), err)]
    pub async fn introspect(
        &self,
        request: IntrospectionRequest,
    ) -> Result<Introspection, OAuthError> {
        let credentials =
            Credentials::from_request(request.authorization.as_deref(), &request.params)?;
        let client = credentials.authenticate(&self.store).await?;
        tracing::Span::current().record("client_id", client.client_id.as_str());
        let token = request.params.require("token")?;
        let refresh_first = request.params.get("token_type_hint") == Some("refresh_token");
        let answer = if refresh_first {
            match self
                .introspect_refresh(token, &client.client_id, request.now)
                .await?
            {
                Some(a) => Some(a),
                None => self.introspect_access(token, request.now).await,
            }
        } else {
            match self.introspect_access(token, request.now).await {
                Some(a) => Some(a),
                None => {
                    self.introspect_refresh(token, &client.client_id, request.now)
                        .await?
                }
            }
        };
        Ok(answer.unwrap_or_default())
    }

    async fn introspect_access(&self, token: &str, now: DateTime<Utc>) -> Option<Introspection> {
        // Cheap test first: opaque refresh tokens have no dots.
        if !token.contains('.') {
            return None;
        }
        let claims = self.authenticate_bearer(token, now).await?;
        Some(Introspection {
            active: true,
            scope: Some(claims.scope),
            client_id: Some(claims.client_id),
            username: claims.email,
            token_type: Some("Bearer".into()),
            exp: Some(claims.exp),
            iat: Some(claims.iat),
            sub: Some(claims.sub),
            aud: Some(claims.aud),
            iss: Some(claims.iss),
            jti: Some(claims.jti),
            sid: claims.sid,
        })
    }

    async fn introspect_refresh(
        &self,
        token: &str,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<Introspection>, OAuthError> {
        let Some(record) = self
            .store
            .find_refresh_token(&opaque::digest(token))
            .await?
        else {
            return Ok(None);
        };
        let active = record.client_id == client_id
            && !record.user.disabled
            && record.revoked_at.is_none()
            && record.session_revoked_at.is_none()
            && record.expires_at > now
            && record.session_expires_at > now;
        if !active {
            return Ok(None);
        }
        Ok(Some(Introspection {
            active: true,
            scope: Some(record.scope.to_string()),
            client_id: Some(record.client_id),
            username: Some(record.user.email),
            token_type: Some("refresh_token".into()),
            exp: Some(record.expires_at.timestamp()),
            iat: Some(record.created_at.timestamp()),
            sub: Some(record.user_id),
            aud: Some(self.jwt.audience().to_string()),
            iss: Some(self.jwt.issuer().to_string()),
            jti: Some(record.id),
            sid: Some(record.session_id),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_inactive_answer_is_exactly_active_false() {
        let json = serde_json::to_string(&Introspection::default()).expect("serialises");
        assert_eq!(json, r#"{"active":false}"#);
    }
}
