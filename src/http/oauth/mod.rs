//! The OAuth endpoints under `/oauth`: token (RFC 6749), revocation
//! (RFC 7009) and introspection (RFC 7662). They share one strict form
//! parser and one error format, and none of their answers may be cached.

mod form;
mod introspect;
mod revoke;
mod token;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::routing::post;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::http::BrowserPolicy;
use crate::startup::AppState;

/// OAuth requests are a few hundred bytes; anything near this is abuse.
pub(super) const BODY_LIMIT: usize = 64 * 1024;

/// Token and revocation answer browsers of the allowed origins (CORS);
/// introspection stays server-to-server.
pub fn router(browser: &BrowserPolicy) -> Router<AppState> {
    let public = Router::new()
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(revoke::revoke));
    let routes = browser
        .cors(public)
        .route("/oauth/introspect", post(introspect::introspect));
    crate::http::limit_body(routes, BODY_LIMIT, form::too_large)
        // RFC 6749 §5.1: token responses must not be cached — errors included.
        .layer(SetResponseHeaderLayer::overriding(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::PRAGMA,
            HeaderValue::from_static("no-cache"),
        ))
}
