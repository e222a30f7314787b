//! Published keys (RFC 7517).

use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};

use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/.well-known/jwks.json", get(jwks))
}

async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let keys = state.tokens.jwt().keys().get();
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(keys.jwks.clone()),
    )
}
