//! What workers record (latencies, outcomes) and what one scenario's
//! result holds.

use std::collections::BTreeMap;
use std::time::Instant;

use anyhow::{Context, anyhow};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::driver::{Urls, http_client};
use crate::machine::Quiet;
use crate::scenarios::Ctx;
use crate::usage::{Usage, spawn_sampler};

/// Requests that start inside [start, end) are measured; before is warm-up.
#[derive(Clone, Copy)]
pub struct Window {
    pub start: Instant,
    pub end: Instant,
}

impl Window {
    pub fn new(config: &Config) -> Self {
        let start = Instant::now() + config.warmup;
        Window {
            start,
            end: start + config.duration,
        }
    }

    pub fn open(&self) -> bool {
        Instant::now() < self.end
    }
}

pub enum Outcome {
    Ok,
    Fail { kind: String, sample: String },
}

pub fn fail(kind: impl Into<String>, sample: impl Into<String>) -> Outcome {
    Outcome::Fail {
        kind: kind.into(),
        sample: sample.into(),
    }
}

/// What one worker saw.
#[derive(Default)]
pub struct Stats {
    pub latencies_us: Vec<u32>,
    pub ok: u64,
    pub errors: BTreeMap<String, u64>,
    pub samples: BTreeMap<String, String>,
}

impl Stats {
    pub fn record(&mut self, window: &Window, started: Instant, outcome: Outcome) {
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

    pub fn merge(&mut self, other: Stats) {
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

/// `tessera_db_queries_total` from `/metrics`, when the server has it.
pub async fn statements(urls: &Urls) -> Option<u64> {
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

pub struct ScenarioResult {
    pub name: String,
    pub concurrency: usize,
    pub stats: Stats,
    pub usage: Usage,
    pub measured_s: f64,
    pub statements_per_request: Option<f64>,
    /// Successful requests of every row that shares this row's `usage`
    /// (both rows of `mixed`): what the server's CPU time is divided by.
    pub ok_sharing_usage: u64,
    pub server_warnings: u64,
    pub quiet_before: Quiet,
    pub skipped: Option<String>,
    pub setup_error: Option<String>,
    pub note: Option<String>,
}

impl ScenarioResult {
    pub fn failed(name: &str, error: String) -> Self {
        ScenarioResult {
            name: name.into(),
            concurrency: 0,
            stats: Stats::default(),
            usage: Usage::default(),
            measured_s: 0.0,
            statements_per_request: None,
            ok_sharing_usage: 0,
            server_warnings: 0,
            quiet_before: Quiet::default(),
            skipped: None,
            setup_error: Some(error),
            note: None,
        }
    }

    pub fn skipped(name: &str, why: &str) -> Self {
        let mut r = ScenarioResult::failed(name, String::new());
        r.setup_error = None;
        r.skipped = Some(why.into());
        r
    }

    pub fn ok(&self) -> u64 {
        self.stats.ok
    }

    pub fn rate(&self) -> f64 {
        if self.measured_s > 0.0 {
            self.stats.ok as f64 / self.measured_s
        } else {
            0.0
        }
    }

    pub fn percentile_ms(&self, q: f64) -> f64 {
        percentile(&self.stats.latencies_us, q) as f64 / 1e3
    }

    pub fn errors_text(&self) -> String {
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

    pub fn one_line(&self) -> String {
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

    /// Server CPU time (user + system) per successful request, in µs: the
    /// figure that survives a noisy machine, unlike a rate.
    pub fn cpu_us_per_request(&self) -> Option<f64> {
        (self.ok_sharing_usage > 0)
            .then(|| self.usage.server_cpu_s * 1e6 / self.ok_sharing_usage as f64)
    }

    pub fn server_cores(&self) -> f64 {
        if self.usage.seconds > 0.0 {
            self.usage.server_cpu_s / self.usage.seconds
        } else {
            0.0
        }
    }

    /// Cores used by neither the server nor the load generator.
    pub fn other_cores(&self, cores: usize) -> f64 {
        (self.usage.machine_busy * cores as f64
            - self.server_cores()
            - self.loadgen_cores()
            - self.db_cores())
        .max(0.0)
    }

    pub fn db_cores(&self) -> f64 {
        if self.usage.seconds > 0.0 {
            self.usage.db_cpu_s / self.usage.seconds
        } else {
            0.0
        }
    }

    pub fn loadgen_cores(&self) -> f64 {
        if self.usage.seconds > 0.0 {
            self.usage.loadgen_cpu_s / self.usage.seconds
        } else {
            0.0
        }
    }
}

/// The value below which a fraction `q` of the samples lies (nearest rank).
pub fn percentile(sorted_or_not: &[u32], q: f64) -> u32 {
    if sorted_or_not.is_empty() {
        return 0;
    }
    let n = sorted_or_not.len();
    let rank = ((q * n as f64).ceil() as usize).clamp(1, n);
    sorted_or_not[rank - 1]
}

/// Waits for every worker of every group, with resources sampled over the window.
pub async fn measure(
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
    let ok_sharing_usage = merged.iter().map(|(_, _, s)| s.ok).sum();
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
            ok_sharing_usage,
            server_warnings: 0,
            quiet_before: Quiet::default(),
            skipped: None,
            setup_error: None,
            note: note.clone(),
        })
        .collect())
}
