// Starts GraphiQL on Tessera's API. Every request (and every subscription's
// WebSocket `connection_init`) carries the signed-in user's access token,
// unless the Headers tab names an Authorization of its own: a token pasted
// by hand still wins.
'use strict';

const EXAMPLE_QUERY = `# Tessera's management API.
# Sign in above, or paste a token into the
# Headers tab below:
#   {"Authorization": "Bearer <access_token>"}
# Run with ▶ or Ctrl-Enter.

query MySessions {
  me { email roles }
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

# Live events of your tokens:
# subscription {
#   tokenEvents { type clientId reason at }
# }
`;

function withToken(headers) {
  const merged = Object.assign({}, headers);
  const token = TesseraAuth.token();
  const named = Object.keys(merged).some((k) => k.toLowerCase() === 'authorization');
  if (token && !named) merged.Authorization = `Bearer ${token}`;
  return merged;
}

document.addEventListener('DOMContentLoaded', () => {
  const http = new URL('/graphql', window.location.href).toString();
  const ws = `${http.replace(/^http/, 'ws')}/ws`;
  const base = GraphiQL.createFetcher({ url: http, subscriptionUrl: ws });
  // A subscription opens its own WebSocket with these headers as the
  // `connection_init` payload, so it too gets the token of the moment.
  const fetcher = (params, options) =>
    base(params, Object.assign({}, options, { headers: withToken(options && options.headers) }));
  const root = document.getElementById('graphiql');
  root.textContent = '';
  ReactDOM.createRoot(root).render(
    React.createElement(GraphiQL, {
      fetcher,
      defaultQuery: EXAMPLE_QUERY,
      defaultEditorToolsVisibility: 'headers',
      isHeadersEditorEnabled: true,
      // Headers may hold a pasted token: never into localStorage.
      shouldPersistHeaders: false,
    }),
  );
});
