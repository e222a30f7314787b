//! `GET /metrics`: Prometheus series an operator alerts on, with bounded
//! labels only.

use std::time::{Duration, Instant};

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, assert_oauth_error, spawn_app, spawn_app_with, str_field,
    token_success,
};

async fn scrape_at(app: &TestApp, url: &str) -> String {
    let res = app.http.get(url).send().await.expect("request");
    assert_eq!(res.status(), 200);
    res.text().await.expect("body")
}

async fn scrape(app: &TestApp) -> String {
    scrape_at(app, &app.url("/metrics")).await
}

/// The value of the series written exactly `series` (name and labels).
fn value(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

fn assert_value(text: &str, series: &str, expected: f64) {
    assert_eq!(value(text, series), Some(expected), "{series} in:\n{text}");
}

/// Scrapes until `series` is present (values counted in the background).
async fn eventually(app: &TestApp, series: &str) -> f64 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = scrape(app).await;
        if let Some(v) = value(&text, series) {
            return v;
        }
        assert!(Instant::now() < deadline, "no {series} in:\n{text}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn requests_are_counted_by_route_pattern_never_by_raw_path() {
    let app = spawn_app().await;
    app.get("/healthz").await;
    app.get("/no/such/path-4f1c2a").await;
    app.get("/another-secret-looking-path").await;

    let text = scrape(&app).await;
    assert_value(
        &text,
        r#"tessera_http_requests_total{route="/healthz",method="GET",status="200"}"#,
        1.0,
    );
    assert_value(
        &text,
        r#"tessera_http_requests_total{route="unmatched",method="GET",status="404"}"#,
        2.0,
    );
    assert!(
        text.contains(
            r#"tessera_http_request_duration_seconds_bucket{route="/healthz",method="GET",le="#
        ),
        "{text}"
    );
    assert!(!text.contains("path-4f1c2a") && !text.contains("another-secret"));
}

#[tokio::test]
async fn token_outcomes_rotations_reuse_and_revocations_are_counted() {
    let app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first = str_field(&login, "refresh_token").to_string();
    token_success(app.refresh(&first).await).await;
    let wrong = app
        .password_grant(ADMIN_EMAIL, "not the password at all", &[])
        .await;
    assert_oauth_error(wrong, 400, "invalid_grant").await;
    assert_oauth_error(app.refresh(&first).await, 400, "invalid_grant").await;
    let unknown = app
        .token(&[
            ("grant_type", "urn:x:made-up"),
            ("client_id", "tessera-cli"),
        ])
        .await;
    assert_oauth_error(unknown, 400, "unsupported_grant_type").await;

    let text = scrape(&app).await;
    for (series, expected) in [
        (
            r#"tessera_token_requests_total{grant_type="password",outcome="success"}"#,
            1.0,
        ),
        (
            r#"tessera_token_requests_total{grant_type="password",outcome="invalid_grant"}"#,
            1.0,
        ),
        (
            r#"tessera_token_requests_total{grant_type="refresh_token",outcome="success"}"#,
            1.0,
        ),
        (
            r#"tessera_token_requests_total{grant_type="refresh_token",outcome="invalid_grant"}"#,
            1.0,
        ),
        (
            r#"tessera_token_requests_total{grant_type="other",outcome="unsupported_grant_type"}"#,
            1.0,
        ),
        ("tessera_refresh_tokens_issued_total", 2.0),
        ("tessera_refresh_tokens_rotated_total", 1.0),
        ("tessera_refresh_token_reuse_detected_total", 1.0),
        // The reuse revoked the second token, the one still active.
        (
            r#"tessera_refresh_tokens_revoked_total{reason="reuse_detected"}"#,
            1.0,
        ),
    ] {
        assert_value(&text, series, expected);
    }
    let batches = value(&text, "tessera_rotation_batch_size_count").unwrap_or(0.0);
    assert!(batches >= 1.0, "{text}");
    assert!(value(&text, "tessera_rotation_commit_duration_seconds_count").unwrap_or(0.0) >= 1.0);
    assert!(!text.contains("made-up"));
}

#[tokio::test]
async fn a_lockout_is_counted() {
    let app = spawn_app_with(&["--lockout-threshold", "1"]).await;
    let wrong = app
        .password_grant(ADMIN_EMAIL, "not the password at all", &[])
        .await;
    assert_oauth_error(wrong, 400, "invalid_grant").await;

    assert_value(&scrape(&app).await, "tessera_account_lockouts_total", 1.0);
}

#[tokio::test]
async fn process_pool_hashing_and_key_metrics_are_reported() {
    let app = spawn_app().await;
    let text = scrape(&app).await;
    for series in [
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_threads",
        "process_start_time_seconds",
    ] {
        assert!(
            value(&text, series).unwrap_or(0.0) > 0.0,
            "{series} in:\n{text}"
        );
    }
    assert!(
        value(&text, "process_cpu_seconds_total").is_some(),
        "{text}"
    );
    assert!(
        value(&text, r#"tessera_db_pool_connections{state="idle"}"#).is_some(),
        "{text}"
    );
    assert!(value(&text, "tessera_db_pool_max_connections").unwrap_or(0.0) >= 1.0);
    assert_value(&text, "tessera_password_hash_queue_depth", 0.0);
    assert_value(&text, "tessera_password_hash_rejections_total", 0.0);
    let age = eventually(&app, "tessera_signing_key_age_seconds").await;
    assert!((0.0..3600.0).contains(&age), "{age}");
}

#[tokio::test]
async fn active_sessions_are_counted_in_the_background() {
    let mut app = spawn_app().await;
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // The count runs at start and every 15 s: a restart shows it at once.
    app.restart().await;

    let deadline = Instant::now() + Duration::from_secs(10);
    while eventually(&app, "tessera_active_sessions").await != 2.0 {
        assert!(Instant::now() < deadline, "active sessions never reached 2");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn metrics_bind_moves_metrics_off_the_main_address() {
    let app = spawn_app_with(&["--metrics-bind", "127.0.0.1:0"]).await;
    assert_eq!(app.get("/metrics").await.status(), 404);

    let logs = app.logs();
    let url = logs
        .lines()
        .find_map(|l| l.split("metrics on ").nth(1))
        .map(|rest| {
            rest.split_whitespace()
                .next()
                .unwrap_or("")
                .trim_end_matches('"')
                .to_string()
        })
        .unwrap_or_else(|| panic!("no metrics address in:\n{logs}"));
    let text = scrape_at(&app, &url).await;
    assert!(
        text.contains("# TYPE tessera_db_queries_total counter"),
        "{text}"
    );
}
