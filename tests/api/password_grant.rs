//! `grant_type=password` (RFC 6749 §4.3): the token response, scopes, user
//! enumeration and brute-force lockout.

use std::time::Duration;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, assert_oauth_error, scope_set, scopes, spawn_app, spawn_app_with,
    str_field, token_success,
};

const EMAIL: &str = "alice@example.com";
const PASSWORD: &str = "alice's long password 1";

#[tokio::test]
async fn a_correct_password_returns_a_bearer_token_response() {
    let app = spawn_app().await;
    app.create_user(EMAIL, PASSWORD);

    let res = app.password_grant(EMAIL, PASSWORD, &[]).await;

    let body = token_success(res).await;
    assert!(!str_field(&body, "access_token").is_empty());
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"].as_u64(), Some(900), "{body}");
    assert!(!str_field(&body, "refresh_token").is_empty());
    assert_eq!(scopes(&body["scope"]), scope_set(&["profile", "email"]));
}

#[tokio::test]
async fn expires_in_is_the_configured_access_token_lifetime() {
    let app = spawn_app_with(&["--access-token-ttl", "2m"]).await;

    let body = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    assert_eq!(body["expires_in"].as_u64(), Some(120), "{body}");
}

#[tokio::test]
async fn the_username_is_the_email_in_any_case() {
    let app = spawn_app().await;
    app.create_user(EMAIL, PASSWORD);

    let res = app.password_grant("ALICE@Example.COM", PASSWORD, &[]).await;

    token_success(res).await;
}

#[tokio::test]
async fn a_user_created_with_a_mixed_case_email_logs_in_with_lower_case() {
    let app = spawn_app().await;
    app.create_user("Bob.Smith@Example.com", PASSWORD);

    let res = app
        .password_grant("bob.smith@example.com", PASSWORD, &[])
        .await;

    token_success(res).await;
}

#[tokio::test]
async fn a_requested_scope_within_the_clients_scopes_is_granted() {
    let app = spawn_app().await;

    let res = app
        .password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[("scope", "profile")])
        .await;

    let body = token_success(res).await;
    assert_eq!(body["scope"], "profile");
}

#[tokio::test]
async fn a_scope_outside_the_clients_scopes_is_an_invalid_scope() {
    let app = spawn_app().await;

    let res = app
        .password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[("scope", "profile admin")])
        .await;

    assert_oauth_error(res, 400, "invalid_scope").await;
}

#[tokio::test]
async fn a_client_created_with_scopes_grants_those_scopes_by_default() {
    let app = spawn_app().await;
    app.create_public_client("reader", &["--scope", "profile", "--scope", "reports:read"]);

    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", "reader"),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;

    let body = token_success(res).await;
    assert_eq!(
        scopes(&body["scope"]),
        scope_set(&["profile", "reports:read"])
    );
}

#[tokio::test]
async fn an_unknown_user_and_a_wrong_password_are_indistinguishable() {
    let app = spawn_app().await;
    app.create_user(EMAIL, PASSWORD);

    let unknown = app
        .password_grant("nobody@example.com", PASSWORD, &[])
        .await;
    let wrong = app.password_grant(EMAIL, "not alice's password", &[]).await;

    let unknown = assert_oauth_error(unknown, 400, "invalid_grant").await;
    let wrong = assert_oauth_error(wrong, 400, "invalid_grant").await;
    assert_eq!(unknown, wrong, "the two responses must be identical");
}

#[tokio::test]
async fn a_missing_password_is_refused() {
    let app = spawn_app().await;

    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", "tessera-cli"),
            ("username", ADMIN_EMAIL),
        ])
        .await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn each_login_starts_a_new_session_with_new_tokens() {
    let app = spawn_app().await;

    let first = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let second = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    assert_ne!(first["refresh_token"], second["refresh_token"]);
    assert_ne!(first["access_token"], second["access_token"]);
    // Both sessions live side by side.
    token_success(app.refresh(str_field(&first, "refresh_token")).await).await;
    token_success(app.refresh(str_field(&second, "refresh_token")).await).await;
}

#[tokio::test]
async fn repeated_wrong_passwords_lock_the_account_for_a_while() {
    let app = spawn_app_with(&["--lockout-threshold", "3", "--lockout-duration", "2s"]).await;
    app.create_user(EMAIL, PASSWORD);
    let mut wrong_description = None;
    for _ in 0..3 {
        let res = app.password_grant(EMAIL, "wrong password", &[]).await;
        wrong_description = Some(assert_oauth_error(res, 400, "invalid_grant").await);
    }

    let locked = app.password_grant(EMAIL, PASSWORD, &[]).await;

    let locked = assert_oauth_error(locked, 400, "invalid_grant").await;
    assert_eq!(
        Some(locked),
        wrong_description,
        "a locked account looks like a wrong password"
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let unlocked = app.password_grant(EMAIL, PASSWORD, &[]).await;
    token_success(unlocked).await;
}

#[tokio::test]
async fn the_lockout_is_per_account() {
    let app = spawn_app_with(&["--lockout-threshold", "3", "--lockout-duration", "10m"]).await;
    app.create_user(EMAIL, PASSWORD);
    for _ in 0..3 {
        let res = app.password_grant(EMAIL, "wrong password", &[]).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }

    let locked = app.password_grant(EMAIL, PASSWORD, &[]).await;
    let other = app.password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[]).await;

    assert_oauth_error(locked, 400, "invalid_grant").await;
    token_success(other).await;
}

#[tokio::test]
async fn only_consecutive_failures_count_towards_the_lockout() {
    let app = spawn_app_with(&["--lockout-threshold", "3", "--lockout-duration", "10m"]).await;
    app.create_user(EMAIL, PASSWORD);
    for password in ["wrong 1", "wrong 2", PASSWORD, "wrong 3", "wrong 4"] {
        let _ = app.password_grant(EMAIL, password, &[]).await;
    }

    let res = app.password_grant(EMAIL, PASSWORD, &[]).await;

    token_success(res).await;
}

#[tokio::test]
async fn failed_logins_for_an_unknown_email_do_not_lock_anyone() {
    let app = spawn_app_with(&["--lockout-threshold", "3", "--lockout-duration", "10m"]).await;
    for _ in 0..4 {
        let res = app
            .password_grant("ghost@example.com", "whatever", &[])
            .await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }

    let res = app.password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[]).await;

    token_success(res).await;
}
