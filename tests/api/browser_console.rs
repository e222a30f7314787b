//! The console in a real browser with no internet, as an admin and as a
//! plain user, asserting on what a person sees.

use serde_json::json;

use crate::chromium::{self, Browser};
use crate::graphql::{PASSWORD, data, gql, refresh_ok, sign_in};
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, spawn_app};

/// The session of an access token, by asking GraphQL which one is current.
async fn current_session(app: &TestApp, access: &str) -> String {
    let body = gql(
        app,
        Some(access),
        "{ sessions(first: 100) { edges { node { id isCurrent } } } }",
        json!({}),
    )
    .await;
    data(body)["sessions"]["edges"]
        .as_array()
        .expect("edges")
        .iter()
        .find(|e| e["node"]["isCurrent"] == true)
        .and_then(|e| e["node"]["id"].as_str())
        .expect("a current session")
        .to_string()
}

async fn open_console(browser: &Browser, app: &TestApp, email: &str, password: &str) {
    browser.visit(&app.url("/console")).await;
    browser.sign_in(email, password).await;
    browser.wait_text("main h1", "My account").await;
    browser.wait_text("#my-sessions", "this device").await;
}

async fn go(browser: &Browser, app: &TestApp, fragment: &str) {
    browser
        .visit(&app.url(&format!("/console#{fragment}")))
        .await;
}

#[tokio::test]
async fn an_admin_finds_a_user_revokes_a_session_reads_its_lineage_and_manages_clients_and_keys() {
    let Some(browser) = chromium::open().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_user("ada@example.com", PASSWORD);
    let doomed = sign_in(&app, "ada@example.com", PASSWORD).await;
    let kept = sign_in(&app, "ada@example.com", PASSWORD).await;
    let (_, second) = refresh_ok(&app, &kept.refresh).await;
    let (kept_access, _) = refresh_ok(&app, &second).await;
    let doomed_session = current_session(&app, &doomed.access).await;
    let kept_session = current_session(&app, &kept_access).await;

    let started = std::time::Instant::now();
    browser.visit(&app.url("/console")).await;
    browser.wait_for("#sign-in").await;
    eprintln!("console interactive after {:?}", started.elapsed());
    open_console(&browser, &app, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_text("#sections", "Signing keys").await;

    // Find the user and open them.
    browser.click("#sections a[href='#users']").await;
    browser.fill("#user-search input[name=q]", "ada").await;
    browser.click("#user-search button[type=submit]").await;
    browser.wait_text("#user-results", "1–1 of 1").await;
    browser.click("#user-results a").await;
    browser.wait_text("main h1", "ada@example.com").await;
    browser.wait_text("#user-sessions", "1–2 of 2").await;
    browser.readme_screenshot("console").await;

    // Revoke one session: its refresh token is refused from then on.
    browser
        .click(&format!(
            "button[aria-label='Revoke session {doomed_session}']"
        ))
        .await;
    browser
        .wait_text("#user-sessions", "revoked_by_admin")
        .await;
    let res = app.refresh(&doomed.refresh).await;
    assert_eq!(
        res.status(),
        400,
        "the revoked session's refresh token is refused"
    );

    // The other session's lineage: the login and two rotations.
    browser
        .click(&format!("#user-sessions a[href='#session/{kept_session}']"))
        .await;
    browser.wait_text("main h1", "lineage").await;
    let lineage = browser.wait_text("#lineage", "1–3 of 3").await;
    assert_eq!(lineage.matches("ROTATED").count(), 2, "{lineage}");
    assert_eq!(lineage.matches("ACTIVE").count(), 1, "{lineage}");
    browser.screenshot("console-lineage").await;

    // Disable, enable, set roles.
    browser.client.back().await.expect("back");
    browser.click("#toggle-disabled").await;
    browser.client.accept_alert().await.expect("confirm");
    browser.wait_text("#user-state", "disabled").await;
    browser.click("#toggle-disabled").await;
    browser.wait_text("#user-state", "enabled").await;
    browser
        .fill("#set-roles input[name=roles]", "auditor, support")
        .await;
    browser.click("#set-roles button[type=submit]").await;
    browser.wait_text("#user-roles", "auditor, support").await;

    // Live events of that user.
    let ada_id = doomed.id.clone();
    go(&browser, &app, &format!("events/{ada_id}")).await;
    browser.wait_text("#event-state", "Live.").await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    sign_in(&app, "ada@example.com", PASSWORD).await;
    browser.wait_text("#event-list", "ISSUED").await;

    // A client: its secret is shown once, then never again.
    go(&browser, &app, "clients").await;
    browser.wait_text("#client-list", "tessera-console").await;
    browser
        .fill("#create-client input[name=clientId]", "billing")
        .await;
    browser.click("#create-client button[type=submit]").await;
    let shown = browser
        .wait_text("#client-secret", "shown only this once")
        .await;
    let secret = browser
        .wait_for("#client-secret code")
        .await
        .text()
        .await
        .expect("secret");
    assert!(secret.len() >= 32 && shown.contains(&secret));
    browser.wait_text("#client-list", "billing").await;
    browser.screenshot("console-client-secret").await;
    browser
        .click_button("#client-secret", "I have copied it")
        .await;
    go(&browser, &app, "keys").await;
    go(&browser, &app, "clients").await;
    browser.wait_text("#client-list", "billing").await;
    let source = browser.client.source().await.expect("source");
    assert!(
        !source.contains(&secret),
        "the secret is gone from the page"
    );

    // Delete it.
    browser
        .click("button[aria-label='Delete client billing']")
        .await;
    browser.client.accept_alert().await.expect("confirm");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    while browser
        .wait_text("#client-list", "tessera-cli")
        .await
        .contains("billing")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "billing was not deleted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }

    // Signing keys: rotate.
    go(&browser, &app, "keys").await;
    browser.wait_text("#key-list", "1–1 of 1").await;
    browser.click("#rotate-key").await;
    browser.client.accept_alert().await.expect("confirm");
    let keys = browser.wait_text("#key-list", "1–2 of 2").await;
    assert!(
        keys.contains("current") && keys.contains("retired"),
        "{keys}"
    );

    // Readable on a phone: nothing wider than the screen.
    browser
        .client
        .set_window_size(390, 844)
        .await
        .expect("resize");
    go(&browser, &app, "account").await;
    browser.wait_text("#my-sessions", "this device").await;
    let overflow = browser
        .eval("return document.documentElement.scrollWidth - window.innerWidth;")
        .await;
    assert!(
        overflow.as_i64().unwrap_or(999) <= 1,
        "wider than a phone by {overflow}"
    );
    browser.screenshot("console-phone").await;
    browser.quit().await;
}

#[tokio::test]
async fn a_user_sees_no_admin_controls_gets_forbidden_and_manages_their_own_sessions() {
    let Some(browser) = chromium::open().await else {
        return;
    };
    let app = spawn_app().await;
    app.create_user("bob@example.com", PASSWORD);
    let elsewhere = sign_in(&app, "bob@example.com", PASSWORD).await;

    open_console(&browser, &app, "bob@example.com", PASSWORD).await;
    let sections = browser.wait_text("#sections", "My account").await;
    for admin_only in ["Users", "Clients", "Signing keys"] {
        assert!(
            !sections.contains(admin_only),
            "{admin_only} shown: {sections}"
        );
    }
    let mine = browser.wait_text("#my-sessions", "1–2 of 2").await;
    assert_eq!(mine.matches("this device").count(), 1);

    // Trying an admin view by its address.
    go(&browser, &app, "users").await;
    browser.wait_text("#error", "FORBIDDEN").await;
    browser.screenshot("console-forbidden").await;

    // Revoke every other session: the other login's refresh token dies.
    go(&browser, &app, "account").await;
    browser
        .click_button("main", "Revoke all other sessions")
        .await;
    browser.wait_text("main", "1 other session revoked.").await;
    assert_eq!(app.refresh(&elsewhere.refresh).await.status(), 400);
    browser.wait_text("#my-sessions", "this device").await;

    // Change the password; the new one signs in.
    browser
        .fill("#change-password input[name=current]", PASSWORD)
        .await;
    browser
        .fill(
            "#change-password input[name=next]",
            "a brand new passphrase",
        )
        .await;
    browser
        .fill(
            "#change-password input[name=again]",
            "a brand new passphrase",
        )
        .await;
    browser.click("#change-password button[type=submit]").await;
    browser
        .wait_text("#change-password", "Password changed")
        .await;
    sign_in(&app, "bob@example.com", "a brand new passphrase").await;

    // A wrong current password is a clear error, not a crash.
    browser
        .fill("#change-password input[name=current]", "not my password")
        .await;
    browser
        .fill("#change-password input[name=next]", "another passphrase")
        .await;
    browser
        .fill("#change-password input[name=again]", "another passphrase")
        .await;
    browser.click("#change-password button[type=submit]").await;
    let error = browser.wait_text("#error", ":").await;
    assert!(
        error.contains("BAD_USER_INPUT") || error.contains("FORBIDDEN"),
        "{error}"
    );
    browser.quit().await;
}
