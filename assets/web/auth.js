// Sign-in for Tessera's own pages (GraphiQL and the console).
//
// The password grant goes through the first-party client named on <html
// data-client-id>, a cookie client: the refresh token travels only in an
// HttpOnly cookie scoped to /oauth, so no script here ever sees it. The
// access token lives in this closure only (never in storage or a URL), is
// refreshed before it expires, and is lost on reload, when the cookie
// silently brings a new one. Sign-out revokes the session at /oauth/revoke.
'use strict';

const TesseraAuth = (() => {
  const clientId = document.documentElement.dataset.clientId;
  let accessToken = null;
  let profile = null;
  let timer = null;
  const listeners = [];

  // Two tabs refreshing with one cookie at once would look like a stolen
  // token being replayed (and kill the session): take turns across tabs.
  const oneAtATime = (fn) =>
    navigator.locks ? navigator.locks.request('tessera-refresh', fn) : fn();

  async function post(path, params) {
    const body = new URLSearchParams(params);
    body.set('client_id', clientId);
    return fetch(path, { method: 'POST', body, credentials: 'same-origin', cache: 'no-store' });
  }

  async function tokenRequest(params) {
    const res = await post('/oauth/token', params);
    const json = await res.json().catch(() => ({}));
    if (!res.ok) {
      const err = new Error(json.error_description || json.error || `HTTP ${res.status}`);
      err.code = json.error || String(res.status);
      throw err;
    }
    return json;
  }

  async function accept(grant) {
    accessToken = grant.access_token;
    clearTimeout(timer);
    // Refresh at three quarters of the token's life, and at least a second
    // and a half before its end: `exp` counts whole seconds, so a token can
    // die up to a second before `expires_in` says, and the request takes time.
    const life = grant.expires_in;
    const ms = Math.max(1, Math.min(life * 0.75, life - 1.5)) * 1000;
    timer = setTimeout(refresh, ms);
    profile = await whoAmI();
    notify();
  }

  async function whoAmI() {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${accessToken}` },
      body: JSON.stringify({ query: '{ me { id email roles } }' }),
    });
    const json = await res.json().catch(() => ({}));
    return (json.data && json.data.me) || null;
  }

  function forget() {
    clearTimeout(timer);
    accessToken = null;
    profile = null;
    notify();
  }

  function notify() {
    for (const fn of listeners) fn(profile);
  }

  async function refresh() {
    try {
      await accept(await oneAtATime(() => tokenRequest({ grant_type: 'refresh_token' })));
      return true;
    } catch (e) {
      forget();
      return false;
    }
  }

  async function signIn(email, password) {
    await accept(await tokenRequest({ grant_type: 'password', username: email, password }));
  }

  async function signOut() {
    // Revoked with the cookie, which the answer then clears.
    await post('/oauth/revoke', {}).catch(() => {});
    forget();
  }

  // The sign-in bar of both pages.
  function wireBar() {
    const form = document.getElementById('sign-in');
    const signedIn = document.getElementById('signed-in');
    const who = document.getElementById('who');
    const status = document.getElementById('auth-status');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      status.textContent = 'Signing in…';
      try {
        await signIn(form.email.value, form.password.value);
        form.reset();
        status.textContent = '';
      } catch (e) {
        status.textContent = `Sign-in failed: ${e.message}`;
      }
    });
    document.getElementById('sign-out').addEventListener('click', async () => {
      await signOut();
      status.textContent = 'Signed out.';
    });
    onChange((me) => {
      form.hidden = !!me;
      signedIn.hidden = !me;
      who.textContent = me ? `Signed in as ${me.email}` : '';
    });
  }

  function onChange(fn) {
    listeners.push(fn);
    fn(profile);
  }

  document.addEventListener('DOMContentLoaded', () => {
    wireBar();
    // Resume a session from the cookie, if there is one.
    refresh();
  });

  return {
    token: () => accessToken,
    me: () => profile,
    onChange,
    signIn,
    signOut,
    refresh,
  };
})();
