use sea_orm_migration::{prelude::*, schema::*};

use super::m20261127_000001_create_users::Users;
use super::m20261127_000003_create_sessions::Sessions;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(RefreshTokens::Table)
                    .if_not_exists()
                    .col(string(RefreshTokens::Id).primary_key())
                    .col(string_uniq(RefreshTokens::TokenHash))
                    .col(string(RefreshTokens::UserId))
                    .col(string(RefreshTokens::ClientId))
                    .col(string(RefreshTokens::SessionId))
                    .col(string_null(RefreshTokens::ParentId))
                    .col(string_null(RefreshTokens::ReplacedById))
                    .col(text(RefreshTokens::Scope))
                    .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                    .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                    .col(timestamp_with_time_zone_null(RefreshTokens::RevokedAt))
                    .col(string_null(RefreshTokens::RevokedReason))
                    .col(string_null(RefreshTokens::CreatedByIp))
                    .col(text_null(RefreshTokens::UserAgent))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::SessionId)
                            .to(Sessions::Table, Sessions::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RefreshTokens::Table, RefreshTokens::UserId)
                            .to(Users::Table, Users::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        // Revoking a session touches every token of it.
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_session")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::SessionId)
                    .to_owned(),
            )
            .await?;
        // Listing a user's tokens, newest first.
        manager
            .create_index(
                Index::create()
                    .name("idx_refresh_tokens_user_created")
                    .table(RefreshTokens::Table)
                    .col(RefreshTokens::UserId)
                    .col(RefreshTokens::CreatedAt)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(RefreshTokens::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum RefreshTokens {
    Table,
    Id,
    TokenHash,
    UserId,
    ClientId,
    SessionId,
    ParentId,
    ReplacedById,
    Scope,
    CreatedAt,
    ExpiresAt,
    RevokedAt,
    RevokedReason,
    CreatedByIp,
    UserAgent,
}
