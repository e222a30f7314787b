//! A resource owner: someone who logs in with an email and a password.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "users")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    /// The address as the user typed it.
    pub email: String,
    /// Lower-cased address: the unique key, so that `A@x` and `a@x` are one user.
    #[sea_orm(unique)]
    pub email_normalized: String,
    /// argon2id PHC string.
    pub password_hash: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    /// Space-separated role names.
    pub roles: String,
    pub disabled: bool,
    /// Consecutive failed password attempts since the last success or lock.
    pub failed_logins: i32,
    pub locked_until: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {
    #[sea_orm(has_many = "super::session::Entity")]
    Session,
    #[sea_orm(has_many = "super::refresh_token::Entity")]
    RefreshToken,
}

impl Related<super::session::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::Session.def()
    }
}

impl Related<super::refresh_token::Entity> for Entity {
    fn to() -> RelationDef {
        Relation::RefreshToken.def()
    }
}

impl ActiveModelBehavior for ActiveModel {}
