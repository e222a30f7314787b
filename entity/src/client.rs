//! An OAuth client (RFC 6749 §2): an application that asks for tokens.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "clients")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub client_id: String,
    /// Hex SHA-256 of the secret; `None` for public clients.
    pub secret_hash: Option<String>,
    pub public: bool,
    /// Space-separated grant types the client may use.
    pub grant_types: String,
    /// Space-separated scopes the client may ask for.
    pub scopes: String,
    /// Refresh tokens travel in an HttpOnly cookie instead of the JSON body.
    pub refresh_cookie: bool,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
