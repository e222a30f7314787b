//! Indexes for the lookups that run often or over many rows: every
//! instance polls revoked sessions and disabled users every few seconds,
//! and the purge looks for ended tokens and sessions.

use sea_orm_migration::prelude::*;

use super::m20261127_000001_create_users::Users;
use super::m20261127_000003_create_sessions::Sessions;
use super::m20261127_000004_create_refresh_tokens::RefreshTokens;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// (index, table, column)
fn indexes() -> Vec<(&'static str, DynIden, DynIden)> {
    vec![
        (
            "idx_sessions_revoked_at",
            Sessions::Table.into_iden(),
            Sessions::RevokedAt.into_iden(),
        ),
        (
            "idx_sessions_expires_at",
            Sessions::Table.into_iden(),
            Sessions::ExpiresAt.into_iden(),
        ),
        (
            "idx_users_disabled",
            Users::Table.into_iden(),
            Users::Disabled.into_iden(),
        ),
        (
            "idx_refresh_tokens_expires_at",
            RefreshTokens::Table.into_iden(),
            RefreshTokens::ExpiresAt.into_iden(),
        ),
        (
            "idx_refresh_tokens_revoked_at",
            RefreshTokens::Table.into_iden(),
            RefreshTokens::RevokedAt.into_iden(),
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, column) in indexes() {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(table)
                        .col(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for (name, table, _) in indexes() {
            manager
                .drop_index(Index::drop().name(name).table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}
