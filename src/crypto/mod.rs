//! Everything secret: opaque tokens, password hashing, signing keys and JWTs.

pub mod jwt;
pub mod keys;
pub mod opaque;
pub mod password;
