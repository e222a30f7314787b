//! `POST /oauth/introspect` (RFC 7662).

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use super::form::{OAuthForm, error_response};
use crate::oauth::IntrospectionRequest;
use crate::startup::AppState;

pub async fn introspect(State(state): State<AppState>, form: OAuthForm) -> Response {
    let request = IntrospectionRequest {
        params: form.params,
        authorization: form.authorization,
        now: Utc::now(),
    };
    match state.tokens.introspect(request).await {
        Ok(answer) => Json(answer).into_response(),
        Err(e) => error_response(e),
    }
}
