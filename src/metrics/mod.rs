//! Prometheus metrics (the `prometheus-client` crate): one process-wide set
//! of handles, registered once, rendered by `GET /metrics`.
//!
//! Process-wide because a Tessera process is one server: the store, the
//! token service and the hashing threads count without being handed a
//! registry. Every label takes a bounded set of values (a route pattern, a
//! method, a status, a grant type, an OAuth error code, a revocation
//! reason); anything else is folded into `other`.
//! Hot paths touch pre-registered handles (one atomic add) or a family
//! lookup by `&'static str` labels (a hash, no allocation).

mod http;
mod process;

use std::sync::LazyLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

pub use http::TrackRequestsLayer;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    grant_type: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabel {
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabel {
    state: &'static str,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

/// Every metric Tessera exports (the README lists them with their meaning).
pub struct Metrics {
    registry: Registry,
    http: http::HttpMetrics,
    token_requests: Family<TokenLabels, Counter>,
    /// The refresh grant's success, pre-registered: the hottest outcome.
    refresh_success: Counter,
    pub refresh_tokens_issued: Counter,
    pub refresh_tokens_rotated: Counter,
    refresh_tokens_revoked: Family<ReasonLabel, Counter>,
    pub refresh_token_reuse: Counter,
    pub account_lockouts: Counter,
    pub disabled_user_logins: Counter,
    pub active_sessions: Gauge,
    pub hash_queue_depth: Gauge,
    pub hash_rejections: Counter,
    rotation_batch_size: Histogram,
    rotation_commit_seconds: Histogram,
    pub db_queries: Counter,
    db_pool: Family<StateLabel, Gauge>,
    pub db_pool_max: Gauge,
    pub db_pool_timeouts: Counter,
    /// Unix time the current signing key was made (0: not known yet).
    pub signing_key_created: Gauge,
    signing_key_age: Gauge,
    process: process::ProcessMetrics,
}

/// The one set of metrics of this process.
pub fn get() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}

/// Revocation reasons the code uses; anything else is counted as `other`.
const REASONS: &[&str] = &[
    "reuse_detected",
    "revoked_by_user",
    "revoked_by_admin",
    "revoked_by_client",
    "password_changed",
    "user_disabled",
    "logout_everywhere",
    "client_deleted",
];

/// The grant types of RFC 6749 that Tessera knows, for the label.
pub fn grant_label(grant_type: Option<&str>) -> &'static str {
    match grant_type {
        Some("password") => "password",
        Some("refresh_token") => "refresh_token",
        Some("client_credentials") => "client_credentials",
        Some(_) => "other",
        None => "none",
    }
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::default();
        let http = http::HttpMetrics::register(&mut registry);
        let token_requests = Family::<TokenLabels, Counter>::default();
        registry.register(
            "tessera_token_requests",
            "Token endpoint requests by grant type and outcome (success or the RFC 6749 error code)",
            token_requests.clone(),
        );
        let refresh_success = token_requests
            .get_or_create(&TokenLabels {
                grant_type: "refresh_token",
                outcome: "success",
            })
            .clone();
        let counter = |registry: &mut Registry, name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let gauge = |registry: &mut Registry, name: &str, help: &str| {
            let g = Gauge::default();
            registry.register(name, help, g.clone());
            g
        };
        let refresh_tokens_issued = counter(
            &mut registry,
            "tessera_refresh_tokens_issued",
            "Refresh tokens issued, by logins and by rotations",
        );
        let refresh_tokens_rotated = counter(
            &mut registry,
            "tessera_refresh_tokens_rotated",
            "Refresh tokens retired by a successful refresh",
        );
        let refresh_tokens_revoked = Family::<ReasonLabel, Counter>::default();
        registry.register(
            "tessera_refresh_tokens_revoked",
            "Refresh tokens revoked, by reason",
            refresh_tokens_revoked.clone(),
        );
        let refresh_token_reuse = counter(
            &mut registry,
            "tessera_refresh_token_reuse_detected",
            "Retired refresh tokens presented again (each revokes its session)",
        );
        let account_lockouts = counter(
            &mut registry,
            "tessera_account_lockouts",
            "Accounts locked after repeated wrong passwords",
        );
        let disabled_user_logins = counter(
            &mut registry,
            "tessera_disabled_user_logins",
            "Logins refused because the user is disabled (right password)",
        );
        let active_sessions = gauge(
            &mut registry,
            "tessera_active_sessions",
            "Sessions neither revoked nor expired, counted every 15 s",
        );
        let hash_queue_depth = gauge(
            &mut registry,
            "tessera_password_hash_queue_depth",
            "Password checks waiting for a hashing thread",
        );
        let hash_rejections = counter(
            &mut registry,
            "tessera_password_hash_rejections",
            "Password checks refused (503) because the hashing queue was full",
        );
        let rotation_batch_size = Histogram::new(exponential_buckets(1.0, 2.0, 10));
        registry.register(
            "tessera_rotation_batch_size",
            "Rotations committed together by the rotation writer",
            rotation_batch_size.clone(),
        );
        let rotation_commit_seconds = Histogram::new(exponential_buckets(0.000_05, 2.0, 14));
        registry.register(
            "tessera_rotation_commit_duration_seconds",
            "Time the rotation writer's commit of one batch took",
            rotation_commit_seconds.clone(),
        );
        let db_queries = counter(
            &mut registry,
            "tessera_db_queries",
            "Database statements run since the process started",
        );
        let db_pool = Family::<StateLabel, Gauge>::default();
        registry.register(
            "tessera_db_pool_connections",
            "Database pool connections, in use or idle",
            db_pool.clone(),
        );
        let db_pool_max = gauge(
            &mut registry,
            "tessera_db_pool_max_connections",
            "The database pool's size limit",
        );
        let db_pool_timeouts = counter(
            &mut registry,
            "tessera_db_pool_timeouts",
            "Waits for a pool connection that gave up (answered 503)",
        );
        let signing_key_created = Gauge::default();
        let signing_key_age = gauge(
            &mut registry,
            "tessera_signing_key_age_seconds",
            "Age of the current signing key",
        );
        let process = process::ProcessMetrics::register(&mut registry);
        Metrics {
            registry,
            http,
            token_requests,
            refresh_success,
            refresh_tokens_issued,
            refresh_tokens_rotated,
            refresh_tokens_revoked,
            refresh_token_reuse,
            account_lockouts,
            disabled_user_logins,
            active_sessions,
            hash_queue_depth,
            hash_rejections,
            rotation_batch_size,
            rotation_commit_seconds,
            db_queries,
            db_pool,
            db_pool_max,
            db_pool_timeouts,
            signing_key_created,
            signing_key_age,
            process,
        }
    }

    /// Counts one token endpoint answer: `outcome` is `success` or the
    /// OAuth error code (a closed set of static strings).
    pub fn token_request(&self, grant_type: &'static str, outcome: &'static str) {
        if grant_type == "refresh_token" && outcome == "success" {
            self.refresh_success.inc();
            return;
        }
        self.token_requests
            .get_or_create(&TokenLabels {
                grant_type,
                outcome,
            })
            .inc();
    }

    /// Counts `tokens` refresh tokens revoked for `reason`.
    pub fn revoked(&self, reason: &str, tokens: u64) {
        if tokens == 0 {
            return;
        }
        // A stored reason may name who did it (`revoked_by_admin by <id>`).
        let (why, _) = crate::oauth::management::split_reason(reason);
        let reason = REASONS
            .iter()
            .find(|r| **r == why)
            .copied()
            .unwrap_or("other");
        self.refresh_tokens_revoked
            .get_or_create(&ReasonLabel { reason })
            .inc_by(tokens);
    }

    /// One batch of the rotation writer, committed in `commit`.
    pub fn rotation_committed(&self, size: usize, commit: Duration) {
        self.rotation_batch_size.observe(size as f64);
        self.rotation_commit_seconds.observe(commit.as_secs_f64());
    }

    /// The database pool right now.
    pub fn db_pool(&self, size: u32, idle: usize, max: u32) {
        let idle = i64::try_from(idle).unwrap_or(i64::MAX);
        let in_use = i64::from(size).saturating_sub(idle).max(0);
        self.db_pool
            .get_or_create(&StateLabel { state: "in_use" })
            .set(in_use);
        self.db_pool
            .get_or_create(&StateLabel { state: "idle" })
            .set(idle);
        self.db_pool_max.set(i64::from(max));
    }

    /// The Prometheus text format (0.0.4) of every metric, with the
    /// values read at scrape time (process, key age) brought up to date.
    pub fn render(&self) -> String {
        self.process.refresh();
        let created = self.signing_key_created.get();
        if created > 0 {
            let now = chrono::Utc::now().timestamp();
            self.signing_key_age.set(now.saturating_sub(created).max(0));
        }
        let mut out = String::with_capacity(16 * 1024);
        if let Err(e) =
            prometheus_client::encoding::prometheus_text::encode(&mut out, &self.registry)
        {
            tracing::warn!(error = %e, "could not render the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_label_values_are_folded() {
        assert_eq!(
            grant_label(Some("urn:ietf:params:oauth:grant-type:jwt-bearer")),
            "other"
        );
        assert_eq!(grant_label(None), "none");
        get().revoked("a reason nobody wrote", 2);
        let text = get().render();
        assert!(
            text.contains(r#"tessera_refresh_tokens_revoked_total{reason="other"}"#),
            "{text}"
        );
        assert!(!text.contains("a reason nobody wrote"));
    }

    /// (A labelled family shows up once it has a series: the HTTP ones are
    /// checked by the API tests.)
    #[test]
    fn every_metric_has_help_and_type() {
        let text = get().render();
        for name in [
            "tessera_refresh_tokens_issued_total",
            "tessera_token_requests_total",
            "tessera_db_queries_total",
            "tessera_active_sessions",
            "tessera_rotation_commit_duration_seconds",
            "process_resident_memory_bytes",
        ] {
            assert!(
                text.contains(&format!("# TYPE {name} ")),
                "{name} in {text}"
            );
        }
    }
}
