//! `grant_type=client_credentials` (RFC 6749 §4.4): a confidential client
//! gets an access token for itself. No user, so no refresh token, and no
//! entry to the user's own endpoints.

use crate::helpers::{
    TestApp, assert_oauth_error, header, scope_set, scopes, spawn_app, str_field, token_success,
};
use crate::jwt::decode_unverified;
use crate::oauth_endpoints::{API_CLIENT, INVALID_TOKEN};

const SERVICE: &str = "nightly-billing";

fn service_client(app: &TestApp) -> (String, String) {
    app.create_confidential_client(
        SERVICE,
        &[
            "--grant-type",
            "client_credentials",
            "--scope",
            "a",
            "--scope",
            "b",
        ],
    )
}

async fn client_credentials(
    app: &TestApp,
    id: &str,
    secret: &str,
    extra: &[(&str, &str)],
) -> reqwest::Response {
    let mut form = vec![("grant_type", "client_credentials")];
    form.extend_from_slice(extra);
    app.token_basic(id, secret, &form).await
}

#[tokio::test]
async fn a_confidential_client_gets_an_access_token_and_no_refresh_token() {
    let app = spawn_app().await;
    let (id, secret) = service_client(&app);

    let body = token_success(client_credentials(&app, &id, &secret, &[]).await).await;

    assert_eq!(body["token_type"], "Bearer", "{body}");
    assert_eq!(body["expires_in"].as_u64(), Some(900), "{body}");
    assert_eq!(scopes(&body["scope"]), scope_set(&["a", "b"]), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert!(str_field(&body, "access_token").contains('.'), "{body}");
}

#[tokio::test]
async fn the_access_token_names_the_client_as_its_subject() {
    let app = spawn_app().await;
    let (id, secret) = service_client(&app);

    let body = token_success(client_credentials(&app, &id, &secret, &[]).await).await;

    let (header, claims) = decode_unverified(str_field(&body, "access_token"));
    assert_eq!(header["typ"], "at+jwt", "{header}");
    assert_eq!(claims["sub"], SERVICE, "{claims}");
    assert_eq!(claims["client_id"], SERVICE, "{claims}");
    assert_eq!(claims["iss"], app.address.as_str(), "{claims}");
    assert_eq!(scopes(&claims["scope"]), scope_set(&["a", "b"]));
    for user_claim in ["email", "roles", "sid"] {
        assert!(claims.get(user_claim).is_none(), "{user_claim}: {claims}");
    }
}

#[tokio::test]
async fn credentials_in_the_body_work_too() {
    let app = spawn_app().await;
    let (id, secret) = service_client(&app);

    let res = app
        .token(&[
            ("grant_type", "client_credentials"),
            ("client_id", &id),
            ("client_secret", &secret),
        ])
        .await;

    token_success(res).await;
}

#[tokio::test]
async fn a_client_may_ask_for_a_subset_of_its_scopes() {
    let app = spawn_app().await;
    let (id, secret) = service_client(&app);

    let res = client_credentials(&app, &id, &secret, &[("scope", "b")]).await;

    let body = token_success(res).await;
    assert_eq!(body["scope"], "b");
    let (_, claims) = decode_unverified(str_field(&body, "access_token"));
    assert_eq!(claims["scope"], "b");
}

#[tokio::test]
async fn a_scope_wider_than_the_clients_is_an_invalid_scope() {
    let app = spawn_app().await;
    let (id, secret) = service_client(&app);

    let res = client_credentials(&app, &id, &secret, &[("scope", "a c")]).await;

    assert_oauth_error(res, 400, "invalid_scope").await;
}

#[tokio::test]
async fn a_wrong_secret_is_an_invalid_client() {
    let app = spawn_app().await;
    let (id, _) = service_client(&app);

    let res = client_credentials(
        &app,
        &id,
        "not the secret, but long enough to look like one",
        &[],
    )
    .await;

    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn the_cli_refuses_a_public_client_with_the_client_credentials_grant() {
    let app = spawn_app().await;

    let out = app.cli_raw(&[
        "client",
        "create",
        "--client-id",
        "spa",
        "--public",
        "--grant-type",
        "client_credentials",
    ]);

    assert!(!out.status.success(), "the CLI created the client");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("client_credentials"), "{stderr}");
    // Nothing was created: the id is still free.
    app.create_public_client("spa", &[]);
}

#[tokio::test]
async fn a_public_client_asking_for_client_credentials_is_an_unauthorized_client() {
    let app = spawn_app().await;
    app.create_public_client("spa", &[]);

    let res = app
        .token(&[("grant_type", "client_credentials"), ("client_id", "spa")])
        .await;

    assert_oauth_error(res, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn a_client_allowed_only_the_password_grant_is_an_unauthorized_client() {
    let app = spawn_app().await;
    let (id, secret) = app.create_confidential_client("web", &["--grant-type", "password"]);

    let res = client_credentials(&app, &id, &secret, &[]).await;

    assert_oauth_error(res, 400, "unauthorized_client").await;
}

#[tokio::test]
async fn a_client_credentials_token_does_not_open_the_users_profile() {
    let app = spawn_app().await;
    let (id, secret) = service_client(&app);
    let body = token_success(client_credentials(&app, &id, &secret, &[]).await).await;

    let res = app.me(str_field(&body, "access_token")).await;

    assert_eq!(res.status(), 401);
    assert_eq!(
        header(&res, "www-authenticate").as_deref(),
        Some(INVALID_TOKEN)
    );
}

#[tokio::test]
async fn a_client_credentials_token_introspects_as_the_clients_own() {
    let app = spawn_app().await;
    let (id, secret) = service_client(&app);
    let body = token_success(client_credentials(&app, &id, &secret, &[]).await).await;
    let (api_id, api_secret) = app.create_confidential_client(API_CLIENT, &[]);

    let answer = app
        .introspect(&api_id, &api_secret, str_field(&body, "access_token"))
        .await;

    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["sub"], SERVICE, "{answer}");
    assert_eq!(answer["client_id"], SERVICE, "{answer}");
    assert_eq!(scopes(&answer["scope"]), scope_set(&["a", "b"]));
    assert!(answer.get("username").is_none(), "no user: {answer}");
}
