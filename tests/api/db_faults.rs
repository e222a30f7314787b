//! Database faults (PostgreSQL): the connection to the database is cut in
//! the middle of load and restored. Clients get a clean 503 (or another
//! clean error) within a bounded time, never a 500 or a hang; `/readyz`
//! reports the outage; the server recovers by itself.
//!
//! The cut is made by a TCP proxy of the test's own between Tessera and
//! PostgreSQL, so that other tests sharing the server are not disturbed.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

use crate::backend::is_postgres;
use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, spawn_app_routed, str_field};

/// A proxy that can drop every connection and refuse new ones, then heal.
struct Proxy {
    address: String,
    up: Arc<AtomicBool>,
    cut: Arc<Notify>,
}

impl Proxy {
    async fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        let up = Arc::new(AtomicBool::new(true));
        let cut = Arc::new(Notify::new());
        let (up2, cut2) = (Arc::clone(&up), Arc::clone(&cut));
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !up2.load(Ordering::SeqCst) {
                    continue; // dropped: the connection is refused
                }
                let upstream = upstream.clone();
                let cut = Arc::clone(&cut2);
                tokio::spawn(async move {
                    let Ok(mut server) = TcpStream::connect(&upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        () = cut.notified() => {}
                    }
                });
            }
        });
        Proxy { address, up, cut }
    }

    fn cut(&self) {
        self.up.store(false, Ordering::SeqCst);
        self.cut.notify_waiters();
    }

    fn heal(&self) {
        self.up.store(true, Ordering::SeqCst);
    }
}

/// `postgres://user@host:port/db` → the `host:port` part.
fn host_port(url: &str) -> String {
    let rest = url.split("://").nth(1).expect("scheme");
    let authority = rest.split('/').next().expect("authority");
    authority.rsplit('@').next().expect("host").to_string()
}

// Multi-threaded: the harness blocks one thread while the server starts,
// and the proxy must keep serving meanwhile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_outage_answers_503_and_the_server_recovers_by_itself() {
    if !is_postgres() {
        return; // an outage of an embedded SQLite file is not a thing
    }
    let upstream = host_port(
        &std::env::var("TESSERA_TEST_POSTGRES_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into()),
    );
    let proxy = Proxy::start(upstream.clone()).await;
    let via = proxy.address.clone();
    let app = spawn_app_routed(&[], move |url| url.replacen(&upstream, &via, 1)).await;
    let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let mut refresh = str_field(&login, "refresh_token").to_string();

    proxy.cut();

    // During the outage: clean, bounded answers.
    for _ in 0..3 {
        let started = Instant::now();
        let res = tokio::time::timeout(
            Duration::from_secs(20),
            app.token(&[
                ("grant_type", "password"),
                ("client_id", CLI_CLIENT),
                ("username", ADMIN_EMAIL),
                ("password", ADMIN_PASSWORD),
            ]),
        )
        .await
        .expect("the request hung during the outage");
        let status = res.status().as_u16();
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(status, 503, "during the outage: {body}");
        assert_eq!(body["error"], "temporarily_unavailable");
        assert!(started.elapsed() < Duration::from_secs(20));
    }
    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request");
    assert_eq!(ready.status(), 503, "/readyz must report the outage");

    proxy.heal();

    // Recovery without a restart: the refresh token from before still works.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let res = app.refresh(&refresh).await;
        let status = res.status().as_u16();
        assert_ne!(status, 500, "a 500 while recovering");
        if status == 200 {
            let body: serde_json::Value = res.json().await.expect("json");
            refresh = str_field(&body, "refresh_token").to_string();
            break;
        }
        assert_eq!(status, 503, "only 503 while the database comes back");
        assert!(Instant::now() < deadline, "the server did not recover");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let ready = app
        .http
        .get(app.url("/readyz"))
        .send()
        .await
        .expect("request");
    assert_eq!(ready.status(), 200);
    assert_eq!(app.refresh(&refresh).await.status(), 200);
}
