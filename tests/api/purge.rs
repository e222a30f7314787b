//! `tessera purge` and the background purge of `serve`: ended tokens and
//! sessions go once the retention period has passed, live ones stay, and
//! reuse is still detected for every token younger than the retention.

use std::time::{Duration, Instant};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, assert_oauth_error, spawn_app, spawn_app_with, str_field,
    token_success,
};

#[tokio::test]
async fn purge_deletes_ended_tokens_and_keeps_live_ones() {
    // Margins of seconds, not milliseconds: on two busy cores a login (an
    // argon2 hash) or a CLI start can take most of a second, and with a
    // 1 s lifetime the live token expired before the purge now and then.
    // The ended token expires at ~4 s and is purged at ~8 s (retention 3 s);
    // the live one, issued at ~8 s, lives until ~12 s.
    let app = spawn_app_with(&["--refresh-token-ttl", "4s", "--purge", "false"]).await;
    let ended = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let ended = str_field(&ended, "refresh_token").to_string();
    tokio::time::sleep(Duration::from_millis(8000)).await;
    let live = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let live = str_field(&live, "refresh_token").to_string();

    let purged = app.cli(&["purge", "--retention", "3s"]);

    assert_eq!(purged["count"], 1, "{purged}");
    assert_eq!(purged["refresh_tokens"], 1, "{purged}");
    token_success(app.refresh(&live).await).await;
    assert_oauth_error(app.refresh(&ended).await, 400, "invalid_grant").await;
    let again = app.cli(&["purge", "--retention", "3s"]);
    assert_eq!(again["count"], 0, "{again}");
}

#[tokio::test]
async fn reuse_is_detected_for_tokens_younger_than_the_retention() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let old = str_field(&login, "refresh_token").to_string();
    let rotated = token_success(app.refresh(&old).await).await;

    let purged = app.cli(&["purge"]);
    assert_eq!(
        purged["count"], 0,
        "the default retention is 7 days: {purged}"
    );

    assert_oauth_error(app.refresh(&old).await, 400, "invalid_grant").await;
    let newest = str_field(&rotated, "refresh_token");
    assert_oauth_error(app.refresh(newest).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn serve_purges_in_the_background_when_asked_to() {
    let app = spawn_app_with(&[
        "--refresh-token-ttl",
        "1s",
        "--retention",
        "1s",
        "--purge-interval",
        "1s",
    ])
    .await;
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let deadline = Instant::now() + Duration::from_secs(15);
    while !app.logs().contains("refresh_tokens=1") {
        assert!(
            Instant::now() < deadline,
            "no background purge:\n{}",
            app.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
