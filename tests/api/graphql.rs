//! Helpers for the GraphQL tests: operations POSTed with a bearer token,
//! signed-in accounts, and assertions on `data`, `extensions.code` and
//! secrets that must never appear.

use serde_json::{Value, json};

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, str_field};

pub const PASSWORD: &str = "a perfectly fine password";

/// A signed-in user: their id and the tokens of their latest login.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub access: String,
    pub refresh: String,
}

/// Logs in with the password grant and learns the user's id from `me`.
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> Account {
    let tokens = app.login(email, password).await;
    let access = str_field(&tokens, "access_token").to_string();
    let refresh = str_field(&tokens, "refresh_token").to_string();
    let me = data(gql(app, Some(&access), "{ me { id } }", json!({})).await);
    Account {
        id: me["me"]["id"].as_str().expect("me.id").to_string(),
        access,
        refresh,
    }
}

pub async fn admin(app: &TestApp) -> Account {
    sign_in(app, ADMIN_EMAIL, ADMIN_PASSWORD).await
}

/// Creates a user through the CLI and signs them in.
pub async fn new_user(app: &TestApp, email: &str) -> Account {
    app.create_user(email, PASSWORD);
    sign_in(app, email, PASSWORD).await
}

/// POSTs one operation; asserts HTTP 200 and returns the whole JSON body.
pub async fn gql(app: &TestApp, token: Option<&str>, query: &str, variables: Value) -> Value {
    let mut req = app
        .http
        .post(app.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        req = req.bearer_auth(token);
    }
    let res = req.send().await.expect("request");
    let status = res.status();
    let body: Value = res.json().await.expect("JSON body");
    assert_eq!(status, 200, "GraphQL answered {status}: {body}");
    body
}

/// The `data` of a response that must have no errors.
pub fn data(body: Value) -> Value {
    assert!(body.get("errors").is_none(), "unexpected errors: {body}");
    body["data"].clone()
}

/// The `extensions.code` of the first error (there must be one).
pub fn code(body: &Value) -> String {
    let first = &body["errors"][0];
    assert!(first.is_object(), "expected an error, got: {body}");
    assert!(
        first["message"].as_str().is_some_and(|m| !m.is_empty()),
        "errors carry a human message: {body}"
    );
    first["extensions"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("error without extensions.code: {body}"))
        .to_string()
}

/// Runs an operation and returns the code of the error it must fail with.
pub async fn error_code(
    app: &TestApp,
    token: Option<&str>,
    query: &str,
    variables: Value,
) -> String {
    code(&gql(app, token, query, variables).await)
}

/// Asserts that none of `secrets` occurs anywhere in `body`, nor anything
/// that looks like a password hash.
pub fn assert_no_secrets(body: &Value, secrets: &[String]) {
    let text = body.to_string();
    for secret in secrets {
        assert!(
            !text.contains(secret.as_str()),
            "a secret ({}…) appears in a response: {text}",
            &secret[..8.min(secret.len())]
        );
    }
    assert!(!text.contains("$argon2"), "a password hash appears: {text}");
}

/// Hex SHA-256, as the server stores token and secret digests.
pub fn digest(value: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A refresh grant that must succeed; returns (access, refresh).
pub async fn refresh_ok(app: &TestApp, refresh_token: &str) -> (String, String) {
    let res = app.refresh(refresh_token).await;
    let status = res.status();
    let body: Value = res.json().await.expect("json");
    assert_eq!(status, 200, "refresh failed: {body}");
    (
        str_field(&body, "access_token").to_string(),
        str_field(&body, "refresh_token").to_string(),
    )
}

/// Whether a refresh token can still be used.
pub async fn refresh_works(app: &TestApp, refresh_token: &str) -> bool {
    app.refresh(refresh_token).await.status() == 200
}

/// The ids of a connection's nodes, in order.
pub fn node_ids(connection: &Value) -> Vec<String> {
    connection["edges"]
        .as_array()
        .unwrap_or_else(|| panic!("not a connection: {connection}"))
        .iter()
        .map(|e| e["node"]["id"].as_str().expect("node id").to_string())
        .collect()
}
