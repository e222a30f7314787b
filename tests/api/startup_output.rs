//! What `serve` prints when it starts: on a new database, one block with
//! the admin's credentials, a curl and the browser pages; otherwise, and
//! around it, only what an operator needs (no migration chatter).

use migration::{Migrator, MigratorTrait};

use crate::helpers::{TestApp, spawn_app_with_env};

/// The lines of the first-start block, from its first rule to its last
/// (stdout is read by a thread of its own: the block may still be on its way).
async fn banner(app: &TestApp) -> Vec<String> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let logs = app.logs();
        let lines: Vec<&str> = logs.lines().collect();
        let rules: Vec<usize> = (0..lines.len())
            .filter(|&i| lines[i].starts_with("=====") && lines[i].trim_end_matches('=').is_empty())
            .collect();
        if rules.len() >= 2 || std::time::Instant::now() > deadline {
            assert_eq!(rules.len(), 2, "one framed block expected:\n{logs}");
            return lines[rules[0]..=rules[1]]
                .iter()
                .map(|l| l.to_string())
                .collect();
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn the_first_start_prints_credentials_a_curl_and_the_pages_in_one_block() {
    // An empty TESSERA_ADMIN_PASSWORD: the password is generated.
    let app = spawn_app_with_env(&[], &[("TESSERA_ADMIN_PASSWORD", "")]).await;

    let block = banner(&app).await.join("\n");
    let host = app.address.trim_start_matches("http://");
    let password = block
        .lines()
        .find_map(|l| l.trim().strip_prefix("password"))
        .map(str::trim)
        .expect("a password line");
    assert!(password.len() >= 32, "{block}");
    assert!(block.contains(&format!("curl -s http://{host}/oauth/token")));
    assert!(block.contains(&format!("'password={password}'")));
    assert!(block.contains(&format!("http://{host}/graphql")));
    assert!(block.contains(&format!("http://{host}/console")));
    // The password shown is the admin's.
    app.login("admin@localhost", password).await;
}

#[tokio::test]
async fn a_password_from_the_environment_is_never_printed() {
    let app = spawn_app_with_env(&[], &[]).await;

    let block = banner(&app).await.join("\n");
    assert!(block.contains("$TESSERA_ADMIN_PASSWORD"), "{block}");
    assert!(!app.logs().contains(crate::helpers::ADMIN_PASSWORD));
}

#[tokio::test]
async fn a_new_database_starts_without_migration_lines_and_a_restart_without_the_block() {
    let mut app = spawn_app_with_env(&[], &[("RUST_LOG", "info")]).await;
    banner(&app).await;
    let first = app.logs();
    assert!(
        !first.to_ascii_lowercase().contains("migration"),
        "migrations were logged at info on a new database:\n{first}"
    );

    app.restart().await;

    let all = app.logs();
    let again = &all[first.len()..];
    assert!(!again.contains("====="), "the block again:\n{again}");
    assert!(!again.to_ascii_lowercase().contains("migration"), "{again}");
}

#[tokio::test]
async fn migrations_applied_to_an_existing_database_are_logged() {
    let mut app = spawn_app_with_env(&[], &[("RUST_LOG", "info")]).await;
    // Take the newest migration back, as if the database were one version old.
    let db = sea_orm::Database::connect(&app.database_url)
        .await
        .expect("connect");
    Migrator::down(&db, Some(1)).await.expect("down one");
    let newest = Migrator::get_pending_migrations(&db)
        .await
        .expect("pending")[0]
        .name()
        .to_string();
    db.close().await.expect("close");
    let before = app.logs().len();

    app.restart().await;

    let logs = app.logs();
    let line = logs[before..]
        .lines()
        .find(|l| l.contains("migrations_applied"))
        .unwrap_or_else(|| panic!("no migrations_applied event:\n{logs}"));
    assert!(line.contains(&newest), "{line}");
}
