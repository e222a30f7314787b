//! The benchmark's database: a fresh SQLite file or PostgreSQL database,
//! and the optional preload of refresh tokens.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use sea_orm::{ConnectionTrait, Database, DbBackend, Statement, TransactionTrait, Value};
use tokio::runtime::Runtime;

use crate::CLI_CLIENT;
use crate::config::Config;

pub enum BenchDatabase {
    Sqlite {
        url: String,
        dir: Option<tempfile::TempDir>,
    },
    Postgres {
        admin_url: String,
        name: String,
        url: String,
        dropped: bool,
    },
}

impl BenchDatabase {
    pub fn create(rt: &Runtime, config: &Config) -> anyhow::Result<Self> {
        match &config.postgres {
            None => {
                let dir = tempfile::Builder::new()
                    .prefix("tessera-bench-")
                    .tempdir()
                    .context("creating a temporary directory for the SQLite database")?;
                let url = format!(
                    "sqlite://{}?mode=rwc",
                    dir.path().join("bench.db").display()
                );
                Ok(BenchDatabase::Sqlite {
                    url,
                    dir: Some(dir),
                })
            }
            Some(admin_url) => {
                let name = format!(
                    "tessera_bench_{}",
                    &uuid::Uuid::new_v4().simple().to_string()[..12]
                );
                let url = replace_database(admin_url, &name)?;
                rt.block_on(pg_admin(admin_url, &format!("CREATE DATABASE \"{name}\"")))
                    .with_context(|| format!("creating database {name} on {admin_url}"))?;
                eprintln!("load: created PostgreSQL database {name}");
                Ok(BenchDatabase::Postgres {
                    admin_url: admin_url.clone(),
                    name,
                    url,
                    dropped: false,
                })
            }
        }
    }

    pub fn url(&self) -> &str {
        match self {
            BenchDatabase::Sqlite { url, .. } | BenchDatabase::Postgres { url, .. } => url,
        }
    }

    /// Deletes the database now, or with `keep` leaves it for inspection.
    pub fn finish(mut self, keep: bool) {
        if !keep {
            self.drop_postgres();
            return;
        }
        match &mut self {
            BenchDatabase::Sqlite { url, dir } => {
                if let Some(d) = dir.take() {
                    let _ = d.keep();
                }
                eprintln!("load: kept the database: {url}");
            }
            BenchDatabase::Postgres { url, dropped, .. } => {
                *dropped = true;
                eprintln!("load: kept the database: {url}");
            }
        }
    }

    pub fn drop_postgres(&mut self) {
        if let BenchDatabase::Postgres {
            admin_url,
            name,
            dropped,
            ..
        } = self
            && !*dropped
        {
            *dropped = true;
            let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
            let admin_url = admin_url.clone();
            // A runtime of its own: this also runs while unwinding.
            let result = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map_err(|e| anyhow!("runtime: {e}"))?;
                rt.block_on(pg_admin(&admin_url, &sql))
            })
            .join();
            match result {
                Ok(Ok(())) => eprintln!("load: dropped PostgreSQL database {name}"),
                Ok(Err(e)) => eprintln!("load: could not drop database {name}: {e:#}"),
                Err(_) => eprintln!("load: could not drop database {name}: thread panicked"),
            }
        }
    }
}

impl Drop for BenchDatabase {
    fn drop(&mut self) {
        self.drop_postgres();
    }
}

pub async fn pg_admin(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let db = Database::connect(admin_url)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    db.execute_unprepared(sql).await?;
    db.close().await?;
    Ok(())
}

/// `postgres://u@h:5432/postgres?x=y` with the database `name` instead.
pub fn replace_database(url: &str, name: &str) -> anyhow::Result<String> {
    let (base, query) = match url.split_once('?') {
        Some((b, q)) => (b, Some(q)),
        None => (url, None),
    };
    let scheme_end = base
        .find("://")
        .ok_or_else(|| anyhow!("--postgres `{url}` is not a URL"))?
        + 3;
    let server = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    Ok(match query {
        Some(q) => format!("{server}/{name}?{q}"),
        None => format!("{server}/{name}"),
    })
}

/// Inserts `n` active refresh tokens, ten per session, spread over `user_ids`,
/// in multi-row INSERTs of 1,000 tokens per transaction.
pub async fn preload_tokens(url: &str, n: u64, user_ids: &[String]) -> anyhow::Result<()> {
    const BATCH: u64 = 1000;
    const PER_SESSION: u64 = 10;
    let db = Database::connect(url)
        .await
        .context("connecting for the preload")?;
    let backend = db.get_database_backend();
    let now = chrono::Utc::now();
    let token_expiry = now + chrono::Duration::days(10);
    let session_expiry = now + chrono::Duration::days(90);
    let scope = "email profile";
    let mut done = 0u64;
    let mut session_counter = 0usize;
    let mut last_report = Instant::now();
    while done < n {
        let batch = BATCH.min(n - done);
        let sessions = batch.div_ceil(PER_SESSION);
        let mut session_rows: Vec<(String, &str)> = Vec::new();
        let mut session_values: Vec<Value> = Vec::new();
        for _ in 0..sessions {
            let id = uuid::Uuid::now_v7().to_string();
            let user = user_ids[session_counter % user_ids.len()].as_str();
            session_counter += 1;
            session_values.extend([
                id.clone().into(),
                user.into(),
                CLI_CLIENT.into(),
                scope.into(),
                now.into(),
                session_expiry.into(),
            ]);
            session_rows.push((id, user));
        }
        let mut token_values: Vec<Value> = Vec::new();
        for i in 0..batch {
            let (session_id, user) = &session_rows[usize::try_from(i / PER_SESSION)?];
            let hash = format!(
                "{}{}",
                uuid::Uuid::new_v4().simple(),
                uuid::Uuid::new_v4().simple()
            );
            token_values.extend([
                uuid::Uuid::now_v7().to_string().into(),
                hash.into(),
                (*user).into(),
                CLI_CLIENT.into(),
                session_id.clone().into(),
                scope.into(),
                now.into(),
                token_expiry.into(),
            ]);
        }
        let sessions_sql = format!(
            "INSERT INTO sessions (id, user_id, client_id, scope, created_at, expires_at) VALUES {}",
            placeholders(backend, session_rows.len(), 6)
        );
        let tokens_sql = format!(
            "INSERT INTO refresh_tokens (id, token_hash, user_id, client_id, session_id, scope, created_at, expires_at) VALUES {}",
            placeholders(backend, usize::try_from(batch)?, 8)
        );
        let txn = db.begin().await?;
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            sessions_sql,
            session_values,
        ))
        .await
        .context("inserting sessions")?;
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            tokens_sql,
            token_values,
        ))
        .await
        .context("inserting refresh tokens")?;
        txn.commit().await?;
        done += batch;
        if last_report.elapsed() > Duration::from_secs(5) {
            eprintln!("load:   preloaded {done}/{n} tokens");
            last_report = Instant::now();
        }
    }
    db.close().await?;
    Ok(())
}

pub fn placeholders(backend: DbBackend, rows: usize, cols: usize) -> String {
    let mut out = String::with_capacity(rows * cols * 5);
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        out.push('(');
        for c in 0..cols {
            if c > 0 {
                out.push(',');
            }
            n += 1;
            if backend == DbBackend::Postgres {
                out.push_str(&format!("${n}"));
            } else {
                out.push('?');
            }
        }
        out.push(')');
    }
    out
}
