//! GraphiQL for browsers at `GET /graphql`. It opens on a query listing the
//! caller's sessions, with the headers tab showing where the access token
//! goes. The page loads GraphiQL and React from unpkg.com: without internet
//! access it stays on "Loading…".

/// What the editor shows first.
const EXAMPLE_QUERY: &str = r#"# Tessera's management API. Put an access token in the Headers tab below
# ({"Authorization": "Bearer <access_token>"}); get one with
#   curl -s http://<host>/oauth/token -d grant_type=password -d client_id=tessera-cli \
#     --data-urlencode username=<email> --data-urlencode password=<password>

query MySessions {
  sessions(activeOnly: true, first: 20) {
    totalCount
    edges {
      node {
        id
        clientId
        createdAt
        lastRefreshedAt
        expiresAt
        isCurrent
        userAgent
        createdByIp
      }
    }
    pageInfo { hasNextPage endCursor }
  }
}
"#;

/// What the headers tab shows first.
const EXAMPLE_HEADERS: &str = "{\n  \"Authorization\": \"Bearer <paste an access token here>\"\n}";

/// The page. Headers from the headers tab also go into the WebSocket's
/// `connection_init` payload, which is where subscriptions read the token.
pub fn page() -> String {
    // JSON string literals are valid JavaScript string literals; neither
    // constant contains `</script>`.
    let query = serde_json::Value::from(EXAMPLE_QUERY).to_string();
    let headers = serde_json::Value::from(EXAMPLE_HEADERS).to_string();
    format!(
        r#"<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="robots" content="noindex">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>Tessera · GraphiQL</title>
  <style>body {{ margin: 0; }} #graphiql {{ height: 100vh; }}</style>
  <link rel="stylesheet" href="https://unpkg.com/graphiql@4/graphiql.min.css">
</head>
<body>
  <div id="graphiql">Loading GraphiQL from unpkg.com…</div>
  <script crossorigin src="https://unpkg.com/react@18/umd/react.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/react-dom@18/umd/react-dom.production.min.js"></script>
  <script crossorigin src="https://unpkg.com/graphiql@4/graphiql.min.js"></script>
  <script>
    const http = new URL('/graphql', window.location.href).toString();
    const ws = http.replace(/^http/, 'ws') + '/ws';
    ReactDOM.createRoot(document.getElementById('graphiql')).render(
      React.createElement(GraphiQL, {{
        fetcher: GraphiQL.createFetcher({{ url: http, subscriptionUrl: ws }}),
        defaultQuery: {query},
        defaultHeaders: {headers},
        defaultEditorToolsVisibility: 'headers',
        isHeadersEditorEnabled: true,
        shouldPersistHeaders: false,
      }})
    );
  </script>
</body>
</html>
"#
    )
}
