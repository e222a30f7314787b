//! The GraphQL management API: queries, mutations and a subscription over
//! tokens, sessions, users, clients and signing keys.
//!
//! Requests flow one way: `http` authenticates the bearer token into a
//! `guard::Caller`; each resolver asks `guard` what the caller may touch,
//! then calls the token service or the store; `error` maps every failure
//! to an `extensions.code`.

mod clients;
mod error;
mod guard;
mod http;
mod input;
mod keys;
mod loaders;
mod pagination;
mod schema;
mod sessions;
mod tokens;
mod users;
mod ws;

pub use http::router;
pub use schema::{Limits, TesseraSchema, build, sdl};
pub use ws::{UserSlots, WsArgs, WsLimits};
