//! GraphQL mutations for admins (and open registration): roles, disabling,
//! registering, clients, signing keys.

use serde_json::{Value, json};

use crate::graphql::{
    PASSWORD, admin, assert_no_secrets, data, digest, error_code, gql, new_user, refresh_works,
    sign_in,
};
use crate::helpers::{spawn_app, spawn_app_with};

const REGISTER: &str =
    "mutation($input: RegisterInput!) { register(input: $input) { id email firstName roles } }";

#[tokio::test]
async fn admins_set_roles_and_bad_roles_are_refused() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let root = admin(&app).await;
    let set = "mutation($id: ID!, $roles: [String!]!) { setUserRoles(userId: $id, roles: $roles) { id roles } }";
    let done = data(
        gql(
            &app,
            Some(&root.access),
            set,
            json!({ "id": ada.id, "roles": ["auditor", "support", "auditor"] }),
        )
        .await,
    );
    assert_eq!(done["setUserRoles"]["roles"], json!(["auditor", "support"]));
    let me = data(gql(&app, Some(&ada.access), "{ me { roles } }", json!({})).await);
    assert_eq!(me["me"]["roles"], json!(["auditor", "support"]));

    let bad = json!({ "id": ada.id, "roles": ["has space"] });
    assert_eq!(
        error_code(&app, Some(&root.access), set, bad).await,
        "BAD_USER_INPUT"
    );
    let unknown = json!({ "id": "01900000-0000-7000-8000-000000000000", "roles": [] });
    assert_eq!(
        error_code(&app, Some(&root.access), set, unknown).await,
        "NOT_FOUND"
    );
    let demote_self = json!({ "id": root.id, "roles": [] });
    assert_eq!(
        error_code(&app, Some(&root.access), set, demote_self).await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn disabling_a_user_revokes_everything_and_blocks_login() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let root = admin(&app).await;
    let set = "mutation($id: ID!, $off: Boolean!) { setUserDisabled(userId: $id, disabled: $off) { disabled } }";
    let off = data(
        gql(
            &app,
            Some(&root.access),
            set,
            json!({ "id": ada.id, "off": true }),
        )
        .await,
    );
    assert_eq!(off["setUserDisabled"]["disabled"], true);

    assert!(!refresh_works(&app, &ada.refresh).await);
    assert_eq!(app.me(&ada.access).await.status(), 401);
    assert_eq!(
        error_code(&app, Some(&ada.access), "{ me { id } }", json!({})).await,
        "UNAUTHENTICATED"
    );
    let login = app.password_grant("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(login.status(), 400);
    let sessions = data(gql(&app, Some(&root.access), "query($id: ID!) { sessions(userId: $id) { edges { node { isActive revokedReason revokedBy } } } }", json!({ "id": ada.id })).await);
    let node = &sessions["sessions"]["edges"][0]["node"];
    assert_eq!(node["isActive"], false);
    assert_eq!(node["revokedReason"], "user_disabled");
    assert_eq!(node["revokedBy"], root.id.as_str());

    assert_eq!(
        error_code(
            &app,
            Some(&root.access),
            set,
            json!({ "id": root.id, "off": true })
        )
        .await,
        "BAD_USER_INPUT"
    );

    data(
        gql(
            &app,
            Some(&root.access),
            set,
            json!({ "id": ada.id, "off": false }),
        )
        .await,
    );
    let again = sign_in(&app, "ada@example.com", PASSWORD).await;
    assert_eq!(app.me(&again.access).await.status(), 200);
    assert_eq!(
        app.me(&ada.access).await.status(),
        401,
        "old tokens stay dead"
    );
}

#[tokio::test]
async fn registration_is_for_admins_unless_open() {
    let app = spawn_app().await;
    let root = admin(&app).await;
    let input = json!({ "input": { "email": "new@example.com", "password": PASSWORD, "firstName": "New", "roles": ["auditor"] } });
    let made = data(gql(&app, Some(&root.access), REGISTER, input.clone()).await);
    assert_eq!(made["register"]["email"], "new@example.com");
    assert_eq!(made["register"]["roles"], json!(["auditor"]));
    sign_in(&app, "new@example.com", PASSWORD).await;

    assert_eq!(
        error_code(&app, Some(&root.access), REGISTER, input).await,
        "BAD_USER_INPUT",
        "taken email"
    );
    let weak = json!({ "input": { "email": "weak@example.com", "password": "short" } });
    assert_eq!(
        error_code(&app, Some(&root.access), REGISTER, weak).await,
        "BAD_USER_INPUT"
    );
    let bad = json!({ "input": { "email": "not an email", "password": PASSWORD } });
    assert_eq!(
        error_code(&app, Some(&root.access), REGISTER, bad).await,
        "BAD_USER_INPUT"
    );
    let anon = json!({ "input": { "email": "anon@example.com", "password": PASSWORD } });
    assert_eq!(
        error_code(&app, None, REGISTER, anon).await,
        "UNAUTHENTICATED"
    );
}

#[tokio::test]
async fn open_registration_lets_anyone_register_without_roles() {
    let app = spawn_app_with(&["--open-registration"]).await;
    let input = json!({ "input": { "email": "Self@Example.com", "password": PASSWORD } });
    let made = data(gql(&app, None, REGISTER, input).await);
    assert_eq!(made["register"]["roles"], json!([]));
    let me = sign_in(&app, "self@example.com", PASSWORD).await;
    assert_eq!(me.id, made["register"]["id"].as_str().expect("id"));

    let greedy = json!({ "input": { "email": "greedy@example.com", "password": PASSWORD, "roles": ["admin"] } });
    assert_eq!(
        error_code(&app, None, REGISTER, greedy.clone()).await,
        "UNAUTHENTICATED"
    );
    assert_eq!(
        error_code(&app, Some(&me.access), REGISTER, greedy).await,
        "FORBIDDEN"
    );
}

const CREATE: &str = "mutation($input: CreateClientInput!) {
  createClient(input: $input) { clientSecret client { clientId public grantTypes scopes refreshCookie } }
}";

#[tokio::test]
async fn created_clients_show_their_secret_once_and_work() {
    let app = spawn_app().await;
    let root = admin(&app).await;
    let input = json!({ "input": { "clientId": "backend", "grantTypes": ["CLIENT_CREDENTIALS"], "scopes": ["read", "write"] } });
    let made = data(gql(&app, Some(&root.access), CREATE, input.clone()).await);
    let created = &made["createClient"];
    let secret = created["clientSecret"]
        .as_str()
        .expect("a generated secret")
        .to_string();
    assert!(secret.len() >= 43);
    assert_eq!(created["client"]["public"], false);
    assert_eq!(
        created["client"]["grantTypes"],
        json!(["CLIENT_CREDENTIALS"])
    );

    let res = app
        .token_basic(
            "backend",
            &secret,
            &[("grant_type", "client_credentials"), ("scope", "read")],
        )
        .await;
    assert_eq!(res.status(), 200, "the secret works");
    let listed = gql(
        &app,
        Some(&root.access),
        "{ clients { clientId } }",
        json!({}),
    )
    .await;
    assert_no_secrets(&listed, &[secret.clone(), digest(&secret)]);

    assert_eq!(
        error_code(&app, Some(&root.access), CREATE, input).await,
        "BAD_USER_INPUT",
        "taken id"
    );
    let public = json!({ "input": { "clientId": "spa", "public": true } });
    let spa = data(gql(&app, Some(&root.access), CREATE, public).await);
    assert!(spa["createClient"]["clientSecret"].is_null());
    assert_eq!(
        spa["createClient"]["client"]["grantTypes"],
        json!(["PASSWORD", "REFRESH_TOKEN"])
    );
    let invalid = json!({ "input": { "clientId": "bad", "public": true, "grantTypes": ["CLIENT_CREDENTIALS"] } });
    assert_eq!(
        error_code(&app, Some(&root.access), CREATE, invalid).await,
        "BAD_USER_INPUT"
    );
    let short = json!({ "input": { "clientId": "bad", "secret": "too short" } });
    assert_eq!(
        error_code(&app, Some(&root.access), CREATE, short).await,
        "BAD_USER_INPUT"
    );
}

#[tokio::test]
async fn deleting_a_client_makes_its_tokens_stop_working() {
    let app = spawn_app().await;
    let root = admin(&app).await;
    let input = json!({ "input": { "clientId": "mobile", "public": true } });
    data(gql(&app, Some(&root.access), CREATE, input).await);
    app.create_user("ada@example.com", PASSWORD);
    let login = app
        .token(&[
            ("grant_type", "password"),
            ("client_id", "mobile"),
            ("username", "ada@example.com"),
            ("password", PASSWORD),
        ])
        .await;
    let tokens: Value = login.json().await.expect("json");
    let access = tokens["access_token"].as_str().expect("access").to_string();
    let refresh = tokens["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();
    assert_eq!(app.me(&access).await.status(), 200);

    let delete = "mutation($id: String!) { deleteClient(clientId: $id) }";
    let done = data(gql(&app, Some(&root.access), delete, json!({ "id": "mobile" })).await);
    assert_eq!(done["deleteClient"], true);
    assert_eq!(
        app.me(&access).await.status(),
        401,
        "its access tokens are refused"
    );
    let res = app
        .token(&[
            ("grant_type", "refresh_token"),
            ("client_id", "mobile"),
            ("refresh_token", &refresh),
        ])
        .await;
    assert_eq!(res.status(), 401, "the client is gone");
    // Past the next revocation-list sync, the access token stays refused.
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    assert_eq!(app.me(&access).await.status(), 401);
    assert_eq!(
        error_code(&app, Some(&root.access), delete, json!({ "id": "mobile" })).await,
        "NOT_FOUND"
    );
}

#[tokio::test]
async fn rotating_the_signing_key_keeps_old_tokens_valid() {
    let app = spawn_app().await;
    let root = admin(&app).await;
    let before = data(
        gql(
            &app,
            Some(&root.access),
            "{ signingKeys { kid current } }",
            json!({}),
        )
        .await,
    );
    let old_kid = before["signingKeys"][0]["kid"].clone();
    let rotated = data(
        gql(
            &app,
            Some(&root.access),
            "mutation { rotateSigningKey { kid current retiredAt } }",
            json!({}),
        )
        .await,
    );
    assert_ne!(rotated["rotateSigningKey"]["kid"], old_kid);
    assert_eq!(rotated["rotateSigningKey"]["current"], true);
    let after = data(
        gql(
            &app,
            Some(&root.access),
            "{ signingKeys { kid current retiredAt } }",
            json!({}),
        )
        .await,
    );
    let keys = after["signingKeys"].as_array().expect("keys");
    assert_eq!(keys.len(), 2);
    assert_eq!(keys[0]["kid"], rotated["rotateSigningKey"]["kid"]);
    assert_eq!(keys[1]["kid"], old_kid);
    assert_eq!(keys[1]["current"], false);
    assert!(keys[1]["retiredAt"].is_string());
    assert_eq!(
        app.me(&root.access).await.status(),
        200,
        "tokens signed by the old key still verify"
    );
}
