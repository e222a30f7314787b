//! The refresh write path on PostgreSQL (a SQLite file has its own, in
//! `sqlite_direct.rs`): one writer task per process group-commits the
//! rotations that arrive while it is busy.
//!
//! A rotation on its own costs a transaction of five round trips
//! (begin, retire, insert, touch session, commit), and SQLite takes one
//! writer at a time: about 2,000 per second. Here a batch of N rotations
//! costs those five round trips once, with set-based statements, so
//! throughput grows with load instead of queueing behind the write lock.
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

/// Rotations committed in one transaction at most. Bounded so that a batch's
/// statements stay far below SQLite's and PostgreSQL's parameter limits.
pub(super) const MAX_BATCH: usize = 256;

/// A rotation waiting for a writer, with where its outcome goes.
pub(super) struct Job {
    pub(super) presented_hash: String,
    pub(super) successor: NewRefreshToken,
    pub(super) now: DateTime<Utc>,
    pub(super) reply: oneshot::Sender<Result<RotateOutcome, StoreError>>,
}

/// Queues a rotation for the writer behind `writer` and waits for its outcome.
pub(super) async fn submit(
    writer: &mpsc::Sender<Job>,
    presented_hash: &str,
    successor: NewRefreshToken,
    now: DateTime<Utc>,
) -> Result<RotateOutcome, StoreError> {
    let (reply, answer) = oneshot::channel();
    let job = Job {
        presented_hash: presented_hash.to_string(),
        successor,
        now,
        reply,
    };
    let stopped = || StoreError::Unavailable("the rotation writer has stopped".into());
    writer.send(job).await.map_err(|_| stopped())?;
    answer.await.map_err(|_| stopped())?
}

/// The handle requests submit rotations through.
#[derive(Clone)]
pub(super) struct RotationQueue {
    sender: mpsc::Sender<Job>,
}

impl RotationQueue {
    /// Starts the writer task for `store` (which must not itself route
    /// rotations through a queue).
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
        submit(&queue.sender, presented_hash, successor, now).await
    }

    /// Rotates many tokens in one transaction; returns one outcome per
    /// input, in order.
    async fn rotate_batch(
        &self,
        jobs: Vec<(String, NewRefreshToken, DateTime<Utc>)>,
    ) -> Result<Vec<RotateOutcome>, StoreError> {
        // A token presented twice in one batch: only its first presentation
        // may win; the others lose outright.
        let mut seen = HashSet::new();
        let candidate: Vec<bool> = jobs
            .iter()
            .map(|(hash, _, _)| seen.insert(hash.clone()))
            .collect();
        let now = jobs
            .iter()
            .map(|(_, _, now)| *now)
            .max()
            .unwrap_or_else(Utc::now);

        let mut successor_of = CaseStatement::new();
        let mut hashes = Vec::new();
        for ((hash, successor, _), _) in jobs.iter().zip(&candidate).filter(|(_, c)| **c) {
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

        let mut outcomes = Vec::with_capacity(jobs.len());
        let mut successors = Vec::new();
        let mut touched: HashMap<String, DateTime<Utc>> = HashMap::new();
        for ((hash, successor, at), is_candidate) in jobs.into_iter().zip(candidate) {
            if is_candidate && retired.contains(&hash) {
                touched.insert(successor.session_id.clone(), at);
                successors.push(successor.into_active(at));
                outcomes.push(RotateOutcome::Rotated);
            } else {
                outcomes.push(RotateOutcome::AlreadyRetired);
            }
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
        let committing = std::time::Instant::now();
        txn.commit().await?;
        crate::metrics::get().rotation_committed(outcomes.len(), committing.elapsed());
        Ok(outcomes)
    }
}
