//! The browser pages' scripts and stylesheets, embedded in the binary so that
//! the pages work without internet access. Each is served under a URL that
//! carries a digest of its content (`/assets/<digest>/<name>`), so browsers
//! may cache it for a year: a new build with other bytes gets another URL.
//! Vendored files (GraphiQL, React: see `assets/README.md`) come with a
//! gzip copy made by `assets/update.sh`, sent to browsers that accept it.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
    gzip: Option<&'static [u8]>,
}

macro_rules! vendored {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../../assets/vendor/", $name)),
            gzip: Some(include_bytes!(concat!(
                "../../assets/vendor/",
                $name,
                ".gz"
            ))),
        }
    };
}

macro_rules! ours {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("../../assets/web/", $name)),
            gzip: None,
        }
    };
}

static ASSETS: &[Asset] = &[
    vendored!("graphiql.min.js", JS),
    vendored!("graphiql.min.css", CSS),
    vendored!("react.production.min.js", JS),
    vendored!("react-dom.production.min.js", JS),
    ours!("auth.js", JS),
    ours!("graphiql-boot.js", JS),
    ours!("pages.css", CSS),
    ours!("console-api.js", JS),
    ours!("console-ui.js", JS),
    ours!("console-account.js", JS),
    ours!("console-users.js", JS),
    ours!("console-admin.js", JS),
    ours!("console-main.js", JS),
];

/// Each asset's digest, computed once.
fn digests() -> &'static [String] {
    static DIGESTS: OnceLock<Vec<String>> = OnceLock::new();
    DIGESTS.get_or_init(|| ASSETS.iter().map(|a| digest(a.body)).collect())
}

/// The first 16 hex digits of the SHA-256: enough to tell builds apart.
fn digest(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The URL of an embedded asset, for the pages' HTML. Panics on a name that
/// is not in the table: that is a programming error, caught by any test
/// that loads a page.
pub fn url(name: &str) -> String {
    match ASSETS.iter().position(|a| a.name == name) {
        Some(i) => format!("/assets/{}/{}", digests()[i], name),
        None => panic!("no embedded asset named {name}"),
    }
}

/// `GET /assets/{digest}/{name}`. An old digest is a 404, never another
/// version's bytes under a year-long cache.
pub async fn serve(Path((digest, name)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let found = ASSETS
        .iter()
        .zip(digests())
        .find(|(a, d)| a.name == name && **d == digest);
    let Some((asset, _)) = found else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let gzip = asset.gzip.filter(|_| accepts_gzip(&headers));
    let mut response = gzip.unwrap_or(asset.body).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip.is_some() {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    response
}

/// Whether `Accept-Encoding` lists gzip without refusing it (`gzip;q=0`).
fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| p.replace(' ', "") == "q=0" || p == "q=0.0");
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with(value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            header::ACCEPT_ENCODING,
            HeaderValue::from_str(value).unwrap(),
        );
        h
    }

    #[test]
    fn gzip_is_sent_only_when_accepted() {
        assert!(accepts_gzip(&with("gzip, deflate, br")));
        assert!(accepts_gzip(&with("br;q=1.0, GZIP;q=0.5")));
        assert!(accepts_gzip(&with("*")));
        assert!(!accepts_gzip(&with("gzip;q=0")));
        assert!(!accepts_gzip(&with("identity")));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn every_asset_has_a_url_with_its_digest() {
        for asset in ASSETS {
            let url = url(asset.name);
            assert!(url.starts_with("/assets/") && url.ends_with(asset.name));
            assert_eq!(url.len(), "/assets/".len() + 16 + 1 + asset.name.len());
        }
    }
}
