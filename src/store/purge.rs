//! Deleting what no longer matters: tokens and sessions that expired or were
//! revoked more than a retention period ago. Small batches keep each
//! transaction (and SQLite's write lock) short.

use chrono::{DateTime, Utc};
use entity::{refresh_token, session};
use sea_orm::{ColumnTrait, Condition, EntityTrait, QueryFilter, QuerySelect};

use super::{Store, StoreError};

const BATCH: u64 = 500;

/// What one purge deleted.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Purged {
    pub refresh_tokens: u64,
    pub sessions: u64,
}

impl Store {
    /// Deletes refresh tokens, then sessions, that ended before `cutoff`.
    /// A session's tokens go with it (foreign key cascade).
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn purge(&self, cutoff: DateTime<Utc>) -> Result<Purged, StoreError> {
        let mut purged = Purged::default();
        loop {
            let ids: Vec<String> = refresh_token::Entity::find()
                .select_only()
                .column(refresh_token::Column::Id)
                .filter(
                    Condition::any()
                        .add(refresh_token::Column::ExpiresAt.lt(cutoff))
                        .add(refresh_token::Column::RevokedAt.lt(cutoff)),
                )
                .limit(BATCH)
                .into_tuple()
                .all(&self.db)
                .await?;
            if ids.is_empty() {
                break;
            }
            let _w = self.write_lock().await;
            purged.refresh_tokens += refresh_token::Entity::delete_many()
                .filter(refresh_token::Column::Id.is_in(ids))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        loop {
            let ids: Vec<String> = session::Entity::find()
                .select_only()
                .column(session::Column::Id)
                .filter(
                    Condition::any()
                        .add(session::Column::ExpiresAt.lt(cutoff))
                        .add(session::Column::RevokedAt.lt(cutoff)),
                )
                .limit(BATCH)
                .into_tuple()
                .all(&self.db)
                .await?;
            if ids.is_empty() {
                break;
            }
            let _w = self.write_lock().await;
            purged.sessions += session::Entity::delete_many()
                .filter(session::Column::Id.is_in(ids))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
        self.optimize().await?;
        Ok(purged)
    }
}
