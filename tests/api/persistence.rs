//! A restart (here a SIGKILL) loses nothing: tokens, keys, rotations and
//! lockouts all live in the database.

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, TestApp, assert_oauth_error, json_body, spawn_app_with, str_field,
    token_success,
};
use crate::jwt::decode_unverified;

/// A fixed issuer: the default one follows the bound address, and a restart
/// binds another port, which would rightly invalidate earlier access tokens.
async fn spawn_app() -> TestApp {
    spawn_app_with(&["--issuer", "http://tessera.test"]).await
}

#[tokio::test]
async fn tokens_issued_before_a_restart_still_work_after_it() {
    let mut app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    app.restart().await;

    assert_eq!(
        app.me(str_field(&login, "access_token")).await.status(),
        200
    );
    let refreshed = token_success(app.refresh(str_field(&login, "refresh_token")).await).await;
    assert_eq!(
        app.me(str_field(&refreshed, "access_token")).await.status(),
        200
    );
}

#[tokio::test]
async fn the_signing_key_survives_a_restart() {
    let mut app = spawn_app().await;
    let before = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (before, _) = decode_unverified(str_field(&before, "access_token"));

    app.restart().await;
    let after = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    let (after, _) = decode_unverified(str_field(&after, "access_token"));
    assert_eq!(after["kid"], before["kid"]);
    let jwks = json_body(app.get("/.well-known/jwks.json").await).await;
    assert!(
        jwks["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .any(|k| k["kid"] == before["kid"]),
        "{jwks}"
    );
}

#[tokio::test]
async fn a_rotation_committed_before_a_restart_is_not_lost() {
    let mut app = spawn_app().await;
    let retired = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let retired = str_field(&retired, "refresh_token").to_string();
    let current = token_success(app.refresh(&retired).await).await;
    let current = str_field(&current, "refresh_token").to_string();

    app.restart().await;

    token_success(app.refresh(&current).await).await;
    assert_oauth_error(app.refresh(&retired).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_locked_account_stays_locked_across_a_restart() {
    let mut app = spawn_app_with(&[
        "--issuer",
        "http://tessera.test",
        "--lockout-threshold",
        "3",
        "--lockout-duration",
        "10m",
    ])
    .await;
    for _ in 0..3 {
        let res = app.password_grant(ADMIN_EMAIL, "wrong password", &[]).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }

    app.restart().await;

    let res = app.password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[]).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn users_and_clients_created_with_the_cli_survive_a_restart() {
    let mut app = spawn_app().await;
    app.create_user("frank@example.com", "frank's long password 1");
    app.create_public_client("kiosk", &[]);

    app.restart().await;

    let res = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", "kiosk"),
            ("username", "frank@example.com"),
            ("password", "frank's long password 1"),
        ])
        .await;
    token_success(res).await;
}

/// The SQLite file a test server uses.
fn sqlite_path(app: &TestApp) -> String {
    app.database_url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .expect("path")
        .to_string()
}

#[tokio::test]
async fn a_graceful_stop_leaves_everything_in_the_sqlite_file() {
    if crate::backend::is_postgres() {
        return; // a file of SQLite's
    }
    let mut app = spawn_app().await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut refresh = str_field(&login, "refresh_token").to_string();
    for _ in 0..20 {
        let res = token_success(app.refresh(&refresh).await).await;
        refresh = str_field(&res, "refresh_token").to_string();
    }

    assert!(app.stop_gracefully(), "logs:\n{}", app.logs());

    // Nothing left in the write-ahead log: the file alone is the database
    // (a copy of it is a backup), and the next start has nothing to replay.
    let wal = std::fs::metadata(format!("{}-wal", sqlite_path(&app)))
        .map(|m| m.len())
        .unwrap_or(0);
    assert_eq!(wal, 0, "bytes left in the WAL");
    app.restart().await;
    token_success(app.refresh(&refresh).await).await;
}

#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    if crate::backend::is_postgres() {
        return; // a file of SQLite's
    }
    let app = crate::helpers::spawn_app().await;
    let mode = std::fs::metadata(sqlite_path(&app))
        .expect("database file")
        .permissions()
        .mode();
    assert_eq!(
        mode & 0o077,
        0,
        "the database holds the signing keys: mode {mode:o}"
    );
}

#[tokio::test]
async fn a_postgresql_on_this_machine_is_reached_without_tls() {
    if !crate::backend::is_postgres() {
        return; // SQLite has no connections to look at
    }
    let app = spawn_app().await;
    let local = [
        "@127.0.0.1:",
        "@localhost:",
        "@[::1]:",
        "@127.0.0.1/",
        "@localhost/",
    ];
    if !local.iter().any(|host| app.database_url.contains(host)) {
        return; // a PostgreSQL elsewhere: TLS is its URL's to choose
    }
    app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;

    // The server's connections, seen from PostgreSQL (this one excluded).
    use sea_orm::ConnectionTrait;
    let db = sea_orm::Database::connect(&app.database_url)
        .await
        .expect("connect");
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(
            sea_orm::DbBackend::Postgres,
            "SELECT s.ssl FROM pg_stat_ssl s JOIN pg_stat_activity a USING (pid) \
             WHERE a.datname = current_database() AND a.pid <> pg_backend_pid()",
        ))
        .await
        .expect("pg_stat_ssl");
    let ssl: Vec<bool> = rows
        .iter()
        .map(|row| row.try_get("", "ssl").expect("ssl"))
        .collect();
    assert!(!ssl.is_empty(), "the server holds no connection");
    assert!(
        ssl.iter().all(|on| !on),
        "TLS on a loopback connection: {ssl:?}"
    );
}
