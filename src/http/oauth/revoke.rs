//! `POST /oauth/revoke` (RFC 7009).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use super::form::{OAuthForm, error_response};
use crate::oauth::RevocationRequest;
use crate::startup::AppState;

/// 200 with an empty body whether or not there was anything to revoke
/// (RFC 7009 §2.2).
pub async fn revoke(State(state): State<AppState>, mut form: OAuthForm) -> Response {
    if let Err(refused) = form.check_cookie_use("token") {
        return error_response(refused);
    }
    let request = RevocationRequest {
        params: form.params,
        authorization: form.authorization,
        refresh_cookie: form.refresh_cookie,
    };
    match state.tokens.revoke(request).await {
        Ok(()) => StatusCode::OK.into_response(),
        Err(e) => error_response(e),
    }
}
