//! A key that signs access tokens. Kept in the database so that every
//! instance signs and verifies with the same keys.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "signing_keys")]
pub struct Model {
    /// RFC 7638 JWK thumbprint of the public key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub kid: String,
    /// JWS `alg`, e.g. `EdDSA`.
    pub algorithm: String,
    /// PKCS#8 DER.
    pub private_key: Vec<u8>,
    /// Raw public key bytes (32 for Ed25519).
    pub public_key: Vec<u8>,
    pub created_at: DateTimeUtc,
    /// When another key became current; `None` for the current key.
    pub retired_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
