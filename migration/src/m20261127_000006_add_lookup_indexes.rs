//! Indexes for the lookups that run often or over many rows: every
//! instance polls revoked sessions and disabled users every few seconds,
//! and the purge looks for ended tokens and sessions.
//!
//! The `revoked_at` indexes are partial (`WHERE revoked_at IS NOT NULL`):
//! they hold only ended rows, and, above all, a planner without statistics
//! cannot pick them for the hot `revoked_at IS NULL` filters (with a full
//! index it did, and scanned every live token: 60 refreshes/s at 1M tokens).

use sea_orm_migration::prelude::*;

use super::m20261127_000001_create_users::Users;
use super::m20261127_000003_create_sessions::Sessions;
use super::m20261127_000004_create_refresh_tokens::RefreshTokens;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, column, only rows where the column is set)
fn indexes() -> Vec<(&'static str, DynIden, DynIden, bool)> {
    vec![
        (
            "idx_sessions_revoked_at",
            Sessions::Table.into_iden(),
            Sessions::RevokedAt.into_iden(),
            true,
        ),
        (
            "idx_sessions_expires_at",
            Sessions::Table.into_iden(),
            Sessions::ExpiresAt.into_iden(),
            false,
        ),
        (
            "idx_users_disabled",
            Users::Table.into_iden(),
            Users::Disabled.into_iden(),
            false,
        ),
        (
            "idx_refresh_tokens_expires_at",
            RefreshTokens::Table.into_iden(),
            RefreshTokens::ExpiresAt.into_iden(),
            false,
        ),
        (
            "idx_refresh_tokens_revoked_at",
            RefreshTokens::Table.into_iden(),
            RefreshTokens::RevokedAt.into_iden(),
            true,
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, column, partial) in indexes() {
            let mut index = Index::create();
            index.name(name).table(table).col(column.clone());
            if partial {
                index.and_where(Expr::col(column).is_not_null());
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _, _) in indexes() {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
