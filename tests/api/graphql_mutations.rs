//! GraphQL mutations on one's own tokens: revoking a token, a session,
//! everything; changing the password.

use serde_json::json;

use crate::graphql::{
    PASSWORD, code, data, error_code, gql, new_user, refresh_ok, refresh_works, sign_in,
};
use crate::helpers::spawn_app;

#[tokio::test]
async fn revoking_a_refresh_token_ends_its_login_and_records_why() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let keep = sign_in(&app, "ada@example.com", PASSWORD).await;
    let q = "{ refreshTokens(status: ACTIVE) { edges { node { id sessionId } } } }";
    let listed = data(gql(&app, Some(&keep.access), q, json!({})).await);
    // Newest first: the second edge is the first login's token.
    let target = listed["refreshTokens"]["edges"][1]["node"]["id"].clone();

    let revoke = "mutation($id: ID!) { revokeRefreshToken(id: $id) { id status isActive revokedAt revokedReason revokedBy } }";
    let revoked = data(gql(&app, Some(&keep.access), revoke, json!({ "id": target })).await);
    let node = &revoked["revokeRefreshToken"];
    assert_eq!(node["id"], target);
    assert_eq!(node["status"], "REVOKED");
    assert_eq!(node["isActive"], false);
    assert!(node["revokedAt"].is_string());
    assert_eq!(node["revokedReason"], "revoked_by_user");
    assert_eq!(node["revokedBy"], ada.id.as_str());

    assert!(
        !refresh_works(&app, &ada.refresh).await,
        "the revoked token is refused"
    );
    assert_eq!(
        app.me(&ada.access).await.status(),
        401,
        "and its session's access token"
    );
    assert!(
        refresh_works(&app, &keep.refresh).await,
        "the other login is untouched"
    );

    // Revoking again changes nothing.
    let again = data(gql(&app, Some(&keep.access), revoke, json!({ "id": target })).await);
    assert_eq!(again["revokeRefreshToken"]["revokedAt"], node["revokedAt"]);
}

#[tokio::test]
async fn revoking_a_session_revokes_its_tokens() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let (_, rotated) = refresh_ok(&app, &ada.refresh).await;
    let keep = sign_in(&app, "ada@example.com", PASSWORD).await;
    let sessions = data(
        gql(
            &app,
            Some(&keep.access),
            "{ sessions { edges { node { id isCurrent } } } }",
            json!({}),
        )
        .await,
    );
    let old = &sessions["sessions"]["edges"][1]["node"];
    assert_eq!(old["isCurrent"], false);

    let revoke = "mutation($id: ID!) { revokeSession(id: $id) { id isActive revokedAt revokedReason tokens { status revokedReason } } }";
    let revoked = data(gql(&app, Some(&keep.access), revoke, json!({ "id": old["id"] })).await);
    let node = &revoked["revokeSession"];
    assert_eq!(node["isActive"], false);
    assert!(node["revokedAt"].is_string());
    assert_eq!(node["revokedReason"], "revoked_by_user");
    assert_eq!(node["tokens"][0]["status"], "REVOKED");
    assert_eq!(node["tokens"][1]["status"], "ROTATED");
    assert!(!refresh_works(&app, &rotated).await);
    assert!(refresh_works(&app, &keep.refresh).await);
}

#[tokio::test]
async fn log_out_everywhere_revokes_every_token_and_returns_how_many() {
    let app = spawn_app().await;
    let first = new_user(&app, "ada@example.com").await;
    let second = sign_in(&app, "ada@example.com", PASSWORD).await;
    let third = sign_in(&app, "ada@example.com", PASSWORD).await;
    let (_, rotated) = refresh_ok(&app, &first.refresh).await;

    let done = data(
        gql(
            &app,
            Some(&third.access),
            "mutation { revokeAllRefreshTokens }",
            json!({}),
        )
        .await,
    );
    assert_eq!(
        done["revokeAllRefreshTokens"], 3,
        "one active token per login"
    );
    for token in [&rotated, &second.refresh, &third.refresh] {
        assert!(!refresh_works(&app, token).await);
    }
    assert_eq!(
        app.me(&third.access).await.status(),
        401,
        "the caller's own session ended too"
    );

    let again = sign_in(&app, "ada@example.com", PASSWORD).await;
    let none = data(
        gql(
            &app,
            Some(&again.access),
            "{ sessions(activeOnly: true) { totalCount } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(none["sessions"]["totalCount"], 1);
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions_only() {
    let app = spawn_app().await;
    let other = new_user(&app, "ada@example.com").await;
    let me = sign_in(&app, "ada@example.com", PASSWORD).await;
    let change = "mutation($cur: String!, $new: String!) { changePassword(currentPassword: $cur, newPassword: $new) }";

    let wrong = gql(
        &app,
        Some(&me.access),
        change,
        json!({ "cur": "not my password", "new": "brand new secret" }),
    )
    .await;
    assert_eq!(code(&wrong), "BAD_USER_INPUT");
    let short = gql(
        &app,
        Some(&me.access),
        change,
        json!({ "cur": PASSWORD, "new": "short" }),
    )
    .await;
    assert_eq!(code(&short), "BAD_USER_INPUT");
    assert!(
        refresh_works(&app, &other.refresh).await,
        "failed attempts change nothing"
    );
    let other_refresh = app.login("ada@example.com", PASSWORD).await;
    let other_refresh = other_refresh["refresh_token"]
        .as_str()
        .expect("refresh")
        .to_string();

    let ok = data(
        gql(
            &app,
            Some(&me.access),
            change,
            json!({ "cur": PASSWORD, "new": "brand new secret" }),
        )
        .await,
    );
    assert_eq!(ok["changePassword"], true);
    assert!(
        !refresh_works(&app, &other_refresh).await,
        "other sessions end"
    );
    assert_eq!(
        app.me(&me.access).await.status(),
        200,
        "the caller stays signed in"
    );
    assert!(refresh_works(&app, &me.refresh).await);

    let old = app.password_grant("ada@example.com", PASSWORD, &[]).await;
    assert_eq!(old.status(), 400, "the old password no longer works");
    sign_in(&app, "ada@example.com", "brand new secret").await;

    let tokens = data(
        gql(
            &app,
            Some(&me.access),
            "{ refreshTokens(status: REVOKED) { edges { node { revokedReason } } } }",
            json!({}),
        )
        .await,
    );
    assert_eq!(
        tokens["refreshTokens"]["edges"][0]["node"]["revokedReason"],
        "password_changed"
    );
}

#[tokio::test]
async fn bad_ids_and_arguments_are_bad_user_input_or_not_found() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let q = "{ refreshTokens(first: 101) { totalCount } }";
    assert_eq!(
        error_code(&app, Some(&ada.access), q, json!({})).await,
        "BAD_USER_INPUT"
    );
    let q = "{ sessions(after: \"garbage\") { totalCount } }";
    assert_eq!(
        error_code(&app, Some(&ada.access), q, json!({})).await,
        "BAD_USER_INPUT"
    );
    let q = "{ sessions { edges { node { tokens(first: 500) { id } } } } }";
    assert_eq!(
        error_code(&app, Some(&ada.access), q, json!({})).await,
        "BAD_USER_INPUT"
    );
}
