//! The pages' sign-in over time: the access token is refreshed before it
//! expires (through the cookie, rotating the session's refresh token), and
//! the server's default cookie settings work on a loopback address.

use crate::chromium;
use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app_with, spawn_app_with_default_cookie_security,
};

#[tokio::test]
async fn the_console_refreshes_its_access_token_before_it_expires() {
    let Some(browser) = chromium::open().await else {
        return;
    };
    let app = spawn_app_with(&["--access-token-ttl", "3s"]).await;
    browser.visit(&app.url("/console")).await;
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    browser.wait_text("#my-sessions", "this device").await;
    let first = browser.eval("return TesseraAuth.token();").await;
    // Two refreshes happen at ¾ of each 3 s life; wait for them, not a clock.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(40);
    loop {
        // Clicks only: a reload would refresh from the cookie by itself.
        browser.click("#sections a[href='#account']").await;
        browser.wait_text("#my-sessions", "this device").await;
        browser.click("#my-sessions a").await; // this session's lineage
        let lineage = browser.wait_text("#lineage", "of").await;
        if lineage.matches("ROTATED").count() >= 2 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no refresh: {lineage}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    // Still signed in, on a newer token than the first, after its expiry.
    browser.wait_text("#who", ADMIN_EMAIL).await;
    assert_ne!(browser.eval("return TesseraAuth.token();").await, first);
    browser.quit().await;
}

#[tokio::test]
async fn signing_in_works_with_the_default_secure_cookie_on_loopback() {
    let Some(browser) = chromium::open().await else {
        return;
    };
    let app = spawn_app_with_default_cookie_security(&[]).await;
    browser.visit(&app.url("/console")).await;
    browser.sign_in(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    // A reload resumes only if the browser kept the Secure cookie.
    browser.visit(&app.url("/console")).await;
    browser.wait_text("#who", ADMIN_EMAIL).await;
    browser.quit().await;
}
