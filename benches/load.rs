//! Load benchmark: starts the real `tessera` binary on a fresh database,
//! provisions users and clients through its CLI, and drives it over HTTP with
//! keep-alive connections, one scenario after another. It prints a table, the
//! issue-6 targets (met or not) and writes everything as JSON.
//!
//! ```sh
//! cargo bench --bench load                                   # every scenario, SQLite
//! cargo bench --bench load -- --postgres postgres://postgres@127.0.0.1:5432/postgres
//! cargo bench --bench load -- --scenarios refresh --preload-tokens 1000000
//! cargo bench --bench load -- --smoke                        # CI: ~1 s per scenario, no timing asserted
//! ```
//!
//! See BENCHMARKS.md for what each scenario does and the measured figures.

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use base64::Engine;
use clap::{Parser, ValueEnum};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait, Value};
use serde::Deserialize;
use serde_json::{Value as Json, json};
use tokio::runtime::Runtime;
use tokio::task::JoinHandle;

const CLI_CLIENT: &str = "tessera-cli";
const SERVICE_CLIENT: &str = "bench-service";
const ADMIN_EMAIL: &str = "admin@localhost";
const ADMIN_PASSWORD: &str = "bench-admin-password";
const FORM: &str = "application/x-www-form-urlencoded";
/// Linux reports process CPU time in clock ticks of 1/100 s (USER_HZ).
const TICKS_PER_SECOND: f64 = 100.0;
const GRAPHQL_QUERY: &str =
    "{ refreshTokens(first: 100) { totalCount edges { node { id status user { email } } } } }";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
enum Scenario {
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
    fn name(self) -> &'static str {
        match self {
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
struct Args {
    /// Concurrent workers (keep-alive connections) per scenario [default: 32; 4 with --smoke]
    #[arg(long)]
    concurrency: Option<usize>,
    /// Measured time per scenario, e.g. 10s, 500ms, 1m [default: 10s; 1s with --smoke]
    #[arg(long, value_parser = parse_duration)]
    duration: Option<Duration>,
    /// Load before measuring starts, per scenario [default: 1s; 0s with --smoke]
    #[arg(long, value_parser = parse_duration)]
    warmup: Option<Duration>,
    /// Scenarios to run, comma-separated [default: all]
    #[arg(long, value_enum, value_delimiter = ',')]
    scenarios: Vec<Scenario>,
    /// Run on a fresh PostgreSQL database created next to this one (and dropped
    /// afterwards) instead of SQLite, e.g. postgres://postgres@127.0.0.1:5432/postgres
    #[arg(long, env = "TESSERA_BENCH_POSTGRES")]
    postgres: Option<String>,
    /// Insert this many refresh tokens (10 per session) straight into the
    /// database before the scenarios run
    #[arg(long, default_value_t = 0)]
    preload_tokens: u64,
    /// Leave the database (SQLite file or PostgreSQL database) in place at
    /// the end, for inspection, and print its URL
    #[arg(long)]
    keep_database: bool,
    /// Run ANALYZE on the database after provisioning and the preload
    /// (a diagnostic: shows whether the query planner's choices are the cost)
    #[arg(long)]
    analyze: bool,
    /// Users created through the CLI for the password scenario [default: 100; 10 with --smoke]
    #[arg(long)]
    users: Option<usize>,
    /// Sessions each refresh worker rotates through
    #[arg(long, default_value_t = 1)]
    sessions_per_worker: usize,
    /// Password-grant workers flooding the server in the `mixed` scenario [default: 64; 4 with --smoke]
    #[arg(long)]
    flood: Option<usize>,
    /// Distinct access tokens the `introspect` scenario cycles through. Up to
    /// 8 are users' tokens; more are client_credentials tokens minted first.
    /// Above the server's cache of verified tokens (4,096), nearly every
    /// request pays the signature check.
    #[arg(long, default_value_t = 8)]
    introspect_tokens: usize,
    /// Where the JSON results go
    #[arg(long, default_value = "target/bench-results.json")]
    json: PathBuf,
    /// CI mode: every scenario for ~1 s at concurrency 4; fails only on a
    /// crash or on a scenario without a single success
    #[arg(long)]
    smoke: bool,
    /// The server binary [default: the `tessera` that cargo built for this bench]
    #[arg(long, env = "TESSERA_BENCH_BIN")]
    server_bin: Option<PathBuf>,
    /// An extra argument for `tessera serve`; repeat for several
    /// (e.g. --server-arg=--db-max-connections=4)
    #[arg(long = "server-arg", allow_hyphen_values = true)]
    server_args: Vec<String>,
    /// RUST_LOG of the server
    #[arg(long, default_value = "info")]
    server_log: String,
    /// An extra environment variable for the server, KEY=VALUE; repeat for
    /// several (e.g. --server-env MALLOC_ARENA_MAX=2)
    #[arg(long = "server-env", value_parser = parse_env_pair)]
    server_env: Vec<(String, String)>,
    /// Restarts on the existing database timed from spawn to `/readyz` [default: 3; 1 with --smoke]
    #[arg(long)]
    restarts: Option<usize>,
    /// argon2id hashes timed for the password baseline (the median counts)
    #[arg(long, default_value_t = 5)]
    hash_samples: usize,
    /// Before the baseline and each scenario, wait up to this long for the
    /// rest of the machine to go quiet (under 10% CPU for a second), so that
    /// other processes do not skew the figures [default: 60s; 0s with --smoke]
    #[arg(long, value_parser = parse_duration)]
    idle_wait: Option<Duration>,
    /// Passed by `cargo bench`; without it (and without --smoke), e.g. under
    /// `cargo test --benches`, the benchmark does nothing.
    #[arg(long, hide = true)]
    bench: bool,
}

/// The options with the defaults of the chosen mode filled in.
#[derive(Debug, Clone)]
struct Config {
    concurrency: usize,
    duration: Duration,
    warmup: Duration,
    scenarios: Vec<Scenario>,
    postgres: Option<String>,
    preload_tokens: u64,
    analyze: bool,
    keep_database: bool,
    users: usize,
    sessions_per_worker: usize,
    flood: usize,
    introspect_tokens: usize,
    json: PathBuf,
    smoke: bool,
    server_args: Vec<String>,
    server_log: String,
    server_env: Vec<(String, String)>,
    restarts: usize,
    hash_samples: usize,
    idle_wait: Duration,
}

impl Config {
    fn from_args(args: Args) -> anyhow::Result<(Config, Option<PathBuf>)> {
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

    fn backend(&self) -> &'static str {
        if self.postgres.is_some() {
            "postgresql"
        } else {
            "sqlite"
        }
    }
}

fn parse_env_pair(input: &str) -> Result<(String, String), String> {
    input
        .split_once('=')
        .filter(|(k, _)| !k.is_empty())
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{input}` is not KEY=VALUE"))
}

fn parse_duration(input: &str) -> Result<Duration, String> {
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

fn main() -> ExitCode {
    let args = Args::parse();
    if !args.bench && !args.smoke {
        eprintln!(
            "load: nothing to do outside `cargo bench` (pass --bench to run it directly, or --smoke)"
        );
        return ExitCode::SUCCESS;
    }
    let (config, server_bin) = match Config::from_args(args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("load: {e:#}");
            return ExitCode::from(2);
        }
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime for the load generator");
    match run(&rt, &config, server_bin) {
        Ok(report) => {
            if report.failures.is_empty() {
                ExitCode::SUCCESS
            } else {
                for f in &report.failures {
                    eprintln!("load: FAILED: {f}");
                }
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("load: error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

// ---------------------------------------------------------------------------
// Orchestration

struct Report {
    failures: Vec<String>,
}

fn run(rt: &Runtime, config: &Config, server_bin: Option<PathBuf>) -> anyhow::Result<Report> {
    let bin = locate_server(server_bin)?;
    let machine = machine_info();
    eprintln!(
        "load: {} on {} ({} cores), server {}",
        config.backend(),
        machine.cpu_model,
        machine.cores,
        bin.display()
    );

    // Baseline first, on an idle machine.
    let mut baselines = vec![argon2_baseline(
        "at start",
        config.hash_samples,
        wait_for_quiet(config.idle_wait),
    )?];

    // Declared before the server so that it is dropped (deleted) after it.
    let db = BenchDatabase::create(rt, config)?;
    let mut server = Server::start(&bin, db.url(), config)?;
    let first_start = server.ready(rt)?;
    std::thread::sleep(Duration::from_millis(200));
    let idle_rss_kib = rss_kib(server.pid());
    eprintln!(
        "load: first start (empty database): ready in {:.0} ms, idle RSS {:.1} MiB",
        first_start.as_secs_f64() * 1e3,
        idle_rss_kib as f64 / 1024.0
    );

    let provision_start = Instant::now();
    let users = create_users(&bin, db.url(), config.users)?;
    let service_secret = create_service_client(&bin, db.url())?;
    eprintln!(
        "load: provisioned {} users and a confidential client through the CLI in {:.1} s",
        users.len(),
        provision_start.elapsed().as_secs_f64()
    );

    let mut preload = None;
    if config.preload_tokens > 0 {
        let started = Instant::now();
        let ids: Vec<String> = users.iter().map(|u| u.id.clone()).collect();
        rt.block_on(preload_tokens(db.url(), config.preload_tokens, &ids))?;
        let secs = started.elapsed().as_secs_f64();
        eprintln!(
            "load: preloaded {} refresh tokens in {:.1} s",
            config.preload_tokens, secs
        );
        preload = Some(json!({ "tokens": config.preload_tokens, "seconds": secs }));
    }
    if config.analyze {
        rt.block_on(async {
            let db = Database::connect(db.url()).await?;
            db.execute_unprepared("ANALYZE").await?;
            db.close().await
        })
        .context("running ANALYZE")?;
        eprintln!("load: ran ANALYZE on the database");
    }

    let ctx = Ctx {
        urls: Arc::new(Urls::new(server.addr)),
        pid: server.pid(),
        users: Arc::new(users),
        service_auth: basic_auth(SERVICE_CLIENT, &service_secret),
        config: config.clone(),
    };

    let mut results: Vec<ScenarioResult> = Vec::new();
    let mut failures = Vec::new();
    for &scenario in &config.scenarios {
        let quiet = wait_for_quiet(config.idle_wait);
        if scenario == Scenario::Password {
            // Again, right before the figure it is compared with.
            baselines.push(argon2_baseline(
                "before the password scenario",
                config.hash_samples,
                quiet,
            )?);
        }
        eprintln!(
            "load: scenario {} ...{}",
            scenario.name(),
            quiet_note(quiet)
        );
        let warn_before = server.log.warnings();
        let outcome = rt.block_on(run_scenario(&ctx, scenario));
        let mut rows = match outcome {
            Ok(rows) => rows,
            Err(e) => vec![ScenarioResult::failed(scenario.name(), format!("{e:#}"))],
        };
        let warnings = server.log.warnings() - warn_before;
        for row in &mut rows {
            row.server_warnings = warnings;
            row.quiet_before = quiet;
            eprintln!("load:   {}", row.one_line());
        }
        results.extend(rows);
        if let Some(status) = server.exited() {
            failures.push(format!(
                "the server exited during `{}` ({status}); last log lines:\n{}",
                scenario.name(),
                server.log.tail()
            ));
            break;
        }
    }
    for r in &results {
        if r.skipped.is_none() && r.ok() == 0 {
            failures.push(format!(
                "`{}` had no successful request{}",
                r.name,
                r.setup_error
                    .as_deref()
                    .map(|e| format!(" ({e})"))
                    .unwrap_or_default()
            ));
        }
    }

    // Start-up on the existing database.
    let mut restarts = Vec::new();
    if failures.is_empty() {
        server.stop()?;
        for _ in 0..config.restarts {
            let mut again = Server::start(&bin, db.url(), config)?;
            let ready = again.ready(rt)?;
            restarts.push(Restart {
                listening: again.listening_after,
                ready,
            });
            again.stop()?;
        }
    }
    drop(server);

    let report = render(
        config,
        &machine,
        &baselines,
        &bin,
        idle_rss_kib,
        first_start,
        &restarts,
        preload,
        &results,
    );
    print!("{}", report.text);
    if let Some(dir) = config.json.parent()
        && !dir.as_os_str().is_empty()
    {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("creating {} for the JSON results", dir.display()))?;
    }
    let pretty = serde_json::to_string_pretty(&report.json).context("serialising the results")?;
    std::fs::write(&config.json, pretty + "\n")
        .with_context(|| format!("writing {}", config.json.display()))?;
    eprintln!("load: results written to {}", config.json.display());
    db.finish(config.keep_database);
    Ok(Report { failures })
}

/// The server binary: given, or the one cargo built next to this bench
/// (`cargo bench` builds the package's binaries in the same profile).
fn locate_server(given: Option<PathBuf>) -> anyhow::Result<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(p) = given {
        candidates.push(p);
    } else {
        if let Some(p) = option_env!("CARGO_BIN_EXE_tessera") {
            candidates.push(PathBuf::from(p));
        }
        // target/release/deps/load-<hash> -> target/release/tessera
        if let Ok(exe) = std::env::current_exe()
            && let Some(profile_dir) = exe.parent().and_then(Path::parent)
        {
            candidates.push(profile_dir.join("tessera"));
        }
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("target"));
        candidates.push(target.join("release").join("tessera"));
    }
    candidates
        .iter()
        .find(|p| p.is_file())
        .cloned()
        .ok_or_else(|| {
            anyhow!(
                "the server binary was not found (looked at {}); run `cargo build --release` first, \
                 or name it with --server-bin / TESSERA_BENCH_BIN",
                candidates
                    .iter()
                    .map(|p| p.display().to_string())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
}

// ---------------------------------------------------------------------------
// Machine and baseline

struct Machine {
    cores: usize,
    cpu_model: String,
    kernel: String,
    memory_mib: u64,
}

fn machine_info() -> Machine {
    let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let cpu_model = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .and_then(|l| l.split_once(':'))
        .map(|(_, v)| v.trim().to_string())
        .unwrap_or_else(|| "unknown CPU".into());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    let memory_mib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| kib_field(&m, "MemTotal:"))
        .map_or(0, |k| k / 1024);
    Machine {
        cores: std::thread::available_parallelism().map_or(1, usize::from),
        cpu_model,
        kernel,
        memory_mib,
    }
}

/// The machine's CPU use (all processes) when a measurement started.
#[derive(Clone, Copy, Default)]
struct Quiet {
    /// Busy fraction of the whole machine over the last second before starting.
    busy: f64,
    waited_s: f64,
}

/// Waits (up to `limit`) for a second in which the machine is under 10% busy.
fn wait_for_quiet(limit: Duration) -> Quiet {
    let started = Instant::now();
    loop {
        let (b0, t0) = machine_cpu();
        std::thread::sleep(Duration::from_millis(if limit.is_zero() {
            200
        } else {
            1000
        }));
        let (b1, t1) = machine_cpu();
        let total = t1.saturating_sub(t0) as f64;
        let busy = if total > 0.0 {
            b1.saturating_sub(b0) as f64 / total
        } else {
            0.0
        };
        if busy < 0.10 || started.elapsed() >= limit {
            return Quiet {
                busy,
                waited_s: started.elapsed().as_secs_f64(),
            };
        }
    }
}

fn quiet_note(q: Quiet) -> String {
    if q.busy < 0.10 {
        String::new()
    } else {
        format!(
            " (WARNING: the machine was {:.0}% busy with other work beforehand)",
            q.busy * 100.0
        )
    }
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| kib_field(&s, "VmRSS:"))
        .unwrap_or(0)
}

struct HashBaseline {
    when: &'static str,
    /// Hashes into one reused, already touched 19 MiB buffer: the CPU cost
    /// of a hash on this machine.
    samples_ms: Vec<f64>,
    median_ms: f64,
    /// `hash_password` as the server calls it, which allocates its buffer
    /// each time: 13–25 ms here depending on whether the allocator hands out
    /// memory already touched or fresh pages (a page fault per 4 KiB).
    allocating_ms: Vec<f64>,
    allocating_median_ms: f64,
    quiet: Quiet,
}

fn median(samples: &[f64]) -> f64 {
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    sorted.get(sorted.len() / 2).copied().unwrap_or(0.0)
}

/// One argon2id hash with the OWASP setting the server uses
/// (`Argon2::default()`: m = 19 MiB, t = 2, p = 1), timed `samples` times
/// on one core, with a reused buffer and as `hash_password` allocating.
fn argon2_baseline(
    when: &'static str,
    samples: usize,
    quiet: Quiet,
) -> anyhow::Result<HashBaseline> {
    use argon2::{Argon2, Block, PasswordHasher};
    let argon2 = Argon2::default();
    let mut blocks = vec![Block::new(); argon2.params().block_count()];
    let mut out = [0u8; 32];
    let salt = *b"tessera-bench-salt";
    let mut warm = || {
        argon2
            .hash_password_into_with_memory(b"bench-password-000", &salt, &mut out, &mut blocks)
            .map_err(|e| anyhow!("argon2 hash failed: {e}"))
    };
    warm()?; // touches the buffer
    let mut samples_ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        warm()?;
        samples_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    drop(blocks);
    let mut allocating_ms = Vec::with_capacity(samples);
    for _ in 0..samples {
        let started = Instant::now();
        Argon2::default()
            .hash_password(b"bench-password-000")
            .map_err(|e| anyhow!("argon2 hash failed: {e}"))?;
        allocating_ms.push(started.elapsed().as_secs_f64() * 1e3);
    }
    let median_ms = median(&samples_ms);
    let allocating_median_ms = median(&allocating_ms);
    eprintln!(
        "load: argon2id (Argon2::default()) hash {when}: median {median_ms:.2} ms with a reused buffer, \
         {allocating_median_ms:.2} ms allocating (hash_password), {samples} each{}",
        quiet_note(quiet)
    );
    Ok(HashBaseline {
        when,
        samples_ms,
        median_ms,
        allocating_ms,
        allocating_median_ms,
        quiet,
    })
}

// ---------------------------------------------------------------------------
// Database

enum BenchDatabase {
    Sqlite {
        url: String,
        dir: Option<tempfile::TempDir>,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
        dropped: bool,
    },
}

impl BenchDatabase {
    fn create(rt: &Runtime, config: &Config) -> anyhow::Result<Self> {
        match &config.postgres {
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("tessera-bench-")
                    .tempdir()
                    .context("creating a temporary directory for the SQLite database")?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                );
                Ok(BenchDatabase::Sqlite {
                    url,
                    dir: Some(dir),
                })
            }
            Some(admin_url) => {
                let name = format!(
                    "tessera_bench_{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..12]
                );
                let url = replace_database(admin_url, &name)?;
                rt.block_on(pg_admin(admin_url, &format!("CREATE DATABASE \"{name}\"")))
                    .with_context(|| format!("creating database {name} on {admin_url}"))?;
                eprintln!("load: created PostgreSQL database {name}");
                Ok(BenchDatabase::Postgres {
                    admin_url: admin_url.clone(),
                    name,
                    url,
                    dropped: false,
                })
            }
        }
    }

    fn url(&self) -> &str {
        match self {
            BenchDatabase::Sqlite { url, .. } | BenchDatabase::Postgres { url, .. } => url,
        }
    }

    /// Deletes the database now, or with `keep` leaves it for inspection.
    fn finish(mut self, keep: bool) {
        if !keep {
            self.drop_postgres();
            return;
        }
        match &mut self {
            BenchDatabase::Sqlite { url, dir } => {
                if let Some(d) = dir.take() {
                    let _ = d.keep();
                }
                eprintln!("load: kept the database: {url}");
            }
            BenchDatabase::Postgres { url, dropped, .. } => {
                *dropped = true;
                eprintln!("load: kept the database: {url}");
            }
        }
    }

    fn drop_postgres(&mut self) {
        if let BenchDatabase::Postgres {
            admin_url,
            name,
            dropped,
            ..
        } = self
            && !*dropped
        {
            *dropped = true;
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let admin_url = admin_url.clone();
            // A runtime of its own: this also runs while unwinding.
            let result = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| anyhow!("runtime: {e}"))?;
                rt.block_on(pg_admin(&admin_url, &sql))
            })
            .join();
            match result {
                Ok(Ok(())) => eprintln!("load: dropped PostgreSQL database {name}"),
                Ok(Err(e)) => eprintln!("load: could not drop database {name}: {e:#}"),
                Err(_) => eprintln!("load: could not drop database {name}: thread panicked"),
            }
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        self.drop_postgres();
    }
}

async fn pg_admin(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let db = Database::connect(admin_url)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    db.execute_unprepared(sql).await?;
    db.close().await?;
    Ok(())
}

/// `postgres://u@h:5432/postgres?x=y` with the database `name` instead.
fn replace_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base
        .find("://")
        .ok_or_else(|| anyhow!("--postgres `{url}` is not a URL"))?
        + 3;
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    Ok(match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    })
}

/// Inserts `n` active refresh tokens, ten per session, spread over `user_ids`,
/// in multi-row INSERTs of 1,000 tokens per transaction.
async fn preload_tokens(url: &str, n: u64, user_ids: &[String]) -> anyhow::Result<()> {
    const BATCH: u64 = 1000;
    const PER_SESSION: u64 = 10;
    let db = Database::connect(url)
        .await
        .context("connecting for the preload")?;
    let backend = db.get_database_backend();
    let now = chrono::Utc::now();
    let token_expiry = now + chrono::Duration::days(10);
    let session_expiry = now + chrono::Duration::days(90);
    let scope = "email profile";
    let mut done = 0u64;
    let mut session_counter = 0usize;
    let mut last_report = Instant::now();
    while done < n {
        let batch = BATCH.min(n - done);
        let sessions = batch.div_ceil(PER_SESSION);
        let mut session_rows: Vec<(String, &str)> = Vec::new();
        let mut session_values: Vec<Value> = Vec::new();
        for _ in 0..sessions {
            let id = uuid::Uuid::now_v7().to_string();
            let user = user_ids[session_counter % user_ids.len()].as_str();
            session_counter += 1;
            session_values.extend([
                id.clone().into(),
                user.into(),
                CLI_CLIENT.into(),
                scope.into(),
                now.into(),
                session_expiry.into(),
            ]);
            session_rows.push((id, user));
        }
        let mut token_values: Vec<Value> = Vec::new();
        for i in 0..batch {
            let (session_id, user) = &session_rows[usize::try_from(i / PER_SESSION)?];
            let hash = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            token_values.extend([
                uuid::Uuid::now_v7().to_string().into(),
                hash.into(),
                (*user).into(),
                CLI_CLIENT.into(),
                session_id.clone().into(),
                scope.into(),
                now.into(),
                token_expiry.into(),
            ]);
        }
        let sessions_sql = format!(
            "INSERT INTO sessions (id, user_id, client_id, scope, created_at, expires_at) VALUES {}",
            placeholders(backend, session_rows.len(), 6)
        );
        let tokens_sql = format!(
            "INSERT INTO refresh_tokens (id, token_hash, user_id, client_id, session_id, scope, created_at, expires_at) VALUES {}",
            placeholders(backend, usize::try_from(batch)?, 8)
        );
        let txn = db.begin().await?;
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sessions_sql,
            session_values,
        ))
        .await
        .context("inserting sessions")?;
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            tokens_sql,
            token_values,
        ))
        .await
        .context("inserting refresh tokens")?;
        txn.commit().await?;
        done += batch;
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!("load:   preloaded {done}/{n} tokens");
            last_report = Instant::now();
        }
    }
    db.close().await?;
    Ok(())
}

fn placeholders(backend: DbBackend, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push(',');
            }
            n += 1;
            if backend == DbBackend::Postgres {
                out.push_str(&format!("${n}"));
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}

// ---------------------------------------------------------------------------
// The server process

struct LogTail {
    lines: Mutex<VecDeque<String>>,
    warnings: AtomicU64,
}

impl LogTail {
    fn warnings(&self) -> u64 {
        self.warnings.load(Ordering::Relaxed)
    }

    fn tail(&self) -> String {
        let lines = self.lines.lock().expect("log tail lock");
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }
}

struct Server {
    child: Child,
    addr: SocketAddr,
    log: Arc<LogTail>,
    spawned: Instant,
    listening_after: Duration,
}

impl Server {
    /// Spawns `tessera serve` on a free port and waits for its
    /// `listening on http://ADDR` line.
    fn start(bin: &Path, database_url: &str, config: &Config) -> anyhow::Result<Server> {
        let spawned = Instant::now();
        let mut child = Command::new(bin)
            .arg("serve")
            .args(["--bind", "127.0.0.1:0"])
            .args(["--database-url", database_url])
            .args(["--access-token-ttl", "1h"])
            .args(&config.server_args)
            .env("TESSERA_ADMIN_EMAIL", ADMIN_EMAIL)
            .env("TESSERA_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", &config.server_log)
            .envs(config.server_env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let stderr = child.stderr.take().expect("stderr is piped");
        let log = Arc::new(LogTail {
            lines: Mutex::new(VecDeque::new()),
            warnings: AtomicU64::new(0),
        });
        let (tx, rx) = mpsc::channel();
        {
            let log = Arc::clone(&log);
            std::thread::spawn(move || {
                let mut tx = Some(tx);
                for line in BufReader::new(stderr).lines() {
                    let Ok(line) = line else { break };
                    if let Some(rest) = line.split("listening on http://").nth(1)
                        && let Some(tx) = tx.take()
                    {
                        let addr = rest.split_whitespace().next().unwrap_or("").to_string();
                        let _ = tx.send(addr);
                    }
                    if line.contains(" WARN ") || line.contains(" ERROR ") {
                        log.warnings.fetch_add(1, Ordering::Relaxed);
                    }
                    let mut lines = log.lines.lock().expect("log tail lock");
                    if lines.len() == 40 {
                        lines.pop_front();
                    }
                    lines.push_back(line);
                }
            });
        }
        let addr = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(addr) => addr,
            Err(e) => {
                let _ = child.kill();
                let status = child
                    .wait()
                    .map_or_else(|e| e.to_string(), |s| s.to_string());
                let why = match e {
                    mpsc::RecvTimeoutError::Timeout => {
                        "did not log `listening on http://…` within 60 s"
                    }
                    mpsc::RecvTimeoutError::Disconnected => {
                        "exited before it logged `listening on http://…`"
                    }
                };
                bail!("the server {why} ({status}); its log:\n{}", log.tail());
            }
        };
        let addr: SocketAddr = addr
            .parse()
            .with_context(|| format!("the server logged an unreadable address `{addr}`"))?;
        Ok(Server {
            child,
            addr,
            log,
            spawned,
            listening_after: spawned.elapsed(),
        })
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Polls `/readyz` until it answers 200; returns the time since spawn.
    fn ready(&mut self, rt: &Runtime) -> anyhow::Result<Duration> {
        let url = format!("http://{}/readyz", self.addr);
        let http = http_client()?;
        let deadline = Instant::now() + Duration::from_secs(30);
        rt.block_on(async {
            loop {
                if let Ok(resp) = http.get(&url).send().await
                    && resp.status() == 200
                {
                    return Ok(self.spawned.elapsed());
                }
                if Instant::now() > deadline {
                    bail!("/readyz did not answer 200 within 30 s");
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        })
    }

    fn exited(&mut self) -> Option<std::process::ExitStatus> {
        self.child.try_wait().ok().flatten()
    }

    /// SIGTERM, then SIGKILL after 10 s.
    fn stop(&mut self) -> anyhow::Result<()> {
        if self.exited().is_some() {
            return Ok(());
        }
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.exited().is_some() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        eprintln!("load: the server ignored SIGTERM for 10 s; killing it");
        self.child.kill().context("killing the server")?;
        self.child.wait().context("waiting for the server")?;
        Ok(())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if self.exited().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

// ---------------------------------------------------------------------------
// Provisioning through the CLI

struct User {
    id: String,
    email: String,
    password: String,
}

fn cli(bin: &Path, database_url: &str, args: &[&str], stdin: Option<&str>) -> anyhow::Result<Json> {
    let mut child = Command::new(bin)
        .args(args)
        .args(["--database-url", database_url])
        .env("RUST_LOG", "warn")
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("running tessera {}", args.join(" ")))?;
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes())
            .context("writing to the CLI's stdin")?;
    }
    let out = child.wait_with_output().context("waiting for the CLI")?;
    if !out.status.success() {
        bail!(
            "tessera {} failed ({}): {}",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or("");
    serde_json::from_str(line)
        .with_context(|| format!("tessera {} printed `{line}`, not JSON", args.join(" ")))
}

/// `tessera user create` for each user, two processes at a time.
fn create_users(bin: &Path, database_url: &str, count: usize) -> anyhow::Result<Vec<User>> {
    let next = AtomicUsize::new(0);
    let made = Mutex::new(Vec::with_capacity(count));
    let parallel = std::thread::available_parallelism().map_or(2, usize::from);
    std::thread::scope(|s| -> anyhow::Result<()> {
        let workers: Vec<_> = (0..parallel)
            .map(|_| {
                s.spawn(|| -> anyhow::Result<()> {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= count {
                            return Ok(());
                        }
                        let email = format!("bench-user-{i:04}@example.com");
                        let password = format!("bench-password-{i:04}");
                        let out = cli(
                            bin,
                            database_url,
                            &["user", "create", "--email", &email, "--password-stdin"],
                            Some(&format!("{password}\n")),
                        )?;
                        let id = out["id"]
                            .as_str()
                            .ok_or_else(|| anyhow!("user create printed no id: {out}"))?
                            .to_string();
                        made.lock().expect("users lock").push((
                            i,
                            User {
                                id,
                                email,
                                password,
                            },
                        ));
                    }
                })
            })
            .collect();
        for w in workers {
            w.join()
                .map_err(|_| anyhow!("a provisioning thread panicked"))??;
        }
        Ok(())
    })?;
    let mut made = made.into_inner().expect("users lock");
    made.sort_by_key(|(i, _)| *i);
    Ok(made.into_iter().map(|(_, u)| u).collect())
}

/// A confidential client for client_credentials and introspection; returns its secret.
fn create_service_client(bin: &Path, database_url: &str) -> anyhow::Result<String> {
    let out = cli(
        bin,
        database_url,
        &[
            "client",
            "create",
            "--client-id",
            SERVICE_CLIENT,
            "--grant-type",
            "client_credentials",
            "--scope",
            "bench:read",
        ],
        None,
    )?;
    out["client_secret"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow!("client create printed no secret: {out}"))
}

fn basic_auth(id: &str, secret: &str) -> HeaderValue {
    let encode = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let raw = format!("{}:{}", encode(id), encode(secret));
    let value = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    );
    HeaderValue::from_str(&value).expect("base64 is a valid header value")
}

// ---------------------------------------------------------------------------
// Measurement

struct Urls {
    token: String,
    introspect: String,
    me: String,
    graphql: String,
    metrics: String,
}

impl Urls {
    fn new(addr: SocketAddr) -> Self {
        let base = format!("http://{addr}");
        Urls {
            token: format!("{base}/oauth/token"),
            introspect: format!("{base}/oauth/introspect"),
            me: format!("{base}/api/me"),
            graphql: format!("{base}/graphql"),
            metrics: format!("{base}/metrics"),
        }
    }
}

struct Ctx {
    urls: Arc<Urls>,
    pid: u32,
    users: Arc<Vec<User>>,
    service_auth: HeaderValue,
    config: Config,
}

/// Requests that start inside [start, end) are measured; before is warm-up.
#[derive(Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

impl Window {
    fn new(config: &Config) -> Self {
        let start = Instant::now() + config.warmup;
        Window {
            start,
            end: start + config.duration,
        }
    }

    fn open(&self) -> bool {
        Instant::now() < self.end
    }
}

enum Outcome {
    Ok,
    Fail { kind: String, sample: String },
}

fn fail(kind: impl Into<String>, sample: impl Into<String>) -> Outcome {
    Outcome::Fail {
        kind: kind.into(),
        sample: sample.into(),
    }
}

/// What one worker saw.
#[derive(Default)]
struct Stats {
    latencies_us: Vec<u32>,
    ok: u64,
    errors: BTreeMap<String, u64>,
    samples: BTreeMap<String, String>,
}

impl Stats {
    fn record(&mut self, window: &Window, started: Instant, outcome: Outcome) {
        if started < window.start || started >= window.end {
            return;
        }
        let us = u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX);
        self.latencies_us.push(us);
        match outcome {
            Outcome::Ok => self.ok += 1,
            Outcome::Fail { kind, sample } => {
                *self.errors.entry(kind.clone()).or_default() += 1;
                self.samples.entry(kind).or_insert(sample);
            }
        }
    }

    fn merge(&mut self, other: Stats) {
        self.latencies_us.extend(other.latencies_us);
        self.ok += other.ok;
        for (k, v) in other.errors {
            *self.errors.entry(k).or_default() += v;
        }
        for (k, v) in other.samples {
            self.samples.entry(k).or_insert(v);
        }
    }
}

/// The server's and the machine's resources over a window.
#[derive(Default, Clone, Copy)]
struct Usage {
    peak_rss_kib: u64,
    peak_threads: u64,
    server_cpu_s: f64,
    loadgen_cpu_s: f64,
    /// PostgreSQL's processes (zero on SQLite, which runs inside the server).
    db_cpu_s: f64,
    machine_busy: f64,
    seconds: f64,
}

fn kib_field(text: &str, field: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// utime + stime of a process, in seconds.
fn process_cpu(pid: &str) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    // The command name is in parentheses and may hold spaces: fields count from its end.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    (ticks(11) + ticks(12)) as f64 / TICKS_PER_SECOND
}

/// (busy, total) ticks of the whole machine.
fn machine_cpu() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = stat.lines().next() else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest is counted in user)
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total - idle, total)
}

/// Samples the server's RSS every 100 ms over the window (and resets and
/// reads its VmHWM), and its, our own and the machine's CPU time.
/// utime + stime of every process named `postgres` (the PostgreSQL server
/// and its backends), in seconds.
fn postgres_cpu() -> f64 {
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return 0.0;
    };
    dir.filter_map(Result::ok)
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .bytes()
                .all(|b| b.is_ascii_digit())
        })
        .filter(|e| {
            std::fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "postgres")
        })
        .map(|e| process_cpu(&e.file_name().to_string_lossy()))
        .sum()
}

fn spawn_sampler(pid: u32, window: Window, postgres: bool) -> std::thread::JoinHandle<Usage> {
    std::thread::spawn(move || {
        let pid = pid.to_string();
        if let Some(wait) = window.start.checked_duration_since(Instant::now()) {
            std::thread::sleep(wait);
        }
        let hwm_reset = std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok();
        let started = Instant::now();
        let server0 = process_cpu(&pid);
        let self0 = process_cpu("self");
        let db0 = if postgres { postgres_cpu() } else { 0.0 };
        let machine0 = machine_cpu();
        let mut peak = 0;
        let mut threads = 0;
        loop {
            if let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
                peak = peak.max(kib_field(&status, "VmRSS:").unwrap_or(0));
                threads = threads.max(kib_field(&status, "Threads:").unwrap_or(0));
            }
            let now = Instant::now();
            if now >= window.end {
                break;
            }
            std::thread::sleep((window.end - now).min(Duration::from_millis(100)));
        }
        let seconds = started.elapsed().as_secs_f64();
        let server1 = process_cpu(&pid);
        let self1 = process_cpu("self");
        let db1 = if postgres { postgres_cpu() } else { 0.0 };
        let machine1 = machine_cpu();
        if hwm_reset && let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) {
            peak = peak.max(kib_field(&status, "VmHWM:").unwrap_or(0));
        }
        let busy = machine1.0.saturating_sub(machine0.0) as f64;
        let total = machine1.1.saturating_sub(machine0.1) as f64;
        Usage {
            peak_rss_kib: peak,
            peak_threads: threads,
            server_cpu_s: server1 - server0,
            loadgen_cpu_s: self1 - self0,
            db_cpu_s: db1 - db0,
            machine_busy: if total > 0.0 { busy / total } else { 0.0 },
            seconds,
        }
    })
}

/// `tessera_db_queries_total` from `/metrics`, when the server has it.
async fn statements(urls: &Urls) -> Option<u64> {
    let http = http_client().ok()?;
    let resp = http.get(&urls.metrics).send().await.ok()?;
    if resp.status() != 200 {
        return None;
    }
    let text = resp.text().await.ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("tessera_db_queries_total "))
        .and_then(|v| v.trim().parse().ok())
}

struct ScenarioResult {
    name: String,
    concurrency: usize,
    stats: Stats,
    usage: Usage,
    measured_s: f64,
    statements_per_request: Option<f64>,
    server_warnings: u64,
    quiet_before: Quiet,
    skipped: Option<String>,
    setup_error: Option<String>,
    note: Option<String>,
}

impl ScenarioResult {
    fn failed(name: &str, error: String) -> Self {
        ScenarioResult {
            name: name.into(),
            concurrency: 0,
            stats: Stats::default(),
            usage: Usage::default(),
            measured_s: 0.0,
            statements_per_request: None,
            server_warnings: 0,
            quiet_before: Quiet::default(),
            skipped: None,
            setup_error: Some(error),
            note: None,
        }
    }

    fn skipped(name: &str, why: &str) -> Self {
        let mut r = ScenarioResult::failed(name, String::new());
        r.setup_error = None;
        r.skipped = Some(why.into());
        r
    }

    fn ok(&self) -> u64 {
        self.stats.ok
    }

    fn rate(&self) -> f64 {
        if self.measured_s > 0.0 {
            self.stats.ok as f64 / self.measured_s
        } else {
            0.0
        }
    }

    fn percentile_ms(&self, q: f64) -> f64 {
        percentile(&self.stats.latencies_us, q) as f64 / 1e3
    }

    fn errors_text(&self) -> String {
        if let Some(e) = &self.setup_error {
            return format!("setup failed: {e}");
        }
        if self.stats.errors.is_empty() {
            return "0".into();
        }
        self.stats
            .errors
            .iter()
            .map(|(k, v)| format!("{k}: {v}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn one_line(&self) -> String {
        if let Some(why) = &self.skipped {
            return format!("{}: skipped ({why})", self.name);
        }
        format!(
            "{}: {:.0}/s, p50 {:.2} ms, p99 {:.2} ms, max {:.1} ms, errors {}, server CPU {:.2} cores, peak RSS {:.1} MiB",
            self.name,
            self.rate(),
            self.percentile_ms(0.50),
            self.percentile_ms(0.99),
            self.percentile_ms(1.0),
            self.errors_text(),
            self.server_cores(),
            self.usage.peak_rss_kib as f64 / 1024.0
        )
    }

    fn server_cores(&self) -> f64 {
        if self.usage.seconds > 0.0 {
            self.usage.server_cpu_s / self.usage.seconds
        } else {
            0.0
        }
    }

    /// Cores used by neither the server nor the load generator.
    fn other_cores(&self, cores: usize) -> f64 {
        (self.usage.machine_busy * cores as f64
            - self.server_cores()
            - self.loadgen_cores()
            - self.db_cores())
        .max(0.0)
    }

    fn db_cores(&self) -> f64 {
        if self.usage.seconds > 0.0 {
            self.usage.db_cpu_s / self.usage.seconds
        } else {
            0.0
        }
    }

    fn loadgen_cores(&self) -> f64 {
        if self.usage.seconds > 0.0 {
            self.usage.loadgen_cpu_s / self.usage.seconds
        } else {
            0.0
        }
    }
}

/// The value below which a fraction `q` of the samples lies (nearest rank).
fn percentile(sorted_or_not: &[u32], q: f64) -> u32 {
    if sorted_or_not.is_empty() {
        return 0;
    }
    let n = sorted_or_not.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted_or_not[rank - 1]
}

/// Waits for every worker of every group, with resources sampled over the window.
async fn measure(
    ctx: &Ctx,
    window: Window,
    groups: Vec<(&str, usize, Vec<JoinHandle<Stats>>)>,
    note: Option<String>,
) -> anyhow::Result<Vec<ScenarioResult>> {
    let sampler = spawn_sampler(ctx.pid, window, ctx.config.postgres.is_some());
    tokio::time::sleep_until(window.start.into()).await;
    let q0 = statements(&ctx.urls).await;
    let mut merged = Vec::new();
    for (name, concurrency, handles) in groups {
        let mut stats = Stats::default();
        for h in handles {
            stats.merge(h.await.context("a load worker panicked")?);
        }
        stats.latencies_us.sort_unstable();
        merged.push((name, concurrency, stats));
    }
    let q1 = statements(&ctx.urls).await;
    let usage = sampler
        .join()
        .map_err(|_| anyhow!("the resource sampler panicked"))?;
    let requests: usize = merged.iter().map(|(_, _, s)| s.latencies_us.len()).sum();
    let statements_per_request = match (q0, q1) {
        (Some(a), Some(b)) if requests > 0 => Some(b.saturating_sub(a) as f64 / requests as f64),
        _ => None,
    };
    Ok(merged
        .into_iter()
        .map(|(name, concurrency, stats)| ScenarioResult {
            name: name.into(),
            concurrency,
            stats,
            usage,
            measured_s: ctx.config.duration.as_secs_f64(),
            statements_per_request,
            server_warnings: 0,
            quiet_before: Quiet::default(),
            skipped: None,
            setup_error: None,
            note: note.clone(),
        })
        .collect())
}

// ---------------------------------------------------------------------------
// HTTP

fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building an HTTP client")
}

#[derive(Deserialize)]
struct Tokens {
    access_token: String,
    refresh_token: Option<String>,
}

/// Sends, reads the whole body (so the connection is reused), and sorts the
/// answer into a 200 body or a failure named by status and OAuth error code.
async fn send(req: reqwest::RequestBuilder) -> Result<Vec<u8>, Outcome> {
    let resp = req
        .send()
        .await
        .map_err(|e| fail("transport", e.to_string()))?;
    let status = resp.status();
    let body = resp
        .bytes()
        .await
        .map_err(|e| fail("transport", e.to_string()))?;
    if status == 200 {
        return Ok(body.to_vec());
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(300)]).into_owned();
    let code = serde_json::from_slice::<Json>(&body)
        .ok()
        .and_then(|v| v["error"].as_str().map(str::to_string));
    let kind = match code {
        Some(c) => format!("{} {c}", status.as_u16()),
        None => status.as_u16().to_string(),
    };
    Err(fail(kind, text))
}

fn parse_tokens(body: &[u8]) -> Result<Tokens, Outcome> {
    serde_json::from_slice(body).map_err(|e| fail("bad body", e.to_string()))
}

fn password_body(user: &User) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("client_id", CLI_CLIENT)
        .append_pair("username", &user.email)
        .append_pair("password", &user.password)
        .finish()
}

async fn token_request(
    http: &reqwest::Client,
    urls: &Urls,
    body: String,
) -> Result<Vec<u8>, Outcome> {
    send(http.post(&urls.token).header(CONTENT_TYPE, FORM).body(body))
        .await
        .map(|b| b.to_vec())
}

async fn login(http: &reqwest::Client, urls: &Urls, user: &User) -> Result<Tokens, Outcome> {
    let body = token_request(http, urls, password_body(user)).await?;
    parse_tokens(&body)
}

async fn refresh(http: &reqwest::Client, urls: &Urls, token: &str) -> Result<Tokens, Outcome> {
    let body = format!("grant_type=refresh_token&client_id={CLI_CLIENT}&refresh_token={token}");
    let body = token_request(http, urls, body).await?;
    parse_tokens(&body)
}

fn outcome_of<T>(r: &Result<T, Outcome>) -> Outcome {
    match r {
        Ok(_) => Outcome::Ok,
        Err(Outcome::Ok) => Outcome::Ok,
        Err(Outcome::Fail { kind, sample }) => fail(kind.clone(), sample.clone()),
    }
}

// ---------------------------------------------------------------------------
// Scenarios

async fn run_scenario(ctx: &Ctx, scenario: Scenario) -> anyhow::Result<Vec<ScenarioResult>> {
    match scenario {
        Scenario::Refresh => refresh_scenario(ctx, 0).await,
        Scenario::Mixed => refresh_scenario(ctx, ctx.config.flood).await,
        Scenario::Password => password_scenario(ctx).await,
        Scenario::ClientCredentials => client_credentials_scenario(ctx).await,
        Scenario::Introspect => introspect_scenario(ctx).await,
        Scenario::Me => me_scenario(ctx).await,
        Scenario::Graphql => graphql_scenario(ctx).await,
    }
}

/// A worker's keep-alive client and its sessions: (user index, newest refresh token).
struct RefreshWorker {
    http: reqwest::Client,
    sessions: Vec<(usize, String)>,
}

/// Logs `workers × per_worker` sessions in, users round robin.
async fn login_workers(
    ctx: &Ctx,
    workers: usize,
    per_worker: usize,
) -> anyhow::Result<Vec<RefreshWorker>> {
    let mut set = tokio::task::JoinSet::new();
    for w in 0..workers {
        let urls = Arc::clone(&ctx.urls);
        let users = Arc::clone(&ctx.users);
        set.spawn(async move {
            let http = http_client()?;
            let mut sessions = Vec::with_capacity(per_worker);
            for s in 0..per_worker {
                let u = (w * per_worker + s) % users.len();
                match login(&http, &urls, &users[u]).await {
                    Ok(t) => sessions.push((
                        u,
                        t.refresh_token.ok_or_else(|| {
                            anyhow!("the password grant returned no refresh token")
                        })?,
                    )),
                    Err(Outcome::Fail { kind, sample }) => bail!("login failed: {kind}: {sample}"),
                    Err(Outcome::Ok) => unreachable!(),
                }
            }
            Ok::<_, anyhow::Error>((w, RefreshWorker { http, sessions }))
        });
    }
    let mut out: Vec<Option<RefreshWorker>> = (0..workers).map(|_| None).collect();
    while let Some(joined) = set.join_next().await {
        let (w, worker) = joined.context("a login task panicked")??;
        out[w] = Some(worker);
    }
    Ok(out
        .into_iter()
        .map(|w| w.expect("every worker logged in"))
        .collect())
}

/// `refresh`, and with `flood > 0` the `mixed` scenario: the same refresh
/// workers while `flood` workers hammer the password grant.
async fn refresh_scenario(ctx: &Ctx, flood: usize) -> anyhow::Result<Vec<ScenarioResult>> {
    let workers =
        login_workers(ctx, ctx.config.concurrency, ctx.config.sessions_per_worker).await?;
    let window = Window::new(&ctx.config);
    let mut refreshers = Vec::new();
    for mut worker in workers {
        let urls = Arc::clone(&ctx.urls);
        let users = Arc::clone(&ctx.users);
        refreshers.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            let mut i = 0usize;
            while window.open() {
                let slot = i % worker.sessions.len();
                i += 1;
                let started = Instant::now();
                let result = refresh(&worker.http, &urls, &worker.sessions[slot].1).await;
                match result {
                    Ok(Tokens {
                        refresh_token: Some(rt),
                        ..
                    }) => {
                        worker.sessions[slot].1 = rt;
                        stats.record(&window, started, Outcome::Ok);
                    }
                    other => {
                        let outcome = match other {
                            Ok(_) => fail("no refresh_token", ""),
                            Err(o) => o,
                        };
                        stats.record(&window, started, outcome);
                        // The chain is broken (or revoked): start a new session.
                        let user = &users[worker.sessions[slot].0];
                        match login(&worker.http, &urls, user).await {
                            Ok(Tokens {
                                refresh_token: Some(rt),
                                ..
                            }) => worker.sessions[slot].1 = rt,
                            _ => tokio::time::sleep(Duration::from_millis(10)).await,
                        }
                    }
                }
            }
            stats
        }));
    }
    if flood == 0 {
        return measure(
            ctx,
            window,
            vec![("refresh", ctx.config.concurrency, refreshers)],
            None,
        )
        .await;
    }
    let flooders = spawn_password_workers(ctx, flood, window)?;
    measure(
        ctx,
        window,
        vec![
            ("mixed: refresh", ctx.config.concurrency, refreshers),
            ("mixed: password flood", flood, flooders),
        ],
        Some(format!(
            "{} refresh workers while {flood} workers flood the password grant",
            ctx.config.concurrency
        )),
    )
    .await
}

fn spawn_password_workers(
    ctx: &Ctx,
    workers: usize,
    window: Window,
) -> anyhow::Result<Vec<JoinHandle<Stats>>> {
    let bodies: Arc<Vec<String>> = Arc::new(ctx.users.iter().map(password_body).collect());
    let next = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::new();
    for _ in 0..workers {
        let http = http_client()?;
        let urls = Arc::clone(&ctx.urls);
        let bodies = Arc::clone(&bodies);
        let next = Arc::clone(&next);
        handles.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while window.open() {
                let i = next.fetch_add(1, Ordering::Relaxed) % bodies.len();
                let started = Instant::now();
                let result = token_request(&http, &urls, bodies[i].clone()).await;
                stats.record(&window, started, outcome_of(&result));
            }
            stats
        }));
    }
    Ok(handles)
}

async fn password_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
    let window = Window::new(&ctx.config);
    let handles = spawn_password_workers(ctx, ctx.config.concurrency, window)?;
    measure(
        ctx,
        window,
        vec![("password", ctx.config.concurrency, handles)],
        Some(format!("round robin over {} users", ctx.users.len())),
    )
    .await
}

async fn client_credentials_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
    let window = Window::new(&ctx.config);
    let mut handles = Vec::new();
    for _ in 0..ctx.config.concurrency {
        let http = http_client()?;
        let urls = Arc::clone(&ctx.urls);
        let auth = ctx.service_auth.clone();
        handles.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while window.open() {
                let started = Instant::now();
                let result = send(
                    http.post(&urls.token)
                        .header(AUTHORIZATION, auth.clone())
                        .header(CONTENT_TYPE, FORM)
                        .body("grant_type=client_credentials"),
                )
                .await;
                stats.record(&window, started, outcome_of(&result));
            }
            stats
        }));
    }
    measure(
        ctx,
        window,
        vec![("client_credentials", ctx.config.concurrency, handles)],
        Some("HTTP Basic client authentication".into()),
    )
    .await
}

/// Access tokens of a few users (one login each).
async fn access_tokens(ctx: &Ctx, count: usize) -> anyhow::Result<Vec<String>> {
    let workers = login_workers(ctx, count.min(ctx.users.len()), 1).await?;
    let http = http_client()?;
    let mut tokens = Vec::new();
    for w in workers {
        // One refresh gives the access token of the session, like a client holds.
        let t = refresh(&http, &ctx.urls, &w.sessions[0].1)
            .await
            .map_err(|o| match o {
                Outcome::Fail { kind, sample } => anyhow!("refresh failed: {kind}: {sample}"),
                Outcome::Ok => unreachable!(),
            })?;
        tokens.push(t.access_token);
    }
    Ok(tokens)
}

/// `count` client_credentials access tokens, minted by 8 workers.
async fn service_tokens(ctx: &Ctx, count: usize) -> anyhow::Result<Vec<String>> {
    let mut minting = Vec::new();
    for w in 0..8 {
        let http = http_client()?;
        let url = ctx.urls.token.clone();
        let auth = ctx.service_auth.clone();
        let share = count / 8 + usize::from(w < count % 8);
        minting.push(tokio::spawn(async move {
            let mut tokens = Vec::with_capacity(share);
            for _ in 0..share {
                let body = send(
                    http.post(&url)
                        .header(AUTHORIZATION, auth.clone())
                        .header(CONTENT_TYPE, FORM)
                        .body("grant_type=client_credentials"),
                )
                .await
                .map_err(|o| match o {
                    Outcome::Fail { kind, sample } => {
                        anyhow!("client_credentials failed: {kind}: {sample}")
                    }
                    Outcome::Ok => anyhow!("client_credentials failed"),
                })?;
                let t: Tokens = serde_json::from_slice(&body)?;
                tokens.push(t.access_token);
            }
            anyhow::Ok(tokens)
        }));
    }
    let mut tokens = Vec::with_capacity(count);
    for m in minting {
        tokens.extend(m.await??);
    }
    Ok(tokens)
}

async fn introspect_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
    let wanted = ctx.config.introspect_tokens;
    let mut tokens = access_tokens(ctx, wanted.min(8)).await?;
    if wanted > tokens.len() {
        tokens.extend(service_tokens(ctx, wanted - tokens.len()).await?);
    }
    let bodies: Arc<Vec<String>> = Arc::new(
        tokens
            .iter()
            .map(|t| format!("token={t}&token_type_hint=access_token"))
            .collect(),
    );
    let window = Window::new(&ctx.config);
    let mut handles = Vec::new();
    for w in 0..ctx.config.concurrency {
        let http = http_client()?;
        let urls = Arc::clone(&ctx.urls);
        let auth = ctx.service_auth.clone();
        let bodies = Arc::clone(&bodies);
        // Workers start spread over the tokens, so that with many tokens
        // they do not present the same one at the same time.
        let mut i = w * bodies.len() / ctx.config.concurrency.max(1);
        handles.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while window.open() {
                let body = bodies[i % bodies.len()].clone();
                i += 1;
                let started = Instant::now();
                let result = send(
                    http.post(&urls.introspect)
                        .header(AUTHORIZATION, auth.clone())
                        .header(CONTENT_TYPE, FORM)
                        .body(body),
                )
                .await;
                let outcome = match result {
                    Ok(b) if contains(&b, b"\"active\":true") => Outcome::Ok,
                    Ok(b) => fail("inactive", String::from_utf8_lossy(&b).into_owned()),
                    Err(o) => o,
                };
                stats.record(&window, started, outcome);
            }
            stats
        }));
    }
    measure(
        ctx,
        window,
        vec![("introspect", ctx.config.concurrency, handles)],
        Some(format!(
            "{} distinct access tokens, Basic-authenticated confidential client",
            tokens.len()
        )),
    )
    .await
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

async fn me_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
    let tokens = access_tokens(ctx, 8).await?;
    let headers: Arc<Vec<HeaderValue>> = Arc::new(
        tokens
            .iter()
            .map(|t| {
                HeaderValue::from_str(&format!("Bearer {t}")).expect("a JWT is a valid header")
            })
            .collect(),
    );
    let window = Window::new(&ctx.config);
    let mut handles = Vec::new();
    for w in 0..ctx.config.concurrency {
        let http = http_client()?;
        let urls = Arc::clone(&ctx.urls);
        let headers = Arc::clone(&headers);
        handles.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            let mut i = w;
            while window.open() {
                let auth = headers[i % headers.len()].clone();
                i += 1;
                let started = Instant::now();
                let result = send(http.get(&urls.me).header(AUTHORIZATION, auth)).await;
                stats.record(&window, started, outcome_of(&result));
            }
            stats
        }));
    }
    measure(
        ctx,
        window,
        vec![("me", ctx.config.concurrency, handles)],
        Some(format!("bearer tokens of {} users", tokens.len())),
    )
    .await
}

async fn graphql_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
    // The admin's own tokens: one login, then rotations, >= 100 tokens in all.
    let http = http_client()?;
    let admin = User {
        id: String::new(),
        email: ADMIN_EMAIL.into(),
        password: ADMIN_PASSWORD.into(),
    };
    let describe = |o: Outcome| match o {
        Outcome::Fail { kind, sample } => anyhow!("{kind}: {sample}"),
        Outcome::Ok => unreachable!(),
    };
    let mut tokens = login(&http, &ctx.urls, &admin)
        .await
        .map_err(describe)
        .context("admin login")?;
    for _ in 0..120 {
        let rt = tokens
            .refresh_token
            .clone()
            .ok_or_else(|| anyhow!("no refresh token for the admin"))?;
        tokens = refresh(&http, &ctx.urls, &rt)
            .await
            .map_err(describe)
            .context("rotating the admin's token")?;
    }
    let auth = HeaderValue::from_str(&format!("Bearer {}", tokens.access_token))
        .expect("a JWT is a valid header");
    let body = serde_json::to_string(&json!({ "query": GRAPHQL_QUERY })).expect("a JSON body");

    // Probe: is the GraphQL API there, and does the query answer as expected?
    let probe = http
        .post(&ctx.urls.graphql)
        .header(AUTHORIZATION, auth.clone())
        .header(CONTENT_TYPE, "application/json")
        .body(body.clone())
        .send()
        .await
        .context("probing /graphql")?;
    if probe.status() == 404 {
        return Ok(vec![ScenarioResult::skipped(
            "graphql",
            "POST /graphql answers 404: the GraphQL API is not in this build",
        )]);
    }
    let status = probe.status();
    let answer: Json = probe.json().await.unwrap_or(Json::Null);
    let total = answer["data"]["refreshTokens"]["totalCount"].as_i64();
    let edges = answer["data"]["refreshTokens"]["edges"]
        .as_array()
        .map_or(0, Vec::len);
    if status != 200 || total.is_none() || edges < 100 {
        bail!("the GraphQL listing answered {status} with {edges} edges: {answer}");
    }

    let body = Arc::new(body);
    let window = Window::new(&ctx.config);
    let mut handles = Vec::new();
    for _ in 0..ctx.config.concurrency {
        let http = http_client()?;
        let urls = Arc::clone(&ctx.urls);
        let auth = auth.clone();
        let body = Arc::clone(&body);
        handles.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while window.open() {
                let started = Instant::now();
                let result = send(
                    http.post(&urls.graphql)
                        .header(AUTHORIZATION, auth.clone())
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.as_str().to_owned()),
                )
                .await;
                let outcome = match result {
                    Ok(b) if !contains(&b, b"\"errors\"") => Outcome::Ok,
                    Ok(b) => fail(
                        "graphql errors",
                        String::from_utf8_lossy(&b[..b.len().min(300)]).into_owned(),
                    ),
                    Err(o) => o,
                };
                stats.record(&window, started, outcome);
            }
            stats
        }));
    }
    measure(
        ctx,
        window,
        vec![("graphql", ctx.config.concurrency, handles)],
        Some(format!(
            "refreshTokens(first: 100) with user {{ email }} as admin; totalCount {}",
            total.unwrap_or(0)
        )),
    )
    .await
}

// ---------------------------------------------------------------------------
// Report

struct Restart {
    listening: Duration,
    ready: Duration,
}

struct Rendered {
    text: String,
    json: Json,
}

struct Target {
    name: String,
    goal: String,
    measured: String,
    met: Option<bool>,
}

#[allow(clippy::too_many_arguments)]
fn render(
    config: &Config,
    machine: &Machine,
    baselines: &[HashBaseline],
    server_bin: &Path,
    idle_rss_kib: u64,
    first_start: Duration,
    restarts: &[Restart],
    preload: Option<Json>,
    results: &[ScenarioResult],
) -> Rendered {
    let mut text = String::new();
    let backend = config.backend();
    text.push_str(&format!(
        "\nTessera load benchmark: {backend}, {} cores ({}), {} workers, {:?} per scenario (+{:?} warm-up){}{}\n\n",
        machine.cores,
        machine.cpu_model,
        config.concurrency,
        config.duration,
        config.warmup,
                if config.preload_tokens > 0 {
            format!(", {} preloaded refresh tokens", config.preload_tokens)
        } else {
            String::new()
        },
        if config.analyze { ", ANALYZE run" } else { "" }
    ));
    text.push_str(&format!(
        "{:<24} {:>5} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>8} {:>4} {:>6}  {}\n",
        "scenario",
        "conc",
        "ok",
        "ok/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "srv CPU",
                "gen CPU",
        "db CPU",
        "oth CPU",
        "RSS MiB",
        "thr",
        "q/req",
        "errors"
    ));
    for r in results {
        if let Some(why) = &r.skipped {
            text.push_str(&format!("{:<24} skipped: {why}\n", r.name));
            continue;
        }
        text.push_str(&format!(
            "{:<24} {:>5} {:>9} {:>9.0} {:>8.2} {:>8.2} {:>8.1} {:>7.2} {:>7.2} {:>7} {:>7.2} {:>8.1} {:>4} {:>6}  {}\n",
            r.name,
            r.concurrency,
            r.ok(),
            r.rate(),
            r.percentile_ms(0.50),
            r.percentile_ms(0.99),
            r.percentile_ms(1.0),
            r.server_cores(),
                        r.loadgen_cores(),
            if config.postgres.is_some() {
                format!("{:.2}", r.db_cores())
            } else {
                "-".to_string()
            },
            r.other_cores(machine.cores),
            r.usage.peak_rss_kib as f64 / 1024.0,
            r.usage.peak_threads,
            r.statements_per_request
                .map_or("-".to_string(), |q| format!("{q:.1}")),
            r.errors_text()
        ));
    }
    text.push_str(
        "\n(ok/s: successful requests per second; srv/gen/db/oth CPU: cores used by the server / by this load generator / \
         by PostgreSQL / by anything else; RSS, thr: the server's peak resident memory and thread count; q/req: database statements per request, from /metrics)\n",
    );

    let mut restart_ms: Vec<f64> = restarts
        .iter()
        .map(|r| r.ready.as_secs_f64() * 1e3)
        .collect();
    restart_ms.sort_by(f64::total_cmp);
    let restart_median = restart_ms.get(restart_ms.len() / 2).copied();
    text.push_str(&format!(
        "\nstart to /readyz: first start (empty database) {:.0} ms; on the existing database {}\n",
        first_start.as_secs_f64() * 1e3,
        if restart_ms.is_empty() {
            "not measured".to_string()
        } else {
            format!(
                "{} ms (median {:.0} ms)",
                restart_ms
                    .iter()
                    .map(|m| format!("{m:.0}"))
                    .collect::<Vec<_>>()
                    .join(", "),
                restart_median.unwrap_or(0.0)
            )
        }
    ));
    // The fastest median is the least disturbed by other processes (a
    // disturbed baseline would flatter the password figure).
    let hash = baselines
        .iter()
        .min_by(|a, b| a.median_ms.total_cmp(&b.median_ms))
        .expect("at least one baseline");
    let password_capacity = machine.cores as f64 * 1e3 / hash.median_ms;
    text.push_str(&format!(
        "argon2id baseline: {:.2} ms per hash (median of {} {}, reused buffer; all: {}); \
         {} cores / hash time = {:.1} logins/s{}\n",
        hash.median_ms,
        hash.samples_ms.len(),
        hash.when,
        baselines
            .iter()
            .map(|b| format!("{:.2} ms {}", b.median_ms, b.when))
            .collect::<Vec<_>>()
            .join(", "),
        machine.cores,
        password_capacity,
        quiet_note(hash.quiet)
    ));
    text.push_str(&format!(
        "  (hash_password, allocating its 19 MiB each time, in this process: {})\n",
        baselines
            .iter()
            .map(|b| format!("{:.2} ms {}", b.allocating_median_ms, b.when))
            .collect::<Vec<_>>()
            .join(", ")
    ));
    text.push_str(&format!(
        "server idle RSS after the first start: {:.1} MiB\n",
        idle_rss_kib as f64 / 1024.0
    ));
    let noisy: Vec<&str> = results
        .iter()
        .filter(|r| r.skipped.is_none() && r.quiet_before.busy >= 0.10)
        .map(|r| r.name.as_str())
        .collect();
    if !noisy.is_empty() {
        text.push_str(&format!(
            "WARNING: other processes were busy before: {} (see oth CPU)\n",
            noisy.join(", ")
        ));
    }
    let disturbed: Vec<String> = results
        .iter()
        .filter(|r| r.skipped.is_none() && r.other_cores(machine.cores) >= 0.2)
        .map(|r| format!("{} ({:.2} cores)", r.name, r.other_cores(machine.cores)))
        .collect();
    if !disturbed.is_empty() {
        text.push_str(&format!(
            "WARNING: other processes took CPU during: {}; those figures are low\n",
            disturbed.join(", ")
        ));
    }

    // Targets of issue 6.
    let find = |name: &str| {
        results
            .iter()
            .find(|r| r.name == name && r.skipped.is_none() && r.setup_error.is_none())
    };
    let mut targets = Vec::new();
    let refresh_goal = if backend == "sqlite" {
        10_000.0
    } else {
        4_000.0
    };
    if let Some(r) = find("refresh") {
        let p99 = r.percentile_ms(0.99);
        let met = r.rate() >= refresh_goal && (backend != "sqlite" || p99 <= 10.0);
        targets.push(Target {
            name: format!("refresh grant ({backend})"),
            goal: if backend == "sqlite" {
                "≥ 10,000/s, p99 ≤ 10 ms at 32 sessions".into()
            } else {
                "≥ 4,000/s".into()
            },
            measured: format!(
                "{:.0}/s ({:.0}% of goal), p99 {:.2} ms at {}",
                r.rate(),
                100.0 * r.rate() / refresh_goal,
                p99,
                r.concurrency
            ),
            met: Some(met),
        });
    }
    if let Some(r) = find("password") {
        let ratio = r.rate() / password_capacity;
        targets.push(Target {
            name: "password grant".into(),
            goal: format!(
                "≥ 90% of cores ÷ hash time = {:.1}/s",
                0.9 * password_capacity
            ),
            measured: format!(
                "{:.1}/s = {:.0}% of {:.1}/s",
                r.rate(),
                100.0 * ratio,
                password_capacity
            ),
            met: Some(ratio >= 0.9),
        });
    }
    if let Some(r) = find("mixed: refresh") {
        let p99 = r.percentile_ms(0.99);
        targets.push(Target {
            name: format!("refresh p99 under a password flood ({backend})"),
            goal: "≤ 25 ms while 64 clients flood the password grant".into(),
            measured: format!(
                "p99 {p99:.2} ms, {:.0} refresh/s, with {} flooding",
                r.rate(),
                results
                    .iter()
                    .find(|x| x.name == "mixed: password flood")
                    .map_or(0, |x| x.concurrency)
            ),
            met: Some(p99 <= 25.0),
        });
    }
    for (name, label) in [
        ("client_credentials", "client_credentials grant"),
        ("me", "GET /api/me"),
        ("introspect", "introspection of access tokens"),
    ] {
        if let Some(r) = find(name) {
            targets.push(Target {
                name: label.into(),
                goal: "≥ 20,000/s".into(),
                measured: format!("{:.0}/s ({:.0}% of goal)", r.rate(), r.rate() / 200.0),
                met: Some(r.rate() >= 20_000.0),
            });
        }
    }
    if let Some(r) = find("graphql") {
        targets.push(Target {
            name: "GraphQL listing of 100 tokens".into(),
            goal: "(no target)".into(),
            measured: format!("{:.0}/s, p99 {:.2} ms", r.rate(), r.percentile_ms(0.99)),
            met: None,
        });
    }
    let measured: Vec<&ScenarioResult> = results
        .iter()
        .filter(|r| r.skipped.is_none() && r.setup_error.is_none())
        .collect();
    if let Some(worst) = measured.iter().max_by_key(|r| r.usage.peak_rss_kib) {
        let mib = worst.usage.peak_rss_kib as f64 / 1024.0;
        targets.push(Target {
            name: "server RSS under load".into(),
            goal: "≤ 50 MiB".into(),
            measured: format!("peak {mib:.1} MiB (during `{}`)", worst.name),
            met: Some(mib <= 50.0),
        });
    }
    if let Some(m) = restart_median {
        targets.push(Target {
            name: "start to /readyz, existing database".into(),
            goal: "≤ 200 ms".into(),
            measured: format!("median {m:.0} ms"),
            met: Some(m <= 200.0),
        });
    }
    text.push_str("\nissue 6 targets\n");
    for t in &targets {
        let verdict = match t.met {
            Some(true) => "MET",
            Some(false) => "NOT MET",
            None => "-",
        };
        text.push_str(&format!(
            "  {:<8} {:<46} goal {:<50} measured {}\n",
            verdict, t.name, t.goal, t.measured
        ));
    }
    let samples: Vec<String> = results
        .iter()
        .flat_map(|r| {
            r.stats
                .samples
                .iter()
                .map(move |(k, v)| format!("  {} / {k}: {}", r.name, v.replace('\n', " ")))
        })
        .collect();
    if !samples.is_empty() {
        text.push_str("\nfirst answer of each error kind\n");
        for s in samples {
            text.push_str(&s);
            text.push('\n');
        }
    }

    let json = json!({
        "backend": backend,
        // The checkout the bench ran from; the server is `server_bin`.
        "working_tree": git_commit(),
        "server_bin": server_bin.display().to_string(),
        "machine": {
            "cores": machine.cores,
            "cpu": machine.cpu_model,
            "kernel": machine.kernel,
            "memory_mib": machine.memory_mib,
        },
        "config": {
            "concurrency": config.concurrency,
            "duration_s": config.duration.as_secs_f64(),
            "warmup_s": config.warmup.as_secs_f64(),
            "users": config.users,
            "sessions_per_worker": config.sessions_per_worker,
            "flood": config.flood,
            "introspect_tokens": config.introspect_tokens,
                        "preload_tokens": config.preload_tokens,
            "analyze": config.analyze,
            "server_args": config.server_args,
                        "server_log": config.server_log,
            "server_env": config.server_env.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>(),
            "smoke": config.smoke,
            "idle_wait_s": config.idle_wait.as_secs_f64(),
        },
                "baseline": {
            "argon2id_hash_median_ms": hash.median_ms,
            "password_capacity_per_s": password_capacity,
                        "measurements": baselines.iter().map(|b| json!({
                "when": b.when,
                "reused_buffer_hash_ms": b.samples_ms,
                "reused_buffer_median_ms": b.median_ms,
                "allocating_hash_ms": b.allocating_ms,
                "allocating_median_ms": b.allocating_median_ms,
                "machine_busy_before": b.quiet.busy,
            })).collect::<Vec<_>>(),
        },
        "preload": preload,
        "scenarios": results.iter().map(|r| json!({
            "name": r.name,
            "skipped": r.skipped,
            "setup_error": r.setup_error,
            "note": r.note,
            "concurrency": r.concurrency,
            "measured_s": r.measured_s,
            "ok": r.ok(),
            "requests": r.stats.latencies_us.len(),
            "ok_per_s": r.rate(),
            "latency_ms": {
                "p50": r.percentile_ms(0.50),
                "p90": r.percentile_ms(0.90),
                "p99": r.percentile_ms(0.99),
                "p999": r.percentile_ms(0.999),
                "max": r.percentile_ms(1.0),
            },
            "errors": r.stats.errors,
            "error_samples": r.stats.samples,
            "server": {
                                "peak_rss_mib": r.usage.peak_rss_kib as f64 / 1024.0,
                "peak_threads": r.usage.peak_threads,
                "cpu_s": r.usage.server_cpu_s,
                "cpu_cores": r.server_cores(),
                "log_warnings": r.server_warnings,
            },
            "loadgen_cpu_cores": r.loadgen_cores(),
                        "postgres_cpu_cores": config.postgres.as_ref().map(|_| r.db_cores()),
            "other_cpu_cores": r.other_cores(machine.cores),
            "machine_busy": r.usage.machine_busy,
            "machine_busy_before": r.quiet_before.busy,
            "waited_for_quiet_s": r.quiet_before.waited_s,
            "db_statements_per_request": r.statements_per_request,
        })).collect::<Vec<_>>(),
        "startup": {
            "first_start_ready_ms": first_start.as_secs_f64() * 1e3,
            "idle_rss_mib": idle_rss_kib as f64 / 1024.0,
            "restarts": restarts.iter().map(|r| json!({
                "listening_ms": r.listening.as_secs_f64() * 1e3,
                "ready_ms": r.ready.as_secs_f64() * 1e3,
            })).collect::<Vec<_>>(),
            "restart_ready_median_ms": restart_median,
        },
        "targets": targets.iter().map(|t| json!({
            "name": t.name, "goal": t.goal, "measured": t.measured, "met": t.met,
        })).collect::<Vec<_>>(),
    });
    Rendered { text, json }
}

fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
