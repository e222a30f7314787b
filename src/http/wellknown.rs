//! Discovery: the authorization server metadata (RFC 8414) and the public
//! keys (RFC 7517), everything a resource server needs to validate tokens.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::json;

use crate::domain::GrantType;
use crate::startup::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .route("/.well-known/oauth-authorization-server", get(metadata))
}

/// Short caching: a rotated key must reach resource servers well within an
/// access token's life.
const CACHE: &str = "public, max-age=300";

async fn jwks(State(state): State<AppState>) -> impl IntoResponse {
    let keys = state.tokens.jwt().keys().get();
    ([(header::CACHE_CONTROL, CACHE)], Json(keys.jwks.clone()))
}

async fn metadata(State(state): State<AppState>) -> Response {
    let issuer = state.tokens.jwt().issuer();
    let scopes = match state.store.all_client_scopes().await {
        Ok(scopes) => scopes,
        Err(e) => {
            tracing::warn!(error = %e, "could not list scopes for the metadata");
            Vec::new()
        }
    };
    let auth_methods = ["client_secret_basic", "client_secret_post", "none"];
    let grants: Vec<&str> = GrantType::ALL.iter().map(|g| g.as_str()).collect();
    let body = json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}/oauth/token"),
        "revocation_endpoint": format!("{issuer}/oauth/revoke"),
        "introspection_endpoint": format!("{issuer}/oauth/introspect"),
        "jwks_uri": format!("{issuer}/.well-known/jwks.json"),
        "grant_types_supported": grants,
        // No authorization endpoint: no response types apply.
        "response_types_supported": [],
        "scopes_supported": scopes,
        "token_endpoint_auth_methods_supported": auth_methods,
        "revocation_endpoint_auth_methods_supported": auth_methods,
        "introspection_endpoint_auth_methods_supported": auth_methods,
        "token_endpoint_auth_signing_alg_values_supported": [],
        "code_challenge_methods_supported": [],
    });
    ([(header::CACHE_CONTROL, CACHE)], Json(body)).into_response()
}
