//! The GraphQL endpoint itself: `schema.graphql` in step with the code,
//! queries over GET (GraphiQL's page is in `web_pages`), and the depth and complexity
//! limits.

use std::process::Command;

use serde_json::{Value, json};

use crate::graphql::{code, data, gql, new_user};
use crate::helpers::{spawn_app, spawn_app_with};

#[test]
fn schema_graphql_is_exactly_what_tessera_schema_prints() {
    let out = Command::new(env!("CARGO_BIN_EXE_tessera"))
        .arg("schema")
        .output()
        .expect("run tessera schema");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read(path).expect("schema.graphql at the repository root");
    assert!(
        committed == out.stdout,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql`"
    );
    let sdl = String::from_utf8(out.stdout).expect("UTF-8");
    for op in [
        "refreshTokens(userId: ID, status: RefreshTokenStatus, first: Int, after: String): RefreshTokenConnection!",
        "revokeAllRefreshTokens(userId: ID): Int!",
        "tokenEvents(userId: ID): TokenEvent!",
    ] {
        assert!(sdl.contains(op), "the contract's `{op}` is in the schema");
    }
    for secret in ["tokenHash", "passwordHash", "secretHash", "privateKey"] {
        assert!(!sdl.contains(secret), "no field exposes {secret}");
    }
}

#[tokio::test]
async fn queries_run_over_get_but_mutations_do_not() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let res = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "{ me { email } }")])
        .bearer_auth(&ada.access)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.expect("json");
    assert_eq!(data(body)["me"]["email"], "ada@example.com");

    let res = app
        .http
        .get(app.url("/graphql"))
        .query(&[("query", "mutation { revokeAllRefreshTokens }")])
        .bearer_auth(&ada.access)
        .send()
        .await
        .expect("request");
    assert_eq!(res.status(), 405);
    assert!(
        crate::graphql::refresh_works(&app, &ada.refresh).await,
        "nothing was revoked"
    );
}

/// The introspection query of graphql-js, with type references nested as
/// deep as graphql-js 17 does.
const INTROSPECTION: &str = "query IntrospectionQuery {
  __schema {
    description queryType { name } mutationType { name } subscriptionType { name }
    types { ...FullType }
    directives { name description isRepeatable locations args(includeDeprecated: true) { ...InputValue } }
  }
}
fragment FullType on __Type {
  kind name description specifiedByURL isOneOf
  fields(includeDeprecated: true) {
    name description args(includeDeprecated: true) { ...InputValue } type { ...TypeRef }
    isDeprecated deprecationReason
  }
  inputFields(includeDeprecated: true) { ...InputValue }
  interfaces { ...TypeRef }
  enumValues(includeDeprecated: true) { name description isDeprecated deprecationReason }
  possibleTypes { ...TypeRef }
}
fragment InputValue on __InputValue {
  name description type { ...TypeRef } defaultValue isDeprecated deprecationReason
}
fragment TypeRef on __Type {
  kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  ofType { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
  } } } } } } } } }
}";

#[tokio::test]
async fn graphiqls_introspection_passes_the_default_limits_anonymously() {
    let app = spawn_app().await;
    let body = gql(&app, None, INTROSPECTION, json!({})).await;
    let schema = data(body);
    assert_eq!(schema["__schema"]["queryType"]["name"], "Query");
    assert_eq!(
        schema["__schema"]["subscriptionType"]["name"],
        "Subscription"
    );
}

#[tokio::test]
async fn too_deep_or_too_complex_queries_are_refused_before_running() {
    let app = spawn_app().await;
    let ada = new_user(&app, "ada@example.com").await;
    let deep = format!(
        "{{ __schema {{ types {{ {} name {} }} }} }}",
        "fields { type { ".repeat(8),
        "} } ".repeat(8)
    );
    let refused = gql(&app, None, &deep, json!({})).await;
    assert_eq!(code(&refused), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("deep"),
        "{refused}"
    );

    let wide = "{ sessions(first: 100) { edges { node { tokens(first: 100) { id status createdAt expiresAt user { email } } } } } }";
    let refused = gql(&app, Some(&ada.access), wide, json!({})).await;
    assert_eq!(code(&refused), "GRAPHQL_VALIDATION_FAILED");
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("complex"),
        "{refused}"
    );
}

#[tokio::test]
async fn the_limits_are_configurable() {
    let app = spawn_app_with(&["--graphql-max-depth", "3", "--graphql-max-complexity", "50"]).await;
    let ada = new_user(&app, "ada@example.com").await;
    data(gql(&app, Some(&ada.access), "{ me { email } }", json!({})).await);
    let three_deep = "{ sessions { edges { node { id } } } }";
    assert_eq!(
        code(&gql(&app, Some(&ada.access), three_deep, json!({})).await),
        "GRAPHQL_VALIDATION_FAILED"
    );
    let costly = "{ me { email } refreshTokens(first: 60) { totalCount } }";
    assert_eq!(
        code(&gql(&app, Some(&ada.access), costly, json!({})).await),
        "GRAPHQL_VALIDATION_FAILED"
    );
}
