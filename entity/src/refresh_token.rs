//! A refresh token, known only by the SHA-256 digest of its value.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "refresh_tokens")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// Hex SHA-256 of the token value; the value itself is never stored.
    #[sea_orm(unique)]
    pub token_hash: String,
    pub user_id: String,
    pub client_id: String,
    pub session_id: String,
    /// The token this one replaced on rotation.
    pub parent_id: Option<String>,
    /// The token that replaced this one on rotation.
    pub replaced_by_id: Option<String>,
    pub scope: String,
    pub created_at: DateTimeUtc,
    pub expires_at: DateTimeUtc,
    /// Set once the token stops being usable, by rotation or revocation.
    pub revoked_at: Option<DateTimeUtc>,
    /// `rotated` for a token spent by rotation; anything else is a revocation.
    pub revoked_reason: Option<String>,
    pub created_by_ip: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(
        belongs_to = "super::session::Entity",
        from = "Column::SessionId",
        to = "super::session::Column::Id",
        on_delete = "Cascade"
    )]
    Session,
    #[sea_orm(
        belongs_to = "super::user::Entity",
        from = "Column::UserId",
        to = "super::user::Column::Id",
        on_delete = "Cascade"
    )]
    User,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl Related<super::user::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::User.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
