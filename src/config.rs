//! Command line and environment: every setting is a flag and an environment
//! variable (the flag wins), validated before anything starts.

use std::net::SocketAddr;
use std::time::Duration;

use clap::builder::BoolishValueParser;
use clap::{Args, Parser, Subcommand};

mod ops;
pub use ops::{HealthcheckArgs, LogFormat, Ops, OpsArgs};

/// The database used when neither `--database-url`, `TESSERA_DATABASE_URL`
/// nor `DATABASE_URL` is set.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://tessera.db?mode=rwc";

#[derive(Debug, Parser)]
#[command(
    name = "tessera",
    version,
    about = "An OAuth 2.0 token server with a GraphQL management API"
)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `tessera` alone is `tessera serve`.
    #[command(flatten)]
    pub serve: ServeArgs,
}

// Parsed once at start; boxing the big variant would buy nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the server (the default command).
    Serve(ServeArgs),
    /// Apply pending migrations and exit.
    Migrate(DatabaseArgs),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Manage OAuth clients.
    #[command(subcommand)]
    Client(ClientCommand),
    /// Manage signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Delete refresh tokens and sessions that ended longer ago than the
    /// retention period; prints the counts.
    Purge(PurgeArgs),
    /// Print the GraphQL schema (SDL); `schema.graphql` is this output.
    /// Needs no database (`--database-url` is accepted and unused).
    Schema(DatabaseArgs),
    /// Exit 0 if the server on `--bind` answers `GET /readyz` with 200, 1
    /// otherwise: the container image's HEALTHCHECK (it has no curl).
    Healthcheck(HealthcheckArgs),
}

#[derive(Debug, Clone, Args)]
pub struct DatabaseArgs {
    /// Database URL: `sqlite://…` or `postgres://…`
    /// [env: TESSERA_DATABASE_URL, then DATABASE_URL] [default: sqlite://tessera.db?mode=rwc]
    #[arg(long, env = "TESSERA_DATABASE_URL", hide_env = true)]
    pub database_url: Option<String>,
}

impl DatabaseArgs {
    pub fn url(&self) -> String {
        self.database_url
            .clone()
            .or_else(|| std::env::var("DATABASE_URL").ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string())
    }
}

#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "TESSERA_BIND", default_value = "127.0.0.1:8080")]
    pub bind: SocketAddr,
    /// Connections served at once; more wait in the listen backlog.
    #[arg(long, env = "TESSERA_MAX_CONNECTIONS", default_value = "4096",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_connections: u32,
    /// Time a client has to send a request's headers (slow-client defence).
    #[arg(long, env = "TESSERA_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    pub header_read_timeout: Duration,
    /// Time a request may take before it is answered 408.
    #[arg(long, env = "TESSERA_REQUEST_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    pub request_timeout: Duration,
    /// Size of the database connection pool [default: 8 on SQLite, 16 on PostgreSQL]
    #[arg(long, env = "TESSERA_DB_MAX_CONNECTIONS", value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub db_max_connections: Option<u32>,
    /// `iss` of every token [default: http://<bind>]
    #[arg(long, env = "TESSERA_ISSUER")]
    pub issuer: Option<String>,
    /// `aud` of every access token [default: the issuer]
    #[arg(long, env = "TESSERA_AUDIENCE")]
    pub audience: Option<String>,
    /// Life of an access token.
    #[arg(long, env = "TESSERA_ACCESS_TOKEN_TTL", default_value = "15m", value_parser = parse_duration)]
    pub access_token_ttl: Duration,
    /// Idle life of a refresh token: each token of a session lives this long.
    #[arg(long, env = "TESSERA_REFRESH_TOKEN_TTL", default_value = "10d", value_parser = parse_duration)]
    pub refresh_token_ttl: Duration,
    /// Absolute life of a session (a login's whole chain of refresh tokens).
    #[arg(long, env = "TESSERA_SESSION_TTL", default_value = "90d", value_parser = parse_duration)]
    pub session_ttl: Duration,
    /// Mark the refresh-token cookie `Secure`.
    #[arg(long, env = "TESSERA_COOKIE_SECURE", default_value = "true", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub cookie_secure: bool,
    /// Let anyone register an account through GraphQL.
    #[arg(long, env = "TESSERA_OPEN_REGISTRATION", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub open_registration: bool,
    /// Consecutive failed passwords that lock an account.
    #[arg(long, env = "TESSERA_LOCKOUT_THRESHOLD", default_value = "10",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub lockout_threshold: u32,
    /// How long a locked account stays locked.
    #[arg(long, env = "TESSERA_LOCKOUT_DURATION", default_value = "5m", value_parser = parse_duration)]
    pub lockout_duration: Duration,
    /// How long expired or revoked refresh tokens and sessions are kept
    /// before the purge deletes them.
    #[arg(long, env = "TESSERA_RETENTION", default_value = "7d", value_parser = parse_duration)]
    pub retention: Duration,
    /// How often `serve` purges.
    #[arg(long, env = "TESSERA_PURGE_INTERVAL", default_value = "1h", value_parser = parse_duration)]
    pub purge_interval: Duration,
    /// Run the purge in the background of `serve`.
    #[arg(long, env = "TESSERA_PURGE", default_value = "true", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub purge: bool,
    /// Deepest field nesting a GraphQL query may have.
    #[arg(long, env = "TESSERA_GRAPHQL_MAX_DEPTH",
          default_value_t = crate::graphql::Limits::DEFAULT_MAX_DEPTH as u32,
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub graphql_max_depth: u32,
    /// Largest complexity of a GraphQL query: its fields, each list field
    /// multiplied by its page size.
    #[arg(long, env = "TESSERA_GRAPHQL_MAX_COMPLEXITY",
          default_value_t = crate::graphql::Limits::DEFAULT_MAX_COMPLEXITY as u32,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub graphql_max_complexity: u32,
    #[command(flatten)]
    pub ops: OpsArgs,
    /// SQLite's `synchronous`: `normal` fsyncs at checkpoints only, so a
    /// power failure (not a process crash) may undo the last commits;
    /// `full` fsyncs every commit (see README, "Durability").
    #[arg(
        long,
        env = "TESSERA_SQLITE_SYNCHRONOUS",
        default_value = "normal",
        value_enum
    )]
    pub sqlite_synchronous: crate::store::Synchronous,
    /// Password hashes computed at once, each holding 19 MiB [default: one per core]
    #[arg(long, env = "TESSERA_PASSWORD_HASH_THREADS",
          value_parser = clap::value_parser!(u32).range(1..=64))]
    pub password_hash_threads: Option<u32>,
    /// Serve `POST /bench/ceiling`, a route that answers a token-sized body
    /// and does nothing else: the load benchmark's HTTP yardstick.
    #[arg(long, env = "TESSERA_BENCH_ROUTE", default_value = "false", num_args = 0..=1,
          default_missing_value = "true", value_parser = BoolishValueParser::new())]
    pub bench_route: bool,
    /// Largest body of a GraphQL request (`65536`, `64KiB`, `1MiB`).
    #[arg(long, env = "TESSERA_GRAPHQL_MAX_BODY_SIZE", default_value = "1MiB",
          value_parser = crate::http::parse_size)]
    pub graphql_max_body_size: usize,
    #[command(flatten)]
    pub ws: crate::graphql::WsArgs,
    #[command(flatten)]
    pub browser: crate::http::BrowserArgs,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Make a new signing key current; older keys stay published until
    /// every token they signed has expired.
    Rotate(DatabaseArgs),
}

#[derive(Debug, Clone, Args)]
pub struct PurgeArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    /// How long expired or revoked tokens are kept (reuse of a rotated token
    /// is detected for this long).
    #[arg(long, env = "TESSERA_RETENTION", default_value = "7d", value_parser = parse_duration)]
    pub retention: Duration,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; prints `{"id": …, "email": …}`.
    Create(UserCreateArgs),
}

#[derive(Debug, Args)]
pub struct UserCreateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long)]
    pub email: String,
    #[arg(
        long,
        required_unless_present = "password_stdin",
        conflicts_with = "password_stdin"
    )]
    pub password: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
    /// A role to give the user; repeat for several.
    #[arg(long = "role")]
    pub roles: Vec<String>,
    #[arg(long)]
    pub first_name: Option<String>,
    #[arg(long)]
    pub last_name: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client; prints `{"client_id": …, "client_secret": …}`.
    Create(ClientCreateArgs),
}

#[derive(Debug, Args)]
pub struct ClientCreateArgs {
    #[command(flatten)]
    pub database: DatabaseArgs,
    #[arg(long)]
    pub client_id: String,
    /// A public client has no secret (a browser or CLI app).
    #[arg(long, conflicts_with = "secret")]
    pub public: bool,
    /// The secret (at least 32 characters); generated when omitted.
    #[arg(long)]
    pub secret: Option<String>,
    /// A grant type the client may use; repeat for several [default: password, refresh_token].
    #[arg(long = "grant-type")]
    pub grant_types: Vec<String>,
    /// A scope the client may ask for; repeat for several.
    #[arg(long = "scope")]
    pub scopes: Vec<String>,
    /// Deliver refresh tokens in an HttpOnly cookie instead of the JSON body.
    #[arg(long)]
    pub refresh_cookie: bool,
}

/// Parses `30s`, `15m`, `2h`, `10d` (and `500ms`) into a duration greater than zero.
pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{input}` needs a unit: s, m, h or d (e.g. 15m)"))?;
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{input}` is not a duration like 30s, 15m or 10d"))?;
    let secs_per_unit = match unit {
        "ms" => return positive(Duration::from_millis(n), input),
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "`{input}` has an unknown unit `{unit}`: use s, m, h or d"
            ));
        }
    };
    let secs = n
        .checked_mul(secs_per_unit)
        .ok_or_else(|| format!("`{input}` is too long"))?;
    positive(Duration::from_secs(secs), input)
}

fn positive(d: Duration, input: &str) -> Result<Duration, String> {
    // Anything past a century is a typo, and keeps chrono arithmetic in range.
    const MAX: Duration = Duration::from_secs(100 * 365 * 86_400);
    if d.is_zero() {
        Err(format!("`{input}` must be longer than zero"))
    } else if d > MAX {
        Err(format!("`{input}` is longer than 100 years"))
    } else {
        Ok(d)
    }
}

/// Settings of a running server, resolved and checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub db_max_connections: Option<u32>,
    pub bind: SocketAddr,
    pub max_connections: usize,
    pub header_read_timeout: Duration,
    pub request_timeout: Duration,
    /// `None` means "http://<the address actually bound>".
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub session_ttl: Duration,
    pub cookie_secure: bool,
    pub open_registration: bool,
    pub lockout_threshold: u32,
    pub lockout_duration: Duration,
    pub retention: Duration,
    /// `None`: no background purge.
    pub purge_interval: Option<Duration>,
    pub graphql_limits: crate::graphql::Limits,
    pub ops: Ops,
    pub sqlite_synchronous: crate::store::Synchronous,
    /// `None`: one per core.
    pub password_hash_threads: Option<usize>,
    pub bench_route: bool,
    pub graphql_max_body_size: usize,
    pub ws: crate::graphql::WsLimits,
    pub browser: crate::http::BrowserPolicy,
}

impl TryFrom<ServeArgs> for Settings {
    type Error = String;

    fn try_from(args: ServeArgs) -> Result<Self, String> {
        for (name, value) in [("--issuer", &args.issuer), ("--audience", &args.audience)] {
            if let Some(v) = value
                && v.trim().is_empty()
            {
                return Err(format!("{name} must not be empty"));
            }
        }
        if let Some(issuer) = &args.issuer
            && !(issuer.starts_with("https://") || issuer.starts_with("http://"))
        {
            return Err(format!("--issuer `{issuer}` must be an http(s) URL"));
        }
        Ok(Settings {
            database_url: args.database.url(),
            db_max_connections: args.db_max_connections,
            max_connections: args.max_connections as usize,
            header_read_timeout: args.header_read_timeout,
            request_timeout: args.request_timeout,
            bind: args.bind,
            issuer: args.issuer.map(|s| s.trim_end_matches('/').to_string()),
            audience: args.audience,
            access_token_ttl: args.access_token_ttl,
            refresh_token_ttl: args.refresh_token_ttl,
            session_ttl: args.session_ttl,
            cookie_secure: args.cookie_secure,
            open_registration: args.open_registration,
            lockout_threshold: args.lockout_threshold,
            lockout_duration: args.lockout_duration,
            retention: args.retention,
            purge_interval: args.purge.then_some(args.purge_interval),
            graphql_limits: crate::graphql::Limits {
                max_depth: args.graphql_max_depth as usize,
                max_complexity: args.graphql_max_complexity as usize,
            },
            ops: Ops::from(&args.ops),
            sqlite_synchronous: args.sqlite_synchronous,
            password_hash_threads: args.password_hash_threads.map(|n| n as usize),
            bench_route: args.bench_route,
            graphql_max_body_size: args.graphql_max_body_size,
            ws: args.ws.into(),
            browser: args.browser.try_into()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_accept_every_unit() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("2h"), Ok(Duration::from_secs(7200)));
        assert_eq!(parse_duration("10d"), Ok(Duration::from_secs(864_000)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
    }

    #[test]
    fn durations_reject_nonsense() {
        for bad in [
            "",
            "15",
            "m",
            "0s",
            "-5m",
            "1.5m",
            "10y",
            "99999999999999999999d",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} was accepted");
        }
    }

    #[test]
    fn serve_is_the_default_command() {
        let cli = Cli::try_parse_from(["tessera", "--bind", "127.0.0.1:9000"]).expect("parses");
        assert!(cli.command.is_none());
        assert_eq!(cli.serve.bind.port(), 9000);
    }
}
