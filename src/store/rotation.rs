//! The refresh write path on PostgreSQL (and on an in-memory SQLite
//! database; a SQLite file has `sqlite_direct.rs`): one writer task per
//! process group-commits the rotations that arrive while it is busy.
//!
//! A rotation on its own costs a transaction of five round trips
//! (begin, retire, insert, touch session, commit). Here a batch of N
//! rotations costs one statement on PostgreSQL (five set-based round trips
//! elsewhere), so throughput grows with load instead of queueing.
//!
//! Exactly-once holds inside a batch and across instances: the presented
//! tokens are retired by one conditional `UPDATE … WHERE revoked_at IS NULL
//! RETURNING`, and only the rows it returns win. Two requests presenting one
//! token in the same batch: the first wins, the second sees `AlreadyRetired`.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use entity::{refresh_token, session};
use sea_orm::sea_query::{CaseStatement, Expr};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use tokio::sync::{mpsc, oneshot};

use super::tokens::{NewRefreshToken, ROTATED, RotateOutcome};
use super::{Store, StoreError};
use sea_orm::{DbBackend, DbErr, RuntimeErr};

/// Rotations committed in one transaction at most. Bounded so that a batch's
/// statements stay far below SQLite's and PostgreSQL's parameter limits.
pub(super) const MAX_BATCH: usize = 256;

/// The digest of the presented token, its successor, and the time.
type Rotation = (String, NewRefreshToken, DateTime<Utc>);

struct Job {
    presented_hash: String,
    successor: NewRefreshToken,
    now: DateTime<Utc>,
    reply: oneshot::Sender<Result<RotateOutcome, StoreError>>,
}

/// The handle requests submit rotations through.
#[derive(Clone)]
pub(super) struct RotationQueue {
    sender: mpsc::Sender<Job>,
}

impl RotationQueue {
    /// Starts the writer task for `store` (which must not itself route
    /// rotations through a queue).
    ///
    /// One writer: two, taking turns on the queue so that one commits while
    /// the other runs its statement, were slower on PostgreSQL on 2 cores
    /// (2,300 vs 3,150 refresh/s): the server spent the time on contention.
    pub(super) fn spawn(store: Store) -> Self {
        let (sender, receiver) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(store, receiver));
        RotationQueue { sender }
    }
}

async fn run(store: Store, mut receiver: mpsc::Receiver<Job>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        if receiver.recv_many(&mut batch, MAX_BATCH).await == 0 {
            return;
        }
        let (jobs, replies): (Vec<_>, Vec<_>) = batch
            .drain(..)
            .map(|job| ((job.presented_hash, job.successor, job.now), job.reply))
            .unzip();
        let size = jobs.len();
        match store.rotate_batch(jobs).await {
            Ok(outcomes) => {
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, size, "rotation batch failed");
                for reply in replies {
                    let _ = reply.send(Err(e.duplicate()));
                }
            }
        }
    }
}

impl Store {
    /// Rotation: retire the presented token only if it is still active (the
    /// conditional update decides the winner among concurrent refreshes),
    /// store its successor, touch the session — atomically.
    ///
    /// This is the whole write path of a refresh grant, behind one call:
    /// the grant neither knows nor cares that it is batched.
    #[tracing::instrument(level = "debug", skip_all, err)]
    pub async fn rotate(
        &self,
        presented_hash: &str,
        successor: NewRefreshToken,
        now: DateTime<Utc>,
    ) -> Result<RotateOutcome, StoreError> {
        if let Some(direct) = &self.direct {
            return direct.rotate(presented_hash, successor, now).await;
        }
        let Some(queue) = &self.rotations else {
            let outcomes = self
                .rotate_batch(vec![(presented_hash.to_string(), successor, now)])
                .await?;
            return Ok(outcomes
                .into_iter()
                .next()
                .unwrap_or(RotateOutcome::AlreadyRetired));
        };
        let (reply, answer) = oneshot::channel();
        let job = Job {
            presented_hash: presented_hash.to_string(),
            successor,
            now,
            reply,
        };
        let stopped = || StoreError::Unavailable("the rotation writer has stopped".into());
        queue.sender.send(job).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Rotates many tokens at once; returns one outcome per input, in order.
    async fn rotate_batch(&self, jobs: Vec<Rotation>) -> Result<Vec<RotateOutcome>, StoreError> {
        // A token presented twice in one batch: only its first presentation
        // may win; the others lose outright.
        let mut seen = HashSet::new();
        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut candidates = Vec::new();
        for (index, job) in jobs.into_iter().enumerate() {
            outcomes.push(RotateOutcome::AlreadyRetired);
            if seen.insert(job.0.clone()) {
                candidates.push((index, job));
            }
        }
        let jobs: Vec<_> = candidates.iter().map(|(_, job)| job).collect();
        let retired = if self.backend() == DbBackend::Postgres {
            self.rotate_in_one_statement(&jobs).await?
        } else {
            self.rotate_in_a_transaction(&jobs).await?
        };
        for (index, (hash, _, _)) in &candidates {
            if retired.contains(hash) {
                outcomes[*index] = RotateOutcome::Rotated;
            }
        }
        Ok(outcomes)
    }

    /// PostgreSQL: the whole batch as one statement (atomic on its own), its
    /// inputs as arrays. One round trip per batch, and one statement text
    /// whatever the batch size, so it is prepared once per connection: with
    /// a transaction of `IN (…)` lists, each new batch size was parsed and
    /// planned anew, and a batch cost five round trips.
    ///
    /// Returns the presented digests that won.
    async fn rotate_in_one_statement(
        &self,
        jobs: &[&Rotation],
    ) -> Result<HashSet<String>, StoreError> {
        use sea_orm::sqlx;
        fn column<T>(jobs: &[&Rotation], f: impl Fn(&Rotation) -> T) -> Vec<T> {
            jobs.iter().map(|job| f(job)).collect()
        }
        let rows: Vec<(String,)> = sqlx::query_as(ROTATE_ON_POSTGRES)
            .bind(column(jobs, |(hash, _, _)| hash.clone()))
            .bind(column(jobs, |(_, new, _)| new.id.clone()))
            .bind(column(jobs, |(_, new, _)| new.token_hash.clone()))
            .bind(column(jobs, |(_, new, _)| new.user_id.clone()))
            .bind(column(jobs, |(_, new, _)| new.client_id.clone()))
            .bind(column(jobs, |(_, new, _)| new.session_id.clone()))
            .bind(column(jobs, |(_, new, _)| new.parent_id.clone()))
            .bind(column(jobs, |(_, new, _)| new.scope.to_string()))
            .bind(column(jobs, |(_, _, at)| *at))
            .bind(column(jobs, |(_, new, _)| new.expires_at))
            .bind(column(jobs, |(_, new, _)| new.created_by_ip.clone()))
            .bind(column(jobs, |(_, new, _)| new.user_agent.clone()))
            .bind(ROTATED)
            .fetch_all(self.db.get_postgres_connection_pool())
            .await
            .map_err(|e| StoreError::from(DbErr::Query(RuntimeErr::SqlxError(e.into()))))?;
        super::metrics::count(1);
        Ok(rows.into_iter().map(|(hash,)| hash).collect())
    }

    /// Any other backend: set-based statements in one transaction.
    async fn rotate_in_a_transaction(
        &self,
        jobs: &[&Rotation],
    ) -> Result<HashSet<String>, StoreError> {
        let now = jobs
            .iter()
            .map(|(_, _, now)| *now)
            .max()
            .unwrap_or_else(Utc::now);
        let mut successor_of = CaseStatement::new();
        let mut hashes = Vec::new();
        for (hash, successor, _) in jobs {
            successor_of = successor_of.case(
                refresh_token::Column::TokenHash.eq(hash.as_str()),
                Expr::value(successor.id.clone()),
            );
            hashes.push(hash.clone());
        }

        let txn = self.begin_write().await?;
        let retired: HashSet<String> = refresh_token::Entity::update_many()
            .col_expr(refresh_token::Column::RevokedAt, Expr::value(now))
            .col_expr(refresh_token::Column::RevokedReason, Expr::value(ROTATED))
            .col_expr(refresh_token::Column::ReplacedById, successor_of.into())
            .filter(refresh_token::Column::TokenHash.is_in(hashes))
            .filter(refresh_token::Column::RevokedAt.is_null())
            .exec_with_returning(txn.conn())
            .await?
            .into_iter()
            .map(|token| token.token_hash)
            .collect();

        let mut successors = Vec::new();
        let mut touched: HashMap<String, DateTime<Utc>> = HashMap::new();
        for (_, successor, at) in jobs.iter().filter(|(hash, _, _)| retired.contains(hash)) {
            touched.insert(successor.session_id.clone(), *at);
            successors.push(successor.to_active(*at));
        }
        if !successors.is_empty() {
            refresh_token::Entity::insert_many(successors)
                .exec_without_returning(txn.conn())
                .await?;
            session::Entity::update_many()
                .col_expr(session::Column::LastRefreshedAt, Expr::value(now))
                .filter(session::Column::Id.is_in(touched.into_keys()))
                .exec(txn.conn())
                .await?;
        }
        txn.commit().await?;
        Ok(retired)
    }
}

/// The rotation of a batch on PostgreSQL: retire the presented tokens that
/// are still active (`retired`: the winners), store the successors of the
/// winners only, touch their sessions. Inputs are parallel arrays, one
/// element per (deduplicated) rotation; `$13` is the reason for a rotation.
/// A token another transaction is retiring is waited for, then seen retired.
const ROTATE_ON_POSTGRES: &str = "\
WITH input AS (
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], \
        $6::text[], $7::text[], $8::text[], $9::timestamptz[], $10::timestamptz[], \
        $11::text[], $12::text[])
    AS i(presented, id, token_hash, user_id, client_id, session_id, parent_id, scope, \
        at, expires_at, created_by_ip, user_agent)
),
retired AS (
    UPDATE refresh_tokens t
    SET revoked_at = i.at, revoked_reason = $13, replaced_by_id = i.id
    FROM input i
    WHERE t.token_hash = i.presented AND t.revoked_at IS NULL
    RETURNING t.token_hash
),
stored AS (
    INSERT INTO refresh_tokens (id, token_hash, user_id, client_id, session_id, parent_id, \
        replaced_by_id, scope, created_at, expires_at, revoked_at, revoked_reason, \
        created_by_ip, user_agent)
    SELECT i.id, i.token_hash, i.user_id, i.client_id, i.session_id, i.parent_id, NULL, \
        i.scope, i.at, i.expires_at, NULL, NULL, i.created_by_ip, i.user_agent
    FROM input i JOIN retired r ON r.token_hash = i.presented
    RETURNING session_id, created_at
),
touched AS (
    UPDATE sessions s SET last_refreshed_at = stored.created_at
    FROM stored WHERE s.id = stored.session_id
)
SELECT token_hash FROM retired";
