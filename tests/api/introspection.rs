//! `POST /oauth/introspect` (RFC 7662): an authenticated client asks whether
//! a token is active. Active tokens are described; anything else, whatever
//! the reason, is exactly `{"active": false}`.

use std::time::Duration;

use serde_json::{Value, json};

use crate::graphql::{admin, data, gql, new_user};
use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, TestApp, assert_oauth_error, header, spawn_app,
    spawn_app_with, str_field, token_success,
};
use crate::jwt::{decode_unverified, now, server_signing_key, sign};
use crate::oauth_endpoints::{API_CLIENT, assert_revocation_ok};

fn inactive() -> Value {
    json!({ "active": false })
}

/// A confidential client (the resource server) that introspects.
fn api_client(app: &TestApp) -> (String, String) {
    app.create_confidential_client(API_CLIENT, &["--scope", "profile"])
}

/// The admin's user id, as `/api/me` reports it.
async fn admin_id(app: &TestApp, access_token: &str) -> String {
    let me: Value = app.me(access_token).await.json().await.expect("json");
    str_field(&me, "id").to_string()
}

/// Introspection by the bootstrapped public client, which names itself.
async fn introspect_as_cli(app: &TestApp, token: &str) -> Value {
    let res = app
        .post_form(
            "/oauth/introspect",
            &[("client_id", CLI_CLIENT), ("token", token)],
        )
        .await;
    assert_eq!(res.status(), 200);
    res.json().await.expect("json")
}

#[tokio::test]
async fn an_active_access_token_is_described_by_its_claims() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let access = str_field(&login, "access_token");
    let (_, claims) = decode_unverified(access);

    let answer = app.introspect(&id, &secret, access).await;

    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["scope"], claims["scope"], "{answer}");
    assert_eq!(answer["client_id"], CLI_CLIENT, "{answer}");
    assert_eq!(answer["username"], ADMIN_EMAIL, "{answer}");
    assert_eq!(answer["token_type"], "Bearer", "{answer}");
    assert_eq!(answer["exp"], claims["exp"], "{answer}");
    assert_eq!(answer["iat"], claims["iat"], "{answer}");
    assert_eq!(answer["sub"], admin_id(&app, access).await, "{answer}");
    assert_eq!(answer["aud"], app.address.as_str(), "{answer}");
    assert_eq!(answer["iss"], app.address.as_str(), "{answer}");
    assert_eq!(answer["jti"], claims["jti"], "{answer}");
}

#[tokio::test]
async fn an_active_refresh_token_is_described_to_its_own_client() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app
        .login_as_client(&id, &secret, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;

    let answer = app
        .introspect(&id, &secret, str_field(&login, "refresh_token"))
        .await;

    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["scope"], "profile", "{answer}");
    assert_eq!(answer["client_id"], API_CLIENT, "{answer}");
    assert_eq!(answer["username"], ADMIN_EMAIL, "{answer}");
    assert_eq!(answer["token_type"], "refresh_token", "{answer}");
    let user_id = admin_id(&app, str_field(&login, "access_token")).await;
    assert_eq!(answer["sub"], user_id, "{answer}");
    assert_eq!(answer["aud"], app.address.as_str(), "{answer}");
    assert_eq!(answer["iss"], app.address.as_str(), "{answer}");
    assert!(!str_field(&answer, "jti").is_empty(), "{answer}");
    let iat = answer["iat"].as_i64().expect("iat is a number");
    let exp = answer["exp"].as_i64().expect("exp is a number");
    assert!((iat - now()).abs() < 300, "issued now: {answer}");
    assert_eq!(exp - iat, 10 * 24 * 60 * 60, "the refresh token's life");
}

#[tokio::test]
async fn a_token_type_hint_that_is_wrong_still_finds_the_token() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let res = app
        .post_form_basic(
            "/oauth/introspect",
            &id,
            &secret,
            &[
                ("token", str_field(&login, "access_token")),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;

    let answer: Value = res.json().await.expect("json");
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["token_type"], "Bearer", "{answer}");
}

#[tokio::test]
async fn garbage_is_exactly_inactive() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);

    for garbage in ["garbage", "a.b.c", "eyJhbGciOiJub25lIn0.e30."] {
        let answer = app.introspect(&id, &secret, garbage).await;

        assert_eq!(answer, inactive(), "for {garbage:?}");
    }
}

#[tokio::test]
async fn an_expired_access_token_is_exactly_inactive() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (header, mut claims) = decode_unverified(str_field(&login, "access_token"));
    // Signed with the server's own key: only the expiry is wrong with it.
    let (_, key) = server_signing_key(&app).await;
    claims["iat"] = json!(now() - 3600);
    claims["exp"] = json!(now() - 1800);
    let expired = sign(&header, &claims, &key);

    let answer = app.introspect(&id, &secret, &expired).await;

    assert_eq!(answer, inactive());
}

#[tokio::test]
async fn an_expired_refresh_token_is_exactly_inactive() {
    let app = spawn_app_with(&["--refresh-token-ttl", "1s"]).await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = str_field(&login, "refresh_token");

    tokio::time::sleep(Duration::from_millis(1500)).await;
    let answer = introspect_as_cli(&app, refresh).await;

    assert_eq!(answer, inactive());
}

#[tokio::test]
async fn a_revoked_refresh_token_is_exactly_inactive() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app
        .login_as_client(&id, &secret, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    let refresh = str_field(&login, "refresh_token");
    assert_eq!(app.introspect(&id, &secret, refresh).await["active"], true);
    let revoke = app
        .post_form_basic("/oauth/revoke", &id, &secret, &[("token", refresh)])
        .await;
    assert_revocation_ok(revoke).await;

    let answer = app.introspect(&id, &secret, refresh).await;

    assert_eq!(answer, inactive());
}

#[tokio::test]
async fn a_rotated_away_refresh_token_is_exactly_inactive() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let old = str_field(&login, "refresh_token").to_string();
    let rotated = token_success(app.refresh(&old).await).await;
    let successor = str_field(&rotated, "refresh_token");

    let answer = introspect_as_cli(&app, &old).await;

    assert_eq!(answer, inactive());
    // Asking is not reuse: the session lives on.
    assert_eq!(introspect_as_cli(&app, successor).await["active"], true);
    token_success(app.refresh(successor).await).await;
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_exactly_inactive() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let answer = app
        .introspect(&id, &secret, str_field(&login, "refresh_token"))
        .await;

    assert_eq!(answer, inactive());
}

#[tokio::test]
async fn an_access_token_whose_session_was_revoked_is_inactive_at_once() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let access = str_field(&login, "access_token");
    assert_eq!(app.introspect(&id, &secret, access).await["active"], true);
    let revoke = app
        .post_form(
            "/oauth/revoke",
            &[
                ("client_id", CLI_CLIENT),
                ("token", str_field(&login, "refresh_token")),
            ],
        )
        .await;
    assert_revocation_ok(revoke).await;

    let answer = app.introspect(&id, &secret, access).await;

    assert_eq!(answer, inactive());
}

#[tokio::test]
async fn introspection_without_client_authentication_is_an_invalid_client() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let res = app
        .post_form(
            "/oauth/introspect",
            &[("token", str_field(&login, "access_token"))],
        )
        .await;

    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn introspection_with_a_wrong_client_secret_is_an_invalid_client() {
    let app = spawn_app().await;
    let (id, _) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let res = app
        .post_form_basic(
            "/oauth/introspect",
            &id,
            "not the secret, but long enough to look like one",
            &[("token", str_field(&login, "access_token"))],
        )
        .await;

    assert_eq!(
        header(&res, "www-authenticate").as_deref(),
        Some(r#"Basic realm="tessera""#)
    );
    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn introspection_without_a_token_is_an_invalid_request() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);

    let res = app
        .post_form_basic("/oauth/introspect", &id, &secret, &[])
        .await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn the_tokens_of_a_user_disabled_by_an_admin_are_inactive_at_once() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let root = admin(&app).await;
    let ada = new_user(&app, "ada@example.com").await;
    assert_eq!(
        app.introspect(&id, &secret, &ada.access).await["active"],
        true
    );

    let disable = "mutation($id: ID!) { setUserDisabled(userId: $id, disabled: true) { id } }";
    data(gql(&app, Some(&root.access), disable, json!({ "id": ada.id })).await);

    assert_eq!(app.introspect(&id, &secret, &ada.access).await, inactive());
    assert_eq!(introspect_as_cli(&app, &ada.refresh).await, inactive());
    assert_eq!(
        app.introspect(&id, &secret, &root.access).await["active"],
        true
    );
}
