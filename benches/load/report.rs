//! The printed table, the targets and the JSON.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use serde_json::{Value as Json, json};

use crate::config::Config;
use crate::machine::{HashBaseline, Machine, quiet_note};
use crate::measure::ScenarioResult;
use crate::targets::{self, Baselines};

pub struct Restart {
    pub listening: Duration,
    pub ready: Duration,
}

pub struct Rendered {
    pub text: String,
    pub json: Json,
}

#[allow(clippy::too_many_arguments)]
pub fn render(
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
        "{:<24} {:>5} {:>9} {:>9} {:>8} {:>8} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>8} {:>4} {:>6}  {}\n",
        "scenario",
        "conc",
        "ok",
        "ok/s",
        "p50 ms",
        "p99 ms",
        "max ms",
        "µs/req",
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
            "{:<24} {:>5} {:>9} {:>9.0} {:>8.2} {:>8.2} {:>8.1} {:>7} {:>7.2} {:>7.2} {:>7} {:>7.2} {:>8.1} {:>4} {:>6}  {}\n",
            r.name,
            r.concurrency,
            r.ok(),
            r.rate(),
            r.percentile_ms(0.50),
            r.percentile_ms(0.99),
            r.percentile_ms(1.0),
            r.cpu_us_per_request()
                .map_or("-".to_string(), |us| format!("{us:.0}")),
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
        "\n(ok/s: successful requests per second; µs/req: server CPU time per successful request (both rows of `mixed` together); srv/gen/db/oth CPU: cores used by the server / by this load generator / \
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

    let targets = targets::targets(
        results,
        &Baselines {
            backend,
            cores: machine.cores,
            password_capacity,
            restart_median_ms: restart_median,
        },
    );
    text.push_str(&targets::print(&targets));
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
                "cpu_us_per_ok": r.cpu_us_per_request(),
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

pub fn git_commit() -> Option<String> {
    let out = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .ok()?;
    out.status
        .success()
        .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}
