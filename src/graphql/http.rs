//! The HTTP side of the API: `POST /graphql`, `GET /graphql` (queries only;
//! GraphiQL for browsers) and `GET /graphql/ws` for subscriptions over the
//! graphql-transport-ws protocol.
//!
//! Authentication happens here, once per request (or per WebSocket, at
//! `connection_init`): the bearer token becomes a `guard::Caller` in the
//! request's data, next to the services and a fresh set of DataLoaders.

use async_graphql::http::ALL_WEBSOCKET_PROTOCOLS;
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{Data, Pos, ServerError};
use async_graphql_axum::{GraphQLProtocol, GraphQLRequest, GraphQLResponse, GraphQLWebSocket};
use axum::Router;
use axum::extract::{DefaultBodyLimit, State, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::error::{ApiError, INTERNAL};
use super::graphiql;
use super::guard::Caller;
use super::loaders::{Loaders, drive};
use crate::http::bearer_token;
use crate::startup::AppState;

/// A GraphQL document plus variables; far above any legitimate query.
const BODY_LIMIT: usize = 256 * 1024;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .route("/graphql/ws", get(subscriptions))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
}

async fn post_graphql(
    State(state): State<AppState>,
    parts: Parts,
    request: GraphQLRequest,
) -> Response {
    execute(&state, &parts, request.into_inner()).await
}

/// A browser gets GraphiQL; anything else may run a query (never a
/// mutation: GET must stay safe, GraphQL over HTTP §6.4.1).
async fn get_graphql(State(state): State<AppState>, parts: Parts) -> Response {
    if wants_html(&parts) {
        return Html(graphiql::page()).into_response();
    }
    let request = match async_graphql::http::parse_query_string(parts.uri.query().unwrap_or("")) {
        Ok(request) => request,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut request = request;
    if let Ok(doc) = request.parsed_query() {
        let only_queries = match &doc.operations {
            DocumentOperations::Single(op) => op.node.ty == OperationType::Query,
            DocumentOperations::Multiple(ops) => {
                ops.values().all(|op| op.node.ty == OperationType::Query)
            }
        };
        if !only_queries {
            return (
                StatusCode::METHOD_NOT_ALLOWED,
                [(header::ALLOW, HeaderValue::from_static("POST"))],
                "mutations and subscriptions are not run over GET; use POST or /graphql/ws",
            )
                .into_response();
        }
    }
    execute(&state, &parts, request).await
}

fn wants_html(parts: &Parts) -> bool {
    parts
        .headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("text/html"))
}

async fn execute(state: &AppState, parts: &Parts, request: async_graphql::Request) -> Response {
    let request_id = parts
        .headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-")
        .to_string();
    let mut response = match Caller::authenticate(state, bearer_token(parts)).await {
        Ok(caller) => {
            let (loaders, queue) = Loaders::queued(&state.store);
            let request = request.data(state.clone()).data(caller).data(loaders);
            drive(state.graphql.execute(request), queue).await
        }
        Err(e) => async_graphql::Response::from_errors(vec![server_error(e)]),
    };
    for error in &mut response.errors {
        let ext = error.extensions.get_or_insert_with(Default::default);
        if ext.get("code").is_none() {
            // Parse and validation errors (depth, complexity, unknown field).
            ext.set("code", "GRAPHQL_VALIDATION_FAILED");
        } else if ext.get("code") == Some(&async_graphql::Value::from(INTERNAL)) {
            ext.set("requestId", request_id.as_str());
        }
    }
    GraphQLResponse::from(response).into_response()
}

fn server_error(e: ApiError) -> ServerError {
    async_graphql::Error::from(e).into_server_error(Pos::default())
}

/// Subscriptions. The access token comes in the `connection_init` payload
/// (`{"Authorization": "Bearer …"}`, which is what GraphiQL sends from its
/// headers tab, or `{"token": "…"}`), or else in the upgrade request's
/// `Authorization` header, for clients that can set one.
async fn subscriptions(
    State(state): State<AppState>,
    protocol: GraphQLProtocol,
    parts: Parts,
    upgrade: WebSocketUpgrade,
) -> Response {
    let header_token = bearer_token(&parts).map(str::to_string);
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .on_upgrade(move |socket| {
            let schema = state.graphql.clone();
            GraphQLWebSocket::new(socket, schema, protocol)
                .on_connection_init(move |payload| connection_data(state, payload, header_token))
                .serve()
        })
}

async fn connection_data(
    state: AppState,
    payload: serde_json::Value,
    header_token: Option<String>,
) -> async_graphql::Result<Data> {
    let token = init_token(&payload).or(header_token);
    let caller = Caller::authenticate(&state, token.as_deref()).await?;
    let mut data = Data::default();
    data.insert(Loaders::spawned(&state.store));
    data.insert(caller);
    data.insert(state);
    Ok(data)
}

/// The access token in a `connection_init` payload, if any.
fn init_token(payload: &serde_json::Value) -> Option<String> {
    let fields = payload.as_object()?;
    fields.iter().find_map(|(key, value)| {
        let value = value.as_str()?.trim();
        if key.eq_ignore_ascii_case("authorization") {
            let (scheme, token) = value.split_once(' ')?;
            scheme
                .eq_ignore_ascii_case("bearer")
                .then(|| token.trim().to_string())
        } else if matches!(key.as_str(), "token" | "accessToken" | "access_token") {
            Some(value.to_string())
        } else {
            None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::init_token;
    use serde_json::json;

    #[test]
    fn tokens_are_found_in_connection_init_payloads() {
        assert_eq!(
            init_token(&json!({"Authorization": "Bearer abc"})).as_deref(),
            Some("abc")
        );
        assert_eq!(init_token(&json!({"token": "abc"})).as_deref(), Some("abc"));
        assert_eq!(init_token(&json!({"Authorization": "Basic abc"})), None);
        assert_eq!(init_token(&json!(null)), None);
    }
}
