//! The scenarios that write: refresh (and `mixed`), password.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use reqwest::header::{CONTENT_TYPE, HeaderValue};
use tokio::task::JoinHandle;

use crate::CLI_CLIENT;
use crate::config::{Config, Scenario};
use crate::driver::{
    FORM, Tokens, Urls, http_client, login, outcome_of, password_body, refresh, send, token_request,
};
use crate::measure::{Outcome, ScenarioResult, Stats, Window, fail, measure};
use crate::provision::User;
use crate::reads::{
    client_credentials_scenario, graphql_scenario, introspect_scenario, me_scenario,
};

/// What every scenario needs: where the server is, its process, the users.
pub struct Ctx {
    pub urls: Arc<Urls>,
    pub pid: u32,
    pub users: Arc<Vec<User>>,
    pub service_auth: HeaderValue,
    pub config: Config,
}

pub async fn run_scenario(ctx: &Ctx, scenario: Scenario) -> anyhow::Result<Vec<ScenarioResult>> {
    match scenario {
        Scenario::Ceiling => ceiling_scenario(ctx).await,
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
pub struct RefreshWorker {
    pub http: reqwest::Client,
    pub sessions: Vec<(usize, String)>,
}

/// Logs `workers × per_worker` sessions in, users round robin.
pub async fn login_workers(
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
pub async fn refresh_scenario(ctx: &Ctx, flood: usize) -> anyhow::Result<Vec<ScenarioResult>> {
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

pub fn spawn_password_workers(
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

pub async fn password_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
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

/// The bare HTTP ceiling: what this load generator and the server's HTTP
/// stack manage with no OAuth work at all. The server's `--bench-route`
/// answers `POST /bench/ceiling` with a body the size of a refresh grant's,
/// so the request and the answer cost what a refresh's do on the wire; the
/// refresh rate divided by this one says how much the grant itself costs.
/// A server without the route (an older binary) answers 404: skipped.
pub async fn ceiling_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
    let probe = http_client()?;
    let body = ceiling_body();
    let status = probe
        .post(&ctx.urls.ceiling)
        .header(CONTENT_TYPE, FORM)
        .body(body.clone())
        .send()
        .await
        .context("probing /bench/ceiling")?
        .status();
    if status == 404 {
        return Ok(vec![ScenarioResult::skipped(
            "ceiling",
            "the server has no /bench/ceiling (TESSERA_BENCH_ROUTE)",
        )]);
    }
    let window = Window::new(&ctx.config);
    let mut handles = Vec::new();
    for _ in 0..ctx.config.concurrency {
        let http = http_client()?;
        let urls = Arc::clone(&ctx.urls);
        let body = body.clone();
        handles.push(tokio::spawn(async move {
            let mut stats = Stats::default();
            while window.open() {
                let started = Instant::now();
                let result = send(
                    http.post(&urls.ceiling)
                        .header(CONTENT_TYPE, FORM)
                        .body(body.clone()),
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
        vec![("ceiling", ctx.config.concurrency, handles)],
        Some("POST /bench/ceiling: a refresh-sized form in, a token-sized JSON out".into()),
    )
    .await
}

/// A form the size of a refresh request (a 43-character token).
fn ceiling_body() -> String {
    format!(
        "grant_type=refresh_token&client_id={CLI_CLIENT}&refresh_token={}",
        "x".repeat(43)
    )
}
