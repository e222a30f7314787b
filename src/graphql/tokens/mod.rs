//! Refresh tokens: listing, revocation, and the `tokenEvents` subscription.

mod events;
mod mutation;
mod query;
mod types;

pub use events::TokenEventsSubscription;
pub use mutation::TokensMutation;
pub use query::TokensQuery;
pub use types::RefreshTokenNode;
