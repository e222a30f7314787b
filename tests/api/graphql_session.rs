//! `session(id)`: one login with its chain of refresh tokens (the console's
//! lineage view), for its owner or an admin only.

use serde_json::json;

use crate::graphql::{admin, code, data, gql, new_user, refresh_ok};
use crate::helpers::spawn_app;

const SESSION: &str = "query($id: ID!) { session(id: $id) {
    id userId isCurrent tokens { id status parentId replacedById revokedReason } } }";

async fn session_id(app: &crate::helpers::TestApp, access: &str) -> String {
    let body = gql(
        app,
        Some(access),
        "{ sessions { edges { node { id } } } }",
        json!({}),
    )
    .await;
    data(body)["sessions"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("a session")
        .to_string()
}

#[tokio::test]
async fn a_session_shows_its_token_lineage_to_its_owner_and_to_admins() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let (_, second) = refresh_ok(&app, &ada.refresh).await;
    let (access, _) = refresh_ok(&app, &second).await;
    let id = session_id(&app, &access).await;

    let own = data(gql(&app, Some(&access), SESSION, json!({ "id": id })).await);
    let tokens = own["session"]["tokens"].as_array().expect("tokens").clone();
    assert_eq!(tokens.len(), 3, "the login and two rotations");
    assert_eq!(own["session"]["isCurrent"], true);
    let statuses: Vec<&str> = tokens
        .iter()
        .map(|t| t["status"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(statuses, ["ACTIVE", "ROTATED", "ROTATED"], "newest first");
    assert_eq!(tokens[1]["replacedById"], tokens[0]["id"]);
    assert_eq!(tokens[0]["parentId"], tokens[1]["id"]);

    let admin = admin(&app).await;
    let seen = data(gql(&app, Some(&admin.access), SESSION, json!({ "id": id })).await);
    assert_eq!(seen["session"]["userId"].as_str(), Some(ada.id.as_str()));
    assert_eq!(seen["session"]["isCurrent"], false);
    let unknown = gql(&app, Some(&admin.access), SESSION, json!({ "id": "nope" })).await;
    assert!(
        data(unknown)["session"].is_null(),
        "an admin learns it does not exist"
    );
}

#[tokio::test]
async fn another_users_session_is_forbidden_whether_or_not_it_exists() {
    let app = spawn_app().await;
    let admin = admin(&app).await;
    let admin_session = session_id(&app, &admin.access).await;
    let bob = new_user(&app, "bob@example.com").await;
    for id in [admin_session.as_str(), "no-such-session"] {
        let body = gql(&app, Some(&bob.access), SESSION, json!({ "id": id })).await;
        assert_eq!(code(&body), "FORBIDDEN", "{id}");
    }
    let anonymous = gql(&app, None, SESSION, json!({ "id": admin_session })).await;
    assert_eq!(code(&anonymous), "UNAUTHENTICATED");
}
