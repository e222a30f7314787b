//! Soak: mixed load (refresh, password, introspection, GraphQL) for a while,
//! with zero 5xx, zero reuse accepted, and flat memory.
//!
//! By default it runs a few seconds, to keep it working in every `cargo
//! test`. `TESSERA_SOAK=5m cargo test --release --test api soak -- --nocapture`
//! runs the real thing (the README's "Soak test").

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;
use tokio::task::JoinSet;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, TestApp, spawn_app_with, str_field};

#[derive(Default)]
struct Tally {
    requests: AtomicU64,
    server_errors: AtomicU64,
    reuse_accepted: AtomicU64,
}

fn soak_duration() -> Duration {
    std::env::var("TESSERA_SOAK")
        .ok()
        .and_then(|v| tessera::config::parse_duration(&v).ok())
        .unwrap_or(Duration::from_secs(3))
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Refreshes one session forever, always with the newest token; every tenth
/// round it also replays a spent token, which must be refused (and kills the
/// session, so it logs in again).
async fn refresher(app: Arc<TestApp>, tally: Arc<Tally>, stop: Arc<AtomicBool>) {
    let mut current = str_field(
        &app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        "refresh_token",
    )
    .to_string();
    let mut round = 0u64;
    while !stop.load(Ordering::Relaxed) {
        round += 1;
        let res = app.refresh(&current).await;
        tally.requests.fetch_add(1, Ordering::Relaxed);
        let status = res.status().as_u16();
        if status >= 500 {
            tally.server_errors.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        let body: serde_json::Value = res.json().await.unwrap_or_default();
        let Some(next) = body["refresh_token"].as_str().map(str::to_string) else {
            current = str_field(
                &app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
                "refresh_token",
            )
            .to_string();
            continue;
        };
        if round.is_multiple_of(10) {
            let replay = app.refresh(&current).await;
            tally.requests.fetch_add(1, Ordering::Relaxed);
            match replay.status().as_u16() {
                200 => {
                    tally.reuse_accepted.fetch_add(1, Ordering::Relaxed);
                }
                s if s >= 500 => {
                    tally.server_errors.fetch_add(1, Ordering::Relaxed);
                }
                _ => {}
            }
            current = str_field(
                &app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
                "refresh_token",
            )
            .to_string();
        } else {
            current = next;
        }
    }
}

/// Any other request, in a loop; only counts 5xx.
async fn looper<F, Fut>(tally: Arc<Tally>, stop: Arc<AtomicBool>, request: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = u16>,
{
    while !stop.load(Ordering::Relaxed) {
        let status = request().await;
        tally.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 500 {
            tally.server_errors.fetch_add(1, Ordering::Relaxed);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mixed_load_causes_no_server_error_no_accepted_reuse_and_no_memory_growth() {
    let app = Arc::new(spawn_app_with(&["--access-token-ttl", "1h"]).await);
    let (service, secret) = app.create_confidential_client(
        "soak-service",
        &["--grant-type", "client_credentials", "--scope", "api"],
    );
    let access = str_field(
        &app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await,
        "access_token",
    )
    .to_string();
    let tally = Arc::new(Tally::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = JoinSet::new();

    for _ in 0..4 {
        tasks.spawn(refresher(
            Arc::clone(&app),
            Arc::clone(&tally),
            Arc::clone(&stop),
        ));
    }
    {
        let app = Arc::clone(&app);
        tasks.spawn(looper(Arc::clone(&tally), Arc::clone(&stop), move || {
            let app = Arc::clone(&app);
            async move {
                app.token(&[
                    ("grant_type", "password"),
                    ("client_id", CLI_CLIENT),
                    ("username", ADMIN_EMAIL),
                    ("password", ADMIN_PASSWORD),
                ])
                .await
                .status()
                .as_u16()
            }
        }));
    }
    {
        let (app, access, service, secret) = (
            Arc::clone(&app),
            access.clone(),
            service.clone(),
            secret.clone(),
        );
        tasks.spawn(looper(Arc::clone(&tally), Arc::clone(&stop), move || {
            let (app, access, service, secret) = (
                Arc::clone(&app),
                access.clone(),
                service.clone(),
                secret.clone(),
            );
            async move {
                app.http
                    .post(app.url("/oauth/introspect"))
                    .basic_auth(&service, Some(&secret))
                    .form(&[("token", access.as_str())])
                    .send()
                    .await
                    .map_or(599, |r| r.status().as_u16())
            }
        }));
    }
    {
        let (app, access) = (Arc::clone(&app), access.clone());
        tasks.spawn(looper(Arc::clone(&tally), Arc::clone(&stop), move || {
            let (app, access) = (Arc::clone(&app), access.clone());
            async move {
                app.http
                    .post(app.url("/graphql"))
                    .bearer_auth(&access)
                    .json(&json!({ "query": "{ refreshTokens(first: 100) { totalCount edges { node { id status user { email } } } } }" }))
                    .send()
                    .await
                    .map_or(599, |r| r.status().as_u16())
            }
        }));
    }

    // Memory: sampled every second; the first fifth is warm-up.
    let duration = soak_duration();
    let started = Instant::now();
    let mut samples = Vec::new();
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_secs(1).min(duration)).await;
        samples.push(rss_kib(app.pid()));
    }
    stop.store(true, Ordering::Relaxed);
    while tasks.join_next().await.is_some() {}

    let requests = tally.requests.load(Ordering::Relaxed);
    let server_errors = tally.server_errors.load(Ordering::Relaxed);
    let reuse_accepted = tally.reuse_accepted.load(Ordering::Relaxed);
    let warm = samples.len() / 5;
    let settled = &samples[warm..];
    let third = (settled.len() / 3).max(1);
    let early = settled[..third].iter().sum::<u64>() / third as u64;
    let late = settled[settled.len() - third..].iter().sum::<u64>() / third as u64;
    eprintln!(
        "soak: {:?}, {requests} requests, {server_errors} 5xx, {reuse_accepted} reuse accepted, \
         RSS early {early} KiB, late {late} KiB, samples {samples:?}",
        duration
    );
    assert!(requests > 0, "no load was generated");
    assert_eq!(server_errors, 0, "5xx under load");
    assert_eq!(reuse_accepted, 0, "a spent refresh token was accepted");
    if duration >= Duration::from_secs(60) {
        // Flat: the last third may not exceed the first by more than 20% + 8 MiB.
        assert!(
            late <= early + early / 5 + 8 * 1024,
            "memory grew from {early} KiB to {late} KiB"
        );
    }
}
