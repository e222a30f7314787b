//! Signing key lifecycle: rotation, and picking up keys that another
//! instance rotated in.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use tokio::sync::Mutex;

use super::TokenService;
use crate::crypto::jwt::{AccessClaims, JwtError};
use crate::crypto::keys::{self, KeyMaterial, Keys};
use crate::store::{Store, StoreError};

/// At most one reload per this interval on unknown `kid`s, so that a flood
/// of forged tokens cannot turn into a flood of database queries.
const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(1);

/// When the last on-demand key reload ran.
#[derive(Clone, Default)]
pub struct ReloadGate(Arc<Mutex<Option<Instant>>>);

#[derive(Debug, thiserror::Error)]
pub enum KeyRotationError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Key(#[from] keys::KeyError),
}

impl TokenService {
    /// Makes a fresh key current. The previous key keeps verifying (and stays
    /// in the JWKS) until every token it signed has expired.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn rotate_signing_key(&self) -> Result<KeyMaterial, KeyRotationError> {
        let key = rotate_key(&self.store).await?;
        self.reload_keys().await?;
        tracing::info!(
            target: "tessera::security",
            event = crate::telemetry::events::SIGNING_KEY_ROTATED,
            kid = %key.kid,
            "signing key rotated"
        );
        Ok(key)
    }

    /// Rebuilds the key ring from the database if its keys changed.
    pub async fn reload_keys(&self) -> Result<(), KeyRotationError> {
        let materials = self
            .store
            .load_keys(Utc::now() - self.policy.access_ttl)
            .await?;
        let current = self.jwt.keys().get();
        let unchanged = materials.len() == current.verifying.len()
            && materials
                .iter()
                .all(|k| current.verifying.contains_key(&k.kid))
            && materials
                .iter()
                .any(|k| k.current && k.kid == current.current_kid);
        if !unchanged {
            self.jwt.keys().replace(Keys::build(&materials)?);
        }
        Ok(())
    }

    /// Verifies an access token like `verify_access_token`, but first
    /// reloads the keys when the token names one this instance has not seen.
    pub async fn authenticate_bearer(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Option<AccessClaims> {
        self.reload_keys_if_unknown(token, now).await;
        self.verify_access_token(token, now)
    }

    /// Reloads the keys (rate-limited) when `token` names a key this
    /// instance has not seen: another instance may just have rotated, and
    /// waiting for the periodic sync would refuse its tokens meanwhile.
    pub(super) async fn reload_keys_if_unknown(&self, token: &str, now: DateTime<Utc>) {
        if let Err(JwtError::UnknownKey) = self.jwt.verify(token, now) {
            let mut last = self.key_reload.0.lock().await;
            if last.is_none_or(|t| t.elapsed() >= RELOAD_AT_MOST_EVERY) {
                *last = Some(Instant::now());
                if let Err(e) = self.reload_keys().await {
                    tracing::warn!(error = %e, "could not reload signing keys");
                }
            }
        }
    }
}

/// Generates and installs a new current key; for the CLI and the service.
pub async fn rotate_key(store: &Store) -> Result<KeyMaterial, KeyRotationError> {
    let key = keys::generate()?;
    store.install_key(&key, Utc::now()).await?;
    Ok(key)
}
