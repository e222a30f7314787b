//! What every OAuth endpoint reads from a request, and how it answers errors.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequest, Request};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::oauth::OAuthError;
use crate::oauth::request::Params;
use crate::startup::AppState;

/// The cookie that carries refresh tokens of cookie clients.
pub const COOKIE_NAME: &str = "refresh_token";

/// A parsed `application/x-www-form-urlencoded` OAuth request.
pub struct OAuthForm {
    pub params: Params,
    pub authorization: Option<String>,
    pub refresh_cookie: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    /// The request came from this server or an allowed origin (looked at
    /// only when there is a cookie).
    cookie_origin_trusted: bool,
}

impl OAuthForm {
    /// CSRF: a request that relies on the refresh cookie instead of naming
    /// its token in `token_param` must come from a trusted origin
    /// (SameSite=Strict still lets same-site subdomains send the cookie).
    /// A request that names its token does not use the cookie at all.
    pub fn check_cookie_use(&mut self, token_param: &str) -> Result<(), OAuthError> {
        if self.refresh_cookie.is_none() || self.cookie_origin_trusted {
            return Ok(());
        }
        if self.params.get(token_param).is_some() {
            self.refresh_cookie = None;
            return Ok(());
        }
        Err(OAuthError::InvalidRequest(
            "the refresh cookie is accepted only from this server's pages or an allowed origin"
                .into(),
        ))
    }
}

impl FromRequest<AppState> for OAuthForm {
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = req
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(addr)| addr.ip().to_string());
        // The headers are taken, not copied: reading the body needs only the
        // body and the extensions (the body limit).
        let (mut parts, body) = req.into_parts();
        let headers = std::mem::take(&mut parts.headers);
        if !is_form(&headers) {
            return Err(error_response(OAuthError::InvalidRequest(
                "the body must be application/x-www-form-urlencoded".into(),
            )));
        }
        let body = match Bytes::from_request(Request::from_parts(parts, body), state).await {
            Ok(body) => body,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(too_large());
            }
            Err(_) => {
                return Err(error_response(OAuthError::InvalidRequest(
                    "the request body could not be read".into(),
                )));
            }
        };
        let params = Params::parse(&body).map_err(error_response)?;
        let refresh_cookie = refresh_cookie(&headers);
        let cookie_origin_trusted = refresh_cookie.is_some()
            && state
                .settings
                .browser
                .trusts(&headers, state.tokens.jwt().issuer());
        let header_str = |name| {
            headers
                .get(name)
                .and_then(|v: &HeaderValue| v.to_str().ok())
        };
        Ok(OAuthForm {
            params,
            authorization: header_str(header::AUTHORIZATION).map(str::to_string),
            refresh_cookie,
            cookie_origin_trusted,
            ip: peer,
            user_agent: header_str(header::USER_AGENT).map(|ua| ua.chars().take(512).collect()),
        })
    }
}

/// 413 in the RFC 6749 §5.2 format.
pub fn too_large() -> Response {
    error_body(
        StatusCode::PAYLOAD_TOO_LARGE,
        "invalid_request",
        "the request body is too large",
    )
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

/// RFC 6749 §5.2: 400, or 401 for `invalid_client` (with a Basic challenge
/// when the client tried Basic); 503 while the database is away.
pub fn error_response(error: OAuthError) -> Response {
    let status = match &error {
        OAuthError::InvalidClient { .. } => StatusCode::UNAUTHORIZED,
        OAuthError::TemporarilyUnavailable => StatusCode::SERVICE_UNAVAILABLE,
        OAuthError::ServerError(detail) => {
            tracing::error!(error = %detail, "OAuth request failed");
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
