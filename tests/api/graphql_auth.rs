//! GraphQL authentication and authorization: anonymous callers may only
//! introspect; admins act on anyone; everyone else only on themselves, and
//! learns nothing about what exists elsewhere.

use serde_json::json;

use crate::graphql::{admin, data, error_code, gql, new_user};
use crate::helpers::spawn_app;

/// An id no user, token or session has.
const NOBODY: &str = "01900000-0000-7000-8000-000000000000";

#[tokio::test]
async fn anonymous_callers_can_introspect_but_nothing_else() {
    let app = spawn_app().await;
    let intro = data(gql(&app, None, "{ __schema { queryType { name } } }", json!({})).await);
    assert_eq!(intro["__schema"]["queryType"]["name"], "Query");

    for op in [
        "{ me { id } }",
        "{ user(id: \"x\") { id } }",
        "{ users { totalCount } }",
        "{ refreshTokens { totalCount } }",
        "{ sessions { totalCount } }",
        "{ clients { clientId } }",
        "{ signingKeys { kid } }",
        "mutation { revokeAllRefreshTokens }",
        "mutation { revokeSession(id: \"x\") { id } }",
        "mutation { revokeRefreshToken(id: \"x\") { id } }",
        "mutation { changePassword(currentPassword: \"a\", newPassword: \"bbbbbbbbb\") }",
        "mutation { setUserRoles(userId: \"x\", roles: []) { id } }",
        "mutation { setUserDisabled(userId: \"x\", disabled: true) { id } }",
        "mutation { createClient(input: {clientId: \"c\"}) { clientSecret } }",
        "mutation { deleteClient(clientId: \"tessera-cli\") }",
        "mutation { rotateSigningKey { kid } }",
        "mutation { register(input: {email: \"a@b.c\", password: \"long enough\"}) { id } }",
    ] {
        assert_eq!(
            error_code(&app, None, op, json!({})).await,
            "UNAUTHENTICATED",
            "{op}"
        );
    }
}

#[tokio::test]
async fn invalid_and_client_tokens_are_unauthenticated() {
    let app = spawn_app().await;
    for token in ["nonsense", "eyJhbGciOiJub25lIn0.e30."] {
        assert_eq!(
            error_code(&app, Some(token), "{ me { id } }", json!({})).await,
            "UNAUTHENTICATED"
        );
    }
    // A client_credentials token speaks for a client, not a user.
    let (id, secret) =
        app.create_confidential_client("svc", &["--grant-type", "client_credentials"]);
    let res = app
        .token_basic(&id, &secret, &[("grant_type", "client_credentials")])
        .await;
    let body: serde_json::Value = res.json().await.expect("json");
    let token = body["access_token"].as_str().expect("access token");
    assert_eq!(
        error_code(&app, Some(token), "{ me { id } }", json!({})).await,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn a_user_asking_about_another_user_is_forbidden_whether_or_not_they_exist() {
    let app = spawn_app().await;
    let alice = new_user(&app, "alice@example.com").await;
    let bob = new_user(&app, "bob@example.com").await;
    for target in [bob.id.as_str(), NOBODY] {
        let vars = json!({ "id": target });
        for op in [
            "query($id: ID!) { user(id: $id) { id } }",
            "query($id: ID!) { refreshTokens(userId: $id) { totalCount } }",
            "query($id: ID!) { sessions(userId: $id) { totalCount } }",
            "mutation($id: ID!) { revokeAllRefreshTokens(userId: $id) }",
        ] {
            let code = error_code(&app, Some(&alice.access), op, vars.clone()).await;
            assert_eq!(code, "FORBIDDEN", "{op} on {target}");
        }
    }
    // Bob's tokens still work: nothing was revoked.
    assert_eq!(app.me(&bob.access).await.status(), 200);
}

#[tokio::test]
async fn a_user_cannot_touch_another_users_tokens_or_sessions_by_id() {
    let app = spawn_app().await;
    let alice = new_user(&app, "alice@example.com").await;
    let bob = new_user(&app, "bob@example.com").await;
    let bobs = data(
        gql(
            &app,
            Some(&bob.access),
            "{ sessions { edges { node { id tokens { id } } } } }",
            json!({}),
        )
        .await,
    );
    let session = bobs["sessions"]["edges"][0]["node"]["id"]
        .as_str()
        .expect("session")
        .to_string();
    let token = bobs["sessions"]["edges"][0]["node"]["tokens"][0]["id"]
        .as_str()
        .expect("token")
        .to_string();

    let revoke_token = "mutation($id: ID!) { revokeRefreshToken(id: $id) { id } }";
    let revoke_session = "mutation($id: ID!) { revokeSession(id: $id) { id } }";
    for id in [token.as_str(), NOBODY] {
        assert_eq!(
            error_code(&app, Some(&alice.access), revoke_token, json!({ "id": id })).await,
            "FORBIDDEN"
        );
    }
    for id in [session.as_str(), NOBODY] {
        assert_eq!(
            error_code(
                &app,
                Some(&alice.access),
                revoke_session,
                json!({ "id": id })
            )
            .await,
            "FORBIDDEN"
        );
    }
    assert!(
        crate::graphql::refresh_works(&app, &bob.refresh).await,
        "bob's token survived"
    );

    // An admin is told what does not exist.
    let root = admin(&app).await;
    assert_eq!(
        error_code(
            &app,
            Some(&root.access),
            revoke_token,
            json!({ "id": NOBODY })
        )
        .await,
        "NOT_FOUND"
    );
    assert_eq!(
        error_code(
            &app,
            Some(&root.access),
            revoke_session,
            json!({ "id": NOBODY })
        )
        .await,
        "NOT_FOUND"
    );
    let vars = json!({ "id": NOBODY });
    let op = "query($id: ID!) { sessions(userId: $id) { totalCount } }";
    assert_eq!(
        error_code(&app, Some(&root.access), op, vars.clone()).await,
        "NOT_FOUND"
    );
    let user = data(
        gql(
            &app,
            Some(&root.access),
            "query($id: ID!) { user(id: $id) { id } }",
            vars,
        )
        .await,
    );
    assert!(
        user["user"].is_null(),
        "an unknown user is null for an admin"
    );
}

#[tokio::test]
async fn admin_only_operations_are_forbidden_to_other_users() {
    let app = spawn_app().await;
    let alice = new_user(&app, "alice@example.com").await;
    let vars = json!({ "id": alice.id });
    for op in [
        "{ users { totalCount } }",
        "{ clients { clientId } }",
        "{ signingKeys { kid } }",
        "mutation($id: ID!) { setUserRoles(userId: $id, roles: [\"admin\"]) { id } }",
        "mutation($id: ID!) { setUserDisabled(userId: $id, disabled: false) { id } }",
        "mutation { createClient(input: {clientId: \"mine\"}) { clientSecret } }",
        "mutation { deleteClient(clientId: \"tessera-cli\") }",
        "mutation { rotateSigningKey { kid } }",
        "mutation { register(input: {email: \"c@example.com\", password: \"long enough\"}) { id } }",
    ] {
        assert_eq!(
            error_code(&app, Some(&alice.access), op, vars.clone()).await,
            "FORBIDDEN",
            "{op}"
        );
    }
}

#[tokio::test]
async fn an_admin_may_act_on_anyone() {
    let app = spawn_app().await;
    let alice = new_user(&app, "alice@example.com").await;
    let root = admin(&app).await;
    let vars = json!({ "id": alice.id });
    let seen = data(
        gql(
            &app,
            Some(&root.access),
            "query($id: ID!) {
               user(id: $id) { email }
               refreshTokens(userId: $id) { totalCount edges { node { user { email } } } }
               sessions(userId: $id) { totalCount }
             }",
            vars.clone(),
        )
        .await,
    );
    assert_eq!(seen["user"]["email"], "alice@example.com");
    assert_eq!(seen["refreshTokens"]["totalCount"], 1);
    assert_eq!(
        seen["refreshTokens"]["edges"][0]["node"]["user"]["email"],
        "alice@example.com"
    );
    assert_eq!(seen["sessions"]["totalCount"], 1);

    let revoked = data(
        gql(
            &app,
            Some(&root.access),
            "mutation($id: ID!) { revokeAllRefreshTokens(userId: $id) }",
            vars.clone(),
        )
        .await,
    );
    assert_eq!(revoked["revokeAllRefreshTokens"], 1);
    assert!(!crate::graphql::refresh_works(&app, &alice.refresh).await);
    let tokens = data(
        gql(&app, Some(&root.access), "query($id: ID!) { refreshTokens(userId: $id) { edges { node { status revokedReason revokedBy } } } }", vars).await,
    );
    let node = &tokens["refreshTokens"]["edges"][0]["node"];
    assert_eq!(node["status"], "REVOKED");
    assert_eq!(node["revokedReason"], "revoked_by_admin");
    assert_eq!(node["revokedBy"], root.id.as_str());
}

#[tokio::test]
async fn roles_are_read_from_the_database_so_a_demotion_takes_effect_at_once() {
    let app = spawn_app().await;
    let alice = new_user(&app, "alice@example.com").await;
    let root = admin(&app).await;
    let set = "mutation($id: ID!, $roles: [String!]!) { setUserRoles(userId: $id, roles: $roles) { roles } }";
    let promoted = data(
        gql(
            &app,
            Some(&root.access),
            set,
            json!({ "id": alice.id, "roles": ["admin"] }),
        )
        .await,
    );
    assert_eq!(promoted["setUserRoles"]["roles"], json!(["admin"]));
    // Alice's access token predates the promotion, and works as an admin's now.
    data(
        gql(
            &app,
            Some(&alice.access),
            "{ users { totalCount } }",
            json!({}),
        )
        .await,
    );

    data(
        gql(
            &app,
            Some(&root.access),
            set,
            json!({ "id": alice.id, "roles": [] }),
        )
        .await,
    );
    assert_eq!(
        error_code(
            &app,
            Some(&alice.access),
            "{ users { totalCount } }",
            json!({})
        )
        .await,
        "FORBIDDEN"
    );
}
