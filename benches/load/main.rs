//! Load benchmark: starts the real `tessera` binary on a fresh database,
//! provisions users and clients through its CLI, and drives it over HTTP with
//! keep-alive connections, one scenario after another. It prints a table, the
//! issue-12 targets (met or not) and writes everything as JSON.
//!
//! ```sh
//! cargo bench --bench load                                   # every scenario, SQLite
//! cargo bench --bench load -- --postgres postgres://postgres@127.0.0.1:5432/postgres
//! cargo bench --bench load -- --scenarios refresh --preload-tokens 1000000
//! cargo bench --bench load -- --smoke                        # CI: ~1 s per scenario, no timing asserted
//! ```
//!
//! See BENCHMARKS.md for what each scenario does and the measured figures.

mod config;
mod database;
mod driver;
mod machine;
mod measure;
mod provision;
mod reads;
mod report;
mod scenarios;
mod server;
mod targets;
mod usage;

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Parser;
use sea_orm::{ConnectionTrait, Database};
use serde_json::json;
use tokio::runtime::Runtime;

use config::{Args, Config, Scenario};
use database::{BenchDatabase, preload_tokens};
use driver::Urls;
use machine::{argon2_baseline, machine_info, quiet_note, rss_kib, wait_for_quiet};
use measure::ScenarioResult;
use provision::{basic_auth, create_service_client, create_users};
use report::{Restart, render};
use scenarios::{Ctx, run_scenario};
use server::{Server, locate_server};

pub const CLI_CLIENT: &str = "tessera-cli";
pub const SERVICE_CLIENT: &str = "bench-service";
pub const ADMIN_EMAIL: &str = "admin@localhost";
pub const ADMIN_PASSWORD: &str = "bench-admin-password";

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

pub struct Report {
    pub failures: Vec<String>,
}

pub fn run(rt: &Runtime, config: &Config, server_bin: Option<PathBuf>) -> anyhow::Result<Report> {
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
