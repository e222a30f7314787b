//! Values that are parsed once at the edge and trusted everywhere after.

mod email;
mod records;
mod scope;

pub use email::Email;
pub use records::{Client, GrantType, RefreshTokenRecord, User};
pub use scope::Scope;
