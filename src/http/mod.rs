//! The HTTP surface: each route group owns its router, merged here with the
//! layers every request goes through (request id, tracing, timeout).

mod bearer;
mod health;
mod me;
mod metrics;
mod oauth;
mod wellknown;

use axum::Router;
use axum::http::{HeaderName, Request};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::startup::AppState;

pub use bearer::{BearerError, bearer_token};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let request_timeout = state.settings.request_timeout;
    Router::new()
        .merge(oauth::router())
        .merge(me::router())
        .merge(crate::graphql::router())
        .merge(metrics::router())
        .merge(wellknown::router())
        .merge(health::router())
        .with_state(state)
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        // Only the path is recorded: a query string could carry anything.
        .layer(
            TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
                let id = req
                    .headers()
                    .get(&REQUEST_ID)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("-");
                tracing::info_span!("request", request_id = %id, method = %req.method(), path = %req.uri().path())
            }),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}
