//! Slow and idle clients cannot exhaust the server: headers must arrive
//! within the header timeout, and connections past the limit wait their
//! turn instead of starving the process.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn connect(app: &TestApp) -> TcpStream {
    let addr = app.address.trim_start_matches("http://");
    TcpStream::connect(addr).await.expect("connect")
}

/// Reads until the server closes the connection; returns what it said.
async fn read_until_closed(stream: &mut TcpStream, limit: Duration) -> Option<String> {
    let mut buf = Vec::new();
    match tokio::time::timeout(limit, stream.read_to_end(&mut buf)).await {
        Ok(_) => Some(String::from_utf8_lossy(&buf).into_owned()),
        Err(_) => None,
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = spawn_app_with(&["--header-read-timeout", "1s"]).await;
    let mut stream = connect(&app).await;
    stream
        .write_all(b"POST /oauth/token HTTP/1.1\r\nHost: tessera\r\n")
        .await
        .expect("write");

    let closed = read_until_closed(&mut stream, Duration::from_secs(10)).await;

    assert!(closed.is_some(), "the half-sent request was never cut off");
}

#[tokio::test]
async fn idle_connections_beyond_the_limit_do_not_lock_clients_out_for_good() {
    let app = spawn_app_with(&["--max-connections", "2", "--header-read-timeout", "1s"]).await;
    let _idle_a = connect(&app).await;
    let _idle_b = connect(&app).await;
    // Both slots are taken by connections that send nothing; the header
    // timeout frees them, and the waiting request is then served.
    let started = Instant::now();
    let res = tokio::time::timeout(
        Duration::from_secs(15),
        app.http.get(app.url("/healthz")).send(),
    )
    .await
    .expect("the request waited forever")
    .expect("request");
    assert_eq!(res.status(), 200);
    assert!(started.elapsed() < Duration::from_secs(15));
}

#[tokio::test]
async fn many_idle_connections_leave_the_server_responsive() {
    let app = spawn_app().await;
    let mut idle = Vec::new();
    for _ in 0..200 {
        idle.push(connect(&app).await);
    }
    let res = app
        .http
        .get(app.url("/healthz"))
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    drop(idle);
}
