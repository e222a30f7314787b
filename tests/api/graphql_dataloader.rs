//! Nested fields are batched: listing 10 or 100 tokens with their users
//! (and sessions with their tokens) costs the same number of database
//! statements, counted by the server at `GET /metrics`.

use serde_json::json;

use crate::graphql::{PASSWORD, admin, data, gql, new_user, refresh_ok, sign_in};
use crate::helpers::{TestApp, spawn_app};

const TOKENS: &str = "{
  refreshTokens(first: 100) {
    totalCount
    edges { node { id status user { id email roles } } }
  }
}";

const SESSIONS: &str = "{
  sessions(first: 100) {
    totalCount
    edges { node { id isActive user { email } tokens(first: 5) { id status user { email } } } }
  }
}";

/// `tessera_db_queries_total` from `/metrics`.
async fn statements(app: &TestApp) -> u64 {
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    let text = res.text().await.expect("body");
    text.lines()
        .find_map(|l| l.strip_prefix("tessera_db_queries_total "))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or_else(|| panic!("no tessera_db_queries_total in: {text}"))
}

/// Statements one run of `query` costs, and the `totalCount` it reports.
/// The server also runs a few statements of its own every couple of
/// seconds (revocation list and key sync), so the cheapest of several runs
/// is the cost of the query.
async fn cost(app: &TestApp, token: &str, query: &str) -> (u64, u64) {
    let mut cheapest = u64::MAX;
    let mut total = 0;
    for _ in 0..5 {
        let before = statements(app).await;
        let got = data(gql(app, Some(token), query, json!({})).await);
        let after = statements(app).await;
        let list = got
            .as_object()
            .and_then(|o| o.values().next())
            .expect("one field");
        total = list["totalCount"].as_u64().expect("totalCount");
        cheapest = cheapest.min(after - before);
    }
    (cheapest, total)
}

/// `logins` more sessions for the user, each refreshed once: two tokens each.
async fn add_sessions(app: &TestApp, email: &str, logins: usize) {
    for _ in 0..logins {
        let account = sign_in(app, email, PASSWORD).await;
        refresh_ok(app, &account.refresh).await;
    }
}

#[tokio::test]
async fn listing_100_tokens_with_users_costs_as_many_queries_as_10() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    refresh_ok(&app, &ada.refresh).await;
    add_sessions(&app, "ada@example.com", 4).await;
    let (tokens_10, total) = cost(&app, &ada.access, TOKENS).await;
    assert_eq!(total, 10);
    let (sessions_5, total) = cost(&app, &ada.access, SESSIONS).await;
    assert_eq!(total, 5);

    add_sessions(&app, "ada@example.com", 45).await;
    let (tokens_100, total) = cost(&app, &ada.access, TOKENS).await;
    assert_eq!(total, 100);
    let (sessions_50, total) = cost(&app, &ada.access, SESSIONS).await;
    assert_eq!(total, 50);

    eprintln!(
        "statements: refreshTokens with users: {tokens_10} for 10, {tokens_100} for 100; \
         sessions with users and tokens with users: {sessions_5} for 5, {sessions_50} for 50"
    );
    assert_eq!(tokens_10, tokens_100, "RefreshToken.user is batched");
    assert_eq!(
        sessions_5, sessions_50,
        "Session.user and Session.tokens are batched"
    );
    assert!(
        tokens_100 <= 5 && sessions_50 <= 8,
        "a handful of statements, not one per item"
    );

    // The same holds for an admin listing someone else's tokens.
    let root = admin(&app).await;
    let before = statements(&app).await;
    let q = "query($id: ID!) { refreshTokens(userId: $id, first: 100) { edges { node { user { email } } } } }";
    data(gql(&app, Some(&root.access), q, json!({ "id": ada.id })).await);
    let cost = statements(&app).await - before;
    assert!(
        cost < 20,
        "{cost} statements for 100 tokens of another user"
    );
}

#[tokio::test]
async fn metrics_are_in_the_prometheus_text_format() {
    let app = spawn_app().await;
    let res = app.get("/metrics").await;
    assert_eq!(res.status(), 200);
    let content_type = res.headers()["content-type"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = res.text().await.expect("body");
    assert!(
        text.contains("# TYPE tessera_db_queries_total counter"),
        "{text}"
    );
    assert!(
        statements(&app).await > 0,
        "migrations and bootstrap ran statements"
    );
}
