//! OAuth clients (admins only): listing, creating, deleting.

mod mutation;
mod query;
mod types;

pub use mutation::ClientsMutation;
pub use query::ClientsQuery;
