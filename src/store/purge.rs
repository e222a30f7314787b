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
        let refresh_tokens = self
            .delete_in_batches::<refresh_token::Entity>(
                refresh_token::Column::Id,
                Condition::any()
                    .add(refresh_token::Column::ExpiresAt.lt(cutoff))
                    .add(refresh_token::Column::RevokedAt.lt(cutoff)),
            )
            .await?;
        let sessions = self
            .delete_in_batches::<session::Entity>(
                session::Column::Id,
                Condition::any()
                    .add(session::Column::ExpiresAt.lt(cutoff))
                    .add(session::Column::RevokedAt.lt(cutoff)),
            )
            .await?;
        self.optimize().await?;
        Ok(Purged {
            refresh_tokens,
            sessions,
        })
    }

    /// Deletes the rows that match `ended`, `BATCH` at a time: each delete
    /// holds the write lock only briefly. Returns how many went.
    async fn delete_in_batches<E: EntityTrait>(
        &self,
        id: E::Column,
        ended: Condition,
    ) -> Result<u64, StoreError> {
        let mut deleted = 0;
        loop {
            let ids: Vec<String> = E::find()
                .select_only()
                .column(id)
                .filter(ended.clone())
                .limit(BATCH)
                .into_tuple()
                .all(&self.db)
                .await?;
            if ids.is_empty() {
                return Ok(deleted);
            }
            let _w = self.write_lock().await;
            deleted += E::delete_many()
                .filter(id.is_in(ids))
                .exec(&self.db)
                .await?
                .rows_affected;
        }
    }
}
