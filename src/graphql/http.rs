//! The HTTP side of the API: `POST /graphql`, `GET /graphql` (queries only;
//! GraphiQL for browsers) and `GET /graphql/ws` for subscriptions over the
//! graphql-transport-ws protocol.
//!
//! Authentication happens here, once per request (or per WebSocket, at
//! `connection_init`): the bearer token becomes a `guard::Caller` in the
//! request's data, next to the services and a fresh set of DataLoaders.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use async_graphql::http::{ALL_WEBSOCKET_PROTOCOLS, MultipartOptions};
use async_graphql::parser::types::{DocumentOperations, OperationType};
use async_graphql::{BatchRequest, Data, Pos, ServerError};
use async_graphql_axum::GraphQLResponse;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Request, State, WebSocketUpgrade};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::error::{ApiError, INTERNAL};
use super::guard::Caller;
use super::loaders::{Loaders, drive};
use super::ws;
use crate::http::bearer_token;
use crate::startup::AppState;

/// `body_limit`: the largest request body (`--graphql-max-body-size`).
pub fn router(body_limit: usize) -> Router<AppState> {
    let routes = Router::new()
        .route("/graphql", get(get_graphql).post(post_graphql))
        .route("/graphql/ws", get(subscriptions));
    crate::http::limit_body(routes, body_limit, too_large)
}

/// The body is read here, not by `async_graphql_axum::GraphQLRequest`: that
/// extractor streams the body past axum's `DefaultBodyLimit`, so a chunked
/// upload of any size would be read whole.
///
/// A batch (a JSON array of operations) is refused: one request is one
/// operation, so the depth and complexity limits bound what a request costs
/// and nothing multiplies it.
async fn post_graphql(State(state): State<AppState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let content_type = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = match Bytes::from_request(Request::from_parts(parts.clone(), body), &()).await {
        Ok(bytes) => bytes,
        Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return too_large();
        }
        Err(_) => return bad_request("the request body could not be read"),
    };
    let batch = async_graphql::http::receive_batch_body(
        content_type,
        &bytes[..],
        MultipartOptions::default(),
    )
    .await;
    match batch {
        Ok(BatchRequest::Single(request)) => execute(&state, &parts, request).await,
        Ok(BatchRequest::Batch(_)) => {
            bad_request("batched operations are not accepted: send one operation per request")
        }
        Err(e) => bad_request(&format!("the request is not a GraphQL request: {e}")),
    }
}

/// A request that is not GraphQL at all (GraphQL over HTTP §7.1.2: 400).
fn bad_request(message: &str) -> Response {
    http_error(StatusCode::BAD_REQUEST, message, "BAD_REQUEST")
}

fn too_large() -> Response {
    http_error(
        StatusCode::PAYLOAD_TOO_LARGE,
        "the request body is too large",
        "PAYLOAD_TOO_LARGE",
    )
}

fn http_error(status: StatusCode, message: &str, code: &str) -> Response {
    let body = serde_json::json!({
        "errors": [{ "message": message, "extensions": { "code": code } }]
    });
    (status, axum::Json(body)).into_response()
}

/// A browser gets GraphiQL; anything else may run a query (never a
/// mutation: GET must stay safe, GraphQL over HTTP §6.4.1).
async fn get_graphql(State(state): State<AppState>, parts: Parts) -> Response {
    if wants_html(&parts) {
        return crate::web::graphiql();
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
    parts: Parts,
    upgrade: WebSocketUpgrade,
) -> Response {
    let Some(protocol) = ws::protocol(&parts) else {
        return (
            StatusCode::BAD_REQUEST,
            "no supported WebSocket subprotocol",
        )
            .into_response();
    };
    let header_token = bearer_token(&parts).map(str::to_string);
    let limits = state.settings.ws;
    upgrade
        .protocols(ALL_WEBSOCKET_PROTOCOLS)
        .max_message_size(limits.max_message_size)
        .max_frame_size(limits.max_message_size)
        .on_upgrade(move |socket| {
            let schema = state.graphql.clone();
            let connection = ws::Connection::new(limits, state.subscriptions.clone());
            let slots = connection.slots.clone();
            let authenticated = Arc::clone(&connection.authenticated);
            ws::serve(
                socket,
                schema,
                protocol,
                connection,
                move |payload| async move {
                    let data = connection_data(state, payload, header_token, slots).await?;
                    authenticated.store(true, Ordering::Release);
                    Ok(data)
                },
            )
        })
}

async fn connection_data(
    state: AppState,
    payload: serde_json::Value,
    header_token: Option<String>,
    slots: ws::ConnectionSlots,
) -> async_graphql::Result<Data> {
    let token = init_token(&payload).or(header_token);
    let caller = Caller::authenticate(&state, token.as_deref()).await?;
    let mut data = Data::default();
    data.insert(Loaders::spawned(&state.store));
    data.insert(caller);
    data.insert(state);
    data.insert(slots);
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
