//! `tokenEvents(userId)`: the token service's own events (issued, rotated,
//! revoked, reuse detected), whichever path caused them, filtered to one
//! user. The stream ends when the caller's access token expires or is
//! revoked: a subscription is not a way to outlive one's credentials.

use async_graphql::futures_util::Stream;
use async_graphql::futures_util::stream;
use async_graphql::{Context, Enum, ID, SimpleObject, Subscription};
use chrono::{DateTime, Utc};
use tokio::sync::broadcast::error::RecvError;

use crate::crypto::jwt::AccessClaims;
use crate::events::{TokenEvent, TokenEventKind};
use crate::graphql::error::ApiError;
use crate::graphql::guard;
use crate::graphql::ws::{ConnectionSlots, Slot};
use crate::oauth::TokenService;
use crate::oauth::management::split_reason;

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum TokenEventType {
    /// A login issued the first refresh token of a session.
    Issued,
    /// A refresh rotated a token into its successor.
    Rotated,
    /// Tokens were revoked.
    Revoked,
    /// A retired token was presented again; its session was revoked.
    ReuseDetected,
}

/// Something that happened to a user's tokens.
#[derive(SimpleObject)]
#[graphql(name = "TokenEvent")]
pub struct TokenEventNode {
    #[graphql(name = "type")]
    kind: TokenEventType,
    user_id: ID,
    /// `null` when the event spans clients (e.g. "log out everywhere").
    client_id: Option<String>,
    /// `null` when the event spans sessions.
    session_id: Option<ID>,
    /// The token concerned: the new one for `ISSUED` and `ROTATED`.
    token_id: Option<ID>,
    /// Why, for revocations.
    reason: Option<String>,
    /// Who, when a person revoked.
    revoked_by: Option<ID>,
    at: DateTime<Utc>,
}

impl From<TokenEvent> for TokenEventNode {
    fn from(e: TokenEvent) -> Self {
        let (reason, revoked_by) = match e.reason.as_deref().map(split_reason) {
            Some((why, who)) => (Some(why.to_string()), who.map(|w| ID(w.to_string()))),
            None => (None, None),
        };
        TokenEventNode {
            kind: match e.kind {
                TokenEventKind::Issued => TokenEventType::Issued,
                TokenEventKind::Rotated => TokenEventType::Rotated,
                TokenEventKind::Revoked => TokenEventType::Revoked,
                TokenEventKind::ReuseDetected => TokenEventType::ReuseDetected,
            },
            user_id: ID(e.user_id),
            client_id: Some(e.client_id).filter(|c| !c.is_empty()),
            session_id: e.session_id.map(ID),
            token_id: e.token_id.map(ID),
            reason,
            revoked_by,
            at: e.at,
        }
    }
}

#[derive(Default)]
pub struct TokenEventsSubscription;

#[Subscription]
impl TokenEventsSubscription {
    /// Events of `userId`'s tokens (yours when omitted; anyone's for an admin).
    async fn token_events(
        &self,
        ctx: &Context<'_>,
        user_id: Option<ID>,
    ) -> Result<impl Stream<Item = TokenEventNode> + use<>, ApiError> {
        let (p, user_id) = guard::target_user(ctx, user_id.as_ref()).await?;
        let tokens = guard::state(ctx)?.tokens.clone();
        // Over WebSocket, a place among the connection's and the caller's
        // subscriptions, held until the stream ends.
        let slot = match ctx.data_opt::<ConnectionSlots>() {
            Some(slots) => Some(slots.acquire(&p.claims.sub)?),
            None => None,
        };
        let watch = Watch {
            _slot: slot,
            events: tokens.events().subscribe(),
            deadline: deadline(&p.claims),
            claims: p.claims.clone(),
            user_id,
            tokens,
        };
        Ok(stream::unfold(watch, |mut w| async move {
            let event = w.next().await?;
            Some((event.into(), w))
        }))
    }
}

/// One subscriber's view of the event bus.
struct Watch {
    _slot: Option<Slot>,
    events: tokio::sync::broadcast::Receiver<TokenEvent>,
    deadline: tokio::time::Instant,
    claims: AccessClaims,
    user_id: String,
    tokens: TokenService,
}

impl Watch {
    /// The next event for the watched user; `None` once the caller's
    /// access token has expired or been revoked.
    async fn next(&mut self) -> Option<TokenEvent> {
        loop {
            let received = tokio::time::timeout_at(self.deadline, self.events.recv()).await;
            let event = match received {
                Err(_) | Ok(Err(RecvError::Closed)) => return None,
                Ok(Err(RecvError::Lagged(missed))) => {
                    tracing::warn!(missed, "a tokenEvents subscriber fell behind");
                    continue;
                }
                Ok(Ok(event)) => event,
            };
            if self.tokens.revocations().rejects(&self.claims) {
                return None;
            }
            if event.user_id == self.user_id {
                return Some(event);
            }
        }
    }
}

/// When the caller's access token expires, on the runtime's clock.
fn deadline(claims: &AccessClaims) -> tokio::time::Instant {
    let left = claims.exp.saturating_sub(Utc::now().timestamp()).max(0);
    let left = std::time::Duration::from_secs(u64::try_from(left).unwrap_or(0));
    tokio::time::Instant::now() + left
}
