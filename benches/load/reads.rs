//! The scenarios that mostly read: client_credentials, introspection,
//! `/api/me`, GraphQL.

use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::{Value as Json, json};

use crate::driver::{FORM, Tokens, http_client, login, outcome_of, refresh, send};
use crate::measure::{Outcome, ScenarioResult, Stats, Window, fail, measure};
use crate::provision::User;
use crate::scenarios::{Ctx, login_workers};
use crate::{ADMIN_EMAIL, ADMIN_PASSWORD};

const GRAPHQL_QUERY: &str =
    "{ refreshTokens(first: 100) { totalCount edges { node { id status user { email } } } } }";

pub async fn client_credentials_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
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
pub async fn access_tokens(ctx: &Ctx, count: usize) -> anyhow::Result<Vec<String>> {
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
pub async fn service_tokens(ctx: &Ctx, count: usize) -> anyhow::Result<Vec<String>> {
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

pub async fn introspect_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
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

pub fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

pub async fn me_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
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

pub async fn graphql_scenario(ctx: &Ctx) -> anyhow::Result<Vec<ScenarioResult>> {
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
