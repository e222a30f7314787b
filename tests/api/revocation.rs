//! `POST /oauth/revoke` (RFC 7009): a client ends a login by revoking one of
//! its tokens; the answer never tells whether there was anything to revoke.

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, TestApp, assert_oauth_error, header, spawn_app,
    str_field, token_success,
};
use crate::jwt::{decode_unverified, server_signing_key, sign};
use crate::oauth_endpoints::{API_CLIENT, INVALID_TOKEN, assert_revocation_ok};

const SPA: &str = "spa";

/// A confidential client allowed the password and refresh grants.
fn api_client(app: &TestApp) -> (String, String) {
    app.create_confidential_client(API_CLIENT, &["--scope", "profile"])
}

/// A refresh grant by a confidential client (Basic).
async fn refresh_as(app: &TestApp, id: &str, secret: &str, token: &str) -> reqwest::Response {
    app.post_form_basic(
        "/oauth/token",
        id,
        secret,
        &[("grant_type", "refresh_token"), ("refresh_token", token)],
    )
    .await
}

/// Asserts that `/api/me` refuses `access_token` as an invalid token.
async fn assert_access_refused(app: &TestApp, access_token: &str) {
    let res = app.me(access_token).await;
    assert_eq!(res.status(), 401, "the access token still opens /api/me");
    assert_eq!(
        header(&res, "www-authenticate").as_deref(),
        Some(INVALID_TOKEN)
    );
}

#[tokio::test]
async fn revoking_a_refresh_token_with_basic_auth_ends_its_whole_session() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app
        .login_as_client(&id, &secret, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    let refresh = str_field(&login, "refresh_token");
    let access = str_field(&login, "access_token");
    assert_eq!(app.me(access).await.status(), 200);

    let res = app
        .post_form_basic(
            "/oauth/revoke",
            &id,
            &secret,
            &[("token", refresh), ("token_type_hint", "refresh_token")],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_oauth_error(
        refresh_as(&app, &id, &secret, refresh).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_access_refused(&app, access).await;
}

#[tokio::test]
async fn revoking_a_refresh_token_with_credentials_in_the_body_ends_its_whole_session() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app
        .login_as_client(&id, &secret, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    let refresh = str_field(&login, "refresh_token");

    let res = app
        .post_form(
            "/oauth/revoke",
            &[
                ("client_id", id.as_str()),
                ("client_secret", secret.as_str()),
                ("token", refresh),
            ],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_oauth_error(
        refresh_as(&app, &id, &secret, refresh).await,
        400,
        "invalid_grant",
    )
    .await;
    assert_access_refused(&app, str_field(&login, "access_token")).await;
}

#[tokio::test]
async fn a_public_client_revokes_its_own_refresh_token_by_naming_itself() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = str_field(&login, "refresh_token");

    let res = app
        .post_form(
            "/oauth/revoke",
            &[("client_id", CLI_CLIENT), ("token", refresh)],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_oauth_error(app.refresh(refresh).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn revoking_a_rotated_refresh_token_also_kills_its_successor_and_every_access_token() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first = str_field(&login, "refresh_token");
    let rotated = token_success(app.refresh(first).await).await;
    let successor = str_field(&rotated, "refresh_token");

    let res = app
        .post_form(
            "/oauth/revoke",
            &[("client_id", CLI_CLIENT), ("token", first)],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_oauth_error(app.refresh(successor).await, 400, "invalid_grant").await;
    assert_access_refused(&app, str_field(&login, "access_token")).await;
    assert_access_refused(&app, str_field(&rotated, "access_token")).await;
}

#[tokio::test]
async fn revoking_the_newest_refresh_token_kills_the_access_tokens_of_the_whole_chain() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let rotated = token_success(app.refresh(str_field(&login, "refresh_token")).await).await;
    let newest = str_field(&rotated, "refresh_token");

    let res = app
        .post_form(
            "/oauth/revoke",
            &[("client_id", CLI_CLIENT), ("token", newest)],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_oauth_error(app.refresh(newest).await, 400, "invalid_grant").await;
    assert_access_refused(&app, str_field(&login, "access_token")).await;
    assert_access_refused(&app, str_field(&rotated, "access_token")).await;
}

#[tokio::test]
async fn revoking_one_session_leaves_the_users_other_sessions_alone() {
    let app = spawn_app().await;
    let doomed = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let other = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let res = app
        .post_form(
            "/oauth/revoke",
            &[
                ("client_id", CLI_CLIENT),
                ("token", str_field(&doomed, "refresh_token")),
            ],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_eq!(
        app.me(str_field(&other, "access_token")).await.status(),
        200
    );
    token_success(app.refresh(str_field(&other, "refresh_token")).await).await;
}

#[tokio::test]
async fn an_unknown_token_is_answered_with_200() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);

    let res = app
        .post_form_basic(
            "/oauth/revoke",
            &id,
            &secret,
            &[(
                "token",
                "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )],
        )
        .await;

    assert_revocation_ok(res).await;
}

#[tokio::test]
async fn revoking_an_already_revoked_token_is_answered_with_200() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let form = [
        ("client_id", CLI_CLIENT),
        ("token", str_field(&login, "refresh_token")),
    ];
    assert_revocation_ok(app.post_form("/oauth/revoke", &form).await).await;

    let again = app.post_form("/oauth/revoke", &form).await;

    assert_revocation_ok(again).await;
}

#[tokio::test]
async fn a_refresh_token_of_another_client_is_answered_with_200_and_not_revoked() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = str_field(&login, "refresh_token");

    let res = app
        .post_form_basic("/oauth/revoke", &id, &secret, &[("token", refresh)])
        .await;

    assert_revocation_ok(res).await;
    assert_eq!(
        app.me(str_field(&login, "access_token")).await.status(),
        200
    );
    token_success(app.refresh(refresh).await).await;
}

#[tokio::test]
async fn an_access_token_of_another_client_is_answered_with_200_and_not_revoked() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let access = str_field(&login, "access_token");

    let res = app
        .post_form_basic(
            "/oauth/revoke",
            &id,
            &secret,
            &[("token", access), ("token_type_hint", "access_token")],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_eq!(app.me(access).await.status(), 200);
    token_success(app.refresh(str_field(&login, "refresh_token")).await).await;
}

#[tokio::test]
async fn revoking_an_access_token_revokes_its_session() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let access = str_field(&login, "access_token");

    let res = app
        .post_form(
            "/oauth/revoke",
            &[
                ("client_id", CLI_CLIENT),
                ("token", access),
                ("token_type_hint", "access_token"),
            ],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_access_refused(&app, access).await;
    let refresh = str_field(&login, "refresh_token");
    assert_oauth_error(app.refresh(refresh).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_wrong_token_type_hint_does_not_stop_the_revocation() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let access = str_field(&login, "access_token");

    // RFC 7009 §2.1: the hint only orders the lookups.
    let res = app
        .post_form(
            "/oauth/revoke",
            &[
                ("client_id", CLI_CLIENT),
                ("token", access),
                ("token_type_hint", "refresh_token"),
            ],
        )
        .await;

    assert_revocation_ok(res).await;
    assert_access_refused(&app, access).await;
}

#[tokio::test]
async fn a_request_without_a_token_is_an_invalid_request() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);

    let res = app
        .post_form_basic(
            "/oauth/revoke",
            &id,
            &secret,
            &[("token_type_hint", "refresh_token")],
        )
        .await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_wrong_client_secret_is_an_invalid_client_with_a_basic_challenge() {
    let app = spawn_app().await;
    let (id, _) = api_client(&app);
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = str_field(&login, "refresh_token");

    let res = app
        .post_form_basic(
            "/oauth/revoke",
            &id,
            "not the secret, but long enough to look like one",
            &[("token", refresh)],
        )
        .await;

    assert_eq!(
        header(&res, "www-authenticate").as_deref(),
        Some(r#"Basic realm="tessera""#)
    );
    assert_oauth_error(res, 401, "invalid_client").await;
    token_success(app.refresh(refresh).await).await;
}

#[tokio::test]
async fn a_request_without_client_authentication_is_an_invalid_client() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = str_field(&login, "refresh_token");

    let res = app.post_form("/oauth/revoke", &[("token", refresh)]).await;

    assert_oauth_error(res, 401, "invalid_client").await;
    token_success(app.refresh(refresh).await).await;
}

#[tokio::test]
async fn a_confidential_client_naming_itself_without_its_secret_is_an_invalid_client() {
    let app = spawn_app().await;
    let (id, secret) = api_client(&app);
    let login = app
        .login_as_client(&id, &secret, ADMIN_EMAIL, ADMIN_PASSWORD)
        .await;
    let refresh = str_field(&login, "refresh_token");

    let res = app
        .post_form("/oauth/revoke", &[("client_id", &id), ("token", refresh)])
        .await;

    assert_oauth_error(res, 401, "invalid_client").await;
    token_success(refresh_as(&app, &id, &secret, refresh).await).await;
}

/// Logs in through the cookie client; returns the access token and the
/// value of the `refresh_token` cookie.
async fn cookie_login(app: &TestApp) -> (String, String) {
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", SPA),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|v| v.strip_prefix("refresh_token="))
        .and_then(|v| v.split(';').next())
        .expect("a refresh_token cookie")
        .to_string();
    let body = token_success(res).await;
    (str_field(&body, "access_token").to_string(), cookie)
}

/// A request to `path` from `client_id` carrying the refresh cookie.
async fn post_with_cookie(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(app.url(path))
        .header("cookie", format!("refresh_token={cookie}"))
        .header("origin", &app.address)
        .form(form)
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_cookie_client_may_revoke_with_the_cookie_instead_of_a_token() {
    let app = spawn_app().await;
    app.create_public_client(SPA, &["--refresh-cookie"]);
    let (access, cookie) = cookie_login(&app).await;

    let res = post_with_cookie(&app, "/oauth/revoke", &cookie, &[("client_id", SPA)]).await;

    assert_revocation_ok(res).await;
    let refresh = post_with_cookie(
        &app,
        "/oauth/token",
        &cookie,
        &[("grant_type", "refresh_token"), ("client_id", SPA)],
    )
    .await;
    assert_oauth_error(refresh, 400, "invalid_grant").await;
    assert_access_refused(&app, &access).await;
}

#[tokio::test]
async fn a_client_without_the_cookie_flag_may_not_revoke_with_a_cookie() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = str_field(&login, "refresh_token");

    let res = post_with_cookie(&app, "/oauth/revoke", refresh, &[("client_id", CLI_CLIENT)]).await;

    assert_oauth_error(res, 400, "invalid_request").await;
    token_success(app.refresh(refresh).await).await;
}

#[tokio::test]
async fn an_access_token_signed_with_a_key_rotated_in_elsewhere_is_revoked_at_once() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // Another instance rotated the key and issued this token with it; this
    // instance has not synced yet, so it must read the new key to see the
    // session the token belongs to.
    app.cli(&["keys", "rotate"]);
    let (kid, key) = server_signing_key(&app).await;
    let (mut header, claims) = decode_unverified(str_field(&login, "access_token"));
    header["kid"] = kid.into();
    let from_elsewhere = sign(&header, &claims, &key);

    let res = app
        .post_form(
            "/oauth/revoke",
            &[
                ("client_id", CLI_CLIENT),
                ("token", &from_elsewhere),
                ("token_type_hint", "access_token"),
            ],
        )
        .await;

    assert_revocation_ok(res).await;
    let refresh = str_field(&login, "refresh_token");
    assert_oauth_error(app.refresh(refresh).await, 400, "invalid_grant").await;
}
