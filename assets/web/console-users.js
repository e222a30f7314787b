// Admin: find users, open one (roles, disabled, sessions), revoke their
// sessions, disable or enable them, set their roles.
'use strict';

const Users = (() => {
  const { h, when, badge, attempt, table, pagedList, section } = Ui;

  const USER_FIELDS = 'id email firstName lastName roles disabled isLocked lockedUntil createdAt';

  function name(u) {
    return [u.firstName, u.lastName].filter(Boolean).join(' ') || '—';
  }

  function list(host, search) {
    const columns = [
      { label: 'Email', cell: (u) => h('a', { href: `#user/${encodeURIComponent(u.id)}` }, u.email) },
      { label: 'Name', cell: name },
      { label: 'Roles', cell: (u) => u.roles.join(', ') || '—' },
      { label: 'State', cell: (u) => badge(!u.disabled, 'enabled', 'disabled') },
      { label: 'Created', cell: (u) => when(u.createdAt) },
    ];
    return pagedList(host, {
      load: async (first, after) => (await Api.gql(`query($first: Int, $after: String, $search: String) {
          users(first: $first, after: $after, search: $search) {
            totalCount pageInfo { hasNextPage endCursor } edges { node { ${USER_FIELDS} } } } }`,
      { first, after, search: search || null })).users,
      render: (rows) => table(columns, rows, 'Users'),
      empty: search ? `No user matches “${search}”.` : 'No users.',
    });
  }

  function view(main) {
    const results = h('div', { id: 'user-results' });
    const form = h('form', { class: 'actions', method: 'post', role: 'search', id: 'user-search' },
      h('label', {}, 'Search users ', h('input', { name: 'q', type: 'search', placeholder: 'email or name' })),
      h('button', { type: 'submit' }, 'Search'));
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      list(results, form.q.value.trim());
    });
    main.replaceChildren(h('h1', {}, 'Users'), form, results);
    return list(results, '');
  }

  async function detail(main, id) {
    const data = await Api.gql(`query($id: ID!) { user(id: $id) { ${USER_FIELDS} } }`, { id });
    const u = data.user;
    if (!u) {
      main.replaceChildren(h('h1', {}, 'User'), h('p', { class: 'empty' }, 'No such user.'));
      return;
    }
    const reload = () => detail(main, id);
    const note = h('span', { role: 'status' });
    const sessions = h('div', { id: 'user-sessions' });

    const roles = h('form', { class: 'actions', method: 'post', id: 'set-roles' },
      h('label', {}, 'Roles (comma-separated) ', h('input', { name: 'roles', value: u.roles.join(', ') })),
      h('button', { type: 'submit' }, 'Save roles'));
    roles.addEventListener('submit', async (event) => {
      event.preventDefault();
      const list = roles.roles.value.split(',').map((r) => r.trim()).filter(Boolean);
      if (await attempt(() => Api.gql('mutation($id: ID!, $r: [String!]!) { setUserRoles(userId: $id, roles: $r) { id } }', { id, r: list }))) reload();
    });

    const toggle = h('button', {
      type: 'button', class: u.disabled ? '' : 'danger', id: 'toggle-disabled',
      onclick: async () => {
        if (!u.disabled && !window.confirm(`Disable ${u.email}? Every session ends.`)) return;
        if (await attempt(() => Api.gql('mutation($id: ID!, $d: Boolean!) { setUserDisabled(userId: $id, disabled: $d) { id } }', { id, d: !u.disabled }))) reload();
      },
    }, u.disabled ? 'Enable user' : 'Disable user');

    const revokeAll = h('button', {
      type: 'button', class: 'danger', id: 'revoke-all',
      onclick: async () => {
        let n = 0;
        if (await attempt(async () => { n = (await Api.gql('mutation($id: ID) { revokeAllRefreshTokens(userId: $id) }', { id })).revokeAllRefreshTokens; })) {
          note.textContent = `${n} refresh token${n === 1 ? '' : 's'} revoked.`;
          Account.sessions(sessions, id);
        }
      },
    }, 'Revoke all sessions');

    main.replaceChildren(
      h('p', {}, h('a', { href: '#users' }, '← Users')),
      h('h1', {}, u.email),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Name'), h('dd', {}, name(u)),
        h('dt', {}, 'Roles'), h('dd', { id: 'user-roles' }, u.roles.join(', ') || '—'),
        h('dt', {}, 'State'), h('dd', { id: 'user-state' }, u.disabled ? 'disabled' : 'enabled',
          u.isLocked ? ` (locked until ${when(u.lockedUntil)})` : ''),
        h('dt', {}, 'Created'), h('dd', {}, when(u.createdAt)),
        h('dt', {}, 'Id'), h('dd', { class: 'mono' }, u.id)),
      h('div', { class: 'actions' }, toggle, h('a', { href: `#events/${encodeURIComponent(u.id)}` }, 'Watch live token events')),
      roles,
      section('Sessions', h('div', { class: 'actions' }, revokeAll, note), sessions));
    await Account.sessions(sessions, id);
  }

  return { view, detail };
})();
