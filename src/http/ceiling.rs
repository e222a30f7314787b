//! `POST /bench/ceiling`, served only with `--bench-route`: the load
//! benchmark's yardstick for the HTTP stack alone. It reads a form body and
//! answers a JSON body the size of a refresh grant's, through the same
//! layers (request id, tracing, timeout, no-store headers) and over the same
//! keep-alive connections as `/oauth/token`, and does nothing else: no
//! database, no signing. The refresh rate divided by its rate is the share
//! of the HTTP ceiling the grant reaches.
//!
//! Off by default: it is no part of the contract, and a production server
//! has no use for a route that answers anyone without doing anything.

use axum::Router;
use axum::body::Bytes;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::post;

use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/bench/ceiling", post(ceiling))
}

/// Shaped like a refresh grant's answer: a ~560-character access token and
/// a 43-character refresh token (about 700 bytes in all).
fn body() -> &'static str {
    static BODY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    BODY.get_or_init(|| {
        serde_json::json!({
            "access_token": "a".repeat(560),
            "token_type": "Bearer",
            "expires_in": 900,
            "refresh_token": "r".repeat(43),
            "scope": "email profile",
        })
        .to_string()
    })
}

async fn ceiling(form: Bytes) -> impl IntoResponse {
    // Read, not parsed: the body only has to cross the wire like a real one.
    drop(form);
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            (header::PRAGMA, HeaderValue::from_static("no-cache")),
        ],
        body(),
    )
}
