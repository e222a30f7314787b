//! The HTTP surface: each route group owns its router, merged here with the
//! layers every request goes through (request id, tracing, timeout).

mod bearer;
mod browser;
mod ceiling;
mod health;
mod limits;
mod me;
mod metrics;
mod oauth;
mod wellknown;

use axum::Router;
use std::time::Duration;

use axum::extract::MatchedPath;
use axum::http::{HeaderName, Request, Response};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

use crate::startup::AppState;

pub use bearer::{BearerError, bearer_token};
pub use browser::{BrowserArgs, BrowserPolicy};
pub use limits::{limit_body, parse_size};

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

pub fn router(state: AppState) -> Router {
    let request_timeout = state.settings.request_timeout;
    let small = |routes| limit_body(routes, limits::SMALL_BODY_LIMIT, limits::too_large_json);
    let browser = &state.settings.browser;
    let issuer = state.tokens.jwt().issuer().to_string();
    let graphql = crate::graphql::router(state.settings.graphql_max_body_size);
    let mut routes = Router::new();
    if state.settings.bench_route {
        // The same body limit as /oauth/token, whose layers it mirrors.
        let ceiling = limit_body(ceiling::router(), oauth::BODY_LIMIT, limits::too_large_json);
        routes = routes.merge(ceiling);
    }
    let mut routes = routes
        .merge(oauth::router(browser))
        .merge(browser.cors(small(me::router())))
        .merge(browser.cors(graphql))
        .merge(browser.cors(small(wellknown::router())))
        .merge(small(health::router()))
        .merge(small(crate::web::router()));
    // With `--metrics-bind`, `/metrics` is only there (see `metrics_router`).
    if state.settings.ops.metrics_bind.is_none() {
        routes = routes.merge(small(metrics::router()));
    }
    let routes = routes.with_state(state);
    browser::security_headers(routes, &issuer)
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            request_timeout,
        ))
        // Outside the timeout, so that a 408 is counted and timed too.
        .layer(crate::metrics::TrackRequestsLayer)
        // The route (the pattern that matched, bounded) and the path, never
        // the query string: it could carry anything.
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|req: &Request<_>| {
                    let id = req
                        .headers()
                        .get(&REQUEST_ID)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-");
                    let route = req
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or("unmatched", MatchedPath::as_str);
                    tracing::info_span!("request", request_id = %id, method = %req.method(), route, path = %req.uri().path())
                })
                .on_request(())
                .on_response(access_log),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
}

/// `/metrics` alone, for the `--metrics-bind` address.
pub fn metrics_router(state: AppState) -> Router {
    limit_body(
        metrics::router(),
        limits::SMALL_BODY_LIMIT,
        limits::too_large_json,
    )
    .with_state(state)
}

/// One line per answered request, at debug under `tessera::access` (turn it
/// on with `RUST_LOG=info,tessera::access=debug`): at info, the line would
/// cost a few per cent of a refresh's CPU, and the metrics count the same.
fn access_log<B>(response: &Response<B>, latency: Duration, _span: &tracing::Span) {
    tracing::debug!(
        target: "tessera::access",
        status = response.status().as_u16(),
        latency_ms = latency.as_secs_f64() * 1000.0,
        "request answered"
    );
}
