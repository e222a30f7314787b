//! Persistence: the only code that touches SeaORM and the `entity` crate.
//! Everything above it works with the records of `crate::domain`.

mod accounts;
mod batch;
mod client_registry;
mod clients;
mod keys;
mod listing;
mod metrics;
mod purge;
mod rotation;
mod sqlite_direct;
mod stats;
pub mod tokens;
mod users;
mod views;

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use migration::{Migrator, MigratorTrait};
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DatabaseTransaction, DbBackend,
    DbErr, RuntimeErr, SqlErr, SqliteTransactionMode, TransactionOptions, TransactionTrait,
};
use tokio::sync::{Mutex, MutexGuard};

pub use clients::NewClient;
pub use keys::SigningKeyInfo;
pub use listing::{Page, PageRequest, SessionFilter, TokenFilter};
pub use purge::Purged;
pub use tokens::{NewRefreshToken, NewSession, RotateOutcome, SessionRecord};
pub use users::NewUser;
pub use views::{RefreshTokenInfo, SessionInfo, TokenStatus};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique key is taken (an email, a client id).
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// The database cannot be reached or is too busy right now.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Database(DbErr),
}

impl StoreError {
    /// The same error for another waiter on one failed batch.
    fn duplicate(&self) -> StoreError {
        match self {
            StoreError::Conflict(what) => StoreError::Conflict(what),
            StoreError::Unavailable(msg) => StoreError::Unavailable(msg.clone()),
            StoreError::Database(e) => StoreError::Database(DbErr::Custom(e.to_string())),
        }
    }
}

impl From<DbErr> for StoreError {
    fn from(e: DbErr) -> Self {
        match &e {
            DbErr::ConnectionAcquire(_) => {
                crate::metrics::get().db_pool_timeouts.inc();
                StoreError::Unavailable(e.to_string())
            }
            DbErr::Conn(_) => StoreError::Unavailable(e.to_string()),
            DbErr::Exec(RuntimeErr::SqlxError(inner))
            | DbErr::Query(RuntimeErr::SqlxError(inner))
                if is_transient(inner) =>
            {
                StoreError::Unavailable(e.to_string())
            }
            _ => StoreError::Database(e),
        }
    }
}

/// Lost connections and SQLite's "busy": worth a 503 and a retry, not a 500.
fn is_transient(e: &sea_orm::sqlx::Error) -> bool {
    use sea_orm::sqlx::Error;
    match e {
        Error::Io(_) | Error::PoolTimedOut | Error::PoolClosed | Error::WorkerCrashed => true,
        Error::Database(db) => {
            let msg = db.message();
            // PostgreSQL: serialization failure, deadlock, too many connections, shutting down.
            let pg_transient = matches!(
                db.code().as_deref(),
                Some("40001" | "40P01" | "53300" | "57P01" | "57P02" | "57P03")
            );
            pg_transient || msg.contains("database is locked") || msg.contains("database is busy")
        }
        _ => false,
    }
}

fn conflict_or(e: DbErr, what: &'static str) -> StoreError {
    match e.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => StoreError::Conflict(what),
        _ => StoreError::from(e),
    }
}

/// SQLite's `synchronous` setting (PostgreSQL ignores it). In WAL mode,
/// `Normal` fsyncs only when a checkpoint copies the WAL back: a process
/// crash loses nothing committed (the WAL is in the OS's cache), but a power
/// failure or kernel crash may undo the commits since the last fsync.
/// `Full` fsyncs the WAL at every commit, so a commit that was answered
/// survives a power failure too, at the cost of an fsync per batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Synchronous {
    #[default]
    Normal,
    Full,
}

impl Synchronous {
    fn pragma(self) -> &'static str {
        match self {
            Synchronous::Normal => "NORMAL",
            Synchronous::Full => "FULL",
        }
    }
}

/// How to connect: the pool size (`None`: the backend's default) and SQLite's
/// durability.
#[derive(Debug, Clone, Copy, Default)]
pub struct StoreOptions {
    pub max_connections: Option<u32>,
    pub synchronous: Synchronous,
}

/// The database handle plus what writing to it safely needs.
#[derive(Clone)]
pub struct Store {
    db: DatabaseConnection,
    /// SQLite has one writer at a time. Queuing writers here, instead of in
    /// SQLite's busy handler (which sleeps and retries), keeps latency flat.
    write_lock: Option<Arc<Mutex<()>>>,
    /// The batching writer rotations go through on PostgreSQL (see `rotation.rs`).
    rotations: Option<rotation::RotationQueue>,
    /// SQLite's refresh path around sqlx (see `sqlite_direct.rs`); `None` on
    /// PostgreSQL and for an in-memory database.
    direct: Option<sqlite_direct::Direct>,
    clients: clients::ClientCache,
}

impl Store {
    /// Connects with the default pool size of the backend.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_with(url, None).await
    }

    /// Connects with settings fit for each backend: WAL, foreign keys and a
    /// busy timeout on SQLite; a larger pool on PostgreSQL. SQLite writes one
    /// at a time whatever the pool, so its pool only serves concurrent reads.
    pub async fn connect_with(url: &str, max_connections: Option<u32>) -> Result<Self, StoreError> {
        let options = StoreOptions {
            max_connections,
            ..StoreOptions::default()
        };
        Self::connect_with_options(url, options).await
    }

    pub async fn connect_with_options(url: &str, opts: StoreOptions) -> Result<Self, StoreError> {
        let sqlite = url.starts_with("sqlite:");
        let max_connections = opts.max_connections.unwrap_or(if sqlite { 8 } else { 16 });
        let mut options = ConnectOptions::new(without_loopback_tls(url));
        options
            .sqlx_logging(false)
            .connect_timeout(Duration::from_secs(5))
            .acquire_timeout(Duration::from_secs(5))
            .max_connections(max_connections)
            // A local file does not drop connections: skip the ping (a
            // thread hop in sqlx-sqlite) that would precede every query.
            .test_before_acquire(!sqlite)
            .min_connections(1);
        let file = sqlite.then(|| sqlite_file(url)).flatten();
        if let Some(path) = file {
            create_private_file(path);
        }
        if sqlite {
            let synchronous = opts.synchronous;
            options.map_sqlx_sqlite_opts(move |o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .synchronous(match synchronous {
                        Synchronous::Normal => SqliteSynchronous::Normal,
                        Synchronous::Full => SqliteSynchronous::Full,
                    })
                    .foreign_keys(true)
                    .busy_timeout(Duration::from_secs(5))
            });
        }
        let mut db = Database::connect(options).await?;
        metrics::count_statements(&mut db);
        let write_lock = sqlite.then(|| Arc::new(Mutex::new(())));
        let mut store = Store {
            db,
            write_lock: write_lock.clone(),
            rotations: None,
            direct: None,
            clients: clients::ClientCache::default(),
        };
        match (file, write_lock) {
            (Some(path), Some(lock)) => {
                store.direct = Some(sqlite_direct::Direct::open(
                    Path::new(path),
                    lock,
                    sqlite_direct::WalPolicy::default(),
                    opts.synchronous,
                )?);
            }
            _ => store.rotations = Some(rotation::RotationQueue::spawn(store.clone())),
        }
        Ok(store)
    }

    /// Applies pending migrations. Creating a new database is routine
    /// (logged at debug); changing the schema of one in use is news for the
    /// operator (logged at info, as `event="migrations_applied"`).
    pub async fn migrate(&self) -> Result<(), StoreError> {
        let pending = Migrator::get_pending_migrations(&self.db).await?;
        if pending.is_empty() {
            tracing::debug!("the database schema is up to date");
            return self.optimize().await;
        }
        let existing = !Migrator::get_applied_migrations(&self.db).await?.is_empty();
        let names: Vec<&str> = pending.iter().map(|m| m.name()).collect();
        Migrator::up(&self.db, None).await?;
        if existing {
            tracing::info!(
                event = crate::telemetry::events::MIGRATIONS_APPLIED,
                count = names.len(),
                migrations = %names.join(" "),
                "migrations applied to an existing database"
            );
        } else {
            tracing::debug!(migrations = %names.join(" "), "new database: schema created");
        }
        self.optimize().await
    }

    /// Refreshes the query planner's statistics where they are stale
    /// (SQLite's `PRAGMA optimize`; PostgreSQL's autovacuum does this itself).
    /// Cheap; run at start and after each purge.
    pub async fn optimize(&self) -> Result<(), StoreError> {
        if self.backend() == DbBackend::Sqlite {
            self.db.execute_unprepared("PRAGMA optimize").await?;
        }
        Ok(())
    }

    /// Leaves the database tidy at shutdown: on SQLite, the WAL copied back
    /// into the database file and emptied.
    pub async fn close(&self) -> Result<(), StoreError> {
        match &self.direct {
            Some(direct) => direct.checkpoint_all(),
            None => Ok(()),
        }
    }

    /// Readiness: one round trip.
    pub async fn ping(&self) -> Result<(), StoreError> {
        self.db.ping().await?;
        Ok(())
    }

    pub fn backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    /// Starts a write transaction: in SQLite, takes the write lock up front
    /// (`BEGIN IMMEDIATE`) so that a transaction never fails half-way with
    /// "database is locked".
    async fn begin_write(&self) -> Result<WriteTxn<'_>, StoreError> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        };
        let txn = self
            .db
            .begin_with_options(TransactionOptions {
                sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                ..Default::default()
            })
            .await?;
        Ok(WriteTxn { txn, _guard: guard })
    }

    /// Runs one write statement outside a transaction, in line with other writers.
    async fn write_lock(&self) -> Option<MutexGuard<'_, ()>> {
        match &self.write_lock {
            Some(lock) => Some(lock.lock().await),
            None => None,
        }
    }
}

/// A PostgreSQL URL for this machine's own server (`localhost`, `127.0.0.1`,
/// `[::1]`) that does not choose an `sslmode` gets `sslmode=disable`.
/// PostgreSQL's default (`prefer`) negotiates TLS, and each new connection
/// then cost ~95 ms here (the pool's first connections delayed the start by
/// 190 ms), to protect traffic that never leaves the machine. Any `sslmode`
/// in the URL is kept as given; other URLs are returned unchanged.
fn without_loopback_tls(url: &str) -> String {
    let Some(rest) = url
        .strip_prefix("postgres://")
        .or_else(|| url.strip_prefix("postgresql://"))
    else {
        return url.to_string();
    };
    let (before_query, query) = rest.split_once('?').unwrap_or((rest, ""));
    let authority = before_query.split('/').next().unwrap_or("");
    let host_and_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host_and_port.starts_with('[') {
        host_and_port.split(']').next().map(|h| format!("{h}]"))
    } else {
        host_and_port.split(':').next().map(str::to_string)
    };
    let loopback = matches!(host.as_deref(), Some("localhost" | "127.0.0.1" | "[::1]"));
    let chooses_tls = query
        .split('&')
        .any(|pair| pair.starts_with("sslmode=") || pair.starts_with("ssl-mode="));
    if !loopback || chooses_tls {
        return url.to_string();
    }
    let separator = if url.contains('?') { '&' } else { '?' };
    format!("{url}{separator}sslmode=disable")
}

/// The file a SQLite URL names; `None` for an in-memory database.
fn sqlite_file(url: &str) -> Option<&str> {
    let rest = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let in_memory = path.is_empty()
        || path.starts_with(':')
        || query.split('&').any(|pair| pair == "mode=memory");
    (!in_memory).then_some(path)
}

/// Creates a new SQLite database file readable by its owner only: it holds
/// the signing keys. (SQLite gives its `-wal` and `-shm` files the same mode.)
/// An existing file keeps the mode it has.
fn create_private_file(path: &str) {
    if Path::new(path).exists() {
        return;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    // If this fails, SQLite creates the file itself (or reports why it cannot).
    let _ = options.open(path);
}

struct WriteTxn<'a> {
    txn: DatabaseTransaction,
    _guard: Option<MutexGuard<'a, ()>>,
}

impl WriteTxn<'_> {
    fn conn(&self) -> &impl ConnectionTrait {
        &self.txn
    }

    async fn commit(self) -> Result<(), StoreError> {
        self.txn.commit().await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{sqlite_file, without_loopback_tls};

    #[test]
    fn postgres_on_this_machine_goes_without_tls_unless_the_url_says() {
        let cases = [
            (
                "postgres://postgres@127.0.0.1:5432/db",
                "postgres://postgres@127.0.0.1:5432/db?sslmode=disable",
            ),
            (
                "postgresql://u:p@localhost/db?application_name=t",
                "postgresql://u:p@localhost/db?application_name=t&sslmode=disable",
            ),
            (
                "postgres://u@[::1]:5432/db",
                "postgres://u@[::1]:5432/db?sslmode=disable",
            ),
            (
                "postgres://u@127.0.0.1/db?sslmode=require",
                "postgres://u@127.0.0.1/db?sslmode=require",
            ),
            (
                "postgres://u@db.example.com/db",
                "postgres://u@db.example.com/db",
            ),
            ("postgres://u@127.0.0.10/db", "postgres://u@127.0.0.10/db"),
            (
                "sqlite://tessera.db?mode=rwc",
                "sqlite://tessera.db?mode=rwc",
            ),
        ];
        for (given, used) in cases {
            assert_eq!(without_loopback_tls(given), used, "for {given}");
        }
    }

    #[test]
    fn sqlite_urls_name_their_file_unless_in_memory() {
        assert_eq!(
            sqlite_file("sqlite://tessera.db?mode=rwc"),
            Some("tessera.db")
        );
        assert_eq!(sqlite_file("sqlite:///var/lib/t.db"), Some("/var/lib/t.db"));
        assert_eq!(sqlite_file("sqlite:t.db"), Some("t.db"));
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://t.db?mode=memory&cache=shared"), None);
        assert_eq!(sqlite_file("sqlite://"), None);
    }
}
