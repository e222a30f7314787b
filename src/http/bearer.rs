//! RFC 6750 bearer authentication for Tessera's own protected endpoints.

use axum::Json;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use crate::crypto::jwt::AccessClaims;
use crate::startup::AppState;

/// A caller who presented a valid access token.
pub struct Bearer(pub AccessClaims);

/// Why a request was not let in (RFC 6750 §3).
#[derive(Debug)]
pub enum BearerError {
    /// No credentials at all: the challenge names no error.
    Missing,
    /// A token was presented and is no good.
    InvalidToken,
}

impl IntoResponse for BearerError {
    fn into_response(self) -> Response {
        let (challenge, body) = match self {
            BearerError::Missing => (
                r#"Bearer realm="tessera""#,
                json!({ "error": "unauthorized", "error_description": "an access token is required" }),
            ),
            BearerError::InvalidToken => (
                r#"Bearer realm="tessera", error="invalid_token""#,
                json!({ "error": "invalid_token", "error_description": "the access token is invalid or expired" }),
            ),
        };
        (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, challenge)],
            Json(body),
        )
            .into_response()
    }
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer_token(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Bearer {
    type Rejection = BearerError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let token = bearer_token(parts).ok_or(BearerError::Missing)?;
        state
            .tokens
            .authenticate_bearer(token, Utc::now())
            .await
            .map(Bearer)
            .ok_or(BearerError::InvalidToken)
    }
}
