//! Token lifecycle events, published by the token service itself so that
//! every path (the token endpoint, revocation, GraphQL mutations) reports
//! alike. Subscribers (GraphQL `tokenEvents`) filter by user.

use chrono::{DateTime, Utc};
use tokio::sync::broadcast;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenEventKind {
    /// A login issued the first refresh token of a session.
    Issued,
    /// A refresh rotated a token into its successor.
    Rotated,
    /// Tokens were revoked (by a user, an admin, a logout or RFC 7009).
    Revoked,
    /// A spent token was presented again; its session was revoked.
    ReuseDetected,
}

#[derive(Debug, Clone)]
pub struct TokenEvent {
    pub kind: TokenEventKind,
    pub user_id: String,
    pub client_id: String,
    /// The session concerned; `None` when a revocation spanned sessions.
    pub session_id: Option<String>,
    /// The refresh token concerned (the new one for `Issued` and `Rotated`).
    pub token_id: Option<String>,
    /// Why, for revocations.
    pub reason: Option<String>,
    pub at: DateTime<Utc>,
}

/// A broadcast channel: publishing never blocks, and a slow subscriber
/// only loses its own oldest events.
#[derive(Clone)]
pub struct EventBus {
    sender: broadcast::Sender<TokenEvent>,
}

impl Default for EventBus {
    fn default() -> Self {
        let (sender, _) = broadcast::channel(1024);
        EventBus { sender }
    }
}

impl EventBus {
    pub fn publish(&self, event: TokenEvent) {
        // No subscriber is not an error.
        let _ = self.sender.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<TokenEvent> {
        self.sender.subscribe()
    }
}
