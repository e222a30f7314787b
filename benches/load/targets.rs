//! The targets of issue 12, judged from one run's results. Rates vary by
//! ±40 % between machines of this kind, so the targets are per request
//! (server CPU per refresh) or against a baseline of the same run (the HTTP
//! ceiling, the argon2id hash time).

use crate::measure::ScenarioResult;

pub struct Target {
    pub name: String,
    pub goal: String,
    pub measured: String,
    pub met: Option<bool>,
}

/// What the targets are judged against, besides the scenarios.
pub struct Baselines {
    pub backend: &'static str,
    pub cores: usize,
    /// Cores ÷ one argon2id hash time, in logins per second.
    pub password_capacity: f64,
    pub restart_median_ms: Option<f64>,
}

pub fn targets(results: &[ScenarioResult], base: &Baselines) -> Vec<Target> {
    let find = |name: &str| {
        results
            .iter()
            .find(|r| r.name == name && r.skipped.is_none() && r.setup_error.is_none())
    };
    let backend = base.backend;
    let mut targets = Vec::new();
    let ceiling = find("ceiling");
    if let Some(r) = find("refresh") {
        let p99 = r.percentile_ms(0.99);
        let idle = (base.cores as f64 * (1.0 - r.usage.machine_busy)).max(0.0);
        let cpu = r.cpu_us_per_request().unwrap_or(f64::INFINITY);
        let of_ceiling = ceiling
            .map(|c| format!(", {:.0}% of the HTTP ceiling", 100.0 * r.rate() / c.rate()))
            .unwrap_or_default();
        targets.push(Target {
            name: format!("refresh grant ({backend})"),
            goal: "≤ 70 µs server CPU each, idle ≤ 0.15 core, p99 ≤ 10 ms".into(),
            measured: format!(
                "{cpu:.0} µs, idle {idle:.2} core, p99 {p99:.2} ms, {:.0}/s at {}{of_ceiling}",
                r.rate(),
                r.concurrency
            ),
            met: Some(cpu <= 70.0 && idle <= 0.15 && p99 <= 10.0),
        });
    }
    if let Some(c) = ceiling {
        targets.push(Target {
            name: "bare HTTP ceiling".into(),
            goal: "(the yardstick for refresh)".into(),
            measured: format!(
                "{:.0}/s, {:.0} µs server CPU each",
                c.rate(),
                c.cpu_us_per_request().unwrap_or(0.0)
            ),
            met: None,
        });
    }
    if let Some(r) = find("password") {
        let ratio = r.rate() / base.password_capacity;
        targets.push(Target {
            name: "password grant".into(),
            goal: format!(
                "≥ 92% of cores ÷ hash time = {:.1}/s",
                0.92 * base.password_capacity
            ),
            measured: format!(
                "{:.1}/s = {:.0}% of {:.1}/s",
                r.rate(),
                100.0 * ratio,
                base.password_capacity
            ),
            met: Some(ratio >= 0.92),
        });
    }
    if let Some(r) = find("mixed: refresh") {
        let p99 = r.percentile_ms(0.99);
        targets.push(Target {
            name: format!("refresh p99 under a password flood ({backend})"),
            goal: "≤ 25 ms while 64 clients flood the password grant".into(),
            measured: format!("p99 {p99:.2} ms, {:.0} refresh/s", r.rate()),
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
                goal: "no slower than before (A/B)".into(),
                measured: format!(
                    "{:.0}/s, {:.0} µs server CPU each",
                    r.rate(),
                    r.cpu_us_per_request().unwrap_or(0.0)
                ),
                met: None,
            });
        }
    }
    let measured = results
        .iter()
        .filter(|r| r.skipped.is_none() && r.setup_error.is_none());
    if let Some(worst) = measured.max_by_key(|r| r.usage.peak_rss_kib) {
        let mib = worst.usage.peak_rss_kib as f64 / 1024.0;
        targets.push(Target {
            name: "server RSS in every scenario".into(),
            goal: "≤ 50 MiB".into(),
            measured: format!("peak {mib:.1} MiB (during `{}`)", worst.name),
            met: Some(mib <= 50.0),
        });
    }
    if let Some(m) = base.restart_median_ms {
        targets.push(Target {
            name: "start to /readyz, existing database".into(),
            goal: "≤ 200 ms".into(),
            measured: format!("median {m:.0} ms"),
            met: Some(m <= 200.0),
        });
    }
    targets
}

pub fn print(targets: &[Target]) -> String {
    let mut text = String::from("\nissue 12 targets\n");
    for t in targets {
        let verdict = match t.met {
            Some(true) => "MET",
            Some(false) => "NOT MET",
            None => "-",
        };
        text.push_str(&format!(
            "  {:<8} {:<42} goal {:<52} measured {}\n",
            verdict, t.name, t.goal, t.measured
        ));
    }
    text
}
