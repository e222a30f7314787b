//! The count of database statements (`tessera_db_queries_total`): it is
//! how an operator (and a test) sees that nested GraphQL fields are batched.

use sea_orm::DatabaseConnection;

/// Counts every statement `db` runs from now on, transactions included.
pub fn count_statements(db: &mut DatabaseConnection) {
    db.set_metric_callback(|_info| {
        crate::metrics::get().db_queries.inc();
    });
}

/// Counts statements run outside SeaORM (see `sqlite_direct.rs`).
pub(super) fn count(statements: u64) {
    crate::metrics::get().db_queries.inc_by(statements);
}
