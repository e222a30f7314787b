//! Access tokens (RFC 9068 JWT profile) and the keys that verify them
//! (`/.well-known/jwks.json`, RFC 7517).

use std::collections::BTreeSet;

use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, TestApp, json_body, scope_set, scopes, spawn_app,
    spawn_app_with, str_field, token_success,
};
use crate::jwt::{decode_unverified, now};

const EMAIL: &str = "carol@example.com";
const PASSWORD: &str = "carol's long password 1";

async fn access_token(app: &TestApp, email: &str, password: &str) -> String {
    let body = app.login(email, password).await;
    str_field(&body, "access_token").to_string()
}

/// `aud` may be a string or an array (RFC 7519 §4.1.3); either way, the set.
fn audiences(aud: &Value) -> BTreeSet<String> {
    match aud {
        Value::String(s) => BTreeSet::from([s.clone()]),
        Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().expect("aud entries are strings").to_string())
            .collect(),
        other => panic!("aud must be a string or an array, got {other}"),
    }
}

fn roles(claims: &Value) -> BTreeSet<String> {
    claims["roles"]
        .as_array()
        .unwrap_or_else(|| panic!("roles must be an array: {claims}"))
        .iter()
        .map(|v| v.as_str().expect("roles are strings").to_string())
        .collect()
}

async fn jwks(app: &TestApp) -> Value {
    let res = app.get("/.well-known/jwks.json").await;
    assert_eq!(res.status(), 200);
    json_body(res).await
}

#[tokio::test]
async fn the_access_token_is_a_jwt_typed_at_jwt_and_signed_with_eddsa() {
    let app = spawn_app().await;

    let token = access_token(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (header, _) = decode_unverified(&token);
    assert_eq!(header["typ"], "at+jwt", "{header}");
    assert_eq!(header["alg"], "EdDSA", "{header}");
    assert!(!str_field(&header, "kid").is_empty(), "{header}");
}

#[tokio::test]
async fn the_access_token_carries_the_rfc_9068_claims_for_the_user() {
    let app = spawn_app().await;
    let user = app.cli(&[
        "user",
        "create",
        "--email",
        EMAIL,
        "--password",
        PASSWORD,
        "--role",
        "editor",
        "--role",
        "viewer",
    ]);
    let user_id = str_field(&user, "id");

    let token = access_token(&app, EMAIL, PASSWORD).await;

    let (_, claims) = decode_unverified(&token);
    assert_eq!(claims["iss"], app.address.as_str(), "{claims}");
    assert_eq!(claims["sub"], user_id, "{claims}");
    assert_eq!(
        audiences(&claims["aud"]),
        BTreeSet::from([app.address.clone()]),
        "the audience defaults to the issuer"
    );
    let iat = claims["iat"].as_i64().expect("iat is a number");
    let exp = claims["exp"].as_i64().expect("exp is a number");
    assert_eq!(exp - iat, 900, "{claims}");
    assert!((iat - now()).abs() < 300, "iat is now: {claims}");
    assert!(!str_field(&claims, "jti").is_empty());
    assert_eq!(claims["client_id"], CLI_CLIENT);
    assert_eq!(scopes(&claims["scope"]), scope_set(&["profile", "email"]));
    assert_eq!(claims["email"], EMAIL);
    assert_eq!(roles(&claims), scope_set(&["editor", "viewer"]));
}

#[tokio::test]
async fn the_bootstrapped_admin_has_the_admin_role() {
    let app = spawn_app().await;

    let token = access_token(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (_, claims) = decode_unverified(&token);
    assert!(roles(&claims).contains("admin"), "{claims}");
}

#[tokio::test]
async fn a_user_without_roles_has_an_empty_roles_array() {
    let app = spawn_app().await;
    app.create_user(EMAIL, PASSWORD);

    let token = access_token(&app, EMAIL, PASSWORD).await;

    let (_, claims) = decode_unverified(&token);
    assert!(roles(&claims).is_empty(), "{claims}");
}

#[tokio::test]
async fn every_access_token_has_its_own_jti() {
    let app = spawn_app().await;

    let first = access_token(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let second = access_token(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (_, first) = decode_unverified(&first);
    let (_, second) = decode_unverified(&second);
    assert_ne!(first["jti"], second["jti"]);
}

#[tokio::test]
async fn issuer_and_audience_are_configurable() {
    let app = spawn_app_with(&[
        "--issuer",
        "https://id.example.test",
        "--audience",
        "https://api.example.test",
    ])
    .await;

    let token = access_token(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (_, claims) = decode_unverified(&token);
    assert_eq!(claims["iss"], "https://id.example.test");
    assert_eq!(
        audiences(&claims["aud"]),
        BTreeSet::from(["https://api.example.test".to_string()])
    );
    assert_eq!(app.me(&token).await.status(), 200, "the server accepts it");
}

#[tokio::test]
async fn the_access_token_lifetime_follows_the_configuration() {
    let app = spawn_app_with(&["--access-token-ttl", "2m"]).await;

    let token = access_token(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (_, claims) = decode_unverified(&token);
    let lifetime = claims["exp"].as_i64().expect("exp") - claims["iat"].as_i64().expect("iat");
    assert_eq!(lifetime, 120);
}

#[tokio::test]
async fn the_jwks_publishes_the_signing_key_as_an_ed25519_okp_key() {
    let app = spawn_app().await;
    let token = access_token(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (header, _) = decode_unverified(&token);

    let jwks = jwks(&app).await;

    let keys = jwks["keys"].as_array().expect("keys is an array");
    let key = keys
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .unwrap_or_else(|| panic!("no key with the token's kid in {jwks}"));
    assert_eq!(key["kty"], "OKP", "{key}");
    assert_eq!(key["crv"], "Ed25519", "{key}");
    assert!(!str_field(key, "x").is_empty(), "{key}");
    for key in keys {
        assert!(key.get("d").is_none(), "a private key is published: {key}");
    }
}

#[tokio::test]
async fn the_access_token_verifies_with_the_published_key_alone() {
    let app = spawn_app().await;
    let token = access_token(&app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (header, _) = decode_unverified(&token);
    let jwks = jwks(&app).await;
    let key = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .expect("the token's key is published")
        .clone();

    let decoding_key =
        DecodingKey::from_ed_components(str_field(&key, "x")).expect("an Ed25519 public key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[app.address.as_str()]);
    validation.set_audience(&[app.address.as_str()]);
    validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
    let verified = jsonwebtoken::decode::<Value>(&token, &decoding_key, &validation)
        .expect("the signature verifies with the JWKS key");

    assert_eq!(verified.claims["email"], ADMIN_EMAIL);
}

#[tokio::test]
async fn a_refreshed_access_token_keeps_the_user_claims() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let body = token_success(app.refresh(str_field(&login, "refresh_token")).await).await;

    let (_, before) = decode_unverified(str_field(&login, "access_token"));
    let (_, after) = decode_unverified(str_field(&body, "access_token"));
    assert_eq!(after["sub"], before["sub"]);
    assert_eq!(after["email"], ADMIN_EMAIL);
    assert_eq!(after["client_id"], CLI_CLIENT);
    assert!(roles(&after).contains("admin"), "{after}");
    assert_ne!(after["jti"], before["jti"]);
}
