//! Relay pagination: page sizes, opaque cursors that stay put when rows are
//! added, `totalCount`.

use serde_json::json;

use crate::graphql::{PASSWORD, data, error_code, gql, new_user, node_ids, sign_in};
use crate::helpers::spawn_app;

const PAGE: &str = "query($first: Int, $after: String) {
  sessions(first: $first, after: $after) {
    totalCount
    edges { cursor node { id } }
    pageInfo { hasNextPage hasPreviousPage endCursor }
  }
}";

#[tokio::test]
async fn thirty_sessions_page_by_page_newest_first() {
    let app = spawn_app().await;
    let mut me = new_user(&app, "ada@example.com").await;
    for _ in 0..29 {
        me = sign_in(&app, "ada@example.com", PASSWORD).await;
    }
    let everything = data(gql(&app, Some(&me.access), PAGE, json!({ "first": 100 })).await);
    let all = node_ids(&everything["sessions"]);
    assert_eq!(all.len(), 30);
    let mut sorted = all.clone();
    sorted.sort();
    sorted.reverse();
    assert_eq!(all, sorted, "newest (largest UUIDv7) first");

    let default = data(gql(&app, Some(&me.access), PAGE, json!({})).await);
    assert_eq!(
        node_ids(&default["sessions"]).len(),
        20,
        "first defaults to 20"
    );

    let mut seen = Vec::new();
    let mut after: Option<String> = None;
    for page in 0..3 {
        let got = data(
            gql(
                &app,
                Some(&me.access),
                PAGE,
                json!({ "first": 10, "after": after }),
            )
            .await,
        );
        let conn = &got["sessions"];
        assert_eq!(conn["totalCount"], 30);
        assert_eq!(conn["pageInfo"]["hasNextPage"], page < 2, "page {page}");
        assert_eq!(conn["pageInfo"]["hasPreviousPage"], page > 0);
        let ids = node_ids(conn);
        assert_eq!(ids.len(), 10);
        let last_cursor = conn["edges"][9]["cursor"]
            .as_str()
            .expect("cursor")
            .to_string();
        assert_eq!(conn["pageInfo"]["endCursor"], last_cursor.as_str());
        assert!(!last_cursor.contains(&ids[9]), "cursors are opaque");
        seen.extend(ids);
        after = Some(last_cursor);
    }
    assert_eq!(seen, all);
    let past_end = data(
        gql(
            &app,
            Some(&me.access),
            PAGE,
            json!({ "first": 10, "after": after }),
        )
        .await,
    );
    assert_eq!(node_ids(&past_end["sessions"]).len(), 0);
    assert_eq!(past_end["sessions"]["pageInfo"]["hasNextPage"], false);
}

#[tokio::test]
async fn cursors_stay_put_when_sessions_are_added() {
    let app = spawn_app().await;
    let mut me = new_user(&app, "ada@example.com").await;
    for _ in 0..9 {
        me = sign_in(&app, "ada@example.com", PASSWORD).await;
    }
    let before = data(gql(&app, Some(&me.access), PAGE, json!({ "first": 100 })).await);
    let original = node_ids(&before["sessions"]);
    let first = data(gql(&app, Some(&me.access), PAGE, json!({ "first": 4 })).await);
    let cursor = first["sessions"]["pageInfo"]["endCursor"].clone();

    for _ in 0..5 {
        sign_in(&app, "ada@example.com", PASSWORD).await;
    }
    let next = data(
        gql(
            &app,
            Some(&me.access),
            PAGE,
            json!({ "first": 4, "after": cursor }),
        )
        .await,
    );
    assert_eq!(
        node_ids(&next["sessions"]),
        original[4..8].to_vec(),
        "same rows as before the inserts"
    );
    assert_eq!(next["sessions"]["totalCount"], 15);
}

#[tokio::test]
async fn page_sizes_and_cursors_are_checked() {
    let app = spawn_app().await;
    let me = new_user(&app, "ada@example.com").await;
    for (first, ok) in [(0, true), (100, true), (101, false), (-1, false)] {
        let body = gql(&app, Some(&me.access), PAGE, json!({ "first": first })).await;
        if ok {
            data(body);
        } else {
            assert_eq!(
                crate::graphql::code(&body),
                "BAD_USER_INPUT",
                "first: {first}"
            );
        }
    }
    let tokens = data(
        gql(
            &app,
            Some(&me.access),
            "{ refreshTokens { edges { cursor } } }",
            json!({}),
        )
        .await,
    );
    let foreign = tokens["refreshTokens"]["edges"][0]["cursor"].clone();
    for after in [json!("not-a-cursor"), foreign] {
        let code = error_code(&app, Some(&me.access), PAGE, json!({ "after": after })).await;
        assert_eq!(
            code, "BAD_USER_INPUT",
            "a cursor of another list is refused"
        );
    }
}
