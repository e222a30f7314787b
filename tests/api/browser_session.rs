//! The pages' sign-in over time: the access token is refreshed before it
//! expires (through the cookie, rotating the session's refresh token), and
//! the server's default cookie settings work on a loopback address.

use crate::chromium;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app_with_default_cookie_security};

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
