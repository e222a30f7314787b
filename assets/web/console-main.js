// The console's frame: the section links (admin sections only for admins;
// the server refuses them to anyone else all the same) and a router on the
// URL's fragment, so that views can be bookmarked and Back works.
'use strict';

(() => {
  const { h, attempt } = Ui;
  const main = () => document.getElementById('main');

  const SECTIONS = [
    { hash: '#account', label: 'My account', admin: false },
    { hash: '#events', label: 'My live events', admin: false },
    { hash: '#users', label: 'Users', admin: true },
    { hash: '#clients', label: 'Clients', admin: true },
    { hash: '#keys', label: 'Signing keys', admin: true },
  ];

  const isAdmin = (me) => !!me && me.roles.includes('admin');

  function nav(me) {
    const bar = document.getElementById('sections');
    bar.hidden = !me;
    const route = (window.location.hash || '#account').split('/')[0];
    bar.replaceChildren(...SECTIONS.filter((s) => !s.admin || isAdmin(me)).map((s) =>
      h('a', { href: s.hash, 'aria-current': s.hash === route ? 'page' : null }, s.label)));
  }

  // `#users`, `#user/<id>`, `#session/<id>`, `#events/<userId>`, …
  function route() {
    const me = TesseraAuth.me();
    nav(me);
    Admin.leave();
    Ui.clearError();
    if (!me) {
      main().replaceChildren(h('p', { class: 'empty' }, 'Sign in to manage your sessions.'));
      return;
    }
    const [name, ...rest] = (window.location.hash || '#account').slice(1).split('/');
    const arg = rest.length ? decodeURIComponent(rest.join('/')) : null;
    const views = {
      account: () => Account.view(main()),
      session: () => attempt(() => Account.lineage(main(), arg)),
      users: () => Users.view(main()),
      user: () => attempt(() => Users.detail(main(), arg)),
      clients: () => Admin.clients(main()),
      keys: () => Admin.keys(main()),
      events: () => Admin.events(main(), arg),
    };
    const view = views[name] || views.account;
    main().replaceChildren(h('p', { class: 'empty' }, 'Loading…'));
    view();
    // Move focus to the new view's heading for keyboard and screen readers.
    requestAnimationFrame(() => {
      const heading = main().querySelector('h1');
      if (heading) {
        heading.tabIndex = -1;
        heading.focus({ preventScroll: true });
      }
    });
  }

  let signedIn = null;
  TesseraAuth.onChange((me) => {
    // A silent refresh brings the same user back: leave the view alone.
    const who = me ? me.id : null;
    if (who === signedIn) return;
    signedIn = who;
    route();
  });
  window.addEventListener('hashchange', route);
})();
