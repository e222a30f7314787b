//! `GET /api/me` (RFC 6750): a valid access token opens it; a missing,
//! expired, forged or tampered one gets a Bearer challenge.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, header, json_body, spawn_app, str_field,
};
use crate::jwt::{
    attacker_key, decode_unverified, now, server_signing_key, sign, signing_input, with_claims,
};

const CHALLENGE: &str = r#"Bearer realm="tessera""#;
const INVALID_TOKEN: &str = r#"Bearer realm="tessera", error="invalid_token""#;

async fn admin_access_token(app: &TestApp) -> String {
    let body = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    str_field(&body, "access_token").to_string()
}

async fn assert_invalid_token(res: reqwest::Response) {
    assert_eq!(res.status(), 401);
    assert_eq!(
        header(&res, "www-authenticate").as_deref(),
        Some(INVALID_TOKEN)
    );
}

/// A real token's header and claims, with `edit` applied to the claims, signed
/// with the server's own current key: only the edit can make it invalid.
async fn forge_with_server_key(
    app: &TestApp,
    edit_header: impl FnOnce(&mut Value),
    edit_claims: impl FnOnce(&mut Value),
) -> String {
    let real = admin_access_token(app).await;
    let (mut header, mut claims) = decode_unverified(&real);
    let (kid, key) = server_signing_key(app).await;
    assert_eq!(
        header["kid"],
        kid.as_str(),
        "the current key signed the token"
    );
    edit_header(&mut header);
    edit_claims(&mut claims);
    sign(&header, &claims, &key)
}

#[tokio::test]
async fn me_returns_the_callers_profile() {
    let app = spawn_app().await;
    let user = app.cli(&[
        "user",
        "create",
        "--email",
        "dave@example.com",
        "--password",
        "dave's long password 1",
        "--first-name",
        "Dave",
        "--last-name",
        "Lister",
        "--role",
        "crew",
    ]);
    let body = app
        .login("dave@example.com", "dave's long password 1")
        .await;

    let res = app.me(str_field(&body, "access_token")).await;

    assert_eq!(res.status(), 200);
    let me = json_body(res).await;
    assert_eq!(me["id"], user["id"]);
    assert_eq!(me["email"], "dave@example.com");
    assert_eq!(me["roles"], json!(["crew"]));
    assert_eq!(me["first_name"], "Dave");
    assert_eq!(me["last_name"], "Lister");
    let object = me.as_object().expect("an object");
    assert!(
        object
            .keys()
            .all(|k| !k.contains("password") && !k.contains("hash")),
        "no credentials in the profile: {me}"
    );
}

#[tokio::test]
async fn me_without_a_token_is_challenged() {
    let app = spawn_app().await;

    let res = app.get("/api/me").await;

    assert_eq!(res.status(), 401);
    assert_eq!(header(&res, "www-authenticate").as_deref(), Some(CHALLENGE));
}

#[tokio::test]
async fn me_with_a_token_that_is_not_a_jwt_is_an_invalid_token() {
    let app = spawn_app().await;

    let res = app.me("not-a-jwt").await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn a_token_forged_with_the_servers_key_and_correct_claims_is_accepted() {
    // The control for the forgery tests below: the forging itself is sound.
    let app = spawn_app().await;
    let token = forge_with_server_key(&app, |_| {}, |_| {}).await;

    let res = app.me(&token).await;

    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn me_with_an_expired_token_is_an_invalid_token() {
    let app = spawn_app().await;
    let token = forge_with_server_key(
        &app,
        |_| {},
        |claims| {
            claims["iat"] = json!(now() - 3600);
            claims["exp"] = json!(now() - 1800);
        },
    )
    .await;

    let res = app.me(&token).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_a_token_signed_by_another_key_is_an_invalid_token() {
    let app = spawn_app().await;
    let real = admin_access_token(&app).await;
    let (header, claims) = decode_unverified(&real);

    let res = app.me(&sign(&header, &claims, &attacker_key())).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_an_unsigned_alg_none_token_is_an_invalid_token() {
    let app = spawn_app().await;
    let real = admin_access_token(&app).await;
    let (mut header, claims) = decode_unverified(&real);
    header["alg"] = json!("none");

    let unsigned = format!("{}.", signing_input(&header, &claims));
    let res = app.me(&unsigned).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_an_hs256_token_keyed_with_the_public_key_is_an_invalid_token() {
    let app = spawn_app().await;
    let real = admin_access_token(&app).await;
    let (header, claims) = decode_unverified(&real);
    let jwks = json_body(app.get("/.well-known/jwks.json").await).await;
    let x = jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .find(|k| k["kid"] == header["kid"])
        .and_then(|k| k["x"].as_str())
        .expect("the published key")
        .to_string();
    let public_key = URL_SAFE_NO_PAD.decode(&x).expect("x is base64url");
    let mut hs256 = Header::new(Algorithm::HS256);
    hs256.typ = Some("at+jwt".into());
    hs256.kid = header["kid"].as_str().map(str::to_string);

    for secret in [public_key.as_slice(), x.as_bytes()] {
        let token = jsonwebtoken::encode(&hs256, &claims, &EncodingKey::from_secret(secret))
            .expect("sign HS256");
        assert_invalid_token(app.me(&token).await).await;
    }
}

#[tokio::test]
async fn me_with_a_token_typed_as_a_plain_jwt_is_an_invalid_token() {
    let app = spawn_app().await;
    let token = forge_with_server_key(&app, |h| h["typ"] = json!("JWT"), |_| {}).await;

    let res = app.me(&token).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_a_token_without_a_type_is_an_invalid_token() {
    let app = spawn_app().await;
    let token = forge_with_server_key(
        &app,
        |h| {
            h.as_object_mut().expect("header").remove("typ");
        },
        |_| {},
    )
    .await;

    let res = app.me(&token).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_a_token_from_another_issuer_is_an_invalid_token() {
    let app = spawn_app().await;
    let token =
        forge_with_server_key(&app, |_| {}, |c| c["iss"] = json!("https://evil.test")).await;

    let res = app.me(&token).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_a_token_for_another_audience_is_an_invalid_token() {
    let app = spawn_app().await;
    let token =
        forge_with_server_key(&app, |_| {}, |c| c["aud"] = json!("https://other-api.test")).await;

    let res = app.me(&token).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_a_token_naming_an_unknown_key_is_an_invalid_token() {
    let app = spawn_app().await;
    let token = forge_with_server_key(&app, |h| h["kid"] = json!("no-such-key"), |_| {}).await;

    let res = app.me(&token).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_a_tampered_payload_is_an_invalid_token() {
    let app = spawn_app().await;
    app.create_user("eve@example.com", "eve's long password 1");
    let eve = app.login("eve@example.com", "eve's long password 1").await;
    let eve_token = str_field(&eve, "access_token");
    let (_, mut claims) = decode_unverified(eve_token);
    claims["roles"] = json!(["admin"]);

    let res = app.me(&with_claims(eve_token, &claims)).await;

    assert_invalid_token(res).await;
}

#[tokio::test]
async fn me_with_an_empty_bearer_token_is_refused() {
    let app = spawn_app().await;

    let res = app
        .http
        .get(app.url("/api/me"))
        .header("authorization", "Bearer ")
        .send()
        .await
        .expect("request");

    assert_eq!(res.status(), 401);
    let challenge = header(&res, "www-authenticate").unwrap_or_default();
    assert!(challenge.starts_with(CHALLENGE), "{challenge}");
}
