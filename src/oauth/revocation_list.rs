//! Which access tokens died early: those of revoked sessions, of disabled
//! users and of deleted clients. Checked on every authenticated request, so
//! it lives in memory; a background task refreshes it from the database so
//! that revocations made on other instances arrive within
//! `oauth::SYNC_EVERY`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Utc};

use crate::crypto::jwt::AccessClaims;
use crate::store::{Store, StoreError};

#[derive(Default)]
struct Sets {
    sessions: HashSet<String>,
    users: HashSet<String>,
    /// Clients deleted within an access token's life, and when: tokens
    /// issued to them until then are refused (deleting a client cascades
    /// its sessions away, so the session set cannot remember them).
    deleted_clients: HashMap<String, DateTime<Utc>>,
    /// The client ids at the last reload, to notice deletions made by
    /// other instances.
    known_clients: HashSet<String>,
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
            || sets
                .deleted_clients
                .get(&claims.client_id)
                .is_some_and(|at| claims.iat <= at.timestamp())
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

    pub fn client_deleted(&self, client_id: &str) {
        self.write(|s| {
            s.deleted_clients.insert(client_id.to_string(), Utc::now());
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
        let clients: HashSet<String> = store.client_ids().await?.into_iter().collect();
        let now = Utc::now();
        self.write(|s| {
            let mut deleted_clients = std::mem::take(&mut s.deleted_clients);
            for gone in s.known_clients.difference(&clients) {
                deleted_clients.entry(gone.clone()).or_insert(now);
            }
            deleted_clients.retain(|_, at| *at > since);
            *s = Sets {
                sessions,
                users,
                deleted_clients,
                known_clients: clients,
            }
        });
        Ok(())
    }
}
