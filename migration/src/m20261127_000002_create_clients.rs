use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Clients::Table)
                    .if_not_exists()
                    .col(string(Clients::ClientId).primary_key())
                    .col(string_null(Clients::SecretHash))
                    .col(boolean(Clients::Public))
                    .col(string(Clients::GrantTypes))
                    .col(text(Clients::Scopes))
                    .col(boolean(Clients::RefreshCookie).default(false))
                    .col(timestamp_with_time_zone(Clients::CreatedAt))
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Clients::Table).to_owned())
            .await
    }
}

#[derive(DeriveIden)]
pub enum Clients {
    Table,
    ClientId,
    SecretHash,
    Public,
    GrantTypes,
    Scopes,
    RefreshCookie,
    CreatedAt,
}
