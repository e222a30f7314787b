//! The `user create` and `client create` commands: their JSON output, their
//! validation, and that what they create works at the token endpoint.

use crate::helpers::{
    ADMIN_EMAIL, ADMIN_PASSWORD, assert_oauth_error, spawn_app, str_field, token_success,
};

fn password_form<'a>(client_id: &'a str, client_secret: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("grant_type", "password"),
        ("client_id", client_id),
        ("client_secret", client_secret),
        ("username", ADMIN_EMAIL),
        ("password", ADMIN_PASSWORD),
    ]
}

#[tokio::test]
async fn user_create_prints_the_new_users_id_and_email() {
    let app = spawn_app().await;

    let user = app.cli(&[
        "user",
        "create",
        "--email",
        "heidi@example.com",
        "--password",
        "heidi's long password 1",
    ]);

    assert!(!str_field(&user, "id").is_empty(), "{user}");
    assert_eq!(user["email"], "heidi@example.com");
    app.login("heidi@example.com", "heidi's long password 1")
        .await;
}

#[tokio::test]
async fn user_create_reads_the_password_from_stdin() {
    let app = spawn_app().await;

    let out = app.cli_stdin(
        &[
            "user",
            "create",
            "--email",
            "ivan@example.com",
            "--password-stdin",
        ],
        "ivan's long password 1\n",
    );

    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let user: serde_json::Value = serde_json::from_slice(&out.stdout).expect("one JSON object");
    assert_eq!(user["email"], "ivan@example.com");
    app.login("ivan@example.com", "ivan's long password 1")
        .await;
}

#[tokio::test]
async fn user_create_refuses_an_email_that_exists_in_another_case() {
    let app = spawn_app().await;
    app.create_user("judy@example.com", "judy's long password 1");

    let out = app.cli_raw(&[
        "user",
        "create",
        "--email",
        "Judy@Example.COM",
        "--password",
        "another long password 2",
    ]);

    assert!(!out.status.success(), "a duplicate was created");
    let stderr = String::from_utf8_lossy(&out.stderr).to_ascii_lowercase();
    assert!(
        !stderr.contains("panicked"),
        "a clear message, not a panic: {stderr}"
    );
    assert!(
        ["exist", "already", "duplicate", "taken", "in use"]
            .iter()
            .any(|w| stderr.contains(w)),
        "stderr says the email is taken: {stderr}"
    );
    app.login("judy@example.com", "judy's long password 1")
        .await;
}

#[tokio::test]
async fn client_create_generates_a_secret_when_none_is_given() {
    let app = spawn_app().await;

    let client = app.cli(&["client", "create", "--client-id", "ledger"]);

    assert_eq!(client["client_id"], "ledger");
    let secret = str_field(&client, "client_secret");
    assert!(secret.len() >= 32, "a strong generated secret: {secret}");
    let res = app.token(&password_form("ledger", secret)).await;
    token_success(res).await;
}

#[tokio::test]
async fn each_generated_client_secret_is_different() {
    let app = spawn_app().await;

    let first = app.cli(&["client", "create", "--client-id", "first"]);
    let second = app.cli(&["client", "create", "--client-id", "second"]);

    assert_ne!(first["client_secret"], second["client_secret"]);
}

#[tokio::test]
async fn client_create_uses_a_given_secret() {
    let app = spawn_app().await;
    let secret = "a given secret of at least thirty-two chars";

    let client = app.cli(&[
        "client",
        "create",
        "--client-id",
        "given",
        "--secret",
        secret,
    ]);

    assert_eq!(client["client_id"], "given");
    token_success(app.token(&password_form("given", secret)).await).await;
}

#[tokio::test]
async fn client_create_refuses_a_secret_shorter_than_32_characters() {
    let app = spawn_app().await;
    let short = "only-31-characters-long-0123456";
    assert_eq!(short.len(), 31);

    let out = app.cli_raw(&["client", "create", "--client-id", "weak", "--secret", short]);

    assert!(!out.status.success(), "a weak secret was accepted");
    let res = app.token(&password_form("weak", short)).await;
    assert_oauth_error(res, 401, "invalid_client").await;
}

#[tokio::test]
async fn client_create_prints_a_null_secret_for_a_public_client() {
    let app = spawn_app().await;

    let client = app.cli(&["client", "create", "--client-id", "cli-2", "--public"]);

    assert_eq!(client["client_id"], "cli-2");
    assert!(client["client_secret"].is_null(), "{client}");
    assert!(
        client.get("client_secret").is_some(),
        "the key is present: {client}"
    );
}

#[tokio::test]
async fn client_create_refuses_a_duplicate_client_id() {
    let app = spawn_app().await;

    let out = app.cli_raw(&["client", "create", "--client-id", "tessera-cli", "--public"]);

    assert!(!out.status.success(), "a duplicate client was created");
}
