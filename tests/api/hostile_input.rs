//! No input makes a 500: NUL bytes, lone surrogates, over-long strings and
//! ids that are not UUIDs get each endpoint's ordinary client error, on
//! SQLite and on PostgreSQL (which refuses NUL in text) alike.

use serde_json::{Value, json};

use crate::graphql::admin;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, TestApp, json_body, spawn_app};

/// Values an attacker sends, by name for the failure message.
fn hostile() -> Vec<(&'static str, String)> {
    vec![
        ("NUL", "admin@localhost\0".to_string()),
        ("NUL alone", "\0".to_string()),
        ("10k chars", "x".repeat(10_000)),
        ("10k non-ASCII", "é".repeat(5_000)),
        ("not a UUID", "not-a-uuid; DROP TABLE users".to_string()),
        ("control", "a\u{1}b\u{7f}".to_string()),
    ]
}

const OAUTH_FIELDS: [&str; 8] = [
    "grant_type",
    "client_id",
    "client_secret",
    "username",
    "password",
    "scope",
    "refresh_token",
    "token",
];

async fn assert_client_error(res: reqwest::Response, what: &str) {
    let status = res.status().as_u16();
    let body = json_body(res).await;
    assert!(
        (400..500).contains(&status),
        "{what}: expected a client error, got {status}: {body}"
    );
    assert!(body["error"].is_string(), "{what}: {body}");
}

#[tokio::test]
async fn hostile_values_in_any_oauth_parameter_are_client_errors() {
    let app = spawn_app().await;
    let (id, secret) =
        app.create_confidential_client("svc", &["--grant-type", "client_credentials"]);
    let bases: [(&str, Vec<(&str, &str)>); 4] = [
        (
            "/oauth/token",
            vec![
                ("grant_type", "password"),
                ("client_id", CLI_CLIENT),
                ("username", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        ),
        (
            "/oauth/token",
            vec![
                ("grant_type", "refresh_token"),
                ("client_id", CLI_CLIENT),
                ("refresh_token", "x"),
            ],
        ),
        (
            "/oauth/revoke",
            vec![("client_id", CLI_CLIENT), ("token", "x")],
        ),
        (
            "/oauth/introspect",
            vec![
                ("client_id", &id),
                ("client_secret", &secret),
                ("token", "x"),
            ],
        ),
    ];
    for (path, base) in &bases {
        for field in OAUTH_FIELDS {
            for (name, value) in hostile() {
                let mut form: Vec<(&str, &str)> =
                    base.iter().filter(|(k, _)| *k != field).copied().collect();
                form.push((field, &value));
                let res = app.post_form(path, &form).await;
                let status = res.status().as_u16();
                if status == 200 {
                    // Revocation and introspection answer 200 for unknown tokens.
                    continue;
                }
                assert_client_error(res, &format!("{path} {field}={name}")).await;
            }
        }
    }
}

#[tokio::test]
async fn a_nul_username_is_invalid_request_on_both_backends() {
    let app = spawn_app().await;
    let res = app
        .password_grant("admin@localhost\0", ADMIN_PASSWORD, &[])
        .await;
    crate::helpers::assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn hostile_basic_credentials_are_client_errors() {
    let app = spawn_app().await;
    for (name, value) in hostile() {
        let res = app
            .token_basic(&value, &value, &[("grant_type", "client_credentials")])
            .await;
        assert_client_error(res, &format!("Basic {name}")).await;
    }
}

/// Every string argument of the API, as an operation taking `$v`.
const OPERATIONS: &[&str] = &[
    "query($v: ID!) { user(id: $v) { id } }",
    "query($v: String) { users(search: $v) { totalCount } }",
    "query($v: String) { users(after: $v) { totalCount } }",
    "query($v: ID) { refreshTokens(userId: $v) { totalCount } }",
    "query($v: String) { refreshTokens(after: $v) { totalCount } }",
    "query($v: ID) { sessions(userId: $v) { totalCount } }",
    "query($v: String) { sessions(after: $v) { totalCount } }",
    "mutation($v: ID!) { revokeRefreshToken(id: $v) { id } }",
    "mutation($v: ID!) { revokeSession(id: $v) { id } }",
    "mutation($v: ID) { revokeAllRefreshTokens(userId: $v) }",
    "mutation($v: String!) { changePassword(currentPassword: $v, newPassword: \"another long password\") }",
    "mutation($v: String!) { changePassword(currentPassword: \"correct horse battery staple\", newPassword: $v) }",
    "mutation($v: ID!) { setUserRoles(userId: $v, roles: []) { id } }",
    "mutation($v: String!) { setUserRoles(userId: \"00000000-0000-0000-0000-000000000000\", roles: [$v]) { id } }",
    "mutation($v: ID!) { setUserDisabled(userId: $v, disabled: false) { id } }",
    "mutation($v: String!) { createClient(input: { clientId: $v }) { client { clientId } } }",
    "mutation($v: String!) { createClient(input: { clientId: \"c1\", secret: $v }) { client { clientId } } }",
    "mutation($v: String!) { createClient(input: { clientId: \"c2\", scopes: [$v] }) { client { clientId } } }",
    "mutation($v: String!) { deleteClient(clientId: $v) }",
    "mutation($v: String!) { register(input: { email: $v, password: \"a long password\" }) { id } }",
    "mutation($v: String!) { register(input: { email: \"n1@example.test\", password: $v }) { id } }",
    "mutation($v: String!) { register(input: { email: \"n2@example.test\", password: \"a long password\", firstName: $v }) { id } }",
    "mutation($v: String!) { register(input: { email: \"n3@example.test\", password: \"a long password\", lastName: $v }) { id } }",
    "mutation($v: String!) { register(input: { email: \"n4@example.test\", password: \"a long password\", roles: [$v] }) { id } }",
];

/// POSTs a raw JSON body; asserts no 5xx and no internal error.
async fn assert_no_internal_error(app: &TestApp, token: &str, body: String, what: &str) {
    let res = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(token)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = res.status().as_u16();
    let body: Value = res.json().await.expect("JSON body");
    assert!(status < 500, "{what}: {status} {body}");
    for error in body["errors"].as_array().into_iter().flatten() {
        let code = error["extensions"]["code"].as_str().unwrap_or("");
        assert!(
            !code.is_empty() && code != "INTERNAL_SERVER_ERROR",
            "{what}: {body}"
        );
    }
}

#[tokio::test]
async fn hostile_values_in_any_graphql_argument_are_client_errors() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    for op in OPERATIONS {
        for (name, value) in hostile() {
            let body = json!({ "query": op, "variables": { "v": value } }).to_string();
            assert_no_internal_error(&app, &admin.access, body, &format!("{op} with {name}")).await;
        }
        // A lone surrogate cannot be a Rust string: it is spelled in the JSON.
        let body = format!(
            r#"{{"query": {}, "variables": {{"v": "\ud800"}}}}"#,
            json!(op)
        );
        assert_no_internal_error(
            &app,
            &admin.access,
            body,
            &format!("{op} with a lone surrogate"),
        )
        .await;
    }
}

#[tokio::test]
async fn a_nul_in_a_graphql_literal_is_bad_user_input() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let body = crate::graphql::gql(
        &app,
        Some(&admin.access),
        r#"{ users(search: "admin\u0000") { totalCount } }"#,
        json!({}),
    )
    .await;
    assert_eq!(crate::graphql::code(&body), "BAD_USER_INPUT");
}

#[tokio::test]
async fn a_lone_surrogate_in_a_graphql_body_is_a_400() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let res = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&admin.access)
        .header("content-type", "application/json")
        .body(r#"{"query": "{ users(search: \"\ud800\") { totalCount } }"}"#)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 400);
    let body = json_body(res).await;
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "BAD_REQUEST",
        "{body}"
    );
}
