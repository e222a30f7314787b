//! Internal failures: logged with the request id, answered with a generic
//! message, the code `INTERNAL_SERVER_ERROR` and the request id, never with
//! the database's own words.

use sea_orm::{ConnectionTrait, Database};
use serde_json::{Value, json};

use crate::graphql::admin;
use crate::helpers::spawn_app;

#[tokio::test]
async fn a_database_failure_is_a_generic_error_with_the_request_id() {
    let app = spawn_app().await;
    let root = admin(&app).await;
    // Break one table behind the server's back.
    let db = Database::connect(app.database_url.as_str())
        .await
        .expect("connect");
    db.execute_unprepared("ALTER TABLE clients RENAME TO clients_gone")
        .await
        .expect("rename");

    let res = app
        .http
        .post(app.url("/graphql"))
        .bearer_auth(&root.access)
        .json(&json!({ "query": "{ clients { clientId } }" }))
        .send()
        .await
        .expect("request");
    let request_id = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a request id")
        .to_string();
    let body: Value = res.json().await.expect("json");
    let error = &body["errors"][0];
    assert_eq!(
        error["extensions"]["code"], "INTERNAL_SERVER_ERROR",
        "{body}"
    );
    assert_eq!(error["message"], "internal error");
    assert_eq!(error["extensions"]["requestId"], request_id.as_str());
    let text = body.to_string();
    for leak in [
        "clients_gone",
        "no such table",
        "relation",
        "SELECT",
        "database",
    ] {
        assert!(
            !text.contains(leak),
            "the database's words leak out: {text}"
        );
    }

    // The log is read from the server's output by another thread: give it a moment.
    let logged = || {
        app.logs()
            .lines()
            .any(|l| l.contains("GraphQL request failed") && l.contains(&request_id))
    };
    for _ in 0..50 {
        if logged() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(
        logged(),
        "the failure is logged with the request id:\n{}",
        app.logs()
    );
}
