//! Crash safety: SIGKILL in the middle of refresh load, restart on the same
//! database, and account for every refresh token a client received in a 200
//! before the kill — none lost, none valid twice.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{ConnectionTrait, Database, DatabaseConnection, DbBackend, Statement};
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;

use crate::helpers::{ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, spawn_app_with, str_field};

const WORKERS: usize = 8;

fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// `(id, revoked_reason, replaced_by_id)` of the stored token with this value.
async fn stored(
    db: &DatabaseConnection,
    token: &str,
) -> Option<(String, Option<String>, Option<String>)> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT id, revoked_reason, replaced_by_id FROM refresh_tokens WHERE token_hash = $1"
        }
        _ => "SELECT id, revoked_reason, replaced_by_id FROM refresh_tokens WHERE token_hash = ?",
    };
    let row = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [digest(token).into()],
        ))
        .await
        .expect("query")?;
    Some((
        row.try_get("", "id").expect("id"),
        row.try_get("", "revoked_reason").expect("reason"),
        row.try_get("", "replaced_by_id").expect("replaced_by_id"),
    ))
}

#[tokio::test]
async fn a_crash_under_refresh_load_loses_no_rotation_and_revives_no_token() {
    let mut app = spawn_app_with(&["--issuer", "http://tessera.test"]).await;
    // Each worker's chain: every refresh token it received in a 200, in order.
    let chains: Arc<Vec<Mutex<Vec<String>>>> =
        Arc::new((0..WORKERS).map(|_| Mutex::new(Vec::new())).collect());
    for chain in chains.iter() {
        let login = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
        chain
            .lock()
            .expect("lock")
            .push(str_field(&login, "refresh_token").to_string());
    }

    let mut workers = JoinSet::new();
    for w in 0..WORKERS {
        let chains = Arc::clone(&chains);
        let http = app.http.clone();
        let url = app.url("/oauth/token");
        workers.spawn(async move {
            // Bounded: stops at the first failure (the kill) or after 10,000 refreshes.
            for _ in 0..10_000 {
                let current = chains[w]
                    .lock()
                    .expect("lock")
                    .last()
                    .cloned()
                    .expect("token");
                let form = [
                    ("grant_type", "refresh_token"),
                    ("client_id", CLI_CLIENT),
                    ("refresh_token", current.as_str()),
                ];
                let Ok(res) = http.post(&url).form(&form).send().await else {
                    return;
                };
                if res.status() != 200 {
                    return;
                }
                let Ok(body) = res.json::<serde_json::Value>().await else {
                    return;
                };
                let next = body["refresh_token"]
                    .as_str()
                    .expect("refresh_token")
                    .to_string();
                chains[w].lock().expect("lock").push(next);
            }
        });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    app.restart().await; // SIGKILL, then start again on the same database
    while workers.join_next().await.is_some() {}

    let db = Database::connect(&app.database_url).await.expect("connect");
    let mut rotations = 0;
    for chain in chains.iter() {
        let chain = chain.lock().expect("lock").clone();
        assert!(chain.len() > 1, "a worker never refreshed");
        rotations += chain.len() - 1;
        // Every token but the last was rotated, by the 200 that returned the next one.
        for pair in chain.windows(2) {
            let (_, reason, replaced_by) = stored(&db, &pair[0])
                .await
                .expect("a received token was lost");
            let (next_id, _, _) = stored(&db, &pair[1])
                .await
                .expect("a received token was lost");
            assert_eq!(reason.as_deref(), Some("rotated"));
            assert_eq!(
                replaced_by.as_deref(),
                Some(next_id.as_str()),
                "rotated into another token"
            );
        }
        // The last one is either still active (and refreshes), or a rotation
        // whose answer the kill swallowed committed whole: its successor exists.
        let last = chain.last().expect("token");
        let (_, reason, replaced_by) = stored(&db, last).await.expect("the newest token was lost");
        match reason.as_deref() {
            None => {
                let res = app.refresh(last).await;
                assert_eq!(
                    res.status(),
                    200,
                    "the newest token does not work after the restart"
                );
            }
            Some("rotated") => {
                let successor = replaced_by.expect("a rotation records its successor");
                let backend = db.get_database_backend();
                let sql = match backend {
                    DbBackend::Postgres => "SELECT id FROM refresh_tokens WHERE id = $1",
                    _ => "SELECT id FROM refresh_tokens WHERE id = ?",
                };
                let found = db
                    .query_one_raw(Statement::from_sql_and_values(
                        backend,
                        sql,
                        [successor.into()],
                    ))
                    .await
                    .expect("query");
                assert!(found.is_some(), "a half-committed rotation");
            }
            Some(other) => panic!("the newest token was revoked ({other}) without a reuse"),
        }
        // And no spent token works again.
        let res = app.refresh(&chain[0]).await;
        assert_eq!(
            res.status(),
            400,
            "a rotated token was accepted after the restart"
        );
    }
    assert!(
        rotations >= WORKERS,
        "too little load before the kill: {rotations} rotations"
    );
}
