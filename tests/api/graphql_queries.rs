//! GraphQL queries: profiles, users, refresh tokens by status, sessions,
//! clients and signing keys; and no secret in any of them.

use serde_json::{Value, json};

use crate::graphql::{
    PASSWORD, admin, assert_no_secrets, data, digest, gql, new_user, refresh_ok, sign_in,
};
use crate::helpers::{spawn_app, spawn_app_with};

const TOKENS: &str = "query($status: RefreshTokenStatus) {
  refreshTokens(status: $status) {
    totalCount
    edges { cursor node {
      id user { id email } userId clientId sessionId scope createdAt expiresAt revokedAt
      revokedReason revokedBy parentId replacedById status isActive isExpired createdByIp userAgent
    } }
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
  }
}";

const SESSIONS: &str = "query($activeOnly: Boolean) {
  sessions(activeOnly: $activeOnly) {
    totalCount
    edges { cursor node {
      id user { email } userId clientId scope createdAt lastRefreshedAt expiresAt revokedAt
      revokedReason revokedBy isActive isCurrent createdByIp userAgent
      tokens { id status parentId replacedById }
    } }
  }
}";

#[tokio::test]
async fn me_and_user_return_the_profile() {
    let app = spawn_app().await;
    app.cli(&[
        "user",
        "create",
        "--email",
        "Ada@Example.com",
        "--password",
        PASSWORD,
        "--first-name",
        "Ada",
        "--last-name",
        "Lovelace",
        "--role",
        "auditor",
    ]);
    let ada = sign_in(&app, "ada@example.com", PASSWORD).await;
    let q = "query($id: ID!) {
      me { id email firstName lastName roles disabled isLocked createdAt }
      user(id: $id) { id email }
    }";
    let got = data(gql(&app, Some(&ada.access), q, json!({ "id": ada.id })).await);
    assert_eq!(got["me"]["email"], "Ada@Example.com");
    assert_eq!(got["me"]["firstName"], "Ada");
    assert_eq!(got["me"]["lastName"], "Lovelace");
    assert_eq!(got["me"]["roles"], json!(["auditor"]));
    assert_eq!(got["me"]["disabled"], false);
    assert_eq!(got["me"]["isLocked"], false);
    assert_eq!(got["user"]["id"], ada.id.as_str());
}

#[tokio::test]
async fn admins_list_and_search_users() {
    let app = spawn_app().await;
    app.cli(&[
        "user",
        "create",
        "--email",
        "grace@navy.mil",
        "--password",
        PASSWORD,
        "--last-name",
        "Hopper",
    ]);
    app.create_user("linus@example.com", PASSWORD);
    let root = admin(&app).await;
    let q =
        "query($search: String) { users(search: $search) { totalCount edges { node { email } } } }";
    let all = data(gql(&app, Some(&root.access), q, json!({})).await);
    assert_eq!(all["users"]["totalCount"], 3);
    // Newest first.
    assert_eq!(
        all["users"]["edges"][0]["node"]["email"],
        "linus@example.com"
    );
    for (needle, email) in [
        ("NAVY", "grace@navy.mil"),
        ("hopp", "grace@navy.mil"),
        ("linus@", "linus@example.com"),
    ] {
        let found = data(gql(&app, Some(&root.access), q, json!({ "search": needle })).await);
        assert_eq!(found["users"]["totalCount"], 1, "{needle}");
        assert_eq!(found["users"]["edges"][0]["node"]["email"], email);
    }
    // LIKE wildcards are matched literally.
    let none = data(gql(&app, Some(&root.access), q, json!({ "search": "%" })).await);
    assert_eq!(none["users"]["totalCount"], 0);
}

#[tokio::test]
async fn refresh_tokens_are_listed_with_their_status() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let (_, second) = refresh_ok(&app, &ada.refresh).await;
    let (access, _third) = refresh_ok(&app, &second).await;
    let other_login = sign_in(&app, "ada@example.com", PASSWORD).await;
    let revoke = "mutation($id: ID!) { revokeSession(id: $id) { id } }";
    let sid = data(
        gql(
            &app,
            Some(&other_login.access),
            "{ sessions(first: 1) { edges { node { id } } } }",
            json!({}),
        )
        .await,
    );
    data(
        gql(
            &app,
            Some(&access),
            revoke,
            json!({ "id": sid["sessions"]["edges"][0]["node"]["id"] }),
        )
        .await,
    );

    let count = |body: &Value| body["refreshTokens"]["totalCount"].as_u64().expect("count");
    let all = data(gql(&app, Some(&access), TOKENS, json!({})).await);
    assert_eq!(count(&all), 4);
    for (status, expected) in [
        ("ACTIVE", 1),
        ("ROTATED", 2),
        ("REVOKED", 1),
        ("EXPIRED", 0),
    ] {
        let listed = data(gql(&app, Some(&access), TOKENS, json!({ "status": status })).await);
        assert_eq!(count(&listed), expected, "{status}");
        for edge in listed["refreshTokens"]["edges"].as_array().expect("edges") {
            assert_eq!(edge["node"]["status"], status);
        }
    }
    let rotated = data(gql(&app, Some(&access), TOKENS, json!({ "status": "ROTATED" })).await);
    let node = &rotated["refreshTokens"]["edges"][1]["node"];
    assert_eq!(node["revokedReason"], "rotated");
    assert!(node["revokedBy"].is_null());
    assert!(node["replacedById"].is_string());
    assert_eq!(node["isActive"], false);
    assert_eq!(node["user"]["email"], "ada@example.com");
    assert_eq!(node["clientId"], "tessera-cli");
    let revoked = data(gql(&app, Some(&access), TOKENS, json!({ "status": "REVOKED" })).await);
    assert_eq!(
        revoked["refreshTokens"]["edges"][0]["node"]["revokedReason"],
        "revoked_by_user"
    );
    assert_eq!(
        revoked["refreshTokens"]["edges"][0]["node"]["revokedBy"],
        ada.id.as_str()
    );
}

#[tokio::test]
async fn expired_refresh_tokens_are_listed_as_expired() {
    let app = spawn_app_with(&["--refresh-token-ttl", "1s"]).await;
    let ada = new_user(&app, "ada@example.com").await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let listed = data(
        gql(
            &app,
            Some(&ada.access),
            TOKENS,
            json!({ "status": "EXPIRED" }),
        )
        .await,
    );
    let node = &listed["refreshTokens"]["edges"][0]["node"];
    assert_eq!(node["status"], "EXPIRED");
    assert_eq!(node["isExpired"], true);
    assert_eq!(node["isActive"], false);
    let active = data(
        gql(
            &app,
            Some(&ada.access),
            SESSIONS,
            json!({ "activeOnly": true }),
        )
        .await,
    );
    assert_eq!(
        active["sessions"]["totalCount"], 0,
        "a session whose token expired is over"
    );
}

#[tokio::test]
async fn sessions_are_listed_with_their_tokens() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let (_, _) = refresh_ok(&app, &ada.refresh).await;
    let second = sign_in(&app, "ada@example.com", PASSWORD).await;
    data(
        gql(
            &app,
            Some(&second.access),
            "mutation($id: ID!) { revokeAllRefreshTokens(userId: $id) }",
            json!({ "id": ada.id }),
        )
        .await,
    );
    let third = sign_in(&app, "ada@example.com", PASSWORD).await;

    let all = data(gql(&app, Some(&third.access), SESSIONS, json!({})).await);
    assert_eq!(all["sessions"]["totalCount"], 3);
    let newest = &all["sessions"]["edges"][0]["node"];
    assert_eq!(newest["isActive"], true);
    assert_eq!(newest["isCurrent"], true);
    assert_eq!(newest["user"]["email"], "ada@example.com");
    let oldest = &all["sessions"]["edges"][2]["node"];
    assert_eq!(oldest["isActive"], false);
    assert_eq!(oldest["isCurrent"], false);
    assert_eq!(oldest["revokedReason"], "logout_everywhere");
    assert!(oldest["lastRefreshedAt"].is_string());
    let chain = oldest["tokens"].as_array().expect("tokens");
    assert_eq!(chain.len(), 2, "the login and its rotation");
    assert_eq!(chain[0]["status"], "REVOKED");
    assert_eq!(chain[1]["status"], "ROTATED");
    assert_eq!(chain[1]["replacedById"], chain[0]["id"]);

    let active = data(
        gql(
            &app,
            Some(&third.access),
            SESSIONS,
            json!({ "activeOnly": true }),
        )
        .await,
    );
    assert_eq!(active["sessions"]["totalCount"], 1);
}

#[tokio::test]
async fn admins_list_clients_and_signing_keys() {
    let app = spawn_app().await;
    let (_, secret) = app.create_confidential_client("backend", &["--scope", "read"]);
    let root = admin(&app).await;
    let q = "{ clients { clientId public grantTypes scopes refreshCookie createdAt }
              signingKeys { kid algorithm createdAt retiredAt current } }";
    let body = gql(&app, Some(&root.access), q, json!({})).await;
    assert_no_secrets(&body, &[secret.clone(), digest(&secret)]);
    let got = data(body);
    let clients = got["clients"].as_array().expect("clients");
    // Besides `backend`: the bootstrap's two (the CLI's and the console's).
    assert_eq!(clients.len(), 3);
    assert_eq!(clients[0]["clientId"], "backend");
    assert_eq!(clients[0]["public"], false);
    assert_eq!(
        clients[0]["grantTypes"],
        json!(["PASSWORD", "REFRESH_TOKEN"])
    );
    assert_eq!(clients[0]["scopes"], json!(["read"]));
    assert_eq!(clients[1]["clientId"], "tessera-cli");
    assert_eq!(clients[1]["public"], true);
    let keys = got["signingKeys"].as_array().expect("keys");
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["algorithm"], "EdDSA");
    assert_eq!(keys[0]["current"], true);
}

#[tokio::test]
async fn no_refresh_token_value_appears_in_any_response() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let root = admin(&app).await;
    let mut issued = vec![ada.refresh.clone(), root.refresh.clone()];
    let mut current = ada.refresh.clone();
    for _ in 0..3 {
        current = refresh_ok(&app, &current).await.1;
        issued.push(current.clone());
    }
    issued.push(sign_in(&app, "ada@example.com", PASSWORD).await.refresh);
    let mut secrets: Vec<String> = issued.iter().map(|t| digest(t)).collect();
    secrets.extend(issued.iter().cloned());

    let vars = json!({ "id": ada.id });
    let own = "query($id: ID!) {
      me { id email roles }
      user(id: $id) { id email }
      refreshTokens(userId: $id) { edges { cursor node { id userId sessionId parentId replacedById revokedReason scope user { email } } } }
      sessions(userId: $id) { edges { cursor node { id revokedReason tokens { id parentId replacedById } } } }
    }";
    let admin_only =
        "{ users { edges { cursor node { id email } } } clients { clientId } signingKeys { kid } }";
    for (token, query) in [
        (&ada.access, own),
        (&root.access, own),
        (&root.access, admin_only),
    ] {
        let v = if query == admin_only {
            json!({})
        } else {
            vars.clone()
        };
        let body = gql(&app, Some(token), query, v).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_no_secrets(&body, &secrets);
    }
    let revoked = gql(
        &app,
        Some(&root.access),
        "mutation($id: ID!) { revokeAllRefreshTokens(userId: $id) }",
        vars,
    )
    .await;
    assert_no_secrets(&revoked, &secrets);
}
