//! GraphiQL and the console as HTTP sees them: their security headers, every
//! script and stylesheet served by Tessera itself under a digest URL with a
//! year-long cache, and the first-party cookie client they sign in with.
//! (What a person sees in a browser is in `browser_graphiql` and `browser_console`.)

use serde_json::json;

use crate::graphql::{admin, data, gql};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app, str_field};

const CONSOLE_CLIENT: &str = "tessera-console";

async fn page(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, String) {
    let res = app
        .http
        .get(app.url(path))
        .header("Accept", "text/html,application/xhtml+xml")
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200, "{path}");
    let headers = res.headers().clone();
    (headers, res.text().await.expect("body"))
}

fn header<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"))
        .to_str()
        .expect("ascii")
}

/// Every `src="…"` and `href="…"` of a page.
fn references(html: &str) -> Vec<String> {
    ["src=\"", "href=\""]
        .iter()
        .flat_map(|attr| html.split(attr).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .map(str::to_string)
        .collect()
}

fn assert_safe_page(headers: &reqwest::header::HeaderMap, html: &str) {
    assert!(header(headers, "content-type").starts_with("text/html"));
    let csp = header(headers, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    ] {
        assert!(csp.contains(directive), "CSP has {directive}: {csp}");
    }
    assert!(!csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"));
    assert_eq!(header(headers, "x-content-type-options"), "nosniff");
    assert_eq!(header(headers, "referrer-policy"), "no-referrer");
    assert!(
        !html.contains("<script>") && !html.contains("<script type"),
        "no inline script"
    );
    for url in references(html) {
        assert!(
            url.starts_with('/') && !url.starts_with("//"),
            "{url} is Tessera's own"
        );
    }
}

/// Fetches every asset a page names; returns the scripts' text.
async fn assets_of(app: &TestApp, html: &str) -> String {
    let mut scripts = String::new();
    for url in references(html)
        .into_iter()
        .filter(|u| u.starts_with("/assets/"))
    {
        let res = app.get(&url).await;
        assert_eq!(res.status(), 200, "{url}");
        let cache = header(res.headers(), "cache-control").to_string();
        assert!(
            cache.contains("max-age=31536000") && cache.contains("immutable"),
            "{cache}"
        );
        assert_eq!(header(res.headers(), "x-content-type-options"), "nosniff");
        let kind = header(res.headers(), "content-type").to_string();
        let body = res.text().await.expect("body");
        if url.ends_with(".js") {
            assert!(kind.starts_with("text/javascript"), "{url}: {kind}");
            scripts.push_str(&body);
        } else {
            assert!(kind.starts_with("text/css"), "{url}: {kind}");
        }
    }
    scripts
}

#[tokio::test]
async fn graphiql_is_served_whole_by_tessera_with_a_strict_policy() {
    let app = spawn_app().await;
    let (headers, html) = page(&app, "/graphql").await;
    assert_safe_page(&headers, &html);
    assert!(html.contains("graphiql.min.js") && html.contains("react-dom"));
    let scripts = assets_of(&app, &html).await;
    assert!(
        scripts.contains("graphql-transport-ws"),
        "subscriptions bundled"
    );
    assert!(
        scripts.contains("sessions(activeOnly: true"),
        "opens on the caller's sessions"
    );
    assert!(
        scripts.contains("\"Authorization\": \"Bearer"),
        "shows where a pasted token goes"
    );
    assert!(scripts.contains("/ws"), "subscriptions go to the WebSocket");
    assert!(!scripts.contains("unpkg.com") && !scripts.contains("localStorage.setItem('tessera"));
}

#[tokio::test]
async fn the_console_is_a_page_of_tessera_with_the_same_policy() {
    let app = spawn_app().await;
    let (headers, html) = page(&app, "/console").await;
    assert_safe_page(&headers, &html);
    assert!(html.contains(&format!("data-client-id=\"{CONSOLE_CLIENT}\"")));
    let scripts = assets_of(&app, &html).await;
    assert!(scripts.contains("tokenEvents") && scripts.contains("createClient"));
    let res = app.get("/console/").await;
    assert_eq!(res.status(), 308);
}

#[tokio::test]
async fn assets_are_gzipped_for_browsers_that_accept_it_and_old_digests_are_gone() {
    let app = spawn_app().await;
    let (_, html) = page(&app, "/graphql").await;
    let url = references(&html)
        .into_iter()
        .find(|u| u.ends_with("graphiql.min.js"))
        .expect("GraphiQL's script");
    let plain = app.get(&url).await.bytes().await.expect("body");
    let res = app
        .http
        .get(app.url(&url))
        .header("Accept-Encoding", "gzip, deflate, br")
        .send()
        .await
        .expect("request");
    assert_eq!(header(res.headers(), "content-encoding"), "gzip");
    let gzipped = res.bytes().await.expect("body");
    assert!(
        gzipped.len() * 2 < plain.len(),
        "{} vs {}",
        gzipped.len(),
        plain.len()
    );
    assert_eq!(&gzipped[..2], &[0x1f, 0x8b], "a gzip stream");

    let stale = url.replacen("/assets/", "/assets/0000000000000000", 1);
    assert_eq!(app.get(&stale).await.status(), 404);
    assert_eq!(app.get("/assets/x/nothing.js").await.status(), 404);
}

#[tokio::test]
async fn the_console_client_signs_in_with_the_refresh_token_only_in_a_cookie() {
    let app = spawn_app().await;
    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", CONSOLE_CLIENT),
            ("username", ADMIN_EMAIL),
            ("password", ADMIN_PASSWORD),
        ])
        .await;
    assert_eq!(res.status(), 200);
    let cookie = header(res.headers(), "set-cookie").to_string();
    assert!(cookie.starts_with("refresh_token=") && cookie.contains("HttpOnly"));
    assert!(cookie.contains("Path=/oauth"), "{cookie}");
    let body: serde_json::Value = res.json().await.expect("json");
    assert!(body.get("refresh_token").is_none(), "never in the body");
    str_field(&body, "access_token");

    // Sign-out: revoking by cookie also clears it.
    let value = cookie.split(';').next().expect("name=value").to_string();
    let res = app
        .http
        .post(app.url("/oauth/revoke"))
        .header("Cookie", &value)
        // As a browser sends it from the page (the cookie needs an origin).
        .header("Origin", &app.address)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!("client_id={CONSOLE_CLIENT}"))
        .send()
        .await
        .expect("revoke");
    assert_eq!(res.status(), 200);
    let cleared = header(res.headers(), "set-cookie");
    assert!(
        cleared.starts_with("refresh_token=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let res = app
        .http
        .post(app.url("/oauth/token"))
        .header("Cookie", &value)
        // As a browser sends it from the page (the cookie needs an origin).
        .header("Origin", &app.address)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=refresh_token&client_id={CONSOLE_CLIENT}"
        ))
        .send()
        .await
        .expect("refresh");
    assert_eq!(res.status(), 400, "the session is over");
}

#[tokio::test]
async fn the_console_client_is_made_again_on_start_when_missing() {
    let mut app = spawn_app().await;
    let admin = admin(&app).await;
    let deleted = gql(
        &app,
        Some(&admin.access),
        "mutation($id: String!) { deleteClient(clientId: $id) }",
        json!({ "id": CONSOLE_CLIENT }),
    )
    .await;
    assert_eq!(data(deleted)["deleteClient"], true);
    app.restart().await;
    let admin = crate::graphql::admin(&app).await;
    let clients = data(
        gql(
            &app,
            Some(&admin.access),
            "{ clients { clientId refreshCookie public } }",
            json!({}),
        )
        .await,
    );
    let console = clients["clients"]
        .as_array()
        .expect("clients")
        .iter()
        .find(|c| c["clientId"] == CONSOLE_CLIENT)
        .cloned()
        .expect("tessera-console is back");
    assert_eq!(console["refreshCookie"], true);
    assert_eq!(console["public"], true);
}
