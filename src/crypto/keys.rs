//! Signing keys: generation, RFC 7638 key ids, and the in-memory key ring
//! every request signs and verifies with.
//!
//! Parsing a key costs about as much as a signature (an Ed25519 private key
//! derives its public half on load), so the ring holds parsed keys and is
//! rebuilt only when the keys change.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::SigningKey;
use ed25519_dalek::VerifyingKey;
use ed25519_dalek::pkcs8::{DecodePrivateKey, EncodePrivateKey};
use rand::Rng;
use serde_json::json;
use sha2::{Digest, Sha256};

/// The JWS algorithm of every key Tessera makes.
pub const ALGORITHM: &str = "EdDSA";

/// Key material as stored.
#[derive(Clone)]
pub struct KeyMaterial {
    pub kid: String,
    pub algorithm: String,
    /// PKCS#8 DER.
    pub private_der: Vec<u8>,
    /// Raw 32-byte Ed25519 public key.
    pub public_raw: Vec<u8>,
    /// `true` for the key that signs new tokens.
    pub current: bool,
}

impl std::fmt::Debug for KeyMaterial {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KeyMaterial")
            .field("kid", &self.kid)
            .field("current", &self.current)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
#[error("signing key error: {0}")]
pub struct KeyError(String);

/// Makes a fresh Ed25519 key from 32 CSPRNG bytes.
pub fn generate() -> Result<KeyMaterial, KeyError> {
    let mut seed = [0u8; 32];
    rand::rng().fill_bytes(&mut seed);
    let signing = SigningKey::from_bytes(&seed);
    let der = signing
        .to_pkcs8_der()
        .map_err(|e| KeyError(e.to_string()))?;
    let public_raw = signing.verifying_key().to_bytes().to_vec();
    Ok(KeyMaterial {
        kid: thumbprint(&public_raw),
        algorithm: ALGORITHM.to_string(),
        private_der: der.as_bytes().to_vec(),
        public_raw,
        current: true,
    })
}

/// RFC 7638 thumbprint of an Ed25519 public key: SHA-256 over the JWK's
/// required members in lexicographic order, base64url.
pub fn thumbprint(public_raw: &[u8]) -> String {
    let canonical = format!(
        r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
        URL_SAFE_NO_PAD.encode(public_raw)
    );
    URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
}

/// One public key as an RFC 7517 JWK.
pub fn jwk(key: &KeyMaterial) -> serde_json::Value {
    json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": URL_SAFE_NO_PAD.encode(&key.public_raw),
        "kid": key.kid,
        "alg": key.algorithm,
        "use": "sig",
    })
}

/// Keys ready to use: the current one to sign, all published ones to verify.
pub struct Keys {
    pub current_kid: String,
    /// Parsed once: jsonwebtoken would parse the PKCS#8 document, and derive
    /// the public key from it, on every signature.
    pub signing: SigningKey,
    /// Parsed once: jsonwebtoken would rebuild (decompress) the key from
    /// its bytes on every verification.
    pub verifying: HashMap<String, VerifyingKey>,
    /// The JWKS document, rendered once.
    pub jwks: serde_json::Value,
    /// Tokens these keys were found to have signed.
    pub verified: super::jwt::VerifiedTokens,
}

impl Keys {
    pub fn build(materials: &[KeyMaterial]) -> Result<Self, KeyError> {
        let current = materials
            .iter()
            .find(|k| k.current)
            .ok_or_else(|| KeyError("no current signing key".into()))?;
        let mut verifying = HashMap::new();
        for k in materials {
            let raw: [u8; 32] = k
                .public_raw
                .as_slice()
                .try_into()
                .map_err(|_| KeyError(format!("key {} is not a 32-byte Ed25519 key", k.kid)))?;
            let key = VerifyingKey::from_bytes(&raw).map_err(|e| KeyError(e.to_string()))?;
            verifying.insert(k.kid.clone(), key);
        }
        let jwks = json!({ "keys": materials.iter().map(jwk).collect::<Vec<_>>() });
        Ok(Keys {
            current_kid: current.kid.clone(),
            signing: SigningKey::from_pkcs8_der(&current.private_der)
                .map_err(|e| KeyError(format!("key {}: {e}", current.kid)))?,
            verifying,
            jwks,
            verified: Default::default(),
        })
    }
}

/// The shared, swappable key set.
#[derive(Clone)]
pub struct KeyRing {
    inner: Arc<RwLock<Arc<Keys>>>,
}

impl KeyRing {
    pub fn new(keys: Keys) -> Self {
        KeyRing {
            inner: Arc::new(RwLock::new(Arc::new(keys))),
        }
    }

    /// A snapshot: cheap to take, and stays valid while the ring changes.
    pub fn get(&self) -> Arc<Keys> {
        match self.inner.read() {
            Ok(guard) => Arc::clone(&guard),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub fn replace(&self, keys: Keys) {
        match self.inner.write() {
            Ok(mut guard) => *guard = Arc::new(keys),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(keys),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbprint_matches_rfc_8037_example() {
        // RFC 8037 Appendix A.3: the thumbprint of the A.2 public key.
        let x = URL_SAFE_NO_PAD
            .decode("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
            .expect("base64");
        assert_eq!(
            thumbprint(&x),
            "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
        );
    }

    #[test]
    fn generated_keys_build_a_ring() {
        let key = generate().expect("key");
        assert_eq!(key.kid, thumbprint(&key.public_raw));
        let keys = Keys::build(std::slice::from_ref(&key)).expect("ring");
        assert_eq!(keys.current_kid, key.kid);
        assert_eq!(keys.jwks["keys"][0]["x"].as_str().map(str::len), Some(43));
    }
}
