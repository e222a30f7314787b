//! The limits of `/graphql/ws`: message size, subscriptions per connection
//! and per user, keepalive pings, and connections closed when they never
//! authenticate or go idle.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::graphql::admin;
use crate::helpers::{TestApp, spawn_app_with};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

const EVENTS: &str = "subscription { tokenEvents { type } }";

async fn open(app: &TestApp) -> Socket {
    let url = format!("{}/graphql/ws", app.address.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().expect("request");
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        HeaderValue::from_static("graphql-transport-ws"),
    );
    tokio_tungstenite::connect_async(request)
        .await
        .expect("WebSocket connects")
        .0
}

async fn send(socket: &mut Socket, message: Value) {
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .expect("send");
}

async fn connect(app: &TestApp, token: &str) -> Socket {
    let mut socket = open(app).await;
    let init = json!({ "type": "connection_init", "payload": { "token": token } });
    send(&mut socket, init).await;
    let ack = next(&mut socket).await;
    assert!(
        matches!(&ack, Event::Text(v) if v["type"] == "connection_ack"),
        "{ack:?}"
    );
    socket
}

#[derive(Debug)]
enum Event {
    Text(Value),
    Ping,
    Closed(Option<u16>),
}

/// The next thing the server does, within 10 s.
async fn next(socket: &mut Socket) -> Event {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("the server answers within 10 s");
        return match msg {
            Some(Ok(Message::Text(text))) => {
                Event::Text(serde_json::from_str(&text).expect("JSON"))
            }
            Some(Ok(Message::Ping(_))) => Event::Ping,
            Some(Ok(Message::Close(frame))) => Event::Closed(frame.map(|f| f.code.into())),
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => Event::Closed(None),
        };
    }
}

/// The next event that is not a ping.
async fn next_not_ping(socket: &mut Socket) -> Event {
    loop {
        match next(socket).await {
            Event::Ping => continue,
            other => return other,
        }
    }
}

async fn subscribe(socket: &mut Socket, id: &str) {
    let msg = json!({ "id": id, "type": "subscribe", "payload": { "query": EVENTS } });
    send(socket, msg).await;
}

fn error_code(event: &Event) -> String {
    match event {
        Event::Text(v) if v["type"] == "error" || v["type"] == "next" => {
            let errors = if v["type"] == "error" {
                &v["payload"]
            } else {
                &v["payload"]["errors"]
            };
            errors[0]["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_string()
        }
        other => panic!("expected an error, got {other:?}"),
    }
}

#[tokio::test]
async fn a_connection_that_never_authenticates_is_closed_with_4408() {
    let app = spawn_app_with(&["--ws-init-timeout", "1s"]).await;
    let mut socket = open(&app).await;
    assert!(matches!(
        next_not_ping(&mut socket).await,
        Event::Closed(Some(4408))
    ));
}

#[tokio::test]
async fn an_idle_connection_is_closed() {
    let app = spawn_app_with(&["--ws-idle-timeout", "1s"]).await;
    let admin = admin(&app).await;
    let mut socket = connect(&app, &admin.access).await;
    assert!(matches!(
        next_not_ping(&mut socket).await,
        Event::Closed(Some(1000))
    ));
}

#[tokio::test]
async fn the_server_pings_and_a_subscribed_connection_stays_open() {
    let app = spawn_app_with(&["--ws-ping-interval", "1s", "--ws-idle-timeout", "1s"]).await;
    let admin = admin(&app).await;
    let mut socket = connect(&app, &admin.access).await;
    subscribe(&mut socket, "1").await;
    // tungstenite answers each ping with a pong as it reads; three pings
    // span more than the idle timeout, and the subscription keeps it open.
    for _ in 0..3 {
        let event = next(&mut socket).await;
        assert!(matches!(event, Event::Ping), "{event:?}");
    }
}

#[tokio::test]
async fn a_message_over_the_limit_closes_the_connection() {
    let app = spawn_app_with(&["--ws-max-message-size", "1KiB"]).await;
    let admin = admin(&app).await;
    let mut socket = connect(&app, &admin.access).await;
    let big = json!({ "id": "1", "type": "subscribe", "payload": { "query": format!("{EVENTS} #{}", "x".repeat(4096)) } });
    let _ = socket.send(Message::Text(big.to_string().into())).await;
    let event = next_not_ping(&mut socket).await;
    assert!(
        matches!(event, Event::Closed(None | Some(1009))),
        "{event:?}"
    );
}

#[tokio::test]
async fn subscriptions_per_connection_are_limited() {
    let app = spawn_app_with(&["--ws-max-subscriptions", "1"]).await;
    let admin = admin(&app).await;
    let mut socket = connect(&app, &admin.access).await;
    subscribe(&mut socket, "1").await;
    subscribe(&mut socket, "2").await;
    let event = next_not_ping(&mut socket).await;
    assert_eq!(error_code(&event), "BAD_USER_INPUT", "{event:?}");
}

#[tokio::test]
async fn subscriptions_per_user_are_limited_across_connections() {
    let app = spawn_app_with(&["--ws-max-subscriptions-per-user", "1"]).await;
    let admin = admin(&app).await;
    let mut first = connect(&app, &admin.access).await;
    subscribe(&mut first, "1").await;
    let mut second = connect(&app, &admin.access).await;
    // The first subscription starts when its message is read; give it time.
    tokio::time::sleep(Duration::from_millis(300)).await;
    subscribe(&mut second, "1").await;
    let event = next_not_ping(&mut second).await;
    assert_eq!(error_code(&event), "BAD_USER_INPUT", "{event:?}");
    // Ending the first frees its place.
    send(&mut first, json!({ "id": "1", "type": "complete" })).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    subscribe(&mut second, "2").await;
    // Nothing about "2" arrives: no error, no completion; it is running.
    while let Ok(Some(Ok(msg))) =
        tokio::time::timeout(Duration::from_millis(500), second.next()).await
    {
        if let Message::Text(text) = msg {
            let v: Value = serde_json::from_str(&text).expect("JSON");
            assert_ne!(v["id"], "2", "the second subscription runs: {v}");
        }
    }
}
