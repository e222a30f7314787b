//! The schema: the per-domain roots merged, and the limits every query is
//! checked against before it runs. It holds no state, so `tessera schema`
//! can print it without a database; each request brings its own data.

use async_graphql::{MergedObject, MergedSubscription, Schema};

use super::{clients, keys, sessions, tokens, users};

#[derive(MergedObject, Default)]
pub struct Query(
    users::UsersQuery,
    tokens::TokensQuery,
    sessions::SessionsQuery,
    clients::ClientsQuery,
    keys::KeysQuery,
);

#[derive(MergedObject, Default)]
pub struct Mutation(
    users::UsersMutation,
    tokens::TokensMutation,
    sessions::SessionsMutation,
    clients::ClientsMutation,
    keys::KeysMutation,
);

#[derive(MergedSubscription, Default)]
pub struct Subscription(tokens::TokenEventsSubscription);

pub type TesseraSchema = Schema<Query, Mutation, Subscription>;

/// How big a query may be; checked before anything runs.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Deepest nesting of fields. The introspection query of GraphiQL
    /// nests 13 deep (15 with graphql-js 17's deeper type references); the
    /// deepest query of this schema outside introspection is 7.
    pub max_depth: usize,
    /// Each field counts 1, and a list field counts its page size (`first`,
    /// default 20) times what each item asks for. A full page of 100
    /// refresh tokens with every field and their users costs about 4,000;
    /// GraphiQL's introspection query about 200.
    pub max_complexity: usize,
}

impl Limits {
    pub const DEFAULT_MAX_DEPTH: usize = 16;
    pub const DEFAULT_MAX_COMPLEXITY: usize = 10_000;
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_depth: Self::DEFAULT_MAX_DEPTH,
            max_complexity: Self::DEFAULT_MAX_COMPLEXITY,
        }
    }
}

pub fn build(limits: Limits) -> TesseraSchema {
    Schema::build(
        Query::default(),
        Mutation::default(),
        Subscription::default(),
    )
    .limit_depth(limits.max_depth)
    .limit_complexity(limits.max_complexity)
    .extension(super::input::NulGuard)
    .finish()
}

/// The SDL that `schema.graphql` must equal.
pub fn sdl() -> String {
    build(Limits::default()).sdl()
}
