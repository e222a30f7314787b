//! Sessions (logins): listing and revocation.

mod mutation;
mod query;
mod types;

pub use mutation::SessionsMutation;
pub use query::SessionsQuery;
