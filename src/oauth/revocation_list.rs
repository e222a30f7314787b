//! Which access tokens died early: those of revoked sessions and of
//! disabled users. Checked on every authenticated request, so it lives in
//! memory; a background task refreshes it from the database so that
//! revocations made on other instances arrive within `REFRESH_EVERY`.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use chrono::Utc;

use crate::crypto::jwt::AccessClaims;
use crate::store::{Store, StoreError};

/// How often other instances' revocations are picked up.
pub const REFRESH_EVERY: Duration = Duration::from_secs(2);

#[derive(Default)]
struct Sets {
    sessions: HashSet<String>,
    users: HashSet<String>,
}

#[derive(Clone, Default)]
pub struct RevocationList {
    inner: Arc<RwLock<Sets>>,
}

impl RevocationList {
    /// Whether an otherwise valid access token must be refused.
    pub fn rejects(&self, claims: &AccessClaims) -> bool {
        let sets = match self.inner.read() {
            Ok(sets) => sets,
            Err(poisoned) => poisoned.into_inner(),
        };
        sets.users.contains(&claims.sub)
            || claims
                .sid
                .as_ref()
                .is_some_and(|sid| sets.sessions.contains(sid))
    }

    pub fn session_revoked(&self, session_id: &str) {
        self.write(|s| {
            s.sessions.insert(session_id.to_string());
        });
    }

    pub fn user_disabled(&self, user_id: &str, disabled: bool) {
        self.write(|s| {
            if disabled {
                s.users.insert(user_id.to_string());
            } else {
                s.users.remove(user_id);
            }
        });
    }

    fn write(&self, f: impl FnOnce(&mut Sets)) {
        match self.inner.write() {
            Ok(mut sets) => f(&mut sets),
            Err(poisoned) => f(&mut poisoned.into_inner()),
        }
    }

    /// Reloads both sets from the database. Sessions revoked longer than an
    /// access token's life ago are left out: their tokens have expired.
    pub async fn reload(
        &self,
        store: &Store,
        access_ttl: chrono::Duration,
    ) -> Result<(), StoreError> {
        let since = Utc::now() - access_ttl - chrono::Duration::seconds(5);
        let sessions: HashSet<String> = store
            .sessions_revoked_since(since)
            .await?
            .into_iter()
            .collect();
        let users: HashSet<String> = store.disabled_user_ids().await?.into_iter().collect();
        self.write(|s| *s = Sets { sessions, users });
        Ok(())
    }

    /// Keeps reloading until the process ends.
    pub fn spawn_refresher(&self, store: Store, access_ttl: chrono::Duration) {
        let list = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(REFRESH_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = list.reload(&store, access_ttl).await {
                    tracing::warn!(error = %e, "could not refresh the revocation list");
                }
            }
        });
    }
}
