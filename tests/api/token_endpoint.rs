//! `POST /oauth/token`: request parsing, error format and cache headers
//! (RFC 6749 §3.2, §5.1, §5.2).

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, assert_no_store, assert_oauth_error, spawn_app,
    token_success,
};

const FORM: &str = "application/x-www-form-urlencoded";

fn login_body() -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("client_id", CLI_CLIENT)
        .append_pair("username", ADMIN_EMAIL)
        .append_pair("password", ADMIN_PASSWORD)
        .finish()
}

#[tokio::test]
async fn a_form_body_with_a_charset_parameter_is_accepted() {
    let app = spawn_app().await;

    let res = app
        .post_raw(
            "/oauth/token",
            Some("application/x-www-form-urlencoded; charset=UTF-8"),
            login_body(),
        )
        .await;

    let body = token_success(res).await;
    assert!(body["access_token"].is_string(), "{body}");
}

#[tokio::test]
async fn a_json_body_is_an_invalid_request() {
    let app = spawn_app().await;
    let json = serde_json::json!({
        "grant_type": "password",
        "client_id": CLI_CLIENT,
        "username": ADMIN_EMAIL,
        "password": ADMIN_PASSWORD,
    });

    let res = app
        .post_raw("/oauth/token", Some("application/json"), json.to_string())
        .await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_form_body_without_a_content_type_is_an_invalid_request() {
    let app = spawn_app().await;

    let res = app.post_raw("/oauth/token", None, login_body()).await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_form_body_sent_as_plain_text_is_an_invalid_request() {
    let app = spawn_app().await;

    let res = app
        .post_raw("/oauth/token", Some("text/plain"), login_body())
        .await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_body_that_is_not_utf8_is_an_invalid_request() {
    let app = spawn_app().await;
    let mut body = b"grant_type=password&client_id=tessera-cli&username=".to_vec();
    body.extend_from_slice(&[0xff, 0xfe, 0xc3]);
    body.extend_from_slice(b"&password=x");

    let res = app.post_raw("/oauth/token", Some(FORM), body).await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_percent_encoded_value_that_is_not_utf8_is_an_invalid_request() {
    let app = spawn_app().await;
    let body = "grant_type=password&client_id=tessera-cli&username=%FF%FE&password=x";

    let res = app.post_raw("/oauth/token", Some(FORM), body).await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_json_document_sent_as_a_form_is_an_invalid_request() {
    let app = spawn_app().await;
    let body = r#"{"grant_type":"password","client_id":"tessera-cli"}"#;

    let res = app.post_raw("/oauth/token", Some(FORM), body).await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_empty_body_is_an_invalid_request() {
    let app = spawn_app().await;

    let res = app.post_raw("/oauth/token", Some(FORM), "").await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_parameter_sent_twice_is_an_invalid_request() {
    let app = spawn_app().await;

    let same_value_twice = app
        .token(&[
            ("grant_type", "password"),
            ("grant_type", "password"),
            ("client_id", CLI_CLIENT),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    let two_usernames = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CLI_CLIENT),
            ("username", ADMIN_EMAIL),
            ("username", "someone@else"),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    let two_client_ids = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CLI_CLIENT),
            ("client_id", CLI_CLIENT),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;

    assert_oauth_error(same_value_twice, 400, "invalid_request").await;
    assert_oauth_error(two_usernames, 400, "invalid_request").await;
    assert_oauth_error(two_client_ids, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_missing_grant_type_is_an_invalid_request() {
    let app = spawn_app().await;

    let res = app
        .token(&[
            ("client_id", CLI_CLIENT),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;

    assert_oauth_error(res, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_unknown_grant_type_is_unsupported() {
    let app = spawn_app().await;

    let made_up = app
        .token(&[
            ("grant_type", "urn:example:made-up"),
            ("client_id", CLI_CLIENT),
        ])
        .await;
    let authorization_code = app
        .token(&[
            ("grant_type", "authorization_code"),
            ("client_id", CLI_CLIENT),
            ("code", "abc"),
        ])
        .await;

    assert_oauth_error(made_up, 400, "unsupported_grant_type").await;
    assert_oauth_error(authorization_code, 400, "unsupported_grant_type").await;
}

#[tokio::test]
async fn a_body_over_64_kib_is_rejected_as_too_large() {
    let app = spawn_app().await;
    let password = "x".repeat(70 * 1024);

    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CLI_CLIENT),
            ("username", ADMIN_EMAIL),
            ("password", &password),
        ])
        .await;

    assert_eq!(res.status(), 413);
    assert_no_store(&res);
}

#[tokio::test]
async fn a_large_body_under_64_kib_is_not_rejected_as_too_large() {
    let app = spawn_app().await;
    let password = "x".repeat(60 * 1024);

    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CLI_CLIENT),
            ("username", ADMIN_EMAIL),
            ("password", &password),
        ])
        .await;

    assert_eq!(res.status(), 400, "a wrong password, not a size limit");
    assert_no_store(&res);
}

#[tokio::test]
async fn every_token_response_forbids_caching() {
    let app = spawn_app().await;
    let success = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh_token = success["refresh_token"].as_str().expect("refresh_token");

    let ok = app.refresh(refresh_token).await;
    let invalid_request = app.token(&[("client_id", CLI_CLIENT)]).await;
    let unsupported = app
        .token(&[("grant_type", "implicit"), ("client_id", CLI_CLIENT)])
        .await;
    let invalid_client = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", "no-such-client"),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    let invalid_grant = app.password_grant(ADMIN_EMAIL, "wrong", &[]).await;

    token_success(ok).await;
    assert_oauth_error(invalid_request, 400, "invalid_request").await;
    assert_oauth_error(unsupported, 400, "unsupported_grant_type").await;
    assert_oauth_error(invalid_client, 401, "invalid_client").await;
    assert_oauth_error(invalid_grant, 400, "invalid_grant").await;
}

#[tokio::test]
async fn errors_are_json_objects_with_an_error_and_a_description() {
    let app = spawn_app().await;

    let res = app.password_grant(ADMIN_EMAIL, "wrong password", &[]).await;

    let body = assert_oauth_error(res, 400, "invalid_grant").await;
    assert!(
        !body["error_description"]
            .as_str()
            .unwrap_or_default()
            .is_empty(),
        "the description says what went wrong: {body}"
    );
}
