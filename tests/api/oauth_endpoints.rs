//! Helpers for the endpoints around the token endpoint: revocation
//! (RFC 7009), introspection (RFC 7662) and discovery (RFC 8414, RFC 7517).
//! Kept beside `helpers.rs` so that the harness stays about starting servers.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::{TestApp, assert_no_store, form_encode, json_body};

/// The confidential client the revocation and introspection tests call with.
pub const API_CLIENT: &str = "inventory-api";

/// The `WWW-Authenticate` challenge for a rejected bearer token (RFC 6750 §3).
pub const INVALID_TOKEN: &str = r#"Bearer realm="tessera", error="invalid_token""#;

impl TestApp {
    /// POSTs a form to any path with HTTP Basic client authentication.
    pub async fn post_form_basic(
        &self,
        path: &str,
        id: &str,
        secret: &str,
        form: &[(&str, &str)],
    ) -> reqwest::Response {
        self.http
            .post(self.url(path))
            .basic_auth(form_encode(id), Some(form_encode(secret)))
            .form(form)
            .send()
            .await
            .expect("request")
    }

    /// Logs the admin in through a confidential client (Basic); returns the
    /// token response.
    pub async fn login_as_client(
        &self,
        id: &str,
        secret: &str,
        email: &str,
        password: &str,
    ) -> Value {
        let res = self
            .post_form_basic(
                "/oauth/token",
                id,
                secret,
                &[
                    ("grant_type", "password"),
                    ("username", email),
                    ("password", password),
                ],
            )
            .await;
        let status = res.status();
        let body = json_body(res).await;
        assert_eq!(status, 200, "login failed: {body}");
        body
    }

    /// RFC 7662 introspection of `token` by a confidential client (Basic):
    /// asserts 200, JSON and no-store; returns the answer.
    pub async fn introspect(&self, id: &str, secret: &str, token: &str) -> Value {
        let res = self
            .post_form_basic("/oauth/introspect", id, secret, &[("token", token)])
            .await;
        let status = res.status();
        assert_no_store(&res);
        let body = json_body(res).await;
        assert_eq!(status, 200, "introspection failed: {body}");
        body
    }

    /// The RFC 8414 metadata document; asserts 200 and JSON.
    pub async fn metadata(&self) -> Value {
        let res = self.get("/.well-known/oauth-authorization-server").await;
        let status = res.status();
        let body = json_body(res).await;
        assert_eq!(status, 200, "metadata: {body}");
        body
    }

    /// The JWKS document; asserts 200 and JSON.
    pub async fn jwks(&self) -> Value {
        let res = self.get("/.well-known/jwks.json").await;
        let status = res.status();
        let body = json_body(res).await;
        assert_eq!(status, 200, "jwks: {body}");
        body
    }
}

/// Asserts the RFC 7009 §2.2 success answer: 200, an empty body, no-store.
pub async fn assert_revocation_ok(res: reqwest::Response) {
    let status = res.status();
    assert_no_store(&res);
    let body = res.text().await.expect("body");
    assert_eq!(status, 200, "revocation failed: {body}");
    assert!(body.is_empty(), "a revocation answers no body: {body:?}");
}

/// Polls `check` every 100 ms until it holds or `within` has passed; says
/// whether it held. For changes another process makes (the CLI writes to the
/// database, the server notices later), never to measure how fast.
pub async fn eventually<F, Fut>(within: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
