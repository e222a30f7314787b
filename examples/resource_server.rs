//! A resource server that trusts Tessera's access tokens: the answer to "how
//! does my other API validate these tokens?". It knows Tessera only by its
//! address: at start it reads the RFC 8414 metadata and the JWKS it points
//! to; then it checks each bearer token itself, with no call to Tessera.
//!
//! ```sh
//! TESSERA_URL=http://127.0.0.1:8080 cargo run --example resource_server
//! curl -i http://127.0.0.1:8081/hello -H "Authorization: Bearer $AT"
//! ```
//!
//! Also `RESOURCE_BIND` (default `127.0.0.1:8081`) and `RESOURCE_AUDIENCE`
//! (default: the issuer, Tessera's default audience). This build speaks plain
//! HTTP; give reqwest a TLS feature to reach an `https://` issuer.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;
use tokio::sync::{Mutex, RwLock};

/// An unknown `kid` makes us refetch the keys, but no more often than this,
/// or made-up kids could make us hammer Tessera. Its instances pick up a
/// rotation within 2 s, so a refetch that came too early is soon redone.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(2);

#[derive(Deserialize)]
struct Metadata {
    issuer: String,
    jwks_uri: String,
}

/// All this service reads; `exp`, `iss` and `aud` are the `Validation`'s job.
#[derive(Deserialize)]
struct Claims {
    sub: String,
}

struct Verifier {
    http: reqwest::Client,
    jwks_uri: String,
    validation: Validation,
    keys: RwLock<JwkSet>,
    /// When an unknown kid last made us refetch. Not the fetch at start: a
    /// rotation right after it must not lock out the new key's first tokens.
    refetched_at: Mutex<Option<Instant>>,
}

impl Verifier {
    async fn discover(tessera: &str, audience: Option<String>) -> reqwest::Result<Self> {
        let http = reqwest::Client::new();
        let url = format!("{tessera}/.well-known/oauth-authorization-server");
        let metadata: Metadata = get_json(&http, &url).await?;
        let keys = get_json(&http, &metadata.jwks_uri).await?;
        // Fixed here, never read from the token: trusting the token's own
        // `alg` header is how "alg: none" and key-confusion attacks get in.
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&metadata.issuer]);
        validation.set_audience(&[audience.as_deref().unwrap_or(&metadata.issuer)]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        Ok(Verifier {
            http,
            jwks_uri: metadata.jwks_uri,
            validation,
            keys: RwLock::new(keys),
            refetched_at: Mutex::new(None),
        })
    }

    async fn verify(&self, token: &str) -> Option<Claims> {
        let header = jsonwebtoken::decode_header(token).ok()?;
        // RFC 9068 §4: only access tokens, not other JWTs the same keys sign.
        if header.typ.as_deref() != Some("at+jwt") {
            return None;
        }
        let kid = header.kid?;
        let key = match self.key(&kid).await {
            Some(key) => key,
            // Most likely Tessera rotated its key since we last looked.
            None => {
                self.refetch_keys().await;
                self.key(&kid).await?
            }
        };
        let data = jsonwebtoken::decode::<Claims>(token, &key, &self.validation).ok()?;
        Some(data.claims)
    }

    async fn key(&self, kid: &str) -> Option<DecodingKey> {
        DecodingKey::from_jwk(self.keys.read().await.find(kid)?).ok()
    }

    async fn refetch_keys(&self) {
        // Held across the fetch, so that a burst of new-kid tokens fetches once.
        let mut refetched_at = self.refetched_at.lock().await;
        if refetched_at.is_some_and(|at| at.elapsed() < REFETCH_AT_MOST_EVERY) {
            return;
        }
        *refetched_at = Some(Instant::now());
        match get_json(&self.http, &self.jwks_uri).await {
            Ok(keys) => *self.keys.write().await = keys,
            // Keep the old keys: the tokens they signed are still good.
            Err(e) => eprintln!("could not refresh Tessera's keys: {e}"),
        }
    }
}

async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: &str,
) -> reqwest::Result<T> {
    http.get(url).send().await?.error_for_status()?.json().await
}

async fn hello(State(verifier): State<Arc<Verifier>>, headers: HeaderMap) -> Response {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, token)| token.trim());
    let Some(token) = token else {
        return challenge(None);
    };
    match verifier.verify(token).await {
        Some(claims) => format!("Hello, {}\n", claims.sub).into_response(),
        None => challenge(Some("invalid_token")),
    }
}

/// RFC 6750 §3: say how to authenticate, and name an error only when a
/// token was presented (no token is a question, not a mistake).
fn challenge(error: Option<&str>) -> Response {
    let value = match error {
        Some(error) => format!(r#"Bearer realm="example", error="{error}""#),
        None => r#"Bearer realm="example""#.to_string(),
    };
    let headers = [(header::WWW_AUTHENTICATE, value)];
    (StatusCode::UNAUTHORIZED, headers).into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let env = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let tessera = env("TESSERA_URL", "http://127.0.0.1:8080");
    let bind = env("RESOURCE_BIND", "127.0.0.1:8081");
    let audience = std::env::var("RESOURCE_AUDIENCE").ok();
    // Better to fail here, loudly, than to start unable to accept any token.
    let verifier = Verifier::discover(tessera.trim_end_matches('/'), audience).await?;
    let app = Router::new()
        .route("/hello", get(hello))
        .with_state(Arc::new(verifier));
    let listener = tokio::net::TcpListener::bind(&bind).await?;
    println!("GET http://{bind}/hello takes access tokens from {tessera}");
    axum::serve(listener, app).await?;
    Ok(())
}
