//! Which database a test server gets. The `api` test binary uses a fresh
//! SQLite file per test; the `api_postgres` binary (the same tests, built
//! again) a fresh PostgreSQL database per test, dropped afterwards.
//!
//! `TESSERA_TEST_POSTGRES_URL` names the server (default
//! `postgres://postgres@127.0.0.1:5432/postgres`). Without a reachable
//! server the PostgreSQL binary says why and stops with success, unless
//! `TESSERA_REQUIRE_POSTGRES=1` (as in CI) makes that a failure.

use std::path::Path;
use std::sync::OnceLock;

use sea_orm::{ConnectionTrait, Database};

const DEFAULT_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

pub fn is_postgres() -> bool {
    env!("CARGO_CRATE_NAME") == "api_postgres"
}

fn admin_url() -> String {
    std::env::var("TESSERA_TEST_POSTGRES_URL").unwrap_or_else(|_| DEFAULT_ADMIN_URL.to_string())
}

/// A PostgreSQL database that exists for one test.
pub struct PgDatabase {
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        let _ = run_admin(sql);
    }
}

/// Runs one statement on the admin connection, from any context (tests are
/// async; this blocks on a runtime of its own in a thread of its own).
fn run_admin(sql: String) -> Result<(), String> {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        rt.block_on(async {
            let db = Database::connect(admin_url())
                .await
                .map_err(|e| e.to_string())?;
            db.execute_unprepared(&sql)
                .await
                .map_err(|e| e.to_string())?;
            db.close().await.map_err(|e| e.to_string())
        })
    })
    .join()
    .map_err(|_| "admin thread panicked".to_string())?
}

/// Checks once per test binary that PostgreSQL answers; if not, skips the
/// whole binary or fails, as described above.
fn ensure_reachable() {
    static CHECKED: OnceLock<()> = OnceLock::new();
    CHECKED.get_or_init(|| {
        if let Err(e) = run_admin("SELECT 1".into()) {
            let required = std::env::var("TESSERA_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
            if required {
                panic!("PostgreSQL is required (TESSERA_REQUIRE_POSTGRES=1) but not reachable at {}: {e}", admin_url());
            }
            eprintln!(
                "skipped: the PostgreSQL variants of the API tests need a server at {} \
                 (set TESSERA_TEST_POSTGRES_URL): {e}",
                admin_url()
            );
            std::process::exit(0);
        }
    });
}

/// A fresh database for one test: its URL, and a guard that drops it (for PostgreSQL).
pub fn fresh_database(dir: &Path) -> (String, Option<PgDatabase>) {
    if !is_postgres() {
        let url = format!("sqlite://{}?mode=rwc", dir.join("tessera.db").display());
        return (url, None);
    }
    ensure_reachable();
    let name = format!("tessera_test_{}", uuid::Uuid::new_v4().simple());
    if let Err(e) = run_admin(format!("CREATE DATABASE \"{name}\"")) {
        panic!("could not create the test database {name}: {e}");
    }
    let base = admin_url();
    let url = match base.rsplit_once('/') {
        Some((server, _)) => format!("{server}/{name}"),
        None => panic!("TESSERA_TEST_POSTGRES_URL must end in /<database>"),
    };
    (url, Some(PgDatabase { name }))
}
