//! The command line: scenarios, options and the defaults of each mode.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, ValueEnum};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum Scenario {
    /// The bare HTTP ceiling: a trivial route answering a token-sized body.
    Ceiling,
    Refresh,
    Password,
    #[value(name = "client_credentials", alias = "client-credentials")]
    ClientCredentials,
    Introspect,
    Me,
    Graphql,
    Mixed,
}

impl Scenario {
    pub fn name(self) -> &'static str {
        match self {
            Scenario::Ceiling => "ceiling",
            Scenario::Refresh => "refresh",
            Scenario::Password => "password",
            Scenario::ClientCredentials => "client_credentials",
            Scenario::Introspect => "introspect",
            Scenario::Me => "me",
            Scenario::Graphql => "graphql",
            Scenario::Mixed => "mixed",
        }
    }
}

/// Tessera load benchmark (run through `cargo bench --bench load -- [options]`).
#[derive(Debug, Parser)]
#[command(name = "load")]
pub struct Args {
    /// Concurrent workers (keep-alive connections) per scenario [default: 32; 4 with --smoke]
    #[arg(long)]
    pub concurrency: Option<usize>,
    /// Measured time per scenario, e.g. 10s, 500ms, 1m [default: 10s; 1s with --smoke]
    #[arg(long, value_parser = parse_duration)]
    pub duration: Option<Duration>,
    /// Load before measuring starts, per scenario [default: 1s; 0s with --smoke]
    #[arg(long, value_parser = parse_duration)]
    pub warmup: Option<Duration>,
    /// Scenarios to run, comma-separated [default: all]
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scenarios: Vec<Scenario>,
    /// Run on a fresh PostgreSQL database created next to this one (and dropped
    /// afterwards) instead of SQLite, e.g. postgres://postgres@127.0.0.1:5432/postgres
    #[arg(long, env = "TESSERA_BENCH_POSTGRES")]
    pub postgres: Option<String>,
    /// Insert this many refresh tokens (10 per session) straight into the
    /// database before the scenarios run
    #[arg(long, default_value_t = 0)]
    pub preload_tokens: u64,
    /// Leave the database (SQLite file or PostgreSQL database) in place at
    /// the end, for inspection, and print its URL
    #[arg(long)]
    pub keep_database: bool,
    /// Run ANALYZE on the database after provisioning and the preload
    /// (a diagnostic: shows whether the query planner's choices are the cost)
    #[arg(long)]
    pub analyze: bool,
    /// Users created through the CLI for the password scenario [default: 100; 10 with --smoke]
    #[arg(long)]
    pub users: Option<usize>,
    /// Sessions each refresh worker rotates through
    #[arg(long, default_value_t = 1)]
    pub sessions_per_worker: usize,
    /// Password-grant workers flooding the server in the `mixed` scenario [default: 64; 4 with --smoke]
    #[arg(long)]
    pub flood: Option<usize>,
    /// Distinct access tokens the `introspect` scenario cycles through. Up to
    /// 8 are users' tokens; more are client_credentials tokens minted first.
    /// Above the server's cache of verified tokens (4,096), nearly every
    /// request pays the signature check.
    #[arg(long, default_value_t = 8)]
    pub introspect_tokens: usize,
    /// Where the JSON results go
    #[arg(long, default_value = "target/bench-results.json")]
    pub json: PathBuf,
    /// CI mode: every scenario for ~1 s at concurrency 4; fails only on a
    /// crash or on a scenario without a single success
    #[arg(long)]
    pub smoke: bool,
    /// The server binary [default: the `tessera` that cargo built for this bench]
    #[arg(long, env = "TESSERA_BENCH_BIN")]
    pub server_bin: Option<PathBuf>,
    /// An extra argument for `tessera serve`; repeat for several
    /// (e.g. --server-arg=--db-max-connections=4)
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    pub server_args: Vec<String>,
    /// RUST_LOG of the server
    #[arg(long, default_value = "info")]
    pub server_log: String,
    /// An extra environment variable for the server, KEY=VALUE; repeat for
    /// several (e.g. --server-env MALLOC_ARENA_MAX=2)
    #[arg(long = "server-env", value_parser = parse_env_pair)]
    pub server_env: Vec<(String, String)>,
    /// Restarts on the existing database timed from spawn to `/readyz` [default: 3; 1 with --smoke]
    #[arg(long)]
    pub restarts: Option<usize>,
    /// argon2id hashes timed for the password baseline (the median counts)
    #[arg(long, default_value_t = 5)]
    pub hash_samples: usize,
    /// Before the baseline and each scenario, wait up to this long for the
    /// rest of the machine to go quiet (under 10% CPU for a second), so that
    /// other processes do not skew the figures [default: 60s; 0s with --smoke]
    #[arg(long, value_parser = parse_duration)]
    pub idle_wait: Option<Duration>,
    /// Passed by `cargo bench`; without it (and without --smoke), e.g. under
    /// `cargo test --benches`, the benchmark does nothing.
    #[arg(long, hide = true)]
    pub bench: bool,
}

/// The options with the defaults of the chosen mode filled in.
#[derive(Debug, Clone)]
pub struct Config {
    pub concurrency: usize,
    pub duration: Duration,
    pub warmup: Duration,
    pub scenarios: Vec<Scenario>,
    pub postgres: Option<String>,
    pub preload_tokens: u64,
    pub analyze: bool,
    pub keep_database: bool,
    pub users: usize,
    pub sessions_per_worker: usize,
    pub flood: usize,
    pub introspect_tokens: usize,
    pub json: PathBuf,
    pub smoke: bool,
    pub server_args: Vec<String>,
    pub server_log: String,
    pub server_env: Vec<(String, String)>,
    pub restarts: usize,
    pub hash_samples: usize,
    pub idle_wait: Duration,
}

impl Config {
    pub fn from_args(args: Args) -> anyhow::Result<(Config, Option<PathBuf>)> {
        let smoke = args.smoke;
        let pick = |v: Option<usize>, full: usize, quick: usize| {
            v.unwrap_or(if smoke { quick } else { full })
        };
        let mut scenarios = args.scenarios;
        if scenarios.is_empty() {
            scenarios = Scenario::value_variants().to_vec();
        }
        scenarios.dedup();
        let config = Config {
            concurrency: pick(args.concurrency, 32, 4).max(1),
            duration: args
                .duration
                .unwrap_or(Duration::from_secs(if smoke { 1 } else { 10 })),
            warmup: args
                .warmup
                .unwrap_or(Duration::from_secs(if smoke { 0 } else { 1 })),
            scenarios,
            postgres: args.postgres.filter(|u| !u.is_empty()),
            preload_tokens: args.preload_tokens,
            analyze: args.analyze,
            keep_database: args.keep_database,
            users: pick(args.users, 100, 10).max(1),
            sessions_per_worker: args.sessions_per_worker.max(1),
            flood: pick(args.flood, 64, 4),
            introspect_tokens: args.introspect_tokens.max(1),
            json: args.json,
            smoke,
            server_args: args.server_args,
            server_log: args.server_log,
            server_env: args.server_env,
            restarts: pick(args.restarts, 3, 1),
            hash_samples: args.hash_samples.max(1),
            idle_wait: args
                .idle_wait
                .unwrap_or(Duration::from_secs(if smoke { 0 } else { 60 })),
        };
        Ok((config, args.server_bin))
    }

    pub fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgresql"
        } else {
            "sqlite"
        }
    }
}

pub fn parse_env_pair(input: &str) -> Result<(String, String), String> {
    input
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{input}` is not KEY=VALUE"))
}

pub fn parse_duration(input: &str) -> Result<Duration, String> {
    let s = input.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(|| format!("`{input}` needs a unit: ms, s or m"))?;
    let (digits, unit) = s.split_at(split);
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{input}` is not a duration like 10s"))?;
    match unit {
        "ms" => Ok(Duration::from_millis(n)),
        "s" => Ok(Duration::from_secs(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        _ => Err(format!("`{input}`: unknown unit `{unit}` (ms, s, m)")),
    }
}
