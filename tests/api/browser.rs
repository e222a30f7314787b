//! Browsers on other origins: CORS only for listed origins and only on the
//! public endpoints, the origin check on requests that rely on the refresh
//! cookie, and the security headers of every answer.

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, assert_oauth_error, header, spawn_app, spawn_app_with,
    token_success,
};

const SPA: &str = "spa";
const APP_ORIGIN: &str = "https://app.example.test";
const EVIL: &str = "https://evil.example.test";

async fn preflight(app: &TestApp, path: &str, origin: &str) -> reqwest::Response {
    app.http
        .request(reqwest::Method::OPTIONS, app.url(path))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .expect("request")
}

#[tokio::test]
async fn cors_is_off_by_default() {
    let app = spawn_app().await;
    let res = preflight(&app, "/oauth/token", APP_ORIGIN).await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    let res = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .header("origin", APP_ORIGIN)
        .send()
        .await
        .expect("request");
    assert_eq!(header(&res, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn an_allowed_origin_gets_correct_preflights_on_the_public_endpoints() {
    let app = spawn_app_with(&[
        "--cors-allowed-origins",
        &format!("{APP_ORIGIN},https://other.test"),
    ])
    .await;
    for path in [
        "/oauth/token",
        "/oauth/revoke",
        "/.well-known/oauth-authorization-server",
        "/.well-known/jwks.json",
        "/api/me",
        "/graphql",
    ] {
        let res = preflight(&app, path, APP_ORIGIN).await;
        assert!(res.status().is_success(), "{path}: {}", res.status());
        assert_eq!(
            header(&res, "access-control-allow-origin").as_deref(),
            Some(APP_ORIGIN),
            "{path}"
        );
        assert_eq!(
            header(&res, "access-control-allow-credentials").as_deref(),
            Some("true"),
            "{path}"
        );
        let methods = header(&res, "access-control-allow-methods").unwrap_or_default();
        assert!(
            methods.contains("POST") && methods.contains("GET"),
            "{path}: {methods}"
        );
        let headers = header(&res, "access-control-allow-headers")
            .unwrap_or_default()
            .to_lowercase();
        assert!(
            headers.contains("authorization") && headers.contains("content-type"),
            "{path}"
        );
        assert_eq!(
            header(&res, "access-control-max-age").as_deref(),
            Some("600"),
            "{path}"
        );
        let vary = header(&res, "vary").unwrap_or_default().to_lowercase();
        assert!(vary.contains("origin"), "{path}: Vary {vary}");
    }
}

#[tokio::test]
async fn other_origins_and_introspection_get_no_cors() {
    let app = spawn_app_with(&["--cors-allowed-origins", APP_ORIGIN]).await;
    let res = preflight(&app, "/oauth/token", EVIL).await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
    let res = preflight(&app, "/oauth/introspect", APP_ORIGIN).await;
    assert_eq!(header(&res, "access-control-allow-origin"), None);
}

#[tokio::test]
async fn a_simple_request_from_an_allowed_origin_is_readable_and_varies_by_origin() {
    let app = spawn_app_with(&["--cors-allowed-origins", APP_ORIGIN]).await;
    let res = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .header("origin", APP_ORIGIN)
        .send()
        .await
        .expect("request");
    assert_eq!(
        header(&res, "access-control-allow-origin").as_deref(),
        Some(APP_ORIGIN)
    );
    assert!(
        header(&res, "vary")
            .unwrap_or_default()
            .to_lowercase()
            .contains("origin")
    );
}

#[tokio::test]
async fn a_wildcard_origin_is_refused_at_start() {
    let app = spawn_app().await;
    for bad in [
        "*",
        "https://*.example.test",
        "app.example.test",
        "https://a.test/path",
    ] {
        let out = app.cli_raw(&[
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--cors-allowed-origins",
            bad,
        ]);
        assert!(!out.status.success(), "{bad} was accepted");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("cors-allowed-origins"), "{bad}: {stderr}");
    }
}

/// Logs a cookie client in; returns the refresh cookie's value.
async fn cookie_login(app: &TestApp) -> String {
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", SPA),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    let cookie = header(&res, "set-cookie").expect("a cookie");
    token_success(res).await;
    let pair = cookie.split(';').next().expect("pair");
    pair.trim_start_matches("refresh_token=").to_string()
}

async fn with_cookie(
    app: &TestApp,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
    headers: &[(&str, &str)],
) -> reqwest::Response {
    let mut req = app
        .http
        .post(app.url(path))
        .header("cookie", format!("refresh_token={cookie}"))
        .form(form);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    req.send().await.expect("request")
}

const REFRESH: [(&str, &str); 2] = [("grant_type", "refresh_token"), ("client_id", SPA)];
const REVOKE: [(&str, &str); 1] = [("client_id", SPA)];

#[tokio::test]
async fn a_cookie_refresh_from_another_origin_is_refused() {
    let app = spawn_app_with(&["--cors-allowed-origins", APP_ORIGIN]).await;
    app.create_public_client(SPA, &["--refresh-cookie"]);
    let cookie = cookie_login(&app).await;
    for headers in [
        vec![("origin", EVIL)],
        vec![("origin", "null")],
        vec![("referer", "https://evil.example.test/page")],
        vec![],
    ] {
        let res = with_cookie(&app, "/oauth/token", &cookie, &REFRESH, &headers).await;
        assert_oauth_error(res, 400, "invalid_request").await;
        let res = with_cookie(&app, "/oauth/revoke", &cookie, &REVOKE, &headers).await;
        assert_oauth_error(res, 400, "invalid_request").await;
    }
    // The cookie still works from the allowed origin: nothing was spent.
    let res = with_cookie(
        &app,
        "/oauth/token",
        &cookie,
        &REFRESH,
        &[("origin", APP_ORIGIN)],
    )
    .await;
    token_success(res).await;
}

#[tokio::test]
async fn a_cookie_refresh_from_this_server_or_its_referer_is_accepted() {
    let app = spawn_app().await;
    app.create_public_client(SPA, &["--refresh-cookie"]);
    let cookie = cookie_login(&app).await;
    let res = with_cookie(
        &app,
        "/oauth/token",
        &cookie,
        &REFRESH,
        &[("origin", &app.address)],
    )
    .await;
    let next = header(&res, "set-cookie").expect("a new cookie");
    token_success(res).await;
    let next = next
        .split(';')
        .next()
        .expect("pair")
        .trim_start_matches("refresh_token=")
        .to_string();
    let page = format!("{}/console", app.address);
    let res = with_cookie(&app, "/oauth/token", &next, &REFRESH, &[("referer", &page)]).await;
    token_success(res).await;
}

#[tokio::test]
async fn a_cookie_revoke_from_an_allowed_origin_is_accepted() {
    let app = spawn_app_with(&["--cors-allowed-origins", APP_ORIGIN]).await;
    app.create_public_client(SPA, &["--refresh-cookie"]);
    let cookie = cookie_login(&app).await;
    let res = with_cookie(
        &app,
        "/oauth/revoke",
        &cookie,
        &REVOKE,
        &[("origin", APP_ORIGIN)],
    )
    .await;
    assert_eq!(res.status(), 200);
    let res = with_cookie(
        &app,
        "/oauth/token",
        &cookie,
        &REFRESH,
        &[("origin", APP_ORIGIN)],
    )
    .await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_client_that_sends_its_token_in_the_body_needs_no_origin() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let refresh = login["refresh_token"].as_str().expect("refresh token");
    // A stray cookie does not matter when the body names the token.
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", crate::helpers::CLI_CLIENT),
        ("refresh_token", refresh),
    ];
    let res = with_cookie(&app, "/oauth/token", "junk", &form, &[("origin", EVIL)]).await;
    token_success(res).await;
}

#[tokio::test]
async fn every_answer_carries_nosniff_and_a_referrer_policy() {
    let app = spawn_app().await;
    for path in [
        "/healthz",
        "/.well-known/jwks.json",
        "/api/me",
        "/graphql",
        "/nowhere",
    ] {
        let res = app.get(path).await;
        assert_eq!(
            header(&res, "x-content-type-options").as_deref(),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(
            header(&res, "referrer-policy").as_deref(),
            Some("no-referrer"),
            "{path}"
        );
        assert_eq!(
            header(&res, "strict-transport-security"),
            None,
            "{path}: http issuer"
        );
    }
    let res = app.token(&[("grant_type", "password")]).await;
    assert_eq!(
        header(&res, "x-content-type-options").as_deref(),
        Some("nosniff")
    );
}

#[tokio::test]
async fn an_https_issuer_turns_hsts_on() {
    let app = spawn_app_with(&["--issuer", "https://auth.example.test"]).await;
    let res = app.get("/healthz").await;
    assert_eq!(
        header(&res, "strict-transport-security").as_deref(),
        Some("max-age=31536000")
    );
}
