// The console's only way to the server: Tessera's public GraphQL API, over
// HTTP for queries and mutations and over graphql-transport-ws for the live
// token events. Errors keep the server's `extensions.code`.
'use strict';

const Api = (() => {
  class ApiError extends Error {
    constructor(code, message) {
      super(message);
      this.code = code;
    }
  }

  // A token can still expire before its scheduled refresh (a tab whose
  // timers the browser slowed down, a sleeping laptop): on UNAUTHENTICATED
  // with a token in hand, refresh once from the cookie and ask again.
  async function gql(query, variables = {}) {
    try {
      return await gqlOnce(query, variables);
    } catch (e) {
      if (e.code !== 'UNAUTHENTICATED' || !TesseraAuth.token()) throw e;
      if (!(await TesseraAuth.refresh())) throw e;
      return gqlOnce(query, variables);
    }
  }

  async function gqlOnce(query, variables) {
    const token = TesseraAuth.token();
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    let res;
    try {
      res = await fetch('/graphql', { method: 'POST', headers, body: JSON.stringify({ query, variables }) });
    } catch (e) {
      throw new ApiError('NETWORK', 'The server cannot be reached.');
    }
    const json = await res.json().catch(() => null);
    if (!json) throw new ApiError(`HTTP_${res.status}`, `The server answered ${res.status}.`);
    if (json.errors && json.errors.length) {
      const first = json.errors[0];
      const code = (first.extensions && first.extensions.code) || 'ERROR';
      throw new ApiError(code, first.message);
    }
    return json.data;
  }

  // One subscription on its own socket. `onLive()` once subscribed,
  // `onEvent(data)` for each result, `onEnd(error|null)` once. Returns a
  // function that stops it.
  function subscribe(query, variables, { onLive, onEvent, onEnd }) {
    const url = new URL('/graphql/ws', window.location.href);
    url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(url, 'graphql-transport-ws');
    let ended = false;
    const end = (error) => {
      if (ended) return;
      ended = true;
      onEnd(error);
      if (socket.readyState <= 1) socket.close(1000);
    };
    const send = (message) => socket.send(JSON.stringify(message));
    socket.onopen = () => {
      const token = TesseraAuth.token();
      send({ type: 'connection_init', payload: token ? { Authorization: `Bearer ${token}` } : {} });
    };
    socket.onmessage = (message) => {
      let msg;
      try {
        msg = JSON.parse(message.data);
      } catch (e) {
        return;
      }
      if (msg.type === 'connection_ack') {
        send({ id: '1', type: 'subscribe', payload: { query, variables } });
        onLive();
      }
      else if (msg.type === 'ping') send({ type: 'pong' });
      else if (msg.type === 'next' && msg.payload) {
        const errors = msg.payload.errors;
        if (errors && errors.length) {
          const code = (errors[0].extensions && errors[0].extensions.code) || 'ERROR';
          end(new ApiError(code, errors[0].message));
        } else onEvent(msg.payload.data);
      } else if (msg.type === 'error') {
        const first = (msg.payload && msg.payload[0]) || {};
        const code = (first.extensions && first.extensions.code) || 'ERROR';
        end(new ApiError(code, first.message || 'The subscription failed.'));
      } else if (msg.type === 'complete') end(null);
    };
    socket.onclose = (event) => {
      end(event.code === 1000 ? null : new ApiError('CLOSED', event.reason || 'The connection closed.'));
    };
    return () => end(null);
  }

  return { gql, subscribe, ApiError };
})();
