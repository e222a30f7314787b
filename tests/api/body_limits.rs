//! Request bodies are bounded on every route, with `Content-Length` and with
//! chunked framing; GraphQL batches are refused and aliases cannot multiply
//! a costly field past the complexity limit.

use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::graphql::{admin, code, gql};
use crate::helpers::{TestApp, json_body, spawn_app, spawn_app_with};

/// Sends `size` bytes to `path` in 16 KiB chunks (no `Content-Length`) and
/// returns the status line's code. The server may answer before the body
/// is all sent: write errors after that are expected.
async fn post_chunked(app: &TestApp, path: &str, content_type: &str, size: usize) -> u16 {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: {content_type}\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let chunk = vec![b'a'; 16 * 1024];
    let mut sent = 0;
    while sent < size {
        let frame = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
        if stream.write_all(&frame).await.is_err() {
            break;
        }
        sent += chunk.len();
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer).await;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
}

/// A JSON GraphQL body of about `size` bytes.
fn big_query(size: usize) -> String {
    json!({ "query": format!("{{ me {{ id }} }} #{}", "x".repeat(size)) }).to_string()
}

#[tokio::test]
async fn a_graphql_body_over_one_mib_is_refused_with_413() {
    let app = spawn_app().await;
    let res = app
        .post_raw("/graphql", Some("application/json"), big_query(2 << 20))
        .await;
    assert_eq!(res.status(), 413);
    let body = json_body(res).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "PAYLOAD_TOO_LARGE",
        "{body}"
    );
}

#[tokio::test]
async fn a_chunked_graphql_body_over_the_limit_is_refused_with_413() {
    let app = spawn_app().await;
    let status = post_chunked(&app, "/graphql", "application/json", 2 << 20).await;
    assert_eq!(status, 413);
}

#[tokio::test]
async fn the_graphql_body_limit_is_configurable() {
    let app = spawn_app_with(&["--graphql-max-body-size", "4KiB"]).await;
    let admin = admin(&app).await;
    let res = app
        .post_raw("/graphql", Some("application/json"), big_query(8 * 1024))
        .await;
    assert_eq!(res.status(), 413);
    // Under the limit, a query runs as usual.
    let body = gql(&app, Some(&admin.access), "{ me { id } }", json!({})).await;
    assert!(body.get("errors").is_none(), "{body}");
}

#[tokio::test]
async fn a_chunked_oauth_body_over_64_kib_is_refused_with_413() {
    let app = spawn_app().await;
    let form = "application/x-www-form-urlencoded";
    assert_eq!(
        post_chunked(&app, "/oauth/token", form, 256 * 1024).await,
        413
    );
    assert_eq!(
        post_chunked(&app, "/oauth/revoke", form, 256 * 1024).await,
        413
    );
}

#[tokio::test]
async fn routes_without_a_body_refuse_a_large_one_with_413() {
    let app = spawn_app().await;
    for path in ["/api/me", "/healthz", "/.well-known/jwks.json", "/graphql"] {
        assert_eq!(declared_only(&app, path, 64 << 20).await, 413, "{path}");
    }
}

/// Declares a body of `length` bytes, sends none, and returns the status:
/// the answer must come before the body is read.
async fn declared_only(app: &TestApp, path: &str, length: usize) -> u16 {
    let addr = app.address.trim_start_matches("http://");
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {length}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).await.expect("head");
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), stream.read(&mut answer))
        .await
        .expect("an answer without the body")
        .expect("read");
    let text = String::from_utf8_lossy(&answer[..n]);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no HTTP answer: {text:?}"))
}

#[tokio::test]
async fn a_graphql_batch_is_refused_with_400() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let batch = json!([{ "query": "{ me { id } }" }, { "query": "{ me { id } }" }]);
    let res = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&admin.access)
        .json(&batch)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    let body: Value = json_body(res).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{body}"
    );
}

#[tokio::test]
async fn aliases_cannot_multiply_a_costly_field_past_the_complexity_limit() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let field = "users(first: 100) { edges { node { id email roles firstName lastName } } }";
    let one = gql(
        &app,
        Some(&admin.access),
        &format!("{{ a: {field} }}"),
        json!({}),
    )
    .await;
    assert!(one.get("errors").is_none(), "one page is fine: {one}");

    let many: String = (0..30).map(|i| format!("a{i}: {field} ")).collect();
    let body = gql(
        &app,
        Some(&admin.access),
        &format!("{{ {many} }}"),
        json!({}),
    )
    .await;
    assert_eq!(code(&body), "GRAPHQL_VALIDATION_FAILED", "{body}");
    assert!(body["data"].is_null(), "nothing ran: {body}");
}
