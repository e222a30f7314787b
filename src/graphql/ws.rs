//! The limits of `/graphql/ws`: message size, subscriptions per connection
//! and per user, keepalive pings, and timeouts that close connections that
//! never authenticate, go idle, or stop answering.
//!
//! async-graphql's own serve loop has none of the timeouts (its keepalive
//! only notices a silent client), so the loop is ours: it drives
//! async-graphql's protocol stream and, beside it, a clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::Data;
use async_graphql::http::{WebSocketProtocols as Protocols, WsMessage};
use axum::body::Bytes;
use axum::extract::ws::{CloseFrame, Message, WebSocket};
use clap::Args;
use futures_util::{SinkExt, StreamExt, future};
use tokio::time::Instant;

use super::error::ApiError;

#[derive(Debug, Clone, Args)]
pub struct WsArgs {
    /// Largest WebSocket message (and frame) a client may send on /graphql/ws.
    #[arg(long, env = "TESSERA_WS_MAX_MESSAGE_SIZE", default_value = "64KiB",
          value_parser = crate::http::parse_size)]
    pub ws_max_message_size: usize,
    /// Subscriptions one WebSocket connection may run at once.
    #[arg(long, env = "TESSERA_WS_MAX_SUBSCRIPTIONS", default_value = "16",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_max_subscriptions: u32,
    /// Subscriptions one user may run at once, over all connections.
    #[arg(long, env = "TESSERA_WS_MAX_SUBSCRIPTIONS_PER_USER", default_value = "64",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub ws_max_subscriptions_per_user: u32,
    /// Time a new connection has to authenticate (`connection_init`).
    #[arg(long, env = "TESSERA_WS_INIT_TIMEOUT", default_value = "10s",
          value_parser = crate::config::parse_duration)]
    pub ws_init_timeout: Duration,
    /// A connection with no subscription and no message for this long is closed.
    #[arg(long, env = "TESSERA_WS_IDLE_TIMEOUT", default_value = "5m",
          value_parser = crate::config::parse_duration)]
    pub ws_idle_timeout: Duration,
    /// How often the server pings; a client silent for two intervals is gone.
    #[arg(long, env = "TESSERA_WS_PING_INTERVAL", default_value = "30s",
          value_parser = crate::config::parse_duration)]
    pub ws_ping_interval: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct WsLimits {
    pub max_message_size: usize,
    pub max_per_connection: usize,
    pub max_per_user: usize,
    pub init_timeout: Duration,
    pub idle_timeout: Duration,
    pub ping_interval: Duration,
}

impl From<WsArgs> for WsLimits {
    fn from(a: WsArgs) -> Self {
        WsLimits {
            max_message_size: a.ws_max_message_size,
            max_per_connection: a.ws_max_subscriptions as usize,
            max_per_user: a.ws_max_subscriptions_per_user as usize,
            init_timeout: a.ws_init_timeout,
            idle_timeout: a.ws_idle_timeout,
            ping_interval: a.ws_ping_interval,
        }
    }
}

/// Running subscriptions per user, shared by every connection of the server.
#[derive(Clone, Default)]
pub struct UserSlots(Arc<Mutex<HashMap<String, usize>>>);

/// One connection's running subscriptions; in the connection's `Data`.
#[derive(Clone)]
pub struct ConnectionSlots {
    active: Arc<AtomicUsize>,
    limits: WsLimits,
    users: UserSlots,
}

/// Held by a running subscription; frees its places when the stream ends.
pub struct Slot {
    connection: Arc<AtomicUsize>,
    users: UserSlots,
    user_id: String,
}

impl ConnectionSlots {
    /// A place for one more subscription of `user_id`, or `BAD_USER_INPUT`.
    pub fn acquire(&self, user_id: &str) -> Result<Slot, ApiError> {
        let limit = self.limits.max_per_connection;
        let taken = self
            .active
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < limit).then_some(n + 1)
            });
        if taken.is_err() {
            return Err(ApiError::BadUserInput(format!(
                "at most {limit} subscriptions may run on one connection"
            )));
        }
        let mut users = self.users.0.lock().unwrap_or_else(|p| p.into_inner());
        let count = users.entry(user_id.to_string()).or_insert(0);
        if *count >= self.limits.max_per_user {
            drop(users);
            self.active.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::BadUserInput(format!(
                "at most {} subscriptions may run for one user",
                self.limits.max_per_user
            )));
        }
        *count += 1;
        Ok(Slot {
            connection: Arc::clone(&self.active),
            users: self.users.clone(),
            user_id: user_id.to_string(),
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.connection.fetch_sub(1, Ordering::AcqRel);
        let mut users = self.users.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = users.get_mut(&self.user_id) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                users.remove(&self.user_id);
            }
        }
    }
}

/// What `serve` needs from the caller's side of the protocol.
pub struct Connection {
    pub slots: ConnectionSlots,
    /// Set once `connection_init` has been accepted.
    pub authenticated: Arc<AtomicBool>,
}

impl Connection {
    pub fn new(limits: WsLimits, users: UserSlots) -> Self {
        Connection {
            slots: ConnectionSlots {
                active: Arc::new(AtomicUsize::new(0)),
                limits,
                users,
            },
            authenticated: Arc::new(AtomicBool::new(false)),
        }
    }
}

/// The first subprotocol of the upgrade request that we speak.
pub fn protocol(parts: &axum::http::request::Parts) -> Option<Protocols> {
    parts
        .headers
        .get(axum::http::header::SEC_WEBSOCKET_PROTOCOL)?
        .to_str()
        .ok()?
        .split(',')
        .find_map(|p| p.trim().parse().ok())
}

/// Runs graphql-transport-ws over `socket` until either side ends it,
/// pinging the client, and closing the connection when a limit runs out.
pub async fn serve<F, Fut>(
    socket: WebSocket,
    schema: super::TesseraSchema,
    protocol: Protocols,
    connection: Connection,
    on_init: F,
) where
    F: FnOnce(serde_json::Value) -> Fut + Send + 'static,
    Fut: Future<Output = async_graphql::Result<Data>> + Send + 'static,
{
    // Counted until it ends, so that a stop waits for its close frame.
    let _open = crate::shutdown::Open::track();
    let stopping = crate::shutdown::begun();
    tokio::pin!(stopping);
    let limits = connection.slots.limits;
    let activity = Arc::new(Activity::new());
    let (mut sink, stream) = socket.split();
    let seen = Arc::clone(&activity);
    let input = stream
        .take_while({
            let seen = Arc::clone(&activity);
            move |frame| {
                // tungstenite refuses an oversized message with a read error.
                if let Err(e) = frame
                    && e.to_string().contains("too long")
                {
                    seen.too_big.store(true, Ordering::Release);
                }
                future::ready(frame.is_ok())
            }
        })
        .filter_map(move |frame| {
            future::ready(match frame {
                Ok(m @ (Message::Text(_) | Message::Binary(_))) => {
                    seen.touch(true);
                    Some(m.into_data())
                }
                Ok(_) => {
                    seen.touch(false);
                    None
                }
                Err(_) => None,
            })
        });
    let protocol_stream = async_graphql::http::WebSocket::new(schema, input, protocol)
        .on_connection_init(on_init)
        .map(|message| match message {
            WsMessage::Text(text) => Message::Text(text.into()),
            WsMessage::Close(code, reason) => close(code, &reason),
        });
    futures_util::pin_mut!(protocol_stream);

    let mut tick = tokio::time::interval(check_every(&limits));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut last_ping = Instant::now();
    loop {
        tokio::select! {
            out = protocol_stream.next() => match out {
                Some(message) => {
                    if sink.send(message).await.is_err() {
                        return;
                    }
                }
                None => break,
            },
            () = &mut stopping => {
                // 1001: the client should reconnect (to another instance).
                let _ = sink.send(close(1001, "the server is shutting down")).await;
                return;
            }
            _ = tick.tick() => {
                let now = Instant::now();
                let verdict = activity.verdict(
                    now,
                    &limits,
                    connection.authenticated.load(Ordering::Acquire),
                    connection.slots.active.load(Ordering::Acquire),
                );
                if let Some((code, reason)) = verdict {
                    let _ = sink.send(close(code, reason)).await;
                    return;
                }
                if now - last_ping >= limits.ping_interval {
                    last_ping = now;
                    if sink.send(Message::Ping(Bytes::new())).await.is_err() {
                        return;
                    }
                }
            }
        }
    }
    if activity.too_big.load(Ordering::Acquire) {
        let _ = sink.send(close(1009, "message too big")).await;
    }
}

fn close(code: u16, reason: &str) -> Message {
    Message::Close(Some(CloseFrame {
        code,
        reason: reason.into(),
    }))
}

/// How often the clock looks: often enough for the shortest limit.
fn check_every(limits: &WsLimits) -> Duration {
    let shortest = limits
        .ping_interval
        .min(limits.init_timeout)
        .min(limits.idle_timeout);
    (shortest / 4).clamp(Duration::from_millis(50), Duration::from_secs(5))
}

/// When the client was last heard from, in milliseconds since the start.
struct Activity {
    started: Instant,
    last_frame: AtomicU64,
    last_message: AtomicU64,
    too_big: AtomicBool,
}

impl Activity {
    fn new() -> Self {
        Activity {
            started: Instant::now(),
            last_frame: AtomicU64::new(0),
            last_message: AtomicU64::new(0),
            too_big: AtomicBool::new(false),
        }
    }

    fn millis(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// A frame arrived; `message`: a protocol message, not a pong.
    fn touch(&self, message: bool) {
        let now = self.millis();
        self.last_frame.store(now, Ordering::Release);
        if message {
            self.last_message.store(now, Ordering::Release);
        }
    }

    /// Why the connection must close now, if it must.
    fn verdict(
        &self,
        now: Instant,
        limits: &WsLimits,
        authenticated: bool,
        subscriptions: usize,
    ) -> Option<(u16, &'static str)> {
        let elapsed = now.saturating_duration_since(self.started);
        let since = |at: &AtomicU64| {
            elapsed.saturating_sub(Duration::from_millis(at.load(Ordering::Acquire)))
        };
        if !authenticated && elapsed >= limits.init_timeout {
            // graphql-transport-ws: "Connection initialisation timeout".
            return Some((4408, "Connection initialisation timeout"));
        }
        if since(&self.last_frame) >= limits.ping_interval * 2 {
            return Some((1001, "no answer to pings"));
        }
        if subscriptions == 0 && since(&self.last_message) >= limits.idle_timeout {
            return Some((1000, "idle timeout"));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> WsLimits {
        WsLimits {
            max_message_size: 1024,
            max_per_connection: 2,
            max_per_user: 3,
            init_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(300),
            ping_interval: Duration::from_secs(30),
        }
    }

    #[test]
    fn each_timeout_closes_with_its_own_code() {
        let a = Activity::new();
        let at = |s| a.started + Duration::from_secs(s);
        let l = limits();
        assert_eq!(a.verdict(at(5), &l, false, 0), None);
        assert_eq!(a.verdict(at(10), &l, false, 0).map(|v| v.0), Some(4408));
        assert_eq!(a.verdict(at(59), &l, true, 1), None);
        assert_eq!(a.verdict(at(60), &l, true, 1).map(|v| v.0), Some(1001));
        // Pongs keep it alive; with no subscription, idleness still ends it.
        a.last_frame.store(400_000, Ordering::Release);
        assert_eq!(a.verdict(at(401), &l, true, 1), None);
        assert_eq!(a.verdict(at(401), &l, true, 0).map(|v| v.0), Some(1000));
    }

    #[test]
    fn slots_are_counted_per_connection_and_per_user_and_given_back() {
        let users = UserSlots::default();
        let one = Connection::new(limits(), users.clone()).slots;
        let two = Connection::new(limits(), users.clone()).slots;
        let a = one.acquire("u").expect("first");
        let _b = one.acquire("u").expect("second");
        assert!(one.acquire("v").is_err(), "two per connection");
        let _c = two.acquire("u").expect("third for u");
        assert!(two.acquire("u").is_err(), "three per user");
        drop(a);
        assert!(two.acquire("u").is_ok(), "a dropped slot is free again");
    }
}
