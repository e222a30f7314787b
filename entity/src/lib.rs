//! SeaORM entities: the tables Tessera persists. Only `tessera::store` uses them;
//! the HTTP and GraphQL layers see domain types instead.

pub mod client;
pub mod refresh_token;
pub mod session;
pub mod signing_key;
pub mod user;
