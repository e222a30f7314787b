//! `grant_type=refresh_token` (RFC 6749 §6): rotation, reuse detection
//! (RFC 9700 §4.14.2), concurrency, scope narrowing and lifetimes.

use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, assert_oauth_error, scope_set, scopes, spawn_app,
    spawn_app_with, str_field, token_success,
};

async fn admin_refresh_token(app: &crate::helpers::TestApp) -> String {
    let body = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    str_field(&body, "refresh_token").to_string()
}

#[tokio::test]
async fn a_refresh_returns_a_new_refresh_token_and_retires_the_old_one() {
    let app = spawn_app().await;
    let old = admin_refresh_token(&app).await;

    let body = token_success(app.refresh(&old).await).await;

    let new = str_field(&body, "refresh_token");
    assert_ne!(new, old);
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"].as_u64(), Some(900));
    assert_oauth_error(app.refresh(&old).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn the_access_token_from_a_refresh_opens_the_protected_resource() {
    let app = spawn_app().await;
    let old = admin_refresh_token(&app).await;

    let body = token_success(app.refresh(&old).await).await;
    let res = app.me(str_field(&body, "access_token")).await;

    assert_eq!(res.status(), 200);
    let me: serde_json::Value = res.json().await.expect("json");
    assert_eq!(me["email"], ADMIN_EMAIL);
}

#[tokio::test]
async fn a_rotated_chain_keeps_refreshing() {
    let app = spawn_app().await;
    let mut token = admin_refresh_token(&app).await;

    for _ in 0..5 {
        let body = token_success(app.refresh(&token).await).await;
        token = str_field(&body, "refresh_token").to_string();
    }

    token_success(app.refresh(&token).await).await;
}

#[tokio::test]
async fn reusing_a_retired_refresh_token_revokes_its_whole_session() {
    let app = spawn_app().await;
    let retired = admin_refresh_token(&app).await;
    let other_session = admin_refresh_token(&app).await;
    let newest = token_success(app.refresh(&retired).await).await;
    let newest = str_field(&newest, "refresh_token");

    let reuse = app.refresh(&retired).await;

    assert_oauth_error(reuse, 400, "invalid_grant").await;
    assert_oauth_error(app.refresh(newest).await, 400, "invalid_grant").await;
    token_success(app.refresh(&other_session).await).await;
}

#[tokio::test]
async fn reuse_deep_in_a_chain_revokes_the_newest_token() {
    let app = spawn_app().await;
    let first = admin_refresh_token(&app).await;
    let second = token_success(app.refresh(&first).await).await;
    let second = str_field(&second, "refresh_token").to_string();
    let third = token_success(app.refresh(&second).await).await;
    let third = str_field(&third, "refresh_token").to_string();

    assert_oauth_error(app.refresh(&first).await, 400, "invalid_grant").await;

    assert_oauth_error(app.refresh(&third).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn of_twenty_concurrent_refreshes_with_one_token_exactly_one_succeeds() {
    let app = spawn_app().await;
    let token = admin_refresh_token(&app).await;
    let mut requests = JoinSet::new();
    for _ in 0..20 {
        let http = app.http.clone();
        let url = app.url("/oauth/token");
        let token = token.clone();
        requests.spawn(async move {
            let res = http
                .post(url)
                .form(&[
                    ("grant_type", "refresh_token"),
                    ("client_id", CLI_CLIENT),
                    ("refresh_token", token.as_str()),
                ])
                .send()
                .await
                .expect("request");
            let status = res.status().as_u16();
            let body: serde_json::Value = res.json().await.expect("json");
            (status, body)
        });
    }

    let mut successes = 0;
    while let Some(result) = requests.join_next().await {
        let (status, body) = result.expect("task");
        match status {
            200 => successes += 1,
            400 => assert_eq!(body["error"], "invalid_grant", "{body}"),
            other => panic!("unexpected status {other}: {body}"),
        }
    }
    assert_eq!(successes, 1);
}

#[tokio::test]
async fn a_refresh_token_issued_to_another_client_is_an_invalid_grant() {
    let app = spawn_app().await;
    app.create_public_client("other-app", &[]);
    let token = admin_refresh_token(&app).await;

    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "other-app"),
            ("refresh_token", &token),
        ])
        .await;

    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn an_unknown_refresh_token_is_an_invalid_grant() {
    let app = spawn_app().await;

    let res = app
        .refresh("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
        .await;

    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_missing_refresh_token_is_an_invalid_request() {
    let app = spawn_app().await;

    let res = app
        .token(&[("grant_type", "refresh_token"), ("client_id", CLI_CLIENT)])
        .await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_refresh_keeps_the_original_scope_by_default() {
    let app = spawn_app().await;
    let login = app
        .password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[("scope", "email")])
        .await;
    let login = token_success(login).await;

    let body = token_success(app.refresh(str_field(&login, "refresh_token")).await).await;

    assert_eq!(body["scope"], "email");
}

#[tokio::test]
async fn a_refresh_may_narrow_the_scope() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(scopes(&login["scope"]), scope_set(&["profile", "email"]));

    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLI_CLIENT),
            ("refresh_token", str_field(&login, "refresh_token")),
            ("scope", "profile"),
        ])
        .await;

    let body = token_success(res).await;
    assert_eq!(body["scope"], "profile");
    let (_, claims) = crate::jwt::decode_unverified(str_field(&body, "access_token"));
    assert_eq!(claims["scope"], "profile");
}

#[tokio::test]
async fn a_refresh_asking_for_a_scope_the_client_lacks_is_an_invalid_scope() {
    let app = spawn_app().await;
    let token = admin_refresh_token(&app).await;

    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLI_CLIENT),
            ("refresh_token", &token),
            ("scope", "profile admin"),
        ])
        .await;

    assert_oauth_error(res, 400, "invalid_scope").await;
}

#[tokio::test]
async fn a_refresh_may_not_widen_the_scope_beyond_the_original_grant() {
    let app = spawn_app().await;
    let login = app
        .password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[("scope", "profile")])
        .await;
    let login = token_success(login).await;

    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", CLI_CLIENT),
            ("refresh_token", str_field(&login, "refresh_token")),
            ("scope", "profile email"),
        ])
        .await;

    assert_oauth_error(res, 400, "invalid_scope").await;
}

#[tokio::test]
async fn a_refresh_token_left_idle_past_its_lifetime_expires() {
    let app = spawn_app_with(&["--refresh-token-ttl", "1s"]).await;
    let idle = admin_refresh_token(&app).await;
    let fresh = admin_refresh_token(&app).await;
    token_success(app.refresh(&fresh).await).await;

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let res = app.refresh(&idle).await;

    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn rotation_does_not_extend_the_sessions_absolute_lifetime() {
    let app = spawn_app_with(&["--session-ttl", "3s", "--refresh-token-ttl", "10d"]).await;
    // The session starts somewhere between these two instants.
    let before_login = Instant::now();
    let mut token = admin_refresh_token(&app).await;
    let after_login = Instant::now();

    for second in [1, 2] {
        tokio::time::sleep_until((before_login + Duration::from_secs(second)).into()).await;
        let body = token_success(app.refresh(&token).await).await;
        token = str_field(&body, "refresh_token").to_string();
    }
    tokio::time::sleep_until((after_login + Duration::from_millis(3500)).into()).await;
    let res = app.refresh(&token).await;

    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn refresh_tokens_are_url_safe_with_at_least_256_bits() {
    let app = spawn_app().await;
    let login = admin_refresh_token(&app).await;
    let rotated = token_success(app.refresh(&login).await).await;
    let rotated = str_field(&rotated, "refresh_token").to_string();

    for token in [login, rotated] {
        assert!(token.len() >= 43, "too short for 256 bits: {token}");
        assert!(
            token
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'),
            "not URL-safe: {token}"
        );
    }
}
