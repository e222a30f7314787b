// Small DOM helpers for the console. Text always goes in as text nodes
// (never innerHTML), so nothing the server returns can become markup.
'use strict';

const Ui = (() => {
  const PAGE = 20;

  // h('button', { class: 'x', onclick: fn }, 'text', child…)
  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === false || value === null || value === undefined) continue;
      if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
      else if (key === 'class') el.className = value;
      else el.setAttribute(key, value === true ? '' : value);
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child));
    }
    return el;
  }

  function when(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    return Number.isNaN(d.getTime()) ? iso : d.toLocaleString();
  }

  function short(id) {
    return id ? h('span', { class: 'mono', title: id }, id.slice(0, 13)) : '—';
  }

  function badge(on, yes, no) {
    return h('span', { class: on ? 'badge' : 'badge off' }, on ? yes : no);
  }

  const errorBox = () => document.getElementById('error');

  function showError(e) {
    const box = errorBox();
    box.textContent = e && e.code ? `${e.code}: ${e.message}` : String((e && e.message) || e);
    box.hidden = false;
  }

  function clearError() {
    errorBox().hidden = true;
    errorBox().textContent = '';
  }

  // Runs an action, showing its error instead of throwing; true on success.
  async function attempt(fn) {
    clearError();
    try {
      await fn();
      return true;
    } catch (e) {
      showError(e);
      return false;
    }
  }

  // columns: [{ label, cell: (row) => node|string }]
  function table(columns, rows, caption) {
    return h('div', { class: 'table-wrap' },
      h('table', { class: 'cards' },
        caption ? h('caption', { class: 'sr' }, caption) : null,
        h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c.label)))),
        h('tbody', {}, rows.map((row) =>
          h('tr', {}, columns.map((c) => h('td', { 'data-label': c.label }, c.cell(row))))))));
  }

  // A list that pages through a Relay connection. `load(first, after)`
  // returns the connection; `render(nodes)` the table. Previous pages are
  // remembered as the cursors that led to them.
  function pagedList(host, { load, render, empty, pageSize = PAGE }) {
    const cursors = [null];
    async function show(index) {
      const after = cursors[index];
      const conn = await load(pageSize, after);
      const nodes = conn.edges.map((e) => e.node);
      cursors[index + 1] = conn.pageInfo.endCursor;
      const from = index * pageSize + 1;
      host.replaceChildren(
        nodes.length ? render(nodes) : h('p', { class: 'empty' }, empty),
        h('div', { class: 'pager' },
          h('button', { type: 'button', disabled: index === 0, onclick: () => attempt(() => show(index - 1)) }, '← Previous'),
          h('span', {}, nodes.length ? `${from}–${from + nodes.length - 1} of ${conn.totalCount}` : `${conn.totalCount} in all`),
          h('button', { type: 'button', disabled: !conn.pageInfo.hasNextPage, onclick: () => attempt(() => show(index + 1)) }, 'Next →')));
    }
    return attempt(() => show(0));
  }

  // Pages through a plain array, for the lists the API gives whole.
  function pagedArray(host, rows, render, empty, pageSize = PAGE) {
    const conn = (first, after) => {
      const start = after ? Number(after) : 0;
      const slice = rows.slice(start, start + first);
      return {
        edges: slice.map((node) => ({ node })),
        totalCount: rows.length,
        pageInfo: { hasNextPage: start + first < rows.length, endCursor: String(start + first) },
      };
    };
    return pagedList(host, { load: async (f, a) => conn(f, a), render, empty, pageSize });
  }

  function section(title, ...children) {
    return h('section', {}, h('h2', {}, title), ...children);
  }

  return { h, when, short, badge, showError, clearError, attempt, table, pagedList, pagedArray, section };
})();
