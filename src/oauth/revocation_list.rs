//! Which access tokens died early: those of revoked sessions and of
//! disabled users. Checked on every authenticated request, so it lives in
//! memory; a background task refreshes it from the database so that
//! revocations made on other instances arrive within `oauth::SYNC_EVERY`.

use std::collections::HashSet;
use std::sync::{Arc, RwLock};

use chrono::Utc;

use crate::crypto::jwt::AccessClaims;
use crate::store::{Store, StoreError};

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
}
