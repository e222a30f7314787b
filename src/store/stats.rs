//! What `/metrics` reports about the database: the pool, and two numbers
//! counted in the background (not per scrape): active sessions and the
//! current signing key's age.

use chrono::{DateTime, Utc};
use entity::{session, signing_key};
use sea_orm::{ColumnTrait, DbBackend, EntityTrait, PaginatorTrait, QueryFilter, QuerySelect};

use super::{Store, StoreError};

impl Store {
    /// Sessions neither revoked nor expired at `now` (a range scan of
    /// the `expires_at` index).
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn count_active_sessions(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(session::Entity::find()
            .filter(session::Column::ExpiresAt.gt(now))
            .filter(session::Column::RevokedAt.is_null())
            .count(&self.db)
            .await?)
    }

    /// When the current signing key was made.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn current_key_created_at(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(signing_key::Entity::find()
            .select_only()
            .column(signing_key::Column::CreatedAt)
            .filter(signing_key::Column::RetiredAt.is_null())
            .into_tuple::<DateTime<Utc>>()
            .one(&self.db)
            .await?)
    }

    /// The pool's (open connections, idle connections, limit).
    pub fn pool_status(&self) -> Option<(u32, usize, u32)> {
        match self.db.get_database_backend() {
            DbBackend::Sqlite => {
                let pool = self.db.get_sqlite_connection_pool();
                Some((
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                ))
            }
            DbBackend::Postgres => {
                let pool = self.db.get_postgres_connection_pool();
                Some((
                    pool.size(),
                    pool.num_idle(),
                    pool.options().get_max_connections(),
                ))
            }
            _ => None,
        }
    }
}
