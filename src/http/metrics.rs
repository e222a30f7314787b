//! `GET /metrics`: counters in the Prometheus text format.

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;

use crate::startup::AppState;
use crate::store::statements_total;

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(metrics))
}

async fn metrics() -> impl IntoResponse {
    let body = format!(
        "# HELP tessera_db_queries_total Database statements run since the process started.\n\
         # TYPE tessera_db_queries_total counter\n\
         tessera_db_queries_total {}\n",
        statements_total()
    );
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        body,
    )
}
