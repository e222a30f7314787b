//! `POST /oauth/token`: a `TokenRequest` in, a `TokenGrant` (or error) out
//! as RFC 6749 §5 JSON, with the refresh token in a cookie for cookie clients.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use super::form::{COOKIE_NAME, OAuthForm, error_response};
use crate::oauth::{RequestContext, TokenGrant, TokenRequest};
use crate::startup::AppState;

pub async fn token(State(state): State<AppState>, mut form: OAuthForm) -> Response {
    if form.params.get("grant_type") == Some("refresh_token")
        && let Err(refused) = form.check_cookie_use("refresh_token")
    {
        return error_response(refused);
    }
    let request = TokenRequest {
        params: form.params,
        authorization: form.authorization,
        refresh_cookie: form.refresh_cookie,
        context: RequestContext {
            now: Utc::now(),
            ip: form.ip,
            user_agent: form.user_agent,
        },
    };
    match state.tokens.exchange(request).await {
        Ok(grant) => grant_response(grant, state.settings.cookie_secure),
        Err(e) => error_response(e),
    }
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
