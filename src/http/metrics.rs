//! `GET /metrics`: every metric in the Prometheus text format (see
//! `crate::metrics`), on the main address or on `--metrics-bind`.

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let metrics = crate::metrics::get();
    // Read at scrape time: each is a few loads, no query.
    if let Some((size, idle, max)) = state.store.pool_status() {
        metrics.db_pool(size, idle, max);
    }
    let queued = i64::try_from(state.tokens.hash_queue_depth()).unwrap_or(i64::MAX);
    metrics.hash_queue_depth.set(queued);
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        metrics.render(),
    )
}
