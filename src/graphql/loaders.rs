//! DataLoaders for nested fields: every `RefreshToken.user`, `Session.user`
//! and `Session.tokens` asked for in one request is collected and loaded
//! with one query per field, not one per item.

use std::collections::HashMap;

use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Poll, Wake, Waker};

use async_graphql::dataloader::{DataLoader, HashMapCache, Loader};
use async_graphql::futures_util::StreamExt;
use async_graphql::futures_util::future::BoxFuture;
use async_graphql::futures_util::stream::FuturesUnordered;
use tracing::Instrument;

use super::error::{ApiError, ApiResult};
use crate::domain::User;
use crate::store::{RefreshTokenInfo, Store};

/// Users by id.
pub struct UserLoader(Store);

impl Loader<String> for UserLoader {
    type Value = User;
    type Error = ApiError;

    async fn load(&self, ids: &[String]) -> Result<HashMap<String, User>, ApiError> {
        Ok(self
            .0
            .users_by_ids(ids)
            .await?
            .into_iter()
            .map(|u| (u.id.clone(), u))
            .collect())
    }
}

/// The newest `first` tokens of a session.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SessionTokens {
    pub session_id: String,
    pub first: u64,
}

pub struct SessionTokensLoader(Store);

impl Loader<SessionTokens> for SessionTokensLoader {
    type Value = Vec<RefreshTokenInfo>;
    type Error = ApiError;

    async fn load(
        &self,
        keys: &[SessionTokens],
    ) -> Result<HashMap<SessionTokens, Vec<RefreshTokenInfo>>, ApiError> {
        // One query per distinct page size; in practice there is one.
        let mut by_first: HashMap<u64, Vec<String>> = HashMap::new();
        for key in keys {
            by_first
                .entry(key.first)
                .or_default()
                .push(key.session_id.clone());
        }
        let mut found: HashMap<SessionTokens, Vec<RefreshTokenInfo>> =
            keys.iter().map(|k| (k.clone(), Vec::new())).collect();
        for (first, session_ids) in by_first {
            for token in self
                .0
                .recent_tokens_of_sessions(&session_ids, first)
                .await?
            {
                let key = SessionTokens {
                    session_id: token.session_id.clone(),
                    first,
                };
                found.entry(key).or_default().push(token);
            }
        }
        Ok(found)
    }
}

/// The loaders of one request (or one WebSocket connection). Each caches
/// what it loaded for the rest of the request.
pub struct Loaders {
    pub users: DataLoader<UserLoader, HashMapCache>,
    pub session_tokens: DataLoader<SessionTokensLoader, HashMapCache>,
}

/// Batch loads queued by a request's loaders, waiting for `drive` to run them.
#[derive(Clone, Default)]
pub struct LoadQueue(Arc<Mutex<Vec<BoxFuture<'static, ()>>>>);

impl LoadQueue {
    fn push(&self, load: BoxFuture<'static, ()>) {
        match self.0.lock() {
            Ok(mut queue) => queue.push(load),
            Err(poisoned) => poisoned.into_inner().push(load),
        }
    }

    fn take(&self) -> Vec<BoxFuture<'static, ()>> {
        match self.0.lock() {
            Ok(mut queue) => std::mem::take(&mut *queue),
            Err(poisoned) => std::mem::take(&mut *poisoned.into_inner()),
        }
    }
}

impl Loaders {
    /// Loaders whose batch loads run inside the request's own task, by
    /// `drive`. A DataLoader batches the keys that arrive before its load
    /// starts; run as a task of its own, the load can start on another
    /// thread while resolvers are still adding keys, and a list of 100
    /// splits into several batches depending on timing. Run here, a load
    /// starts only once every resolver that could add a key has stopped to
    /// wait, so one list costs one query, every time.
    pub fn queued(store: &Store) -> (Self, LoadQueue) {
        let queue = LoadQueue::default();
        let spawner = {
            let queue = queue.clone();
            move |load: BoxFuture<'static, ()>| queue.push(load)
        };
        (Self::build(store, spawner), queue)
    }

    /// Loaders whose batch loads are tasks of their own: for subscriptions,
    /// whose execution nothing `drive`s.
    pub fn spawned(store: &Store) -> Self {
        Self::build(store, |load: BoxFuture<'static, ()>| {
            tokio::spawn(load.in_current_span());
        })
    }

    fn build(
        store: &Store,
        spawner: impl Fn(BoxFuture<'static, ()>) + Clone + Send + Sync + 'static,
    ) -> Self {
        Loaders {
            users: DataLoader::with_cache(
                UserLoader(store.clone()),
                spawner.clone(),
                HashMapCache::default(),
            ),
            session_tokens: DataLoader::with_cache(
                SessionTokensLoader(store.clone()),
                spawner,
                HashMapCache::default(),
            ),
        }
    }
}

/// The loaders put into the request's data by the HTTP layer.
pub fn of<'a>(ctx: &async_graphql::Context<'a>) -> ApiResult<&'a Loaders> {
    ctx.data::<Loaders>()
        .map_err(|e| ApiError::internal(&e.message))
}

/// Runs `execution` and, each time it stops to wait for something other
/// than itself, the batch loads its resolvers queued meanwhile.
///
/// An execution also returns `Pending` when it merely yields (a list of
/// many items is resolved in slices, and each slice asks to be polled
/// again at once); starting the loads then would split a list's keys over
/// several batches. So the execution gets a waker that notes such a
/// request, and queued loads start only when it made none.
pub async fn drive<F: Future>(execution: F, queue: LoadQueue) -> F::Output {
    let mut execution = std::pin::pin!(execution);
    let mut loads = FuturesUnordered::new();
    std::future::poll_fn(move |cx| {
        let noted = Arc::new(NotedWake {
            woken: AtomicBool::new(false),
            inner: cx.waker().clone(),
        });
        let waker = Waker::from(Arc::clone(&noted));
        if let Poll::Ready(output) = execution
            .as_mut()
            .poll(&mut std::task::Context::from_waker(&waker))
        {
            return Poll::Ready(output);
        }
        if !noted.woken.load(Ordering::Acquire) {
            loads.extend(queue.take());
        }
        // A finished load wakes the execution waiting for it, which polls
        // this again.
        while let Poll::Ready(Some(())) = loads.poll_next_unpin(cx) {}
        Poll::Pending
    })
    .await
}

/// A waker that remembers it was used.
struct NotedWake {
    woken: AtomicBool,
    inner: Waker,
}

impl Wake for NotedWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::Release);
        self.inner.wake_by_ref();
    }
}
