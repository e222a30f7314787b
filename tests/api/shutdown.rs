//! SIGTERM: requests in flight are answered (and what they wrote is
//! committed), new connections are refused, WebSockets get a close frame.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::json;
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use crate::graphql_subscription::{connect, subscribe};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, TestApp, spawn_app_with, str_field};

/// A password grant or a refresh, sent by a task of its own.
fn token_request(
    app: &TestApp,
    form: Vec<(&'static str, String)>,
) -> impl Future<Output = (u16, serde_json::Value)> + use<> {
    let http = app.http.clone();
    let url = app.url("/oauth/token");
    async move {
        let res = http
            .post(url)
            .form(&form)
            .send()
            .await
            .expect("an answer, not a reset");
        let status = res.status().as_u16();
        (status, res.json().await.expect("json"))
    }
}

fn login_form() -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "password".into()),
        ("client_id", CLI_CLIENT.into()),
        ("username", ADMIN_EMAIL.into()),
        ("password", ADMIN_PASSWORD.into()),
    ]
}

fn refresh_form(token: &str) -> Vec<(&'static str, String)> {
    vec![
        ("grant_type", "refresh_token".into()),
        ("client_id", CLI_CLIENT.into()),
        ("refresh_token", token.into()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_at_sigterm_are_answered_and_new_connections_refused() {
    let mut app = spawn_app_with(&["--shutdown-timeout", "60s"]).await;
    let mut refresh_tokens = Vec::new();
    for _ in 0..10 {
        let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        refresh_tokens.push(str_field(&login, "refresh_token").to_string());
    }

    // Logins queue for the two hashing threads (~20 ms each): 60 of them
    // keep the server busy well past the signal.
    let answered = Arc::new(AtomicUsize::new(0));
    let mut in_flight = JoinSet::new();
    let forms = refresh_tokens
        .iter()
        .map(|t| refresh_form(t))
        .chain((0..60).map(|_| login_form()));
    for form in forms {
        let request = token_request(&app, form);
        let answered = Arc::clone(&answered);
        in_flight.spawn(async move {
            let answer = request.await;
            answered.fetch_add(1, Ordering::SeqCst);
            answer
        });
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    app.send_sigterm();
    let answered_before = answered.load(Ordering::SeqCst);

    // The listener closes at once; the answers still come.
    let address = app.address.trim_start_matches("http://").to_string();
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(&address).await.is_ok() {
        assert!(
            Instant::now() < deadline,
            "still accepting connections after SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut rotated = Vec::new();
    while let Some(answer) = in_flight.join_next().await {
        let (status, body) = answer.expect("task");
        assert_eq!(status, 200, "a request in flight was not served: {body}");
        if let Some(rt) = body["refresh_token"].as_str() {
            rotated.push(rt.to_string());
        }
    }
    assert_eq!(rotated.len(), 70);
    assert!(
        answered_before < 70,
        "nothing was in flight at SIGTERM: the test proved nothing"
    );
    assert!(app.stop_gracefully(), "no clean exit:\n{}", app.logs());

    // What the last requests wrote was committed: their tokens work.
    app.restart().await;
    for token in rotated.iter().take(10) {
        let (status, body) = token_request(&app, refresh_form(token)).await;
        assert_eq!(status, 200, "{body}");
    }
}

#[tokio::test]
async fn a_websocket_gets_a_close_frame_at_sigterm() {
    let mut app = spawn_app_with(&[]).await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut socket = connect(&app, Some(str_field(&login, "access_token"))).await;
    subscribe(&mut socket, "1", json!({})).await;

    app.send_sigterm();

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let close = loop {
        match tokio::time::timeout_at(deadline, socket.next()).await {
            Ok(Some(Ok(Message::Close(frame)))) => break frame,
            Ok(Some(Ok(_))) => continue,
            other => panic!("no close frame: {other:?}\n{}", app.logs()),
        }
    };
    let frame = close.expect("a close frame with a code");
    assert_eq!(frame.code, CloseCode::Away);
    assert!(app.stop_gracefully(), "no clean exit:\n{}", app.logs());
}
