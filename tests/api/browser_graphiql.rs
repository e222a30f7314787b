//! GraphiQL in a real browser with no internet: it renders, signs in, runs
//! `me`, receives a subscription event, still takes a pasted token, resumes
//! after a reload from the cookie alone, and signs out for good.

use serde_json::json;

use crate::chromium::{self, Browser};
use crate::graphql::{admin, data, gql, new_user};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};

/// Replaces an editor's text, as typing would (CodeMirror keeps its
/// instance on its element).
async fn set_editor(browser: &Browser, editor: &str, text: &str) {
    browser.wait_for(&format!("{editor} .CodeMirror")).await;
    let script = format!(
        "document.querySelector('{editor} .CodeMirror').CodeMirror.setValue({});",
        json!(text)
    );
    browser.eval(&format!("{script} return true;")).await;
    // GraphiQL reads the operation's name from the editor after a pause.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
}

async fn run(browser: &Browser) {
    browser.click(".graphiql-execute-button").await;
}

const RESULT: &str = ".graphiql-response";

/// How many of the admin's console sessions are still active.
async fn active_console_sessions(app: &TestApp) -> usize {
    let admin = admin(app).await;
    let body = gql(
        app,
        Some(&admin.access),
        "{ sessions(activeOnly: true, first: 100) { edges { node { clientId } } } }",
        json!({}),
    )
    .await;
    data(body)["sessions"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .filter(|e| e["node"]["clientId"] == "tessera-console")
        .count()
}

#[tokio::test]
async fn graphiql_works_offline_signs_in_runs_me_and_receives_a_subscription_event() {
    let Some(browser) = chromium::open().await else {
        return;
    };
    let app = spawn_app().await;
    let started = std::time::Instant::now();
    browser.visit(&app.url("/graphql")).await;
    browser
        .wait_for(".graphiql-container .graphiql-query-editor .CodeMirror")
        .await;
    browser.wait_for("#sign-in").await;
    eprintln!("GraphiQL interactive after {:?}", started.elapsed());
    for url in browser.fetched_urls().await {
        assert!(url.starts_with(&app.address), "{url} is not Tessera's");
    }

    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // The example query, as the page opens, asks for `me` too.
    run(&browser).await;
    browser
        .wait_text(RESULT, "\"email\": \"admin@localhost\"")
        .await;
    browser.readme_screenshot("graphiql").await;

    // Nothing a script can read holds a token.
    let token = browser.eval("return TesseraAuth.token();").await;
    let token = token.as_str().expect("a token in memory");
    let stored = browser
        .eval("return JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage), document.cookie, location.href]);")
        .await;
    let stored = stored.as_str().unwrap_or_default();
    assert!(
        !stored.contains(token) && !stored.contains("eyJ"),
        "token stored: {stored}"
    );
    assert!(
        !stored.contains("refresh_token"),
        "the refresh cookie is HttpOnly"
    );

    // A subscription: the WebSocket's connection_init carries the token.
    set_editor(
        &browser,
        ".graphiql-query-editor",
        "subscription { tokenEvents { type clientId } }",
    )
    .await;
    run(&browser).await;
    // The event: another login of the admin. Subscribing takes a moment.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        admin(&app).await;
        tokio::time::sleep(std::time::Duration::from_millis(700)).await;
        let text = browser
            .client
            .find(fantoccini::Locator::Css(RESULT))
            .await
            .expect("result");
        if text.text().await.unwrap_or_default().contains("ISSUED") {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no subscription event arrived"
        );
    }
    browser.screenshot("graphiql-subscription").await;
    run(&browser).await; // stops the subscription

    // A token pasted into the Headers tab wins over the signed-in one.
    let bob = new_user(&app, "bob@example.com").await;
    browser
        .click_button(".graphiql-editor-tools", "Headers")
        .await;
    let headers = json!({ "Authorization": format!("Bearer {}", bob.access) }).to_string();
    set_editor(
        &browser,
        ".graphiql-editor-tool .graphiql-editor:not(.hidden)",
        &headers,
    )
    .await;
    set_editor(&browser, ".graphiql-query-editor", "{ me { email } }").await;
    run(&browser).await;
    browser.wait_text(RESULT, "bob@example.com").await;

    // A reload forgets the access token; the cookie brings a new one.
    browser.visit(&app.url("/graphql")).await;
    browser.wait_text("#who", ADMIN_EMAIL).await;
    assert_eq!(active_console_sessions(&app).await, 1);

    browser.click("#sign-out").await;
    browser.wait_for("#sign-in").await;
    browser.wait_text("#auth-status", "Signed out").await;
    assert_eq!(
        active_console_sessions(&app).await,
        0,
        "sign-out revoked the session"
    );
    browser.visit(&app.url("/graphql")).await;
    browser.wait_for("#sign-in").await;
    browser.quit().await;
}
