//! Signing key rotation: `tessera keys rotate` writes a new current key to
//! the database; the running server starts signing with it (within its sync
//! interval, or at once when it meets a token naming the new key), keeps
//! publishing and accepting the old key until its tokens have expired, and
//! names every key by its RFC 7638 thumbprint.

use std::collections::BTreeSet;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, JwkSet, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::graphql::{admin, data, gql};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app, spawn_app_with, str_field};
use crate::jwt::{decode_unverified, server_signing_key, sign};
use crate::oauth_endpoints::eventually;

/// Generous room for the server to notice a rotation (it syncs every 2 s).
const PICK_UP: Duration = Duration::from_secs(5);

async fn access_token(app: &TestApp) -> String {
    let body = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    str_field(&body, "access_token").to_string()
}

fn kid(token: &str) -> String {
    let (header, _) = decode_unverified(token);
    str_field(&header, "kid").to_string()
}

async fn published_kids(app: &TestApp) -> BTreeSet<String> {
    app.jwks().await["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .map(|k| str_field(k, "kid").to_string())
        .collect()
}

/// Rotates through the CLI; returns the new key's id.
fn rotate(app: &TestApp) -> String {
    let rotated = app.cli(&["keys", "rotate"]);
    assert_eq!(rotated["algorithm"], "EdDSA", "{rotated}");
    str_field(&rotated, "kid").to_string()
}

/// Waits until the server publishes `kid`; panics if it never does.
async fn wait_until_published(app: &TestApp, kid: &str) {
    let picked_up = eventually(PICK_UP, || async {
        published_kids(app).await.contains(kid)
    })
    .await;
    assert!(picked_up, "the server never published the key {kid}");
}

/// Verifies `token` against the JWKS document alone.
fn verifies_with(jwks: &Value, token: &str, issuer: &str) -> bool {
    let set: JwkSet = serde_json::from_value(jwks.clone()).expect("a JWK set");
    let Some(jwk) = set.find(&kid(token)) else {
        return false;
    };
    let key = DecodingKey::from_jwk(jwk).expect("a usable public key");
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[issuer]);
    jsonwebtoken::decode::<Value>(token, &key, &validation).is_ok()
}

#[tokio::test]
async fn new_access_tokens_carry_the_kid_of_the_rotated_in_key() {
    let app = spawn_app().await;
    let old_kid = kid(&access_token(&app).await);

    let new_kid = rotate(&app);

    assert_ne!(new_kid, old_kid);
    let signs_with_new_key = eventually(PICK_UP, || async {
        kid(&access_token(&app).await) == new_kid
    })
    .await;
    assert!(signs_with_new_key, "new tokens never carried {new_kid}");
}

#[tokio::test]
async fn access_tokens_signed_before_a_rotation_keep_working() {
    let app = spawn_app().await;
    let old_token = access_token(&app).await;

    let new_kid = rotate(&app);
    wait_until_published(&app, &new_kid).await;

    assert_eq!(app.me(&old_token).await.status(), 200);
    let new_token = access_token(&app).await;
    assert_eq!(kid(&new_token), new_kid);
    assert_eq!(app.me(&new_token).await.status(), 200);
}

#[tokio::test]
async fn the_jwks_publishes_the_old_and_the_new_key_after_a_rotation() {
    let app = spawn_app().await;
    let old_token = access_token(&app).await;
    let old_kid = kid(&old_token);

    let new_kid = rotate(&app);
    wait_until_published(&app, &new_kid).await;

    let jwks = app.jwks().await;
    let kids = published_kids(&app).await;
    assert!(kids.contains(&old_kid), "{jwks}");
    assert!(
        verifies_with(&jwks, &old_token, &app.address),
        "the old token no longer verifies with the JWKS"
    );
    let new_token = access_token(&app).await;
    assert!(verifies_with(&jwks, &new_token, &app.address));
}

#[tokio::test]
async fn two_rotations_leave_three_keys_published() {
    let app = spawn_app().await;
    let first = kid(&access_token(&app).await);

    let second = rotate(&app);
    let third = rotate(&app);
    wait_until_published(&app, &third).await;

    let expected: BTreeSet<String> = [first, second, third].into_iter().collect();
    assert_eq!(published_kids(&app).await, expected);
}

#[tokio::test]
async fn every_kid_is_the_rfc_7638_thumbprint_of_its_key() {
    let app = spawn_app().await;
    let new_kid = rotate(&app);
    wait_until_published(&app, &new_kid).await;

    let jwks = app.jwks().await;

    let keys = jwks["keys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2, "{jwks}");
    for key in keys {
        // RFC 7638 §3.2: the required members only, in lexicographic order,
        // no whitespace; then SHA-256 and base64url.
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}"}}"#,
            str_field(key, "crv"),
            str_field(key, "kty"),
            str_field(key, "x")
        );
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()));
        assert_eq!(key["kid"], thumbprint.as_str(), "{key}");
        // And a second opinion from jsonwebtoken's own implementation.
        let jwk: Jwk = serde_json::from_value(key.clone()).expect("a JWK");
        let theirs = jwk.thumbprint(ThumbprintHash::SHA256).expect("thumbprint");
        assert_eq!(theirs, thumbprint, "{key}");
    }
}

#[tokio::test]
async fn a_token_naming_a_key_rotated_in_elsewhere_is_accepted_without_waiting() {
    let app = spawn_app().await;
    let real = access_token(&app).await;

    // Another instance (here, the CLI) rotated, and that instance signed a
    // token with the new key: this server has not synced yet, but the unknown
    // kid makes it read the keys from the database.
    let new_kid = rotate(&app);
    let (kid_in_db, key) = server_signing_key(&app).await;
    assert_eq!(kid_in_db, new_kid);
    let (mut header, claims) = decode_unverified(&real);
    header["kid"] = Value::from(new_kid.as_str());
    let from_elsewhere = sign(&header, &claims, &key);

    let res = app.me(&from_elsewhere).await;

    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn a_retired_key_leaves_the_jwks_once_every_token_it_signed_has_expired() {
    let app = spawn_app_with(&["--access-token-ttl", "1s"]).await;
    let old_kid = kid(&access_token(&app).await);

    let new_kid = rotate(&app);

    // The old key's last tokens expire a second after the rotation; the
    // server notices at its next sync.
    let only_new = BTreeSet::from([new_kid]);
    let dropped = eventually(Duration::from_secs(10), || async {
        published_kids(&app).await == only_new
    })
    .await;
    assert!(dropped, "the JWKS still lists {old_kid}");
}

#[tokio::test]
async fn the_rotate_signing_key_mutation_makes_the_new_key_sign_at_once() {
    let app = spawn_app().await;
    let root = admin(&app).await;
    let old_kid = kid(&root.access);

    let rotated = gql(
        &app,
        Some(&root.access),
        "mutation { rotateSigningKey { kid } }",
        json!({}),
    )
    .await;

    let new_kid = str_field(&data(rotated)["rotateSigningKey"], "kid").to_string();
    assert_ne!(new_kid, old_kid);
    // The instance that rotated reloads its keys before answering.
    assert_eq!(kid(&access_token(&app).await), new_kid);
    let kids = published_kids(&app).await;
    assert_eq!(kids, BTreeSet::from([old_kid, new_kid]));
    assert_eq!(app.me(&root.access).await.status(), 200);
}
