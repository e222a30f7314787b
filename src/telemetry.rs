//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`).
//!
//! No secret reaches a log line by construction: tokens, passwords and
//! secrets are never fields of an event or span, requests are logged by path
//! only (never query or body), and SQL logging is off.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}
