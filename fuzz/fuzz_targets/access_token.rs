//! The access-token verifier, against arbitrary JWT-shaped strings and
//! against mutations of a real token: its header and claims replaced by
//! fuzzed JSON (the signature kept), or its bytes changed. No input may
//! panic, and nothing but the token we signed may verify.
//!
//! A forger never gets past the signature, so the claim checks behind it are
//! fuzzed too: fuzzed claims under our header, signed with our key. Those
//! may verify, but only with our issuer and audience, a subject, and an
//! expiry still ahead.
#![no_main]

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::Signer;
use libfuzzer_sys::fuzz_target;
use tessera::crypto::jwt::{AccessClaims, JwtCodec};
use tessera::crypto::keys::{self, KeyRing, Keys};

const ISSUER: &str = "https://issuer.test";

struct Fixture {
    codec: JwtCodec,
    token: String,
    now: DateTime<Utc>,
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let mut key = keys::generate().expect("a key");
        key.current = true;
        let keys = Keys::build(&[key]).expect("a key set");
        let codec = JwtCodec::new(KeyRing::new(keys), ISSUER.into(), ISSUER.into());
        let now = Utc::now();
        let claims = AccessClaims {
            iss: ISSUER.into(),
            sub: "user".into(),
            aud: ISSUER.into(),
            exp: now.timestamp() + 3600,
            iat: now.timestamp(),
            jti: "jti".into(),
            client_id: "client".into(),
            scope: "profile".into(),
            sid: Some("session".into()),
            email: Some("a@b.test".into()),
            roles: Some(vec!["admin".into()]),
        };
        let token = codec.sign(&claims).expect("signed");
        Fixture { codec, token, now }
    })
}

fuzz_target!(|data: &[u8]| {
    let f = fixture();
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let parts: Vec<&str> = f.token.split('.').collect();
    let signed_by_us = mode % 5 == 4;
    let candidate = match mode % 5 {
        // Anything at all.
        0 => String::from_utf8_lossy(rest).into_owned(),
        // Fuzzed header, real claims and signature.
        1 => format!("{}.{}.{}", URL_SAFE_NO_PAD.encode(rest), parts[1], parts[2]),
        // Real header, fuzzed claims, real signature.
        2 => format!("{}.{}.{}", parts[0], URL_SAFE_NO_PAD.encode(rest), parts[2]),
        // The real token with bytes overwritten at fuzzed places.
        3 => {
            let mut bytes = f.token.clone().into_bytes();
            for pair in rest.chunks(2) {
                if let [at, value] = pair {
                    let i = usize::from(*at) * bytes.len() / 256;
                    bytes[i] = *value;
                }
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
        // Real header, fuzzed claims, signed with our key.
        _ => {
            let signed = format!("{}.{}", parts[0], URL_SAFE_NO_PAD.encode(rest));
            let signature = f.codec.keys().get().signing.sign(signed.as_bytes());
            format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
        }
    };
    match f.codec.verify(&candidate, f.now) {
        Ok(claims) if signed_by_us => {
            assert_eq!(claims.iss, ISSUER);
            assert_eq!(claims.aud, ISSUER);
            assert!(!claims.sub.is_empty());
            assert!(claims.exp > f.now.timestamp());
        }
        Ok(_) => assert_eq!(candidate, f.token, "a token we did not sign verified"),
        Err(_) => {}
    }
});
