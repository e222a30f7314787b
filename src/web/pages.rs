//! The two HTML pages, GraphiQL (`GET /graphql` from a browser) and the
//! console (`GET /console`), with the headers that keep them safe. Neither
//! page has an inline script: all code comes from `/assets/…`, which the
//! Content-Security-Policy below is the only place scripts may come from.

use axum::http::{HeaderName, HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};

use super::assets::url;
use crate::bootstrap::CONSOLE_CLIENT_ID;

/// `'self'` covers same-origin `ws:`/`wss:` in CSP Level 3 (Chromium,
/// Firefox and Safari agree), so subscriptions need no host here. GraphiQL's
/// stylesheet carries its fonts and icons as `data:` URLs. `form-action
/// 'none'`: the sign-in forms are sent by script; should the script not
/// run, a plain submit must not put a password in a URL.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; \
    form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

/// A page with the headers only pages carry (`nosniff` and
/// `Referrer-Policy` come from the layer every answer goes through).
fn page(html: String) -> Response {
    let mut response = Html(html).into_response();
    let h = response.headers_mut();
    let fixed: [(HeaderName, &'static str); 3] = [
        (header::CONTENT_SECURITY_POLICY, CSP),
        (header::X_FRAME_OPTIONS, "DENY"),
        // The HTML names the assets' digests: always ask for the current one.
        (header::CACHE_CONTROL, "no-cache"),
    ];
    for (name, value) in fixed {
        h.insert(name, HeaderValue::from_static(value));
    }
    response
}

fn head(title: &str, styles: &[&str]) -> String {
    let links: String = styles
        .iter()
        .map(|s| format!("  <link rel=\"stylesheet\" href=\"{}\">\n", url(s)))
        .collect();
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\" data-client-id=\"{CONSOLE_CLIENT_ID}\">\n<head>\n  \
         <meta charset=\"utf-8\">\n  <meta name=\"robots\" content=\"noindex\">\n  \
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n  \
         <title>{title}</title>\n{links}</head>\n"
    )
}

fn scripts(names: &[&str]) -> String {
    names
        .iter()
        .map(|s| format!("  <script src=\"{}\" defer></script>\n", url(s)))
        .collect()
}

/// The sign-in bar both pages share; `auth.js` drives it.
const SIGN_IN_BAR: &str = r#"  <header class="bar">
    <span class="brand">Tessera</span>
    <nav class="links"><a href="/graphql">GraphiQL</a> <a href="/console">Console</a></nav>
    <form id="sign-in" class="sign-in" method="post" hidden>
      <label>Email <input name="email" type="email" autocomplete="username" required></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
    </form>
    <span id="signed-in" class="signed-in" hidden>
      <span id="who"></span> <button type="button" id="sign-out">Sign out</button>
    </span>
    <span id="auth-status" class="status" role="status" aria-live="polite"></span>
  </header>
"#;

pub fn graphiql() -> Response {
    let html = format!(
        "{}<body class=\"graphiql-page\">\n{SIGN_IN_BAR}  <div id=\"graphiql\">Loading GraphiQL…</div>\n{}</body>\n</html>\n",
        head("Tessera · GraphiQL", &["graphiql.min.css", "pages.css"]),
        scripts(&[
            "react.production.min.js",
            "react-dom.production.min.js",
            "graphiql.min.js",
            "auth.js",
            "graphiql-boot.js",
        ]),
    );
    page(html)
}

pub fn console() -> Response {
    let html = format!(
        "{}<body class=\"console-page\">\n{SIGN_IN_BAR}  <nav id=\"sections\" class=\"sections\" hidden></nav>\n  \
         <div id=\"error\" class=\"error\" role=\"alert\" hidden></div>\n  \
         <main id=\"main\"><p class=\"empty\">Sign in to manage your sessions.</p></main>\n{}</body>\n</html>\n",
        head("Tessera · Console", &["pages.css"]),
        scripts(&[
            "auth.js",
            "console-api.js",
            "console-ui.js",
            "console-account.js",
            "console-users.js",
            "console-admin.js",
            "console-main.js",
        ]),
    );
    page(html)
}
