//! Liveness and readiness probes.

use crate::helpers::spawn_app;

#[tokio::test]
async fn healthz_answers_ok() {
    let app = spawn_app().await;

    let res = app.get("/healthz").await;

    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn readyz_answers_ok_when_the_database_is_reachable() {
    let app = spawn_app().await;

    let res = app.get("/readyz").await;

    assert_eq!(res.status(), 200);
}
