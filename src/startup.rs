//! Builds the application from settings: database, migrations, bootstrap,
//! keys, router and listener. Tests start the very same `Application` on
//! port 0.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::Utc;
use tokio::net::TcpListener;

use crate::config::Settings;
use crate::crypto::jwt::JwtCodec;
use crate::crypto::keys::{self, KeyRing, Keys};
use crate::crypto::password::PasswordHasherPool;
use crate::oauth::{TokenPolicy, TokenService};
use crate::store::{Store, StoreOptions};
use crate::{bootstrap, http};

/// What every handler can reach. Cloned for every request (axum's `State`
/// extractor and each route's service), so it is one shared pointer: cloning
/// the parts one by one took about twenty reference-count changes per
/// request, on counters that both cores keep touching.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

/// The parts of [`AppState`], reached through it (`state.store`).
pub struct Shared {
    pub store: Store,
    pub tokens: TokenService,
    pub settings: Arc<Settings>,
    /// Stateless: each request brings its own data.
    pub graphql: crate::graphql::TesseraSchema,
    /// Running subscriptions per user, for `--ws-max-subscriptions-per-user`.
    pub subscriptions: crate::graphql::UserSlots,
}

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Application {
    store: Store,
    listener: TcpListener,
    router: axum::Router,
    address: SocketAddr,
    limits: crate::server::Limits,
    /// `--metrics-bind`: `/metrics` on an address of its own.
    metrics: Option<(TcpListener, axum::Router)>,
}

impl Application {
    pub async fn build(settings: Settings) -> anyhow::Result<Self> {
        let store = Store::connect_with_options(
            &settings.database_url,
            StoreOptions {
                max_connections: settings.db_max_connections,
                synchronous: settings.sqlite_synchronous,
            },
        )
        .await?;
        store.migrate().await?;
        let hasher = match settings.password_hash_threads {
            Some(threads) => PasswordHasherPool::new(threads),
            None => PasswordHasherPool::per_core(),
        };
        let listener = TcpListener::bind(settings.bind).await?;
        let address = listener.local_addr()?;
        bootstrap::run(&store, address).await?;
        bootstrap::ensure_console_client(&store).await?;
        let issuer = settings
            .issuer
            .clone()
            .unwrap_or_else(|| format!("http://{address}"));
        let audience = settings.audience.clone().unwrap_or_else(|| issuer.clone());

        let policy = TokenPolicy {
            access_ttl: chrono_duration(settings.access_token_ttl)?,
            refresh_ttl: chrono_duration(settings.refresh_token_ttl)?,
            session_ttl: chrono_duration(settings.session_ttl)?,
            lockout_threshold: settings.lockout_threshold,
            lockout_duration: chrono_duration(settings.lockout_duration)?,
        };
        let ring = load_key_ring(&store, policy.access_ttl).await?;
        let jwt = JwtCodec::new(ring, issuer, audience);
        let access_ttl = policy.access_ttl;
        let tokens = TokenService::new(store.clone(), hasher, jwt, policy);
        tokens.revocations().reload(&store, access_ttl).await?;
        tokens.spawn_background_sync();
        spawn_gauges(store.clone());
        if let Some(every) = settings.purge_interval {
            spawn_purge(store.clone(), every, chrono_duration(settings.retention)?);
        }
        let graphql = crate::graphql::build(settings.graphql_limits);
        let state = AppState(Arc::new(Shared {
            store: store.clone(),
            tokens,
            settings: Arc::new(settings),
            graphql,
            subscriptions: Default::default(),
        }));
        let limits = crate::server::Limits {
            max_connections: state.settings.max_connections,
            header_read_timeout: state.settings.header_read_timeout,
            shutdown_grace: state.settings.ops.shutdown_timeout,
        };
        let metrics = match state.settings.ops.metrics_bind {
            Some(bind) => Some((
                TcpListener::bind(bind).await?,
                http::metrics_router(state.clone()),
            )),
            None => None,
        };
        Ok(Application {
            store,
            limits,
            listener,
            router: http::router(state),
            address,
            metrics,
        })
    }

    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Serves until SIGTERM or Ctrl-C, then lets requests in flight finish.
    pub async fn run_until_stopped(self) -> anyhow::Result<()> {
        let metrics = match self.metrics {
            Some((listener, router)) => {
                tracing::info!("metrics on http://{}/metrics", listener.local_addr()?);
                Some(tokio::spawn(async move {
                    if let Err(e) = axum::serve(listener, router).await {
                        tracing::warn!(error = %e, "the metrics listener stopped");
                    }
                }))
            }
            None => None,
        };
        tracing::info!("listening on http://{}", self.address);
        crate::server::serve(self.listener, self.router, self.limits, shutdown_signal()).await;
        if let Some(metrics) = metrics {
            metrics.abort();
        }
        if let Err(e) = self.store.close().await {
            tracing::warn!(error = %e, "could not tidy the database up at shutdown");
        }
        tracing::info!("stopped");
        Ok(())
    }
}

fn chrono_duration(d: std::time::Duration) -> anyhow::Result<chrono::Duration> {
    Ok(chrono::Duration::from_std(d)?)
}

/// Loads the signing keys, making the first one on a new database.
pub async fn load_key_ring(store: &Store, access_ttl: chrono::Duration) -> anyhow::Result<KeyRing> {
    let now = Utc::now();
    let mut materials = store.load_keys(now - access_ttl).await?;
    if !materials.iter().any(|k| k.current) {
        let key = keys::generate()?;
        store.install_key(&key, now).await?;
        tracing::info!(kid = %key.kid, "generated the first signing key");
        materials = store.load_keys(now - access_ttl).await?;
    }
    Ok(KeyRing::new(Keys::build(&materials)?))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
    crate::shutdown::begin();
}

/// Purges ended tokens and sessions every `every`, keeping `retention`.
fn spawn_purge(store: Store, every: std::time::Duration, retention: chrono::Duration) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            match store.purge(Utc::now() - retention).await {
                // Nothing to purge (the first tick, at start) is no news.
                Ok(purged) if purged.refresh_tokens == 0 && purged.sessions == 0 => {
                    tracing::debug!("nothing to purge")
                }
                Ok(purged) => tracing::info!(
                    refresh_tokens = purged.refresh_tokens,
                    sessions = purged.sessions,
                    "purged ended tokens and sessions"
                ),
                Err(e) => tracing::warn!(error = %e, "purge failed"),
            }
        }
    });
}

/// How often the gauges that need a query are brought up to date.
const GAUGES_EVERY: std::time::Duration = std::time::Duration::from_secs(15);

/// Counts active sessions and reads the current key's age every
/// `GAUGES_EVERY`, so that a scrape runs no query (and a scraper polling
/// fast cannot load the database).
fn spawn_gauges(store: Store) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(GAUGES_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let metrics = crate::metrics::get();
        loop {
            tick.tick().await;
            match store.count_active_sessions(Utc::now()).await {
                Ok(n) => {
                    metrics
                        .active_sessions
                        .set(i64::try_from(n).unwrap_or(i64::MAX));
                }
                Err(e) => tracing::debug!(error = %e, "could not count active sessions"),
            }
            match store.current_key_created_at().await {
                Ok(Some(at)) => {
                    metrics.signing_key_created.set(at.timestamp());
                }
                Ok(None) => {}
                Err(e) => tracing::debug!(error = %e, "could not read the signing key's age"),
            }
        }
    });
}
