//! `POST /oauth/revoke` (RFC 7009).

use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::form::{COOKIE_NAME, OAuthForm, error_response};
use crate::oauth::RevocationRequest;
use crate::startup::AppState;

/// 200 with an empty body whether or not there was anything to revoke
/// (RFC 7009 §2.2). A revocation by cookie also clears the cookie: it holds
/// a dead token now, which the next page load would only present again.
pub async fn revoke(State(state): State<AppState>, mut form: OAuthForm) -> Response {
    if let Err(refused) = form.check_cookie_use("token") {
        return error_response(refused);
    }
    let by_cookie = form.params.get("token").is_none() && form.refresh_cookie.is_some();
    let request = RevocationRequest {
        params: form.params,
        authorization: form.authorization,
        refresh_cookie: form.refresh_cookie,
    };
    match state.tokens.revoke(request).await {
        Ok(()) if by_cookie => {
            let cookie = format!(
                "{COOKIE_NAME}=; HttpOnly; SameSite=Strict; Path=/oauth; Max-Age=0{}",
                if state.settings.cookie_secure {
                    "; Secure"
                } else {
                    ""
                }
            );
            let mut response = StatusCode::OK.into_response();
            if let Ok(value) = HeaderValue::from_str(&cookie) {
                response.headers_mut().insert(header::SET_COOKIE, value);
            }
            response
        }
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => error_response(e),
    }
}
