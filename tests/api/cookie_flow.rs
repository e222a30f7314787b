//! The tutorial's cookie flow: clients created with `--refresh-cookie` get
//! their refresh token only in an HttpOnly cookie, and may refresh with it.

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, TestApp, assert_oauth_error, form_encode, spawn_app,
    spawn_app_with, spawn_app_with_default_cookie_security, str_field, token_success,
};

const SPA: &str = "spa";
const TEN_DAYS: u64 = 10 * 24 * 60 * 60;

/// One `Set-Cookie` header, split into its value and attributes.
struct SetCookie {
    raw: String,
    value: String,
    /// Attribute names in lower case, with their values.
    attributes: Vec<(String, Option<String>)>,
}

impl SetCookie {
    fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }

    fn max_age(&self) -> u64 {
        self.attribute("max-age")
            .flatten()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no numeric Max-Age in {}", self.raw))
    }
}

/// The `refresh_token` cookie a response sets, if any.
fn refresh_cookie(res: &reqwest::Response) -> Option<SetCookie> {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.trim_start().starts_with("refresh_token="))
        .map(|raw| {
            let mut parts = raw.split(';').map(str::trim);
            let value = parts
                .next()
                .and_then(|p| p.strip_prefix("refresh_token="))
                .unwrap_or_default()
                .to_string();
            let attributes = parts
                .filter(|p| !p.is_empty())
                .map(|p| match p.split_once('=') {
                    Some((n, v)) => (n.trim().to_ascii_lowercase(), Some(v.trim().to_string())),
                    None => (p.to_ascii_lowercase(), None),
                })
                .collect();
            SetCookie {
                raw: raw.to_string(),
                value,
                attributes,
            }
        })
}

async fn cookie_login(app: &TestApp, client_id: &str) -> (serde_json::Value, SetCookie) {
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", client_id),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    let cookie = refresh_cookie(&res).expect("a refresh_token cookie");
    (token_success(res).await, cookie)
}

async fn cookie_refresh(app: &TestApp, client_id: &str, cookie_value: &str) -> reqwest::Response {
    app.http
        .post(app.url("/oauth/token"))
        .header("cookie", format!("refresh_token={cookie_value}"))
        // What a browser on this server's own pages sends (see browser.rs).
        .header("origin", &app.address)
        .form(&[("grant_type", "refresh_token"), ("client_id", client_id)])
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn a_cookie_client_gets_its_refresh_token_only_in_an_http_only_cookie() {
    let app = spawn_app().await;
    app.create_public_client(SPA, &["--refresh-cookie"]);

    let (body, cookie) = cookie_login(&app, SPA).await;

    assert!(body["access_token"].is_string(), "{body}");
    assert!(
        body.get("refresh_token").is_none(),
        "no refresh token in the body: {body}"
    );
    assert!(cookie.value.len() >= 43, "{}", cookie.raw);
    assert_eq!(cookie.attribute("httponly"), Some(None), "{}", cookie.raw);
    assert_eq!(
        cookie.attribute("samesite"),
        Some(Some("Strict")),
        "{}",
        cookie.raw
    );
    assert_eq!(
        cookie.attribute("path"),
        Some(Some("/oauth")),
        "{}",
        cookie.raw
    );
    let max_age = cookie.max_age();
    assert!(
        (TEN_DAYS - 5..=TEN_DAYS).contains(&max_age),
        "Max-Age is the token's life: {}",
        cookie.raw
    );
    assert_eq!(
        cookie.attribute("secure"),
        None,
        "--cookie-secure false: {}",
        cookie.raw
    );
}

#[tokio::test]
async fn the_refresh_cookie_is_secure_by_default() {
    let app = spawn_app_with_default_cookie_security(&[]).await;
    app.create_public_client(SPA, &["--refresh-cookie"]);

    let (_, cookie) = cookie_login(&app, SPA).await;

    assert_eq!(cookie.attribute("secure"), Some(None), "{}", cookie.raw);
}

#[tokio::test]
async fn the_cookie_lives_no_longer_than_its_session() {
    let app = spawn_app_with(&["--session-ttl", "1h", "--refresh-token-ttl", "10d"]).await;
    app.create_public_client(SPA, &["--refresh-cookie"]);

    let (_, cookie) = cookie_login(&app, SPA).await;

    let max_age = cookie.max_age();
    assert!((3600 - 5..=3600).contains(&max_age), "{}", cookie.raw);
}

#[tokio::test]
async fn a_cookie_client_refreshes_with_the_cookie_alone() {
    let app = spawn_app().await;
    app.create_public_client(SPA, &["--refresh-cookie"]);
    let (_, first) = cookie_login(&app, SPA).await;

    let res = cookie_refresh(&app, SPA, &first.value).await;

    let second = refresh_cookie(&res).expect("a new refresh_token cookie");
    let body = token_success(res).await;
    assert!(body["access_token"].is_string(), "{body}");
    assert!(body.get("refresh_token").is_none(), "{body}");
    assert_ne!(second.value, first.value, "the cookie rotates");
    assert_eq!(second.attribute("httponly"), Some(None), "{}", second.raw);
    let me = app.me(str_field(&body, "access_token")).await;
    assert_eq!(me.status(), 200);
}

#[tokio::test]
async fn a_rotated_cookie_is_refused() {
    let app = spawn_app().await;
    app.create_public_client(SPA, &["--refresh-cookie"]);
    let (_, first) = cookie_login(&app, SPA).await;
    token_success(cookie_refresh(&app, SPA, &first.value).await).await;

    let res = cookie_refresh(&app, SPA, &first.value).await;

    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_confidential_cookie_client_refreshes_with_the_cookie() {
    let app = spawn_app().await;
    let (id, secret) = app.create_confidential_client("web", &["--refresh-cookie"]);
    let login = app
        .token_basic(
            &id,
            &secret,
            &[
                ("grant_type", "password"),
                ("username", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ],
        )
        .await;
    let cookie = refresh_cookie(&login).expect("a refresh_token cookie");
    let login = token_success(login).await;
    assert!(login.get("refresh_token").is_none(), "{login}");

    let res = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(form_encode(&id), Some(form_encode(&secret)))
        .header("cookie", format!("refresh_token={}", cookie.value))
        .header("origin", &app.address)
        .form(&[("grant_type", "refresh_token")])
        .send()
        .await
        .expect("request");

    assert!(refresh_cookie(&res).is_some(), "a new cookie");
    token_success(res).await;
}

#[tokio::test]
async fn a_client_without_the_cookie_flag_gets_no_refresh_cookie() {
    let app = spawn_app().await;

    let res = app.password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[]).await;

    assert!(refresh_cookie(&res).is_none());
    let body = token_success(res).await;
    assert!(body["refresh_token"].is_string(), "{body}");
}

#[tokio::test]
async fn a_client_without_the_cookie_flag_cannot_refresh_with_a_cookie() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let res = cookie_refresh(&app, CLI_CLIENT, str_field(&login, "refresh_token")).await;

    assert_oauth_error(res, 400, "invalid_request").await;
}
