// Admin: clients (list, create with the secret shown once, delete), signing
// keys (list, rotate), and the live token events of a user.
'use strict';

const Admin = (() => {
  const { h, when, badge, attempt, table, pagedArray, section } = Ui;

  async function clientList(host) {
    const { clients } = await Api.gql('{ clients { clientId public grantTypes scopes refreshCookie createdAt } }');
    const columns = [
      { label: 'Client id', cell: (c) => h('span', { class: 'mono' }, c.clientId) },
      { label: 'Type', cell: (c) => (c.public ? 'public' : 'confidential') },
      { label: 'Grants', cell: (c) => c.grantTypes.join(', ').toLowerCase() },
      { label: 'Scopes', cell: (c) => c.scopes.join(' ') || '—' },
      { label: 'Cookie', cell: (c) => (c.refreshCookie ? 'yes' : 'no') },
      { label: 'Created', cell: (c) => when(c.createdAt) },
      {
        label: 'Actions',
        cell: (c) => h('button', {
          type: 'button', class: 'danger', 'aria-label': `Delete client ${c.clientId}`,
          onclick: async () => {
            if (!window.confirm(`Delete ${c.clientId}? Its sessions end.`)) return;
            if (await attempt(() => Api.gql('mutation($id: String!) { deleteClient(clientId: $id) }', { id: c.clientId }))) clientList(host);
          },
        }, 'Delete'),
      },
    ];
    return pagedArray(host, clients, (rows) => table(columns, rows, 'Clients'), 'No clients.');
  }

  function createForm(list, reveal) {
    const grant = (value, label, checked) =>
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'grant', value, checked }), label);
    const form = h('form', { class: 'stack', method: 'post', id: 'create-client' },
      h('label', {}, 'Client id', h('input', { name: 'clientId', required: true, autocomplete: 'off' })),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'public' }), 'Public (no secret: a browser or CLI app)'),
      h('fieldset', {}, h('legend', {}, 'Grant types'),
        grant('PASSWORD', 'password', true), grant('REFRESH_TOKEN', 'refresh_token', true),
        grant('CLIENT_CREDENTIALS', 'client_credentials', false)),
      h('label', {}, 'Scopes (space-separated)', h('input', { name: 'scopes', autocomplete: 'off' })),
      h('label', { class: 'check' }, h('input', { type: 'checkbox', name: 'refreshCookie' }), 'Refresh token in an HttpOnly cookie'),
      h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Create client')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const input = {
        clientId: form.clientId.value.trim(),
        public: form.public.checked,
        grantTypes: [...form.querySelectorAll('input[name=grant]:checked')].map((i) => i.value),
        scopes: form.scopes.value.split(/\s+/).filter(Boolean),
        refreshCookie: form.refreshCookie.checked,
      };
      let created = null;
      const ok = await attempt(async () => {
        created = (await Api.gql('mutation($input: CreateClientInput!) { createClient(input: $input) { client { clientId } clientSecret } }', { input })).createClient;
      });
      if (!ok) return;
      form.reset();
      reveal(created);
      clientList(list);
    });
    return form;
  }

  // The secret exists in this page only until the admin dismisses it.
  function secretBox(host) {
    return (created) => {
      if (!created.clientSecret) {
        host.replaceChildren(h('p', { role: 'status' }, `Created the public client ${created.client.clientId}.`));
        return;
      }
      const box = h('div', { class: 'secret', role: 'status', id: 'client-secret' },
        h('strong', {}, `Secret of ${created.client.clientId}: copy it now, it is shown only this once.`),
        h('code', {}, created.clientSecret),
        h('button', { type: 'button', onclick: () => host.replaceChildren() }, 'I have copied it'));
      host.replaceChildren(box);
    };
  }

  function clients(main) {
    const list = h('div', { id: 'client-list' });
    const secret = h('div');
    main.replaceChildren(h('h1', {}, 'Clients'), list,
      section('New client', secret, createForm(list, secretBox(secret))));
    return attempt(() => clientList(list));
  }

  async function keyList(host) {
    const { signingKeys } = await Api.gql('{ signingKeys { kid algorithm createdAt retiredAt current } }');
    const columns = [
      { label: 'Key id', cell: (k) => h('span', { class: 'mono' }, k.kid) },
      { label: 'Algorithm', cell: (k) => k.algorithm },
      { label: 'Created', cell: (k) => when(k.createdAt) },
      { label: 'Retired', cell: (k) => when(k.retiredAt) },
      { label: 'State', cell: (k) => badge(k.current, 'current', 'retired') },
    ];
    return pagedArray(host, signingKeys, (rows) => table(columns, rows, 'Signing keys'), 'No signing keys yet (one is made at the first sign-in).');
  }

  function keys(main) {
    const list = h('div', { id: 'key-list' });
    const rotate = h('button', {
      type: 'button', id: 'rotate-key', onclick: async () => {
        if (!window.confirm('Make a new signing key current?')) return;
        if (await attempt(() => Api.gql('mutation { rotateSigningKey { kid } }'))) attempt(() => keyList(list));
      },
    }, 'Rotate signing key');
    main.replaceChildren(h('h1', {}, 'Signing keys'), h('div', { class: 'actions' }, rotate), list);
    return attempt(() => keyList(list));
  }

  let stop = null;

  // Live events of `userId` (the caller's own when empty), newest on top.
  function events(main, userId) {
    if (stop) stop();
    const rows = [];
    const host = h('div', { id: 'event-list' }, h('p', { class: 'empty' }, 'Waiting for token events…'));
    const state = h('span', { role: 'status', id: 'event-state' }, 'Connecting…');
    const columns = [
      { label: 'At', cell: (e) => when(e.at) },
      { label: 'Event', cell: (e) => e.type },
      { label: 'Client', cell: (e) => e.clientId || '—' },
      { label: 'Session', cell: (e) => Ui.short(e.sessionId) },
      { label: 'Reason', cell: (e) => e.reason || '—' },
    ];
    stop = Api.subscribe(
      'subscription($u: ID) { tokenEvents(userId: $u) { type userId clientId sessionId tokenId reason revokedBy at } }',
      { u: userId || null },
      {
        onLive: () => { state.textContent = 'Live.'; },
        onEvent: (data) => {
        rows.unshift(data.tokenEvents);
        rows.length = Math.min(rows.length, 200);
        host.replaceChildren(table(columns, rows, 'Token events'));
        },
        onEnd: (error) => {
          state.textContent = 'Stopped.';
          if (error) Ui.showError(error);
        },
      });
    main.replaceChildren(h('h1', {}, userId ? 'Live token events of a user' : 'My live token events'),
      h('div', { class: 'actions' }, state, h('button', { type: 'button', onclick: () => stop && stop() }, 'Stop')), host);
  }

  const leave = () => { if (stop) { stop(); stop = null; } };

  return { clients, keys, events, leave };
})();
