//! RFC 9068 access tokens: JWTs with `typ: at+jwt`, signed with the ring's
//! current key and verified against any published key.

use std::collections::HashMap;
use std::sync::Mutex;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Signer, Verifier};
use jsonwebtoken::Algorithm;
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::keys::{ALGORITHM, KeyRing, Keys};

/// The media type RFC 9068 §2.1 requires in the header.
pub const TYP: &str = "at+jwt";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct AccessClaims {
    pub iss: String,
    /// The user id, or the client id for `client_credentials`.
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    /// The session (login) this token belongs to; absent for client tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
}

#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    #[error("token signing failed: {0}")]
    Sign(String),
    /// Deliberately vague: the caller learns only that the token is no good.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// Signed with a key this instance does not know (yet).
    #[error("invalid token: unknown kid")]
    UnknownKey,
}

/// One base64url segment of a JWS: `value` as JSON.
fn segment(value: &impl Serialize) -> Result<String, JwtError> {
    let json = serde_json::to_vec(value).map_err(|e| JwtError::Sign(e.to_string()))?;
    Ok(URL_SAFE_NO_PAD.encode(json))
}

/// Signs and verifies access tokens for one issuer and audience.
#[derive(Clone)]
pub struct JwtCodec {
    keys: KeyRing,
    issuer: String,
    audience: String,
}

impl JwtCodec {
    pub fn new(keys: KeyRing, issuer: String, audience: String) -> Self {
        JwtCodec {
            keys,
            issuer,
            audience,
        }
    }

    pub fn issuer(&self) -> &str {
        &self.issuer
    }

    pub fn audience(&self) -> &str {
        &self.audience
    }

    pub fn keys(&self) -> &KeyRing {
        &self.keys
    }

    /// A compact JWS (RFC 7515 §7.1): `header.claims.signature`, base64url.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String, JwtError> {
        let keys = self.keys.get();
        let header = json!({ "alg": ALGORITHM, "typ": TYP, "kid": keys.current_kid });
        let mut token = segment(&header)?;
        token.push('.');
        token.push_str(&segment(claims)?);
        let signature = keys.signing.sign(token.as_bytes());
        token.push('.');
        URL_SAFE_NO_PAD.encode_string(signature.to_bytes(), &mut token);
        Ok(token)
    }

    /// Checks header (`typ`, `alg`, known `kid`), signature, `iss`, `aud` and
    /// `exp` (no leeway: tokens are short-lived and clocks are ours).
    ///
    /// A token whose signature was checked before is not checked again (see
    /// `VerifiedTokens`); the claims are, every time.
    pub fn verify(&self, token: &str, now: DateTime<Utc>) -> Result<AccessClaims, JwtError> {
        let keys = self.keys.get();
        let digest: [u8; 32] = Sha256::digest(token.as_bytes()).into();
        let claims = match keys.verified.get(&digest) {
            Some(claims) => claims,
            None => {
                let claims = verify_signature(&keys, token)?;
                keys.verified.insert(digest, &claims);
                claims
            }
        };
        if claims.iss != self.issuer {
            return Err(JwtError::Invalid("wrong iss"));
        }
        if claims.aud != self.audience {
            return Err(JwtError::Invalid("wrong aud"));
        }
        if claims.sub.is_empty() {
            return Err(JwtError::Invalid("no sub"));
        }
        if claims.exp <= now.timestamp() {
            return Err(JwtError::Invalid("expired"));
        }
        Ok(claims)
    }
}

/// The header and signature checks of `JwtCodec::verify`; the claims it
/// returns are only decoded.
fn verify_signature(keys: &Keys, token: &str) -> Result<AccessClaims, JwtError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| JwtError::Invalid("malformed"))?;
    let typ_ok = header.typ.as_deref().is_some_and(|t| {
        t.eq_ignore_ascii_case(TYP) || t.eq_ignore_ascii_case("application/at+jwt")
    });
    if !typ_ok {
        return Err(JwtError::Invalid("wrong typ"));
    }
    if header.alg != Algorithm::EdDSA {
        return Err(JwtError::Invalid("wrong alg"));
    }
    let kid = header.kid.ok_or(JwtError::Invalid("no kid"))?;
    let key = keys.verifying.get(&kid).ok_or(JwtError::UnknownKey)?;

    // The signature over `header.payload`, with the key parsed once.
    let (signed, signature) = token
        .rsplit_once('.')
        .ok_or(JwtError::Invalid("malformed"))?;
    let (_, payload) = signed
        .split_once('.')
        .ok_or(JwtError::Invalid("malformed"))?;
    let signature: [u8; 64] = URL_SAFE_NO_PAD
        .decode(signature)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .ok_or(JwtError::Invalid("malformed signature"))?;
    // RFC 8032 §5.1.7 verification (a canonical `S`, and `R` compared as
    // bytes, so no second encoding of a signature passes). `verify_strict`
    // would also reject weak public keys, which only we make, at the price of
    // decompressing `R`: a fifth of the verification.
    key.verify(signed.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| JwtError::Invalid("bad signature"))?;

    URL_SAFE_NO_PAD
        .decode(payload)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or(JwtError::Invalid("malformed claims"))
}

/// Access tokens whose signature checked out, by SHA-256 of the token: a
/// resource server presents one token many times (every API call, every
/// introspection) over its life, and the Ed25519 check is most of the cost
/// of each. Lives in a key set (`Keys`), so a change of keys empties it.
/// Bounded: when full, expired entries go, and if that is not enough, all.
#[derive(Default)]
pub struct VerifiedTokens {
    tokens: Mutex<HashMap<[u8; 32], AccessClaims>>,
}

impl VerifiedTokens {
    const CAPACITY: usize = 4_096;

    fn get(&self, digest: &[u8; 32]) -> Option<AccessClaims> {
        self.lock().get(digest).cloned()
    }

    fn insert(&self, digest: [u8; 32], claims: &AccessClaims) {
        let mut tokens = self.lock();
        if tokens.len() >= Self::CAPACITY {
            let now = Utc::now().timestamp();
            tokens.retain(|_, c| c.exp > now);
            if tokens.len() >= Self::CAPACITY {
                tokens.clear();
            }
        }
        tokens.insert(digest, claims.clone());
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<[u8; 32], AccessClaims>> {
        // A map of verified tokens cannot be left inconsistent by a panic.
        self.tokens.lock().unwrap_or_else(|e| e.into_inner())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::keys::{Keys, generate};

    fn codec() -> JwtCodec {
        let ring = KeyRing::new(Keys::build(&[generate().expect("key")]).expect("ring"));
        JwtCodec::new(ring, "https://issuer".into(), "api".into())
    }

    fn claims(now: DateTime<Utc>) -> AccessClaims {
        AccessClaims {
            iss: "https://issuer".into(),
            sub: "u1".into(),
            aud: "api".into(),
            exp: now.timestamp() + 60,
            iat: now.timestamp(),
            jti: "j1".into(),
            client_id: "c".into(),
            scope: "profile".into(),
            sid: Some("s1".into()),
            email: Some("a@b".into()),
            roles: Some(vec!["admin".into()]),
        }
    }

    #[test]
    fn a_signed_token_verifies_and_round_trips() {
        let now = Utc::now();
        let codec = codec();
        let token = codec.sign(&claims(now)).expect("sign");
        let header = jsonwebtoken::decode_header(&token).expect("header");
        assert_eq!(header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(codec.verify(&token, now).expect("valid"), claims(now));
    }

    #[test]
    fn a_signed_token_verifies_with_another_implementation() {
        let now = Utc::now();
        let codec = codec();
        let token = codec.sign(&claims(now)).expect("sign");
        let keys = codec.keys().get();
        let public = keys.signing.verifying_key().to_bytes();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::EdDSA);
        validation.set_audience(&["api"]);
        validation.set_issuer(&["https://issuer"]);
        let decoded = jsonwebtoken::decode::<AccessClaims>(
            &token,
            &jsonwebtoken::DecodingKey::from_ed_der(&public),
            &validation,
        )
        .expect("jsonwebtoken accepts the token");
        assert_eq!(decoded.claims, claims(now));
        assert_eq!(
            decoded.header.kid.as_deref(),
            Some(keys.current_kid.as_str())
        );
    }

    #[test]
    fn another_issuer_or_audience_or_key_is_refused() {
        let now = Utc::now();
        let token = codec().sign(&claims(now)).expect("sign");
        // A codec with a different key does not know the kid.
        assert!(codec().verify(&token, now).is_err());
        let c = codec();
        let mut wrong_aud = claims(now);
        wrong_aud.aud = "other".into();
        assert!(c.verify(&c.sign(&wrong_aud).expect("sign"), now).is_err());
        let mut wrong_iss = claims(now);
        wrong_iss.iss = "https://evil".into();
        assert!(c.verify(&c.sign(&wrong_iss).expect("sign"), now).is_err());
    }

    #[test]
    fn expiry_uses_the_given_clock() {
        let now = Utc::now();
        let c = codec();
        let token = c.sign(&claims(now)).expect("sign");
        assert!(c.verify(&token, now).is_ok());
        // Known to be well signed by now, and still checked for expiry.
        assert!(
            c.verify(&token, now + chrono::Duration::seconds(61))
                .is_err()
        );
    }

    #[test]
    fn a_token_verified_before_is_remembered_but_a_tampered_one_is_not() {
        let now = Utc::now();
        let c = codec();
        let token = c.sign(&claims(now)).expect("sign");
        c.verify(&token, now).expect("valid");
        c.verify(&token, now).expect("still valid");
        assert_eq!(c.keys().get().verified.len(), 1);

        let (signed, signature) = token.rsplit_once('.').expect("three parts");
        let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("base64");
        bytes[0] ^= 1;
        let tampered = format!("{signed}.{}", URL_SAFE_NO_PAD.encode(bytes));
        assert!(matches!(
            c.verify(&tampered, now),
            Err(JwtError::Invalid("bad signature"))
        ));
        assert_eq!(c.keys().get().verified.len(), 1);
    }

    #[test]
    fn new_keys_forget_what_the_old_ones_verified() {
        let now = Utc::now();
        let c = codec();
        let token = c.sign(&claims(now)).expect("sign");
        c.verify(&token, now).expect("valid");

        c.keys()
            .replace(Keys::build(&[generate().expect("key")]).expect("ring"));

        assert!(matches!(c.verify(&token, now), Err(JwtError::UnknownKey)));
    }
}
