//! OAuth clients.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use entity::client;
use sea_orm::{ActiveValue::Set, EntityTrait};

use super::{Store, StoreError, conflict_or};
use crate::domain::{Client, GrantType, Scope};

pub struct NewClient {
    pub client_id: String,
    pub secret_hash: Option<String>,
    pub grant_types: Vec<GrantType>,
    pub scopes: Scope,
    pub refresh_cookie: bool,
}

impl From<client::Model> for Client {
    fn from(m: client::Model) -> Self {
        Client {
            client_id: m.client_id,
            secret_hash: m.secret_hash,
            public: m.public,
            grant_types: m
                .grant_types
                .split(' ')
                .filter_map(GrantType::parse)
                .collect(),
            scopes: Scope::from_stored(&m.scopes),
            refresh_cookie: m.refresh_cookie,
            created_at: m.created_at,
        }
    }
}

impl Store {
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn insert_client(
        &self,
        new: NewClient,
        now: DateTime<Utc>,
    ) -> Result<Client, StoreError> {
        let grant_types: Vec<&str> = new.grant_types.iter().map(|g| g.as_str()).collect();
        let model = client::ActiveModel {
            client_id: Set(new.client_id),
            public: Set(new.secret_hash.is_none()),
            secret_hash: Set(new.secret_hash),
            grant_types: Set(grant_types.join(" ")),
            scopes: Set(new.scopes.to_string()),
            refresh_cookie: Set(new.refresh_cookie),
            created_at: Set(now),
        };
        let _w = self.write_lock().await;
        let inserted = client::Entity::insert(model)
            .exec_with_returning(&self.db)
            .await
            .map_err(|e| conflict_or(e, "a client with this id"))?;
        Ok(inserted.into())
    }

    /// A client by id. Every token request authenticates its client, and
    /// clients hardly ever change, so found clients are kept for a moment
    /// (`ClientCache::TTL`): a change made on another instance is seen within it.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn find_client(&self, client_id: &str) -> Result<Option<Client>, StoreError> {
        if let Some(client) = self.clients.get(client_id) {
            return Ok(Some(client));
        }
        let found = client::Entity::find_by_id(client_id.to_string())
            .one(&self.db)
            .await?
            .map(Client::from);
        if let Some(client) = &found {
            self.clients.put(client.clone());
        }
        Ok(found)
    }
}

impl Store {
    /// Every scope any client may ask for, sorted, for the metadata document.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn all_client_scopes(&self) -> Result<Vec<String>, StoreError> {
        use sea_orm::QuerySelect;
        let rows: Vec<String> = client::Entity::find()
            .select_only()
            .column(client::Column::Scopes)
            .into_tuple()
            .all(&self.db)
            .await?;
        let mut all: Vec<String> = rows
            .iter()
            .flat_map(|s| {
                Scope::from_stored(s)
                    .iter()
                    .map(str::to_string)
                    .collect::<Vec<_>>()
            })
            .collect();
        all.sort();
        all.dedup();
        Ok(all)
    }
}

/// Recently read clients. Unknown ids are never cached, so a flood of made-up
/// client ids cannot grow it; it is bounded all the same.
#[derive(Clone, Default)]
pub(super) struct ClientCache {
    entries: Arc<RwLock<HashMap<String, (Client, Instant)>>>,
}

impl ClientCache {
    /// As long as the other instance-to-instance delays (`oauth::SYNC_EVERY`).
    const TTL: Duration = Duration::from_secs(2);
    const MAX_ENTRIES: usize = 10_000;

    fn get(&self, client_id: &str) -> Option<Client> {
        let entries = self
            .entries
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries
            .get(client_id)
            .filter(|(_, at)| at.elapsed() < Self::TTL)
            .map(|(client, _)| client.clone())
    }

    fn put(&self, client: Client) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if entries.len() >= Self::MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(client.client_id.clone(), (client, Instant::now()));
    }

    pub(super) fn forget(&self, client_id: &str) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.remove(client_id);
    }
}
