//! The stop, process-wide. SIGTERM begins it; the accept loop stops taking
//! connections and lets requests in flight finish; long-lived connections
//! (GraphQL WebSockets), which hyper no longer tracks once upgraded, watch
//! for it, send a close frame and count themselves out, so that the server
//! can wait for them too, within `--shutdown-timeout`.

use std::sync::LazyLock;

use tokio::sync::watch;

static STOPPING: LazyLock<watch::Sender<bool>> = LazyLock::new(|| watch::channel(false).0);
static OPEN: LazyLock<watch::Sender<usize>> = LazyLock::new(|| watch::channel(0).0);

/// Starts the stop.
pub fn begin() {
    STOPPING.send_replace(true);
}

pub fn is_stopping() -> bool {
    *STOPPING.borrow()
}

/// Completes once the stop has begun.
pub async fn begun() {
    let mut stopping = STOPPING.subscribe();
    let _ = stopping.wait_for(|s| *s).await;
}

/// A long-lived connection, counted while it is alive.
pub struct Open(());

impl Open {
    pub fn track() -> Self {
        OPEN.send_modify(|n| *n += 1);
        Open(())
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        OPEN.send_modify(|n| *n = n.saturating_sub(1));
    }
}

/// Completes once no tracked connection is open.
pub async fn all_closed() {
    let mut open = OPEN.subscribe();
    let _ = open.wait_for(|n| *n == 0).await;
}
