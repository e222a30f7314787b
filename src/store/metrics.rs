//! A process-wide count of database statements, for `GET /metrics`: it is
//! how an operator (and a test) sees that nested GraphQL fields are batched.

use std::sync::atomic::{AtomicU64, Ordering};

use sea_orm::DatabaseConnection;

static STATEMENTS: AtomicU64 = AtomicU64::new(0);

/// Counts every statement `db` runs from now on, transactions included.
pub fn count_statements(db: &mut DatabaseConnection) {
    db.set_metric_callback(|_info| {
        STATEMENTS.fetch_add(1, Ordering::Relaxed);
    });
}

/// Counts statements run outside SeaORM (see `sqlite_direct.rs`).
pub(super) fn count(statements: u64) {
    STATEMENTS.fetch_add(statements, Ordering::Relaxed);
}

/// Statements run since the process started.
pub fn statements_total() -> u64 {
    STATEMENTS.load(Ordering::Relaxed)
}
