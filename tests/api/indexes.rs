//! Every hot lookup uses an index: the query plans, read from the database
//! the test server migrated, show no table scan for them.

use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait};

use crate::helpers::spawn_app;

/// The lookups that run per request or per sync tick, with a literal value.
const HOT_QUERIES: &[&str] = &[
    // refresh grant: find and retire the presented token
    "SELECT * FROM refresh_tokens WHERE token_hash = 'x'",
    // the batched rotation: many tokens retired by one conditional update
    // (PostgreSQL's batches; a SQLite file retires one token per statement)
    "UPDATE refresh_tokens SET revoked_at = '2026-01-01', revoked_reason = 'rotated' \
     WHERE token_hash IN ('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j', 'k', 'l') \
     AND revoked_at IS NULL",
    "UPDATE refresh_tokens SET revoked_at = '2026-01-01', revoked_reason = 'rotated', \
     replaced_by_id = 'y' WHERE token_hash = 'x' AND revoked_at IS NULL",
    // reuse detection and revocation: every token of a session
    "SELECT * FROM refresh_tokens WHERE session_id = 'x'",
    // listings: a user's tokens and sessions
    "SELECT * FROM refresh_tokens WHERE user_id = 'x'",
    "SELECT * FROM sessions WHERE user_id = 'x'",
    // password grant: the user by email
    "SELECT * FROM users WHERE email_normalized = 'x'",
    // every instance, every 2 s: recently revoked sessions, disabled users
    "SELECT id FROM sessions WHERE revoked_at > '2026-01-01'",
    "SELECT id FROM users WHERE disabled = true",
    // purge
    "SELECT id FROM refresh_tokens WHERE expires_at < '2026-01-01'",
    "SELECT id FROM refresh_tokens WHERE revoked_at < '2026-01-01'",
];

#[tokio::test]
async fn every_hot_lookup_is_answered_from_an_index() {
    let app = spawn_app().await;
    let db = Database::connect(&app.database_url).await.expect("connect");
    let backend = db.get_database_backend();
    // One connection for the whole check: PostgreSQL's planner setting below
    // must apply to the EXPLAINs that follow it.
    let txn = db.begin().await.expect("begin");
    if backend == DbBackend::Sqlite {
        // Forget the statistics the server gathered on its tiny tables (this
        // transaction is never committed): with them, SQLite rightly scans a
        // one-row table, and the plan would say nothing about the indexes.
        let _ = txn.execute_unprepared("DELETE FROM sqlite_stat1").await;
        let _ = txn.execute_unprepared("ANALYZE sqlite_schema").await;
    }
    if backend == DbBackend::Postgres {
        // Tables this small would be scanned anyway; forbid scans so that
        // the plan shows whether an index exists at all.
        txn.execute_unprepared("SET LOCAL enable_seqscan = off")
            .await
            .expect("set");
    }
    for query in HOT_QUERIES {
        let sql = match backend {
            DbBackend::Sqlite => format!("EXPLAIN QUERY PLAN {query}"),
            _ => format!("EXPLAIN {query}"),
        };
        let rows = txn
            .query_all_raw(Statement::from_string(backend, sql))
            .await
            .expect("explain");
        let plan: Vec<String> = rows
            .iter()
            .map(|row| {
                let column = if backend == DbBackend::Sqlite {
                    "detail"
                } else {
                    "QUERY PLAN"
                };
                row.try_get::<String>("", column).expect("plan text")
            })
            .collect();
        let plan = plan.join("\n");
        let indexed = match backend {
            DbBackend::Sqlite => {
                plan.contains("USING INDEX") || plan.contains("USING COVERING INDEX")
            }
            _ => plan.contains("Index") && !plan.contains("Seq Scan"),
        };
        assert!(indexed, "no index for `{query}`:\n{plan}");
        // `revoked_at IS NULL` matches every live token: a plan that starts
        // from it scans them all (it did, at a million tokens).
        if query.contains("IS NULL") {
            assert!(
                !plan.contains("idx_refresh_tokens_revoked_at"),
                "`{query}` is planned from revoked_at:\n{plan}"
            );
        }
    }
}
