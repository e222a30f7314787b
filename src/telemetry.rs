//! Logging: `tracing` to stderr, filtered by `RUST_LOG` (default `info`), as
//! text or as one JSON object per line (`--log-format json`).
//!
//! No secret reaches a log line by construction: tokens, passwords and
//! secrets are never fields of an event or span, requests are logged by
//! route only (never query or body), and SQL logging is off.
//!
//! Security events carry a stable `event` field (see [`events`]), so that an
//! alert can match on it rather than on the wording of a message.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

/// The names of the security and operations events, as logged in `event`.
pub mod events {
    /// A retired refresh token was presented again; its session is revoked.
    pub const REFRESH_TOKEN_REUSE: &str = "refresh_token_reuse";
    /// An account was locked after repeated wrong passwords.
    pub const ACCOUNT_LOCKED: &str = "account_locked";
    /// A disabled user tried to log in with the right password.
    pub const DISABLED_USER_LOGIN: &str = "disabled_user_login";
    /// A user was disabled or enabled.
    pub const USER_DISABLED_SET: &str = "user_disabled_set";
    /// A new signing key became current.
    pub const SIGNING_KEY_ROTATED: &str = "signing_key_rotated";
    /// Migrations were applied to a database that had some already.
    pub const MIGRATIONS_APPLIED: &str = "migrations_applied";
}

pub fn init(format: LogFormat) {
    let filter = filter(std::env::var("RUST_LOG").ok().as_deref());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Text => builder
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
    };
}

/// Targets that talk at info about routine things: sea-orm-migration's
/// step-by-step lines (`Store::migrate` says what it applied itself) and
/// PostgreSQL's notices ("relation … already exists, skipping").
const QUIET: &[(&str, &str)] = &[
    ("sea_orm_migration", "sea_orm_migration=warn"),
    ("sqlx::postgres::notice", "sqlx::postgres::notice=warn"),
];

/// `RUST_LOG` (or `info`), with the `QUIET` targets turned down to warnings
/// unless `RUST_LOG` names them.
fn filter(rust_log: Option<&str>) -> EnvFilter {
    let directives = rust_log.filter(|v| !v.trim().is_empty()).unwrap_or("info");
    let mut filter = EnvFilter::try_new(directives).unwrap_or_else(|_| EnvFilter::new("info"));
    for (target, quiet) in QUIET {
        if !directives.contains(target)
            && let Ok(quiet) = quiet.parse()
        {
            filter = filter.add_directive(quiet);
        }
    }
    filter
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migration_steps_are_quiet_unless_asked_for() {
        assert!(filter(None).to_string().contains("sea_orm_migration=warn"));
        assert!(
            filter(None)
                .to_string()
                .contains("sqlx::postgres::notice=warn")
        );
        assert!(
            filter(Some("debug"))
                .to_string()
                .contains("sea_orm_migration=warn")
        );
        assert!(
            !filter(Some("info,sea_orm_migration=info"))
                .to_string()
                .contains("sea_orm_migration=warn")
        );
    }
}
