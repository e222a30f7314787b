//! JWT helpers for the tests: read a token without verifying it, and forge
//! tokens (with the server's own key read from its database, or with a key of
//! our own) to probe how strictly the server verifies them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use ed25519_dalek::{Signer, SigningKey};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::helpers::TestApp;

/// The header and the claims of a compact JWS, parsed but not verified.
pub fn decode_unverified(token: &str) -> (Value, Value) {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "a compact JWS has three parts: {token}");
    (segment(parts[0]), segment(parts[1]))
}

fn segment(part: &str) -> Value {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .unwrap_or_else(|e| panic!("JWT segment is not base64url ({e}): {part}"));
    serde_json::from_slice(&bytes).expect("JWT segment is JSON")
}

fn encode_segment(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("serialize"))
}

/// `header.claims` as it is signed.
pub fn signing_input(header: &Value, claims: &Value) -> String {
    format!("{}.{}", encode_segment(header), encode_segment(claims))
}

/// A compact JWS over `header` and `claims`, signed with Ed25519 whatever the
/// header's `alg` says.
pub fn sign(header: &Value, claims: &Value, key: &SigningKey) -> String {
    let input = signing_input(header, claims);
    let signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
}

/// Replaces the claims of a real token but keeps its header and signature.
pub fn with_claims(token: &str, claims: &Value) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    format!("{}.{}.{}", parts[0], encode_segment(claims), parts[2])
}

/// An Ed25519 key that the server has never seen.
pub fn attacker_key() -> SigningKey {
    let seed: [u8; 32] = Sha256::digest(b"an attacker's own Ed25519 key").into();
    SigningKey::from_bytes(&seed)
}

/// The server's current signing key (`kid`, key), read from its database.
pub async fn server_signing_key(app: &TestApp) -> (String, SigningKey) {
    let db = Database::connect(&app.database_url)
        .await
        .expect("connect to the test database");
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "SELECT kid, private_key FROM signing_keys \
             WHERE retired_at IS NULL ORDER BY created_at DESC LIMIT 1",
        ))
        .await
        .expect("query signing_keys")
        .expect("a current signing key");
    let kid: String = row.try_get_by_index(0).expect("kid");
    let der: Vec<u8> = row.try_get_by_index(1).expect("private_key");
    let key = SigningKey::from_pkcs8_der(&der).expect("PKCS#8 DER Ed25519 key");
    db.close().await.expect("close the test database");
    (kid, key)
}

/// Seconds since the Unix epoch.
pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
