//! What browsers on other origins may do: CORS (off unless origins are
//! listed), the origin check on requests that rely on the refresh cookie
//! (CSRF), and the security headers of every answer.
//!
//! "This server", for the origin check, is the issuer's origin or the
//! `Host` the request was sent to. A cross-site page cannot forge either:
//! its browser sends our `Host` with its own `Origin`. A DNS-rebinding page
//! can make the two match, but it runs on its own host name, for which the
//! browser holds no cookie of ours.

use axum::Router;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use clap::Args;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::set_header::SetResponseHeaderLayer;

#[derive(Debug, Clone, Args)]
pub struct BrowserArgs {
    /// Origins whose pages may call the token, revoke, metadata, JWKS,
    /// /api/me and /graphql endpoints (exact `scheme://host[:port]`;
    /// comma-separated or repeated). None by default: CORS is off.
    #[arg(long, env = "TESSERA_CORS_ALLOWED_ORIGINS", value_delimiter = ',')]
    pub cors_allowed_origins: Vec<String>,
}

/// The checked origins.
#[derive(Debug, Clone, Default)]
pub struct BrowserPolicy {
    allowed: Vec<String>,
}

impl TryFrom<BrowserArgs> for BrowserPolicy {
    type Error = String;

    fn try_from(args: BrowserArgs) -> Result<Self, String> {
        let mut allowed = Vec::new();
        for raw in args.cors_allowed_origins {
            let raw = raw.trim();
            if raw.is_empty() {
                continue;
            }
            allowed.push(parse_origin(raw).map_err(|why| {
                format!("--cors-allowed-origins: `{raw}` is not an origin ({why})")
            })?);
        }
        Ok(BrowserPolicy { allowed })
    }
}

/// An exact origin, lower-cased: `http(s)://host[:port]`, nothing after.
fn parse_origin(raw: &str) -> Result<String, &'static str> {
    if raw.contains('*') {
        return Err("no wildcards: list each origin");
    }
    let lower = raw.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or("it must start with http:// or https://")?;
    let valid = !rest.is_empty()
        && rest
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if !valid {
        return Err("an origin is scheme://host[:port], without a path");
    }
    Ok(lower)
}

impl BrowserPolicy {
    /// CORS on `router` for the listed origins; `router` unchanged when
    /// there are none, so that the default costs nothing.
    pub fn cors<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        let origins: Vec<HeaderValue> = self
            .allowed
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        if origins.is_empty() {
            return router;
        }
        router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(origins))
                .allow_methods([Method::GET, Method::POST])
                .allow_headers([header::AUTHORIZATION, header::CONTENT_TYPE])
                // The cookie flow needs credentials; with exact origins only.
                .allow_credentials(true)
                .max_age(std::time::Duration::from_secs(600)),
        )
    }

    /// Whether a request comes from this server's pages or an allowed
    /// origin: its `Origin`, or lacking one its `Referer`. Neither is a
    /// refusal: every browser sends `Origin` with a POST.
    pub fn trusts(&self, headers: &HeaderMap, issuer: &str) -> bool {
        let origin = match headers.get(header::ORIGIN) {
            Some(v) => v.to_str().ok(),
            None => headers
                .get(header::REFERER)
                .and_then(|v| v.to_str().ok())
                .and_then(origin_of_url),
        };
        let Some(origin) = origin else {
            return false;
        };
        let same = |other: &str| origin.eq_ignore_ascii_case(other);
        if origin_of_url(issuer).is_some_and(same) || self.allowed.iter().any(|o| same(o)) {
            return true;
        }
        // The Host the request came to, whatever the scheme in front.
        let authority = origin.split_once("://").map(|(_, a)| a);
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok());
        matches!((authority, host), (Some(a), Some(h)) if a.eq_ignore_ascii_case(h))
    }
}

/// The `scheme://authority` part of an absolute http(s) URL.
fn origin_of_url(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (end > 0).then(|| &url[..scheme.len() + 3 + end])
}

const STRICT_TRANSPORT_SECURITY: HeaderName = header::STRICT_TRANSPORT_SECURITY;

/// `nosniff` and `Referrer-Policy` on every answer, HSTS when the issuer is
/// https; each only where a handler has not set its own.
pub fn security_headers<S: Clone + Send + Sync + 'static>(
    router: Router<S>,
    issuer: &str,
) -> Router<S> {
    let router = router
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ));
    if issuer.to_ascii_lowercase().starts_with("https://") {
        router.layer(SetResponseHeaderLayer::if_not_present(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        ))
    } else {
        router
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(origins: &[&str]) -> BrowserPolicy {
        BrowserArgs {
            cors_allowed_origins: origins.iter().map(|s| s.to_string()).collect(),
        }
        .try_into()
        .expect("valid origins")
    }

    fn headers(pairs: &[(HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(name.clone(), HeaderValue::from_str(value).expect("value"));
        }
        map
    }

    #[test]
    fn origins_must_be_exact() {
        for bad in [
            "*",
            "https://*.example.com",
            "example.com",
            "https://a.b/path",
            "null",
        ] {
            assert!(policy_result(bad).is_err(), "{bad} was accepted");
        }
        assert_eq!(
            policy(&["HTTPS://App.Example:8443"]).allowed,
            ["https://app.example:8443"]
        );
    }

    fn policy_result(origin: &str) -> Result<BrowserPolicy, String> {
        BrowserArgs {
            cors_allowed_origins: vec![origin.into()],
        }
        .try_into()
    }

    #[test]
    fn the_issuer_the_host_and_allowed_origins_are_trusted() {
        let p = policy(&["https://app.example"]);
        let issuer = "https://auth.example/tenant";
        let trusted = |h: &HeaderMap| p.trusts(h, issuer);
        assert!(trusted(&headers(&[(
            header::ORIGIN,
            "https://auth.example"
        )])));
        assert!(trusted(&headers(&[(
            header::ORIGIN,
            "https://app.example"
        )])));
        assert!(trusted(&headers(&[
            (header::ORIGIN, "http://127.0.0.1:8080"),
            (header::HOST, "127.0.0.1:8080")
        ])));
        assert!(trusted(&headers(&[(
            header::REFERER,
            "https://auth.example/console?x"
        )])));
        assert!(!trusted(&headers(&[(
            header::ORIGIN,
            "https://evil.example"
        )])));
        assert!(!trusted(&headers(&[(header::ORIGIN, "null")])));
        assert!(!trusted(&headers(&[(
            header::ORIGIN,
            "https://auth.example.evil"
        )])));
        assert!(!trusted(&headers(&[(
            header::REFERER,
            "https://evil.example/https://auth.example"
        )])));
        assert!(!trusted(&headers(&[])));
    }
}
