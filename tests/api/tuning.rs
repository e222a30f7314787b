//! The performance and durability settings: the benchmark's ceiling route,
//! SQLite's `synchronous`, and how many password hashes run at once.

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, spawn_app, spawn_app_with, spawn_app_with_env};

#[tokio::test]
async fn the_ceiling_route_is_absent_unless_asked_for() {
    let app = spawn_app().await;

    let res = app.post_form("/bench/ceiling", &[("a", "b")]).await;

    assert_eq!(res.status(), 404);
}

#[tokio::test]
async fn the_ceiling_route_answers_a_token_sized_uncacheable_body() {
    let app = spawn_app_with_env(&[], &[("TESSERA_BENCH_ROUTE", "true")]).await;

    let res = app
        .post_form("/bench/ceiling", &[("grant_type", "refresh_token")])
        .await;

    assert_eq!(res.status(), 200);
    crate::helpers::assert_no_store(&res);
    let body: serde_json::Value = res.json().await.expect("json");
    let size = body.to_string().len();
    assert!((600..900).contains(&size), "{size} bytes");
    assert_eq!(body["token_type"], "Bearer");
}

#[tokio::test]
async fn refresh_works_and_survives_a_kill_with_full_synchronous() {
    let mut app = spawn_app_with(&["--sqlite-synchronous", "full"]).await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let first = login["refresh_token"].as_str().expect("refresh token");
    let res = app.refresh(first).await;
    let rotated = crate::helpers::token_success(res).await;
    let second = rotated["refresh_token"].as_str().expect("refresh token");

    app.restart().await;

    let res = app.refresh(second).await;
    crate::helpers::token_success(res).await;
}

#[tokio::test]
async fn synchronous_is_read_from_the_environment_too() {
    let app = spawn_app_with_env(&[], &[("TESSERA_SQLITE_SYNCHRONOUS", "full")]).await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = login["refresh_token"].as_str().expect("refresh token");

    crate::helpers::token_success(app.refresh(token).await).await;
}

/// The server's threads whose name starts with `prefix`.
fn threads_named(pid: u32, prefix: &str) -> usize {
    let tasks = std::fs::read_dir(format!("/proc/{pid}/task")).expect("the server's threads");
    tasks
        .filter_map(Result::ok)
        .filter(|t| {
            std::fs::read_to_string(t.path().join("comm")).is_ok_and(|c| c.starts_with(prefix))
        })
        .count()
}

#[tokio::test]
async fn password_hashes_run_on_as_many_threads_as_configured() {
    let app = spawn_app_with(&["--password-hash-threads", "1"]).await;
    let two = spawn_app_with_env(&[], &[("TESSERA_PASSWORD_HASH_THREADS", "2")]).await;

    assert_eq!(threads_named(app.pid(), "argon2-"), 1);
    assert_eq!(threads_named(two.pid(), "argon2-"), 2);
    // And logins still work with one.
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
}
