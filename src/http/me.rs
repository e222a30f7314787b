//! `GET /api/me`: the protected resource of the classic tutorial.

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use super::bearer::{Bearer, BearerError};
use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/api/me", get(me))
}

/// The caller's profile. A token of a user who no longer exists, or is
/// disabled, is treated as invalid.
async fn me(State(state): State<AppState>, Bearer(claims): Bearer) -> Response {
    if claims.sid.is_none() {
        // A client_credentials token speaks for a client, not a user.
        return BearerError::InvalidToken.into_response();
    }
    match state.store.find_user(&claims.sub).await {
        Ok(Some(user)) if !user.disabled => Json(json!({
            "id": user.id,
            "email": user.email,
            "roles": user.roles,
            "first_name": user.first_name,
            "last_name": user.last_name,
        }))
        .into_response(),
        Ok(_) => BearerError::InvalidToken.into_response(),
        Err(e) => {
            tracing::error!(error = %e, "profile lookup failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "error": "temporarily_unavailable" })),
            )
                .into_response()
        }
    }
}
