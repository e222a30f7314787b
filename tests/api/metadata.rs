//! `GET /.well-known/oauth-authorization-server` (RFC 8414): the one document
//! a client or resource server needs to find everything else.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app, spawn_app_with, str_field};
use crate::oauth_endpoints::assert_revocation_ok;

/// A JSON array of strings as a set (RFC 8414 lists carry no order).
fn string_set(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("expected an array of strings, got {value}"))
        .iter()
        .map(|v| v.as_str().expect("strings").to_string())
        .collect()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|s| s.to_string()).collect()
}

/// The endpoint URLs of a metadata document, by member name.
const ENDPOINTS: [(&str, &str); 4] = [
    ("token_endpoint", "/oauth/token"),
    ("revocation_endpoint", "/oauth/revoke"),
    ("introspection_endpoint", "/oauth/introspect"),
    ("jwks_uri", "/.well-known/jwks.json"),
];

fn assert_endpoints_under(metadata: &Value, issuer: &str) {
    assert_eq!(metadata["issuer"], issuer, "{metadata}");
    for (member, path) in ENDPOINTS {
        assert_eq!(
            metadata[member],
            format!("{issuer}{path}").as_str(),
            "{member} in {metadata}"
        );
    }
}

#[tokio::test]
async fn the_issuer_is_the_servers_own_address_by_default() {
    let app = spawn_app().await;

    let metadata = app.metadata().await;

    assert_endpoints_under(&metadata, &app.address);
}

#[tokio::test]
async fn the_issuer_in_the_metadata_is_the_iss_of_the_access_tokens() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, claims) = crate::jwt::decode_unverified(str_field(&login, "access_token"));

    let metadata = app.metadata().await;

    assert_eq!(metadata["issuer"], claims["iss"]);
}

#[tokio::test]
async fn a_configured_issuer_moves_every_endpoint() {
    let app = spawn_app_with(&["--issuer", "https://auth.example.com"]).await;

    let metadata = app.metadata().await;

    assert_endpoints_under(&metadata, "https://auth.example.com");
}

#[tokio::test]
async fn a_configured_issuer_with_a_trailing_slash_does_not_double_the_slash() {
    let app = spawn_app_with(&["--issuer", "https://auth.example.com/"]).await;

    let metadata = app.metadata().await;

    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (_, claims) = crate::jwt::decode_unverified(str_field(&login, "access_token"));
    let issuer = str_field(&metadata, "issuer");
    assert_eq!(claims["iss"], issuer, "RFC 8414 §3.3: the same issuer");
    for (member, _) in ENDPOINTS {
        let url = str_field(&metadata, member);
        assert!(
            !url.trim_start_matches("https://").contains("//"),
            "{member}: {url}"
        );
    }
}

#[tokio::test]
async fn the_metadata_lists_the_three_grant_types() {
    let app = spawn_app().await;

    let metadata = app.metadata().await;

    assert_eq!(
        string_set(&metadata["grant_types_supported"]),
        set(&["password", "refresh_token", "client_credentials"])
    );
}

#[tokio::test]
async fn the_metadata_lists_the_client_authentication_methods_of_each_endpoint() {
    let app = spawn_app().await;

    let metadata = app.metadata().await;

    for member in [
        "token_endpoint_auth_methods_supported",
        "revocation_endpoint_auth_methods_supported",
        "introspection_endpoint_auth_methods_supported",
    ] {
        let methods = string_set(&metadata[member]);
        assert!(
            methods.is_superset(&set(&["client_secret_basic", "client_secret_post"])),
            "{member}: {methods:?}"
        );
    }
}

#[tokio::test]
async fn the_metadata_lists_response_types_as_an_array() {
    let app = spawn_app().await;

    let metadata = app.metadata().await;

    // No authorization endpoint: no response type applies, and RFC 8414
    // requires the member anyway.
    assert!(
        string_set(&metadata["response_types_supported"]).is_empty(),
        "{metadata}"
    );
}

#[tokio::test]
async fn the_metadata_lists_the_scopes_that_clients_may_be_granted() {
    let app = spawn_app().await;
    app.create_confidential_client(
        "reports",
        &[
            "--grant-type",
            "client_credentials",
            "--scope",
            "reports:read",
        ],
    );

    let metadata = app.metadata().await;

    let scopes = string_set(&metadata["scopes_supported"]);
    assert!(
        scopes.is_superset(&set(&["profile", "email", "reports:read"])),
        "{scopes:?}"
    );
}

#[tokio::test]
async fn every_endpoint_the_metadata_names_answers_at_its_url() {
    let app = spawn_app().await;
    let metadata = app.metadata().await;

    let jwks = app.http.get(str_field(&metadata, "jwks_uri")).send().await;
    let jwks: Value = jwks.expect("request").json().await.expect("json");
    assert!(!jwks["keys"].as_array().expect("keys").is_empty(), "{jwks}");

    let login = post(&app, &metadata, "token_endpoint", &password_form()).await;
    assert_eq!(login.status(), 200);
    let login: Value = login.json().await.expect("json");
    let token = str_field(&login, "refresh_token");
    let form = [("client_id", crate::helpers::CLI_CLIENT), ("token", token)];
    let introspection = post(&app, &metadata, "introspection_endpoint", &form).await;
    assert_eq!(introspection.status(), 200);
    let revocation = post(&app, &metadata, "revocation_endpoint", &form).await;
    assert_revocation_ok(revocation).await;
}

fn password_form() -> [(&'static str, &'static str); 4] {
    [
        ("grant_type", "password"),
        ("client_id", crate::helpers::CLI_CLIENT),
        ("username", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
    ]
}

/// POSTs a form to the URL the metadata gives for `member`.
async fn post(
    app: &TestApp,
    metadata: &Value,
    member: &str,
    form: &[(&str, &str)],
) -> reqwest::Response {
    app.http
        .post(str_field(metadata, member))
        .form(form)
        .send()
        .await
        .expect("request")
}
