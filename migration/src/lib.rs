//! Schema migrations, applied by `tessera migrate` and at `tessera serve` start.
//! The same migrations serve SQLite and PostgreSQL.

pub use sea_orm_migration::prelude::*;

mod m20261127_000001_create_users;
mod m20261127_000002_create_clients;
mod m20261127_000003_create_sessions;
mod m20261127_000004_create_refresh_tokens;
mod m20261127_000005_create_signing_keys;
mod m20261127_000006_add_lookup_indexes;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261127_000001_create_users::Migration),
            Box::new(m20261127_000002_create_clients::Migration),
            Box::new(m20261127_000003_create_sessions::Migration),
            Box::new(m20261127_000004_create_refresh_tokens::Migration),
            Box::new(m20261127_000005_create_signing_keys::Migration),
            Box::new(m20261127_000006_add_lookup_indexes::Migration),
        ]
    }
}
