//! Which access tokens died early: those of revoked sessions, of disabled
//! users and of deleted clients. Checked on every authenticated request, so
//! it lives in memory; a background task refreshes it from the database so
//! that revocations made on other instances arrive within
//! `oauth::SYNC_EVERY`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, RwLock};
use std::time::Instant;

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
    /// Changes made here, newest last. A reload whose queries ran while one
    /// was being made may have missed it, so each reload applies again the
    /// changes made since its queries started.
    recent: Vec<(Instant, Change)>,
}

#[derive(Clone)]
enum Change {
    SessionRevoked(String),
    UserDisabled(String, bool),
}

impl Sets {
    fn apply(&mut self, change: &Change) {
        match change {
            Change::SessionRevoked(id) => {
                self.sessions.insert(id.clone());
            }
            Change::UserDisabled(id, true) => {
                self.users.insert(id.clone());
            }
            Change::UserDisabled(id, false) => {
                self.users.remove(id);
            }
        }
    }

    /// Replaces the sets with what the database said, keeping what only this
    /// instance knows: deleted clients, and changes made since `started`.
    fn rebuild(
        &mut self,
        sessions: HashSet<String>,
        users: HashSet<String>,
        clients: HashSet<String>,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
        started: Instant,
    ) {
        let mut deleted_clients = std::mem::take(&mut self.deleted_clients);
        for gone in self.known_clients.difference(&clients) {
            deleted_clients.entry(gone.clone()).or_insert(now);
        }
        deleted_clients.retain(|_, at| *at > since);
        // Changes made before the queries started are in what they read.
        let mut recent = std::mem::take(&mut self.recent);
        recent.retain(|(at, _)| *at >= started);
        *self = Sets {
            sessions,
            users,
            deleted_clients,
            known_clients: clients,
            recent: Vec::new(),
        };
        for (_, change) in &recent {
            self.apply(change);
        }
        self.recent = recent;
    }

    fn record(&mut self, change: Change) {
        self.apply(&change);
        self.recent.push((Instant::now(), change));
    }
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
        self.write(|s| s.record(Change::SessionRevoked(session_id.to_string())));
    }

    pub fn user_disabled(&self, user_id: &str, disabled: bool) {
        self.write(|s| s.record(Change::UserDisabled(user_id.to_string(), disabled)));
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
        let started = Instant::now();
        let since = Utc::now() - access_ttl - chrono::Duration::seconds(5);
        let sessions: HashSet<String> = store
            .sessions_revoked_since(since)
            .await?
            .into_iter()
            .collect();
        let users: HashSet<String> = store.disabled_user_ids().await?.into_iter().collect();
        let clients: HashSet<String> = store.client_ids().await?.into_iter().collect();
        let now = Utc::now();
        self.write(|s| s.rebuild(sessions, users, clients, since, now, started));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reload whose queries started at `started` and found nothing.
    fn rebuild_from_empty_database(sets: &mut Sets, started: Instant) {
        let now = Utc::now();
        sets.rebuild(
            HashSet::new(),
            HashSet::new(),
            HashSet::new(),
            now,
            now,
            started,
        );
    }

    #[test]
    fn a_reload_that_read_before_a_revocation_does_not_undo_it() {
        let mut sets = Sets::default();
        let started = Instant::now();
        // The revocation lands while the reload's queries run...
        sets.record(Change::SessionRevoked("s1".into()));
        sets.record(Change::UserDisabled("u1".into(), true));
        // ...and the snapshot they read does not have it.
        rebuild_from_empty_database(&mut sets, started);
        assert!(sets.sessions.contains("s1"));
        assert!(sets.users.contains("u1"));
    }

    #[test]
    fn changes_older_than_a_reload_are_left_to_the_database() {
        let mut sets = Sets::default();
        sets.record(Change::UserDisabled("u1".into(), true));
        let started = Instant::now();
        // Re-enabled elsewhere: the database no longer lists the user.
        rebuild_from_empty_database(&mut sets, started);
        assert!(!sets.users.contains("u1"));
        assert!(sets.recent.is_empty());
    }
}
