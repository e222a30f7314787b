//! Signing keys (admins only): listing and rotation. Only public facts: the
//! private half never leaves the key ring.

use async_graphql::{Context, Object, SimpleObject};
use chrono::{DateTime, Utc};

use super::error::{ApiError, ApiResult};
use super::guard;
use crate::store::SigningKeyInfo;

/// A key that signs (or signed) access tokens.
#[derive(SimpleObject)]
pub struct SigningKey {
    /// The `kid` in token headers and the JWKS (RFC 7638 thumbprint).
    kid: String,
    algorithm: String,
    created_at: DateTime<Utc>,
    /// When another key became current; `null` for the current key.
    retired_at: Option<DateTime<Utc>>,
    /// Whether it signs new tokens.
    current: bool,
}

impl From<SigningKeyInfo> for SigningKey {
    fn from(k: SigningKeyInfo) -> Self {
        SigningKey {
            current: k.retired_at.is_none(),
            kid: k.kid,
            algorithm: k.algorithm,
            created_at: k.created_at,
            retired_at: k.retired_at,
        }
    }
}

#[derive(Default)]
pub struct KeysQuery;

#[Object]
impl KeysQuery {
    /// Every signing key, newest first. Admins only.
    async fn signing_keys(&self, ctx: &Context<'_>) -> ApiResult<Vec<SigningKey>> {
        guard::admin(ctx)?;
        let keys = guard::state(ctx)?.store.list_signing_keys().await?;
        Ok(keys.into_iter().map(SigningKey::from).collect())
    }
}

#[derive(Default)]
pub struct KeysMutation;

#[Object]
impl KeysMutation {
    /// Makes a fresh key current; the previous one keeps verifying until
    /// every token it signed has expired. Admins only.
    async fn rotate_signing_key(&self, ctx: &Context<'_>) -> ApiResult<SigningKey> {
        guard::admin(ctx)?;
        let store = &guard::state(ctx)?.store;
        let key = guard::state(ctx)?
            .tokens
            .rotate_signing_key()
            .await
            .map_err(|e| ApiError::internal(&e))?;
        store
            .list_signing_keys()
            .await?
            .into_iter()
            .find(|k| k.kid == key.kid)
            .map(SigningKey::from)
            .ok_or_else(|| ApiError::internal(&"the rotated key is not in the store"))
    }
}
