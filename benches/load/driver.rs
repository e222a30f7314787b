//! The HTTP side: keep-alive clients and the requests every scenario sends.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::Context;
use reqwest::header::CONTENT_TYPE;
use serde::Deserialize;
use serde_json::Value as Json;

use crate::CLI_CLIENT;
use crate::measure::{Outcome, fail};
use crate::provision::User;

pub const FORM: &str = "application/x-www-form-urlencoded";

pub struct Urls {
    pub token: String,
    pub introspect: String,
    pub me: String,
    pub graphql: String,
    pub metrics: String,
    /// The trivial route of `--bench-route` (the HTTP ceiling).
    pub ceiling: String,
}

impl Urls {
    pub fn new(addr: SocketAddr) -> Self {
        let base = format!("http://{addr}");
        Urls {
            token: format!("{base}/oauth/token"),
            introspect: format!("{base}/oauth/introspect"),
            me: format!("{base}/api/me"),
            graphql: format!("{base}/graphql"),
            metrics: format!("{base}/metrics"),
            ceiling: format!("{base}/bench/ceiling"),
        }
    }
}

pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .no_proxy()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .timeout(Duration::from_secs(30))
        .build()
        .context("building an HTTP client")
}

#[derive(Deserialize)]
pub struct Tokens {
    pub access_token: String,
    pub refresh_token: Option<String>,
}

/// Sends, reads the whole body (so the connection is reused), and sorts the
/// answer into a 200 body or a failure named by status and OAuth error code.
pub async fn send(req: reqwest::RequestBuilder) -> Result<Vec<u8>, Outcome> {
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

pub fn parse_tokens(body: &[u8]) -> Result<Tokens, Outcome> {
    serde_json::from_slice(body).map_err(|e| fail("bad body", e.to_string()))
}

pub fn password_body(user: &User) -> String {
    form_urlencoded::Serializer::new(String::new())
        .append_pair("grant_type", "password")
        .append_pair("client_id", CLI_CLIENT)
        .append_pair("username", &user.email)
        .append_pair("password", &user.password)
        .finish()
}

pub async fn token_request(
    http: &reqwest::Client,
    urls: &Urls,
    body: String,
) -> Result<Vec<u8>, Outcome> {
    send(http.post(&urls.token).header(CONTENT_TYPE, FORM).body(body))
        .await
        .map(|b| b.to_vec())
}

pub async fn login(http: &reqwest::Client, urls: &Urls, user: &User) -> Result<Tokens, Outcome> {
    let body = token_request(http, urls, password_body(user)).await?;
    parse_tokens(&body)
}

pub async fn refresh(http: &reqwest::Client, urls: &Urls, token: &str) -> Result<Tokens, Outcome> {
    let body = format!("grant_type=refresh_token&client_id={CLI_CLIENT}&refresh_token={token}");
    let body = token_request(http, urls, body).await?;
    parse_tokens(&body)
}

pub fn outcome_of<T>(r: &Result<T, Outcome>) -> Outcome {
    match r {
        Ok(_) => Outcome::Ok,
        Err(Outcome::Ok) => Outcome::Ok,
        Err(Outcome::Fail { kind, sample }) => fail(kind.clone(), sample.clone()),
    }
}
