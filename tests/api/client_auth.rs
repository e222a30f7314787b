//! Client authentication at the token endpoint (RFC 6749 §2.3): HTTP Basic,
//! credentials in the body, public clients, and the grants a client may use.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, assert_oauth_error, header, spawn_app, token_success,
};

/// At least 32 characters, with the characters that form-urlencoding changes.
const AWKWARD_SECRET: &str = "s3cret+with%25percent:colon and space/~!*'()=&?";

const BASIC_CHALLENGE: &str = r#"Basic realm="tessera""#;

fn password_form<'a>() -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("username", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
    ]
}

fn confidential_client_with_awkward_secret(app: &TestApp) -> String {
    let (id, secret) = app.create_confidential_client("reporting", &["--secret", AWKWARD_SECRET]);
    assert_eq!(
        secret, AWKWARD_SECRET,
        "the given secret is the client's secret"
    );
    id
}

#[tokio::test]
async fn a_confidential_client_authenticates_with_http_basic() {
    let app = spawn_app().await;
    let id = confidential_client_with_awkward_secret(&app);

    let res = app.token_basic(&id, AWKWARD_SECRET, &password_form()).await;

    let body = token_success(res).await;
    assert!(body["access_token"].is_string(), "{body}");
}

#[tokio::test]
async fn http_basic_credentials_are_form_urlencoded_before_base64() {
    let app = spawn_app().await;
    let (id, secret) = app.create_confidential_client("plus", &["--secret", &"a+b".repeat(12)]);
    // Sent raw, each `+` decodes to a space: no longer the client's secret.
    let raw = STANDARD.encode(format!("{id}:{secret}"));

    let res = app
        .http
        .post(app.url("/oauth/token"))
        .header("authorization", format!("Basic {raw}"))
        .form(&password_form())
        .send()
        .await
        .expect("request");

    assert_oauth_error(res, 401, "invalid_client").await;
    let encoded = app.token_basic(&id, &secret, &password_form()).await;
    token_success(encoded).await;
}

#[tokio::test]
async fn a_confidential_client_authenticates_with_credentials_in_the_body() {
    let app = spawn_app().await;
    let id = confidential_client_with_awkward_secret(&app);
    let mut form = password_form();
    form.extend([
        ("client_id", id.as_str()),
        ("client_secret", AWKWARD_SECRET),
    ]);

    let res = app.token(&form).await;

    let body = token_success(res).await;
    assert!(body["access_token"].is_string(), "{body}");
}

#[tokio::test]
async fn using_basic_and_body_credentials_at_once_is_an_invalid_request() {
    let app = spawn_app().await;
    let id = confidential_client_with_awkward_secret(&app);
    let mut form = password_form();
    form.extend([
        ("client_id", id.as_str()),
        ("client_secret", AWKWARD_SECRET),
    ]);

    let res = app.token_basic(&id, AWKWARD_SECRET, &form).await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_unknown_client_is_an_invalid_client() {
    let app = spawn_app().await;
    let mut form = password_form();
    form.extend([("client_id", "nobody"), ("client_secret", AWKWARD_SECRET)]);

    let res = app.token(&form).await;

    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn an_unknown_client_over_basic_gets_a_basic_challenge() {
    let app = spawn_app().await;

    let res = app
        .token_basic("nobody", AWKWARD_SECRET, &password_form())
        .await;

    assert_eq!(
        header(&res, "www-authenticate").as_deref(),
        Some(BASIC_CHALLENGE)
    );
    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_wrong_secret_over_basic_is_an_invalid_client_with_a_basic_challenge() {
    let app = spawn_app().await;
    let id = confidential_client_with_awkward_secret(&app);

    let res = app
        .token_basic(
            &id,
            "a-wrong-secret-that-is-long-enough-0000",
            &password_form(),
        )
        .await;

    assert_eq!(
        header(&res, "www-authenticate").as_deref(),
        Some(BASIC_CHALLENGE)
    );
    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_wrong_secret_in_the_body_is_an_invalid_client() {
    let app = spawn_app().await;
    let id = confidential_client_with_awkward_secret(&app);
    let mut form = password_form();
    form.extend([
        ("client_id", id.as_str()),
        ("client_secret", "a-wrong-secret-that-is-long-enough-0000"),
    ]);

    let res = app.token(&form).await;

    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_confidential_client_that_sends_no_secret_is_an_invalid_client() {
    let app = spawn_app().await;
    let id = confidential_client_with_awkward_secret(&app);
    let mut form = password_form();
    form.push(("client_id", id.as_str()));

    let res = app.token(&form).await;

    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn a_public_client_authenticates_with_its_client_id_alone() {
    let app = spawn_app().await;
    app.create_public_client("mobile-app", &[]);
    let mut form = password_form();
    form.push(("client_id", "mobile-app"));

    let res = app.token(&form).await;

    let body = token_success(res).await;
    assert!(body["refresh_token"].is_string(), "{body}");
}

#[tokio::test]
async fn a_grant_the_client_may_not_use_is_an_unauthorized_client() {
    let app = spawn_app().await;
    let (id, secret) = app.create_confidential_client(
        "batch-job",
        &["--grant-type", "client_credentials", "--scope", "profile"],
    );

    let res = app.token_basic(&id, &secret, &password_form()).await;

    assert_oauth_error(res, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn a_client_created_with_only_the_password_grant_may_not_refresh() {
    let app = spawn_app().await;
    app.create_public_client("no-refresh", &["--grant-type", "password"]);
    let refresh_token = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await["refresh_token"]
        .as_str()
        .expect("refresh_token")
        .to_string();

    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "no-refresh"),
            ("refresh_token", &refresh_token),
        ])
        .await;

    assert_oauth_error(res, 400, "unauthorized_client").await;
}
