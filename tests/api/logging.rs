//! What the server logs: security events yes, secrets never.

use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use serde_json::Value;

use crate::helpers::{
    TestApp, assert_oauth_error, form_encode, spawn_app, spawn_app_with, str_field, token_success,
};

const EMAIL: &str = "grace@example.com";
const PASSWORD: &str = "grace's own long password 7";
const WRONG_PASSWORD: &str = "grace's mistyped password 8";
const CLIENT_ID: &str = "billing";
const CLIENT_SECRET: &str = "a-client-secret-only-the-test-knows-42";

/// Logs in, refreshes, fails a login and calls `/api/me`; returns every token
/// value the server issued, the first refresh token (now retired) second.
async fn exercise(app: &TestApp) -> Vec<String> {
    app.create_user(EMAIL, PASSWORD);
    let (client_id, _) = app.create_confidential_client(CLIENT_ID, &["--secret", CLIENT_SECRET]);
    let password_form = [
        ("grant_type", "password"),
        ("username", EMAIL),
        ("password", PASSWORD),
    ];
    let mut tokens = Vec::new();

    let login = token_success(
        app.token_basic(&client_id, CLIENT_SECRET, &password_form)
            .await,
    )
    .await;
    let retired = str_field(&login, "refresh_token").to_string();
    tokens.push(str_field(&login, "access_token").to_string());
    tokens.push(retired.clone());
    let refresh_form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", retired.as_str()),
    ];
    let refreshed = token_success(
        app.token_basic(&client_id, CLIENT_SECRET, &refresh_form)
            .await,
    )
    .await;
    tokens.push(str_field(&refreshed, "access_token").to_string());
    tokens.push(str_field(&refreshed, "refresh_token").to_string());

    let failed = app
        .token_basic(
            &client_id,
            CLIENT_SECRET,
            &[
                ("grant_type", "password"),
                ("username", EMAIL),
                ("password", WRONG_PASSWORD),
            ],
        )
        .await;
    assert_oauth_error(failed, 400, "invalid_grant").await;
    for token in &tokens {
        let _ = app.me(token).await;
    }
    tokens
}

/// Presents the retired refresh token again.
async fn reuse(app: &TestApp, retired: &str) {
    let form = [("grant_type", "refresh_token"), ("refresh_token", retired)];
    let res = app.token_basic(CLIENT_ID, CLIENT_SECRET, &form).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

/// The logs once the server has stopped writing (its output is read by
/// background threads, so the last lines may still be on their way).
async fn settled_logs(app: &TestApp) -> String {
    let deadline = Instant::now() + Duration::from_secs(3);
    let mut logs = app.logs();
    loop {
        tokio::time::sleep(Duration::from_millis(200)).await;
        let now = app.logs();
        if now == logs || Instant::now() > deadline {
            return now;
        }
        logs = now;
    }
}

#[tokio::test]
async fn the_logs_never_contain_tokens_passwords_or_client_secrets() {
    let app = spawn_app().await;
    assert_no_secret_logged(&app).await;
}

#[tokio::test]
async fn the_json_logs_never_contain_tokens_passwords_or_client_secrets() {
    let app = spawn_app_with(&["--log-format", "json"]).await;
    assert_no_secret_logged(&app).await;
}

/// Runs the whole lifecycle (a reuse included) and scans every line.
async fn assert_no_secret_logged(app: &TestApp) {
    let tokens = exercise(app).await;
    reuse(app, &tokens[1]).await;

    let logs = settled_logs(app).await;
    assert!(!logs.is_empty(), "the server logs something");
    for token in &tokens {
        assert!(
            !logs.contains(token.as_str()),
            "a token was logged: {token}"
        );
        if let Some(signature) = token.rsplit('.').next().filter(|_| token.contains('.')) {
            assert!(
                !logs.contains(signature),
                "an access token's signature was logged: {token}"
            );
        }
    }
    let basic = STANDARD.encode(format!("{CLIENT_ID}:{}", form_encode(CLIENT_SECRET)));
    assert!(
        !logs.contains(&basic),
        "a Basic authorization header was logged"
    );
    for secret in [PASSWORD, WRONG_PASSWORD, CLIENT_SECRET] {
        assert!(!logs.contains(secret), "a secret was logged: {secret}");
        let encoded = form_encode(secret);
        assert!(
            !logs.contains(&encoded),
            "a form-encoded secret was logged: {encoded}"
        );
    }
}

#[tokio::test]
async fn refresh_token_reuse_is_logged_as_a_security_event() {
    let app = spawn_app().await;

    let tokens = exercise(&app).await;
    let before = settled_logs(&app).await.lines().count();

    reuse(&app, &tokens[1]).await;

    let logs = settled_logs(&app).await;
    assert!(
        logs.lines()
            .skip(before)
            .any(|line| line.to_ascii_lowercase().contains("reuse")),
        "no log line mentions the reuse:\n{logs}"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_per_line_with_request_context_and_event_names() {
    let app = spawn_app_with(&["--log-format", "json"]).await;

    let tokens = exercise(&app).await;
    reuse(&app, &tokens[1]).await;

    let logs = settled_logs(&app).await;
    // stdout carries the first-start block as text; every log line is JSON.
    let objects: Vec<Value> = logs
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect();
    assert!(
        objects.iter().all(|o| o["timestamp"].is_string()
            && o["level"].is_string()
            && o["target"].is_string()),
        "a line without timestamp, level or target:\n{logs}"
    );
    let answered = objects
        .iter()
        .find(|o| o["message"] == "request answered" && o["span"]["route"] == "/oauth/token")
        .unwrap_or_else(|| panic!("no request line for /oauth/token:\n{logs}"));
    assert!(answered["status"].is_u64(), "{answered}");
    assert!(answered["latency_ms"].is_number(), "{answered}");
    assert!(answered["span"]["request_id"].is_string(), "{answered}");
    let reuse = objects
        .iter()
        .find(|o| o["event"] == "refresh_token_reuse")
        .unwrap_or_else(|| panic!("no refresh_token_reuse event:\n{logs}"));
    assert_eq!(reuse["target"], "tessera::security");
    assert_eq!(reuse["level"], "WARN");
}

#[tokio::test]
async fn a_lockout_and_a_disabled_users_login_and_a_key_rotation_are_security_events() {
    let app = spawn_app_with(&["--log-format", "json", "--lockout-threshold", "1"]).await;
    app.create_user(EMAIL, PASSWORD);
    let wrong = app.password_grant(EMAIL, WRONG_PASSWORD, &[]).await;
    assert_oauth_error(wrong, 400, "invalid_grant").await;
    let locked = settled_logs(&app).await;
    assert!(locked.contains(r#""event":"account_locked""#), "{locked}");

    let other = "heidi@example.com";
    let id = app.create_user(other, PASSWORD);
    let admin = app
        .login(crate::helpers::ADMIN_EMAIL, crate::helpers::ADMIN_PASSWORD)
        .await;
    let disable = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(str_field(&admin, "access_token"))
        .json(&serde_json::json!({
            "query": "mutation($id: ID!) { setUserDisabled(userId: $id, disabled: true) { id } rotateSigningKey { kid } }",
            "variables": { "id": id },
        }))
        .send()
        .await
        .expect("request");
    assert_eq!(disable.status(), 200);
    let refused = app.password_grant(other, PASSWORD, &[]).await;
    assert_oauth_error(refused, 400, "invalid_grant").await;

    let logs = settled_logs(&app).await;
    assert!(logs.contains(r#""event":"user_disabled_set""#), "{logs}");
    assert!(logs.contains(r#""event":"disabled_user_login""#), "{logs}");
    assert!(logs.contains(r#""event":"signing_key_rotated""#), "{logs}");
    assert!(!logs.contains(PASSWORD) && !logs.contains(WRONG_PASSWORD));
}
