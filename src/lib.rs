//! Tessera: an OAuth 2.0 token server with a GraphQL management API.

/// First start: the admin user and the `tessera-cli` client.
pub mod bootstrap;
/// The administrative commands (`user create`, `client create`, …).
pub mod cli;
/// Flags and environment variables.
pub mod config;
/// Opaque tokens, password hashing, signing keys, JWTs.
pub mod crypto;
/// Parsed values and plain records shared by every layer.
pub mod domain;
/// Token lifecycle events for subscribers.
pub mod events;
/// The GraphQL management API.
pub mod graphql;
/// `tessera healthcheck`: the container's readiness probe.
pub mod healthcheck;
/// The HTTP routes.
pub mod http;
/// Prometheus metrics, process-wide.
pub mod metrics;
/// The token service: grants, client authentication, OAuth errors.
pub mod oauth;
/// The accept loop with connection limits and timeouts.
pub mod server;
/// The graceful stop: its signal, and the long-lived connections it waits for.
pub mod shutdown;
/// Wiring: `Application` and the shared `AppState`.
pub mod startup;
/// Persistence through SeaORM.
pub mod store;
/// Logging setup.
pub mod telemetry;
/// GraphiQL and the console, with their embedded assets.
pub mod web;
