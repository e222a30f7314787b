// What every signed-in user has: their sessions (this device marked), the
// revocation of one or all others, a session's token lineage, and a
// password change. The session list is shared with the admin's user page.
'use strict';

const Account = (() => {
  const { h, when, short, badge, attempt, table, pagedList, pagedArray, section } = Ui;

  const SESSION_FIELDS = `id clientId createdAt lastRefreshedAt expiresAt revokedAt revokedReason
    isActive isCurrent createdByIp userAgent`;

  const SESSIONS = `query($userId: ID, $first: Int, $after: String, $activeOnly: Boolean) {
    sessions(userId: $userId, first: $first, after: $after, activeOnly: $activeOnly) {
      totalCount pageInfo { hasNextPage endCursor } edges { node { ${SESSION_FIELDS} } } } }`;

  async function revoke(session) {
    const ok = await attempt(() =>
      Api.gql('mutation($id: ID!) { revokeSession(id: $id) { id isActive } }', { id: session.id }));
    if (ok && session.isCurrent) await TesseraAuth.signOut();
    return ok;
  }

  // The sessions of `userId` (the caller's own when null), into `host`.
  function sessions(host, userId, onChange) {
    const reload = () => sessions(host, userId, onChange);
    const columns = [
      { label: 'Client', cell: (s) => s.clientId },
      { label: 'Signed in', cell: (s) => when(s.createdAt) },
      { label: 'Last refreshed', cell: (s) => when(s.lastRefreshedAt) },
      { label: 'Expires', cell: (s) => when(s.expiresAt) },
      { label: 'IP', cell: (s) => s.createdByIp || '—' },
      { label: 'User agent', cell: (s) => h('span', { class: 'ua' }, s.userAgent || '—') },
      { label: 'State', cell: (s) => s.isActive ? badge(true, 'active', '') : badge(false, '', s.revokedReason || 'ended') },
      { label: 'This device', cell: (s) => (s.isCurrent ? h('strong', {}, 'this device') : '') },
      {
        label: 'Actions',
        cell: (s) => h('span', { class: 'actions' },
          h('a', { href: `#session/${encodeURIComponent(s.id)}` }, 'Lineage'),
          s.isActive ? h('button', {
            type: 'button', class: 'danger', 'aria-label': `Revoke session ${s.id}`,
            onclick: async () => { if (await revoke(s)) { reload(); if (onChange) onChange(); } },
          }, 'Revoke') : null),
      },
    ];
    return pagedList(host, {
      load: async (first, after) => (await Api.gql(SESSIONS, { userId, first, after })).sessions,
      render: (rows) => table(columns, rows, 'Sessions'),
      empty: 'No sessions.',
    });
  }

  // Revokes every active session of the caller but this one.
  async function revokeOthers() {
    let after = null;
    const others = [];
    for (;;) {
      const conn = (await Api.gql(SESSIONS, { first: 100, after, activeOnly: true })).sessions;
      others.push(...conn.edges.map((e) => e.node).filter((s) => !s.isCurrent));
      if (!conn.pageInfo.hasNextPage) break;
      after = conn.pageInfo.endCursor;
    }
    for (const s of others) {
      await Api.gql('mutation($id: ID!) { revokeSession(id: $id) { id } }', { id: s.id });
    }
    return others.length;
  }

  function passwordForm() {
    const note = h('p', { role: 'status' });
    const form = h('form', { class: 'stack', method: 'post', id: 'change-password' },
      h('label', {}, 'Current password', h('input', { name: 'current', type: 'password', autocomplete: 'current-password', required: true })),
      h('label', {}, 'New password (at least 8 characters)', h('input', { name: 'next', type: 'password', autocomplete: 'new-password', minlength: '8', required: true })),
      h('label', {}, 'New password again', h('input', { name: 'again', type: 'password', autocomplete: 'new-password', required: true })),
      h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Change password')), note);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      note.textContent = '';
      if (form.next.value !== form.again.value) {
        note.textContent = 'The two new passwords differ.';
        return;
      }
      const ok = await attempt(() => Api.gql(
        'mutation($c: String!, $n: String!) { changePassword(currentPassword: $c, newPassword: $n) }',
        { c: form.current.value, n: form.next.value }));
      if (ok) {
        form.reset();
        note.textContent = 'Password changed. Your other sessions were signed out.';
      }
    });
    return form;
  }

  function view(main) {
    const list = h('div', { id: 'my-sessions' });
    const note = h('span', { role: 'status' });
    main.replaceChildren(
      h('h1', {}, 'My account'),
      section('My sessions',
        h('div', { class: 'actions' },
          h('button', {
            type: 'button', class: 'danger', onclick: async () => {
              let n = 0;
              if (await attempt(async () => { n = await revokeOthers(); })) {
                note.textContent = `${n} other session${n === 1 ? '' : 's'} revoked.`;
                sessions(list, null);
              }
            },
          }, 'Revoke all other sessions'), note),
        list),
      section('Change password', passwordForm()));
    return sessions(list, null);
  }

  async function revokerNames(tokens) {
    const ids = [...new Set(tokens.map((t) => t.revokedBy).filter(Boolean))];
    const names = {};
    for (const id of ids) {
      // Someone else's profile may be closed to a non-admin: show the id.
      const data = await Api.gql('query($id: ID!) { user(id: $id) { email } }', { id }).catch(() => null);
      names[id] = (data && data.user && data.user.email) || id;
    }
    return names;
  }

  async function lineage(main, id) {
    const data = await Api.gql(`query($id: ID!) { session(id: $id) {
        ${SESSION_FIELDS} user { id email }
        tokens(first: 100) { id createdAt expiresAt revokedAt revokedReason revokedBy parentId replacedById status createdByIp } } }`, { id });
    const s = data.session;
    if (!s) {
      main.replaceChildren(h('h1', {}, 'Session'), h('p', { class: 'empty' }, 'No such session.'));
      return;
    }
    const tokens = [...s.tokens].reverse();
    const names = await revokerNames(tokens);
    const columns = [
      { label: '#', cell: (t) => String(tokens.indexOf(t) + 1) },
      { label: 'Token', cell: (t) => short(t.id) },
      { label: 'Created', cell: (t) => when(t.createdAt) },
      { label: 'Status', cell: (t) => h('span', { class: 'status-cell' }, t.status) },
      { label: 'Retired', cell: (t) => when(t.revokedAt) },
      { label: 'Reason', cell: (t) => t.revokedReason || '—' },
      { label: 'Revoked by', cell: (t) => (t.revokedBy ? names[t.revokedBy] : '—') },
      { label: 'Replaced by', cell: (t) => short(t.replacedById) },
    ];
    const host = h('div', { id: 'lineage' });
    main.replaceChildren(
      h('h1', {}, 'Session token lineage'),
      h('dl', { class: 'facts' },
        h('dt', {}, 'User'), h('dd', {}, s.user ? s.user.email : s.id),
        h('dt', {}, 'Client'), h('dd', {}, s.clientId),
        h('dt', {}, 'Signed in'), h('dd', {}, when(s.createdAt)),
        h('dt', {}, 'Ends'), h('dd', {}, when(s.expiresAt)),
        h('dt', {}, 'State'), h('dd', {}, s.isActive ? 'active' : `ended (${s.revokedReason || 'expired'})`)),
      section(`Refresh tokens, oldest first (${tokens.length})`, host));
    await pagedArray(host, tokens, (rows) => table(columns, rows, 'Token lineage'), 'No tokens.');
  }

  return { view, sessions, lineage };
})();
