//! Several instances on one database, the way Tessera scales out: the
//! database is the only shared state, and every guarantee holds across
//! instances. (Run on both backends; PostgreSQL is the one meant for it.)

use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, CLI_CLIENT, TestApp, assert_oauth_error, spawn_app_with,
    str_field, token_success,
};
use crate::jwt::decode_unverified;

/// Instances behind one load balancer share one issuer (by default each
/// would name its own address).
const ISSUER: [&str; 2] = ["--issuer", "http://tessera.test"];

async fn spawn_pair() -> (TestApp, TestApp) {
    spawn_pair_with(&[]).await
}

async fn spawn_pair_with(extra: &[&str]) -> (TestApp, TestApp) {
    let mut args = ISSUER.to_vec();
    args.extend_from_slice(extra);
    let a = spawn_app_with(&args).await;
    let b = a.spawn_peer().await;
    (a, b)
}

/// How long a change made through one instance may take to reach another
/// (`SYNC_EVERY` is 2 s), with room for a slow CI machine.
const PROPAGATION: Duration = Duration::from_secs(8);

/// Polls `check` until it holds or `PROPAGATION` has passed.
async fn eventually<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + PROPAGATION;
    loop {
        if check().await {
            return true;
        }
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test]
async fn a_token_rotated_on_one_instance_and_reused_on_another_kills_the_session() {
    let (a, b) = spawn_pair().await;
    let first = a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let old = str_field(&first, "refresh_token");

    let rotated = token_success(a.refresh(old).await).await;
    assert_oauth_error(b.refresh(old).await, 400, "invalid_grant").await;

    // The successor, issued by A before the reuse on B, is dead on both.
    let newest = str_field(&rotated, "refresh_token");
    assert_oauth_error(a.refresh(newest).await, 400, "invalid_grant").await;
    assert_oauth_error(b.refresh(newest).await, 400, "invalid_grant").await;
}

#[tokio::test]
async fn of_fifty_concurrent_refreshes_over_two_instances_exactly_one_succeeds() {
    let (a, b) = spawn_pair().await;
    let login = a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let token = str_field(&login, "refresh_token").to_string();

    let mut tasks = JoinSet::new();
    for i in 0..50 {
        let url = if i % 2 == 0 {
            a.url("/oauth/token")
        } else {
            b.url("/oauth/token")
        };
        let http = a.http.clone();
        let token = token.clone();
        tasks.spawn(async move {
            let form = [
                ("grant_type", "refresh_token"),
                ("client_id", CLI_CLIENT),
                ("refresh_token", token.as_str()),
            ];
            http.post(url)
                .form(&form)
                .send()
                .await
                .map(|r| r.status().as_u16())
        });
    }
    let mut statuses = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        statuses.push(joined.expect("task").expect("request"));
    }
    let ok = statuses.iter().filter(|s| **s == 200).count();
    assert_eq!(ok, 1, "statuses: {statuses:?}");
    assert!(
        statuses.iter().all(|s| *s == 200 || *s == 400),
        "statuses: {statuses:?}"
    );
}

async fn kid_of(app: &TestApp) -> String {
    let body = app.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let (header, _) = decode_unverified(str_field(&body, "access_token"));
    header["kid"].as_str().expect("kid").to_string()
}

async fn published_kids(app: &TestApp) -> Vec<String> {
    let jwks: serde_json::Value = app
        .http
        .get(app.url("/.well-known/jwks.json"))
        .send()
        .await
        .expect("request")
        .json()
        .await
        .expect("json");
    jwks["keys"]
        .as_array()
        .expect("keys")
        .iter()
        .filter_map(|k| k["kid"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn a_key_rotated_elsewhere_is_used_and_published_by_a_running_instance() {
    let (a, b) = spawn_pair().await;
    let old_kid = kid_of(&b).await;
    let old_token =
        str_field(&b.login(ADMIN_EMAIL, ADMIN_PASSWORD).await, "access_token").to_string();

    let rotated = a.cli(&["keys", "rotate"]);
    let new_kid = rotated["kid"].as_str().expect("kid").to_string();
    assert_ne!(new_kid, old_kid);

    assert!(
        eventually(|| async { kid_of(&b).await == new_kid }).await,
        "the other instance never signed with the new key"
    );
    let kids = published_kids(&b).await;
    assert!(
        kids.contains(&new_kid) && kids.contains(&old_kid),
        "JWKS: {kids:?}"
    );
    // Tokens signed with the old key keep working until they expire.
    assert_eq!(b.me(&old_token).await.status(), 200);
    assert_eq!(a.me(&old_token).await.status(), 200);
}

#[tokio::test]
async fn an_account_locked_through_one_instance_is_locked_on_the_others() {
    let (a, b) = spawn_pair_with(&["--lockout-threshold", "3", "--lockout-duration", "10m"]).await;
    for _ in 0..3 {
        let res = a.password_grant(ADMIN_EMAIL, "wrong password!", &[]).await;
        assert_oauth_error(res, 400, "invalid_grant").await;
    }
    let res = b.password_grant(ADMIN_EMAIL, ADMIN_PASSWORD, &[]).await;
    assert_oauth_error(res, 400, "invalid_grant").await;
}

#[tokio::test]
async fn a_session_revoked_through_one_instance_stops_its_access_token_on_another() {
    let (a, b) = spawn_pair().await;
    let login = a.login(ADMIN_EMAIL, ADMIN_PASSWORD).await;
    let access = str_field(&login, "access_token").to_string();
    let refresh = str_field(&login, "refresh_token");
    assert_eq!(b.me(&access).await.status(), 200);

    let res = a
        .post_form(
            "/oauth/revoke",
            &[("client_id", CLI_CLIENT), ("token", refresh)],
        )
        .await;
    assert_eq!(res.status(), 200);

    assert_eq!(
        a.me(&access).await.status(),
        401,
        "at once on the revoking instance"
    );
    assert!(
        eventually(|| async { b.me(&access).await.status() == 401 }).await,
        "the other instance kept accepting the access token"
    );
}

#[tokio::test]
async fn a_session_revoked_through_graphql_on_one_instance_stops_another_instances_api_me() {
    let (a, b) = spawn_pair().await;
    let admin = crate::graphql::admin(&a).await;
    let victim = crate::graphql::sign_in(&a, ADMIN_EMAIL, ADMIN_PASSWORD).await;
    assert_eq!(b.me(&victim.access).await.status(), 200);

    let sessions = crate::graphql::data(
        crate::graphql::gql(
            &a,
            Some(&admin.access),
            "{ sessions(first: 100, activeOnly: true) { edges { node { id isCurrent } } } }",
            serde_json::json!({}),
        )
        .await,
    );
    let edges = sessions["sessions"]["edges"].as_array().expect("edges");
    // The admin's own current session stays; every other one is the victim's.
    let target = edges
        .iter()
        .map(|e| &e["node"])
        .find(|n| n["isCurrent"] == false)
        .expect("the victim's session")["id"]
        .clone();
    crate::graphql::data(
        crate::graphql::gql(
            &a,
            Some(&admin.access),
            "mutation($id: ID!) { revokeSession(id: $id) { id isActive } }",
            serde_json::json!({ "id": target }),
        )
        .await,
    );

    assert_eq!(
        a.me(&victim.access).await.status(),
        401,
        "at once on the instance that revoked"
    );
    assert!(
        eventually(|| async { b.me(&victim.access).await.status() == 401 }).await,
        "the other instance kept accepting the access token"
    );
    assert_eq!(
        b.me(&admin.access).await.status(),
        200,
        "other sessions live on"
    );
}
