//! `POST /oauth/token`: turns HTTP into a `TokenRequest` and a `TokenGrant`
//! or `OAuthError` back into RFC 6749 §5 JSON.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use chrono::Utc;
use serde_json::json;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::oauth::request::Params;
use crate::oauth::{OAuthError, RequestContext, TokenGrant, TokenRequest};
use crate::startup::AppState;

/// Token requests are a few hundred bytes; anything near this is abuse.
const BODY_LIMIT: usize = 64 * 1024;
const COOKIE_NAME: &str = "refresh_token";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/oauth/token", post(token))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        // RFC 6749 §5.1: token responses must not be cached — errors included.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ))
}

async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(body) => body,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error_body(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the request body is too large",
            );
        }
        Err(_) => {
            return error_response(OAuthError::InvalidRequest(
                "the request body could not be read".into(),
            ));
        }
    };
    let request = match parse(&headers, &body, peer) {
        Ok(request) => request,
        Err(e) => return error_response(e),
    };
    match state.tokens.exchange(request).await {
        Ok(grant) => grant_response(grant, state.settings.cookie_secure),
        Err(e) => error_response(e),
    }
}

fn parse(headers: &HeaderMap, body: &[u8], peer: SocketAddr) -> Result<TokenRequest, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::InvalidRequest(
            "the body must be application/x-www-form-urlencoded".into(),
        ));
    }
    let params = Params::parse(body)?;
    let header_str = |name| {
        headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
    };
    Ok(TokenRequest {
        params,
        authorization: header_str(header::AUTHORIZATION).map(str::to_string),
        refresh_cookie: refresh_cookie(headers),
        context: RequestContext {
            now: Utc::now(),
            ip: Some(peer.ip().to_string()),
            user_agent: header_str(header::USER_AGENT).map(|ua| ua.chars().take(512).collect()),
        },
    })
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|essence| {
            essence
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The `refresh_token` cookie, from any `Cookie` header.
fn refresh_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE_NAME)
        .map(|(_, value)| value.trim_matches('"').to_string())
}

fn grant_response(grant: TokenGrant, cookie_secure: bool) -> Response {
    let mut body = json!({
        "access_token": grant.access_token,
        "token_type": "Bearer",
        "expires_in": grant.expires_in,
        "scope": grant.scope.to_string(),
    });
    let mut cookie = None;
    if let Some(refresh) = grant.refresh_token {
        if grant.refresh_in_cookie {
            cookie = Some(format!(
                "{COOKIE_NAME}={}; HttpOnly; SameSite=Strict; Path=/oauth; Max-Age={}{}",
                refresh.value,
                refresh.expires_in,
                if cookie_secure { "; Secure" } else { "" }
            ));
        } else {
            body["refresh_token"] = json!(refresh.value);
        }
    }
    let mut response = (StatusCode::OK, Json(body)).into_response();
    if let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(&c).ok()) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    response
}

/// RFC 6749 §5.2: 400, or 401 for `invalid_client` (with a Basic challenge
/// when the client tried Basic); 503 while the database is away.
pub fn error_response(error: OAuthError) -> Response {
    let status = match &error {
        OAuthError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
        OAuthError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        OAuthError::ServerError(detail) => {
            tracing::error!(error = %detail, "token request failed");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let mut response = error_body(status, error.code(), &error.description());
    if let OAuthError::InvalidClient { basic: true, .. } = error {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static(r#"Basic realm="tessera""#),
        );
    }
    response
}

fn error_body(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        Json(json!({ "error": code, "error_description": description })),
    )
        .into_response()
}
