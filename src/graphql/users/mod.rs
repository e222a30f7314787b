//! Users: `me`, `user`, `users`, and the account mutations.

mod mutation;
mod query;
mod types;

pub use mutation::UsersMutation;
pub use query::UsersQuery;
pub use types::UserNode;
