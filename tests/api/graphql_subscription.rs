//! `tokenEvents` over `/graphql/ws` with the graphql-transport-ws protocol:
//! events from the token endpoint and from mutations alike, and the same
//! authorization as everywhere else.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::graphql::{PASSWORD, admin, data, gql, new_user, refresh_ok, sign_in};
use crate::helpers::{TestApp, spawn_app};

pub(crate) type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const EVENTS: &str = "subscription($user: ID) {
  tokenEvents(userId: $user) { type userId clientId sessionId tokenId reason revokedBy at }
}";

/// Opens a graphql-transport-ws connection, sending `token` in the
/// `connection_init` payload the way GraphiQL does; waits for the ack.
pub(crate) async fn connect(app: &TestApp, token: Option<&str>) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket connects");
    assert_eq!(
        response
            .headers()
            .get("sec-websocket-protocol")
            .and_then(|v| v.to_str().ok()),
        Some("graphql-transport-ws")
    );
    let payload = match token {
        Some(t) => json!({ "Authorization": format!("Bearer {t}") }),
        None => json!({}),
    };
    send(
        &mut socket,
        json!({ "type": "connection_init", "payload": payload }),
    )
    .await;
    let ack = receive(&mut socket, Duration::from_secs(10))
        .await
        .expect("an ack");
    assert_eq!(ack["type"], "connection_ack", "{ack}");
    socket
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

pub(crate) async fn subscribe(socket: &mut Socket, id: &str, variables: Value) {
    send(
        socket,
        json!({ "id": id, "type": "subscribe", "payload": { "query": EVENTS, "variables": variables } }),
    )
    .await;
}

/// The next protocol message, or `None` after `wait`.
async fn receive(socket: &mut Socket, wait: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let msg = tokio::time::timeout_at(deadline, socket.next())
            .await
            .ok()??;
        match msg.expect("a message") {
            Message::Text(text) => return Some(serde_json::from_str(&text).expect("JSON")),
            Message::Close(frame) => panic!("the server closed the socket: {frame:?}"),
            _ => continue,
        }
    }
}

/// The next `tokenEvents` event of the given type, skipping others.
async fn next_event(socket: &mut Socket, kind: &str) -> Value {
    loop {
        let msg = receive(socket, Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("no {kind} event arrived"));
        assert_eq!(msg["type"], "next", "{msg}");
        let event = msg["payload"]["data"]["tokenEvents"].clone();
        if event["type"] == kind {
            return event;
        }
    }
}

/// There is no acknowledgement of a subscription in graphql-transport-ws:
/// log in as `email` until the subscription reports an `ISSUED` event.
async fn wait_until_listening(app: &TestApp, socket: &mut Socket, email: &str) {
    for _ in 0..40 {
        sign_in(app, email, PASSWORD).await;
        if let Some(msg) = receive(socket, Duration::from_millis(250)).await {
            assert_eq!(
                msg["payload"]["data"]["tokenEvents"]["type"], "ISSUED",
                "{msg}"
            );
            return;
        }
    }
    panic!("the subscription never started");
}

#[tokio::test]
async fn a_refresh_on_the_token_endpoint_arrives_as_a_rotated_event() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let mut socket = connect(&app, Some(&ada.access)).await;
    subscribe(&mut socket, "1", json!({})).await;
    wait_until_listening(&app, &mut socket, "ada@example.com").await;

    let (access, new_refresh) = refresh_ok(&app, &ada.refresh).await;
    let event = next_event(&mut socket, "ROTATED").await;
    assert_eq!(event["userId"], ada.id.as_str());
    assert_eq!(event["clientId"], "tessera-cli");
    let active = data(
        gql(
            &app,
            Some(&access),
            "{ refreshTokens(status: ACTIVE, first: 100) { edges { node { id sessionId } } } }",
            json!({}),
        )
        .await,
    );
    let successor = active["refreshTokens"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["id"] == event["tokenId"])
        .unwrap_or_else(|| panic!("the event names the new token: {event}"));
    assert_eq!(successor["node"]["sessionId"], event["sessionId"]);
    assert!(
        !event.to_string().contains(&new_refresh),
        "never the token's value"
    );
}

#[tokio::test]
async fn an_admin_watches_another_user_and_sees_mutations() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let root = admin(&app).await;
    let mut socket = connect(&app, Some(&root.access)).await;
    subscribe(&mut socket, "ada", json!({ "user": ada.id })).await;
    wait_until_listening(&app, &mut socket, "ada@example.com").await;

    let sessions = data(
        gql(
            &app,
            Some(&ada.access),
            "{ sessions { edges { node { id } } } }",
            json!({}),
        )
        .await,
    );
    // The newest login (one of those above), not the one of `ada.refresh`.
    let newest = sessions["sessions"]["edges"][0]["node"]["id"].clone();
    data(
        gql(
            &app,
            Some(&ada.access),
            "mutation($id: ID!) { revokeSession(id: $id) { id } }",
            json!({ "id": newest }),
        )
        .await,
    );
    let event = next_event(&mut socket, "REVOKED").await;
    assert_eq!(event["sessionId"], newest);
    assert_eq!(event["reason"], "revoked_by_user");
    assert_eq!(event["revokedBy"], ada.id.as_str());

    // Reuse of a rotated token is reported too.
    let (_, _) = refresh_ok(&app, &ada.refresh).await;
    next_event(&mut socket, "ROTATED").await;
    assert_eq!(app.refresh(&ada.refresh).await.status(), 400);
    let reuse = next_event(&mut socket, "REUSE_DETECTED").await;
    assert_eq!(reuse["reason"], "reuse_detected");
}

#[tokio::test]
async fn subscriptions_follow_the_same_authorization_rules() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let bob = new_user(&app, "bob@example.com").await;

    let mut socket = connect(&app, Some(&ada.access)).await;
    subscribe(&mut socket, "spy", json!({ "user": bob.id })).await;
    let refused = receive(&mut socket, Duration::from_secs(10))
        .await
        .expect("an answer");
    assert_eq!(refused["type"], "next", "{refused}");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"],
        "FORBIDDEN"
    );
    let done = receive(&mut socket, Duration::from_secs(10))
        .await
        .expect("complete");
    assert_eq!(done["type"], "complete");

    let mut anonymous = connect(&app, None).await;
    subscribe(&mut anonymous, "anon", json!({})).await;
    let refused = receive(&mut anonymous, Duration::from_secs(10))
        .await
        .expect("an answer");
    assert_eq!(
        refused["payload"]["errors"][0]["extensions"]["code"],
        "UNAUTHENTICATED"
    );
}
