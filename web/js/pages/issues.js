// issues — a project's issues: status tabs, search, sort, filters, 24 h
// sparklines, bulk resolve/ignore (also until a condition, in a release), j/k/Enter, new issues polled, cursor pages.
import {h, mount, ago, num, notice} from '../dom.js';
import {get, patch, post, qs, P} from '../api.js';
import {canEdit, session} from '../session.js';
import {sparkline} from '../chart.js';
import {snoozeForm, releaseForm} from '../triage.js';

const TABS = [['unresolved', 'Unresolved'], ['resolved', 'Resolved'], ['ignored', 'Ignored'], ['all', 'All']];
const SORTS = [['last_seen', 'Last seen'], ['first_seen', 'First seen'], ['count', 'Events'], ['users', 'Users']];
const LEVELS = ['', 'fatal', 'error', 'warning', 'info', 'debug'];
const POLL_MS = 5000;
const PAGE = 50;

export async function issuesPage({main, params, query, navigate}) {
  const [pid] = params;
  const f = {
    status: query.get('status') || 'unresolved', query: query.get('query') || '', sort: query.get('sort') || 'last_seen',
    level: query.get('level') || '', environment: query.get('environment') || '', release: query.get('release') || '',
  };
  const cursor = query.get('cursor') || '';
  const prev = (query.get('prev') || '').split(',').filter(Boolean);
  const base = `/projects/${pid}/issues`;
  const go = (changes, keepCursor = false) => {
    const next = {...f, ...changes};
    if (next.status === 'unresolved') next.status = '';
    if (next.sort === 'last_seen') next.sort = '';
    navigate(base + qs(keepCursor ? next : {...next, cursor: '', prev: ''}));
  };

  const listUrl = (c) => `${P(pid)}/issues` + qs({...f, limit: PAGE, cursor: c});
  let page = await get(listUrl(cursor));
  const selected = new Set();
  let focus = -1;
  const editable = canEdit();

  const tabs = h('nav', {class: 'seg', 'aria-label': 'Status'}, TABS.map(([k, label]) =>
    h('a', {href: base + qs({...f, status: k === 'unresolved' ? '' : k, sort: f.sort === 'last_seen' ? '' : f.sort}), class: 'btn small', 'aria-current': f.status === k ? 'page' : null}, label)));

  const search = h('input', {type: 'search', name: 'query', value: f.query, placeholder: 'Search: text, level:error, tag:value, assigned:me', 'aria-label': 'Search issues'});
  const mine = /(^|\s)assigned:me(\s|$)/.test(f.query);
  const mineLink = h('a', {class: 'btn small', id: 'assigned-me', 'aria-current': mine ? 'true' : null,
    href: base + qs({...f, status: f.status === 'unresolved' ? '' : f.status, sort: f.sort === 'last_seen' ? '' : f.sort,
      query: mine ? f.query.replace(/(^|\s)assigned:me(?=\s|$)/, '').trim() : `${f.query} assigned:me`.trim()})}, 'Assigned to me');
  const sort = h('select', {name: 'sort', 'aria-label': 'Sort by'}, SORTS.map(([k, l]) => h('option', {value: k, selected: f.sort === k}, l)));
  const level = h('select', {name: 'level', 'aria-label': 'Level'}, LEVELS.map((l) => h('option', {value: l, selected: f.level === l}, l || 'Any level')));
  const env = h('input', {type: 'text', name: 'environment', value: f.environment, placeholder: 'Environment', 'aria-label': 'Environment', size: 12});
  const rel = h('input', {type: 'text', name: 'release', value: f.release, placeholder: 'Release', 'aria-label': 'Release', size: 12});
  const filters = h('form', {class: 'filters', role: 'search', onsubmit: (ev) => {
    ev.preventDefault();
    go({query: search.value.trim(), sort: sort.value, level: level.value, environment: env.value.trim(), release: rel.value.trim()});
  }}, search, sort, level, env, rel, h('button', {type: 'submit', class: 'btn'}, 'Apply'));
  sort.addEventListener('change', () => filters.requestSubmit());
  level.addEventListener('change', () => filters.requestSubmit());

  const msg = h('div', {'aria-live': 'polite'});
  const bulkCount = h('span', {class: 'muted'});
  const bulk = (status, extra = {}) => async () => {
    if (!selected.size) { mount(msg, notice('Select issues first.', 'error')); return; }
    try {
      const r = await patch(`${P(pid)}/issues?ids=${[...selected].join(',')}`, {status, ...extra});
      mount(msg, notice(`${r.updated} issue${r.updated === 1 ? '' : 's'} marked ${status}.`));
      selected.clear();
      await refresh();
    } catch (e) { mount(msg, notice(e.message, 'error')); }
  };
  const merge = async () => {
    if (selected.size < 2) { mount(msg, notice('Select two or more issues to merge.', 'error')); return; }
    // Into the first selected in the list's order: the others' hashes, events and counts move to it.
    const ids = page.data.map((i) => i.id).filter((id) => selected.has(id));
    try {
      const r = await post(`${P(pid)}/issues/merge`, {ids});
      mount(msg, notice(`${ids.length} issues merged into “${r.title}”.`));
      selected.clear();
      await refresh();
    } catch (e) { mount(msg, notice(e.message, 'error')); }
  };
  const bulkBar = editable ? h('div', {class: 'bulk'},
    h('button', {type: 'button', class: 'btn small', id: 'bulk-merge', onclick: merge}, 'Merge'),
    h('button', {type: 'button', class: 'btn small', id: 'bulk-resolve', onclick: bulk('resolved')}, 'Resolve'),
    releaseForm((status, extra) => bulk(status, extra)(), '1.2.3', 'bulk-', true),
    h('button', {type: 'button', class: 'btn small', id: 'bulk-ignore', onclick: bulk('ignored')}, 'Ignore'),
    snoozeForm((status, extra) => bulk(status, extra)(), 'bulk-', true),
    h('button', {type: 'button', class: 'btn small', id: 'bulk-unresolve', onclick: bulk('unresolved')}, 'Reopen'), bulkCount) : null;

  const tbody = h('tbody');
  const newBanner = h('div', {'aria-live': 'polite'});
  const pager = h('nav', {class: 'pager', 'aria-label': 'Pages'});
  const countSelected = () => { bulkCount.textContent = selected.size ? `${selected.size} selected` : ''; };

  function row(issue, i) {
    const href = `${base}/${issue.id}`;
    const box = editable ? h('input', {type: 'checkbox', 'aria-label': `Select ${issue.title}`, checked: selected.has(issue.id), onchange: (ev) => {
      if (ev.target.checked) selected.add(issue.id); else selected.delete(issue.id);
      countSelected();
    }}) : null;
    return h('tr', {dataset: {id: issue.id, index: i}, class: `issue level-${issue.level}`},
      editable ? h('td', {class: 'sel'}, box) : null,
      h('td', {class: 'main'},
        h('a', {href, class: 'title'}, issue.title || '(no title)'),
        h('div', {class: 'sub muted'}, h('span', {class: `badge ${issue.level}`}, issue.level), ' ', issue.culprit || '',
          issue.status !== 'unresolved' ? h('span', {class: `badge status ${issue.status}`}, issue.status) : null,
          issue.assignee_id ? h('span', {class: 'badge assignee'}, session.user && issue.assignee_id === session.user.id ? 'yours' : 'assigned') : null)),
      h('td', {class: 'spark'}, sparkline(issue.histogram_24h, 'Events per hour, last 24 h')),
      h('td', {class: 'num', title: 'Events'}, num(issue.count)),
      h('td', {class: 'num users', title: 'Users'}, num(issue.user_count)),
      h('td', {class: 'when'}, ago(issue.last_seen), h('div', {class: 'muted small'}, 'first ', ago(issue.first_seen))));
  }

  function renderRows() {
    mount(tbody, page.data.length ? page.data.map(row)
      : h('tr', {}, h('td', {colspan: 6, class: 'empty'}, f.query ? 'No issue matches.' : 'No issues here.')));
    setFocus(Math.min(focus, page.data.length - 1));
    const links = [];
    if (cursor) links.push(h('a', {class: 'btn small', href: base + qs({...f, cursor: prev[prev.length - 1] || '', prev: prev.slice(0, -1).join(',')})}, '← Newer'));
    if (page.next_cursor) links.push(h('a', {class: 'btn small', id: 'next-page', href: base + qs({...f, cursor: page.next_cursor, prev: [...prev, cursor].join(',')})}, 'Older →'));
    mount(pager, links);
  }

  function setFocus(i) {
    const rows = tbody.querySelectorAll('tr.issue');
    rows.forEach((r) => r.classList.remove('focused'));
    focus = i;
    if (i >= 0 && rows[i]) {
      rows[i].classList.add('focused');
      rows[i].scrollIntoView({block: 'nearest'});
    }
  }

  async function refresh() {
    page = await get(listUrl(cursor));
    renderRows();
    countSelected();
  }

  // New issues: the first page is polled and re-drawn when it changed;
  // selections and the focused row stay.
  let known = page.data.map((i) => `${i.id}:${i.count}:${i.status}`).join();
  const timer = cursor ? null : setInterval(async () => {
    if (document.hidden) return;
    try {
      const fresh = await get(listUrl(''));
      const sig = fresh.data.map((i) => `${i.id}:${i.count}:${i.status}`).join();
      if (sig === known) return;
      const before = new Set(page.data.map((i) => i.id));
      const added = fresh.data.filter((i) => !before.has(i.id)).length;
      known = sig;
      page = fresh;
      renderRows();
      if (added) mount(newBanner, notice(`${added} new issue${added === 1 ? '' : 's'}.`));
    } catch { /* the next poll tries again */ }
  }, POLL_MS);

  const onKey = (ev) => {
    if (ev.target.closest('input, select, textarea, button') || ev.metaKey || ev.ctrlKey || ev.altKey) return;
    const n = page.data.length;
    if (ev.key === 'j') { setFocus(Math.min(n - 1, focus + 1)); ev.preventDefault(); }
    else if (ev.key === 'k') { setFocus(Math.max(0, focus - 1)); ev.preventDefault(); }
    else if (ev.key === 'Enter' && focus >= 0 && page.data[focus]) { navigate(`${base}/${page.data[focus].id}`); ev.preventDefault(); }
    else if (ev.key === 'x' && focus >= 0 && editable) {
      const box = tbody.querySelectorAll('tr.issue')[focus]?.querySelector('input[type=checkbox]');
      if (box) { box.checked = !box.checked; box.dispatchEvent(new Event('change')); }
    } else if (ev.key === '/') { search.focus(); ev.preventDefault(); }
  };
  document.addEventListener('keydown', onKey);

  const table = h('table', {class: 'grid issues', id: 'issues'},
    h('thead', {}, h('tr', {},
      editable ? h('th', {scope: 'col', class: 'sel'}, h('input', {type: 'checkbox', 'aria-label': 'Select all on this page', onchange: (ev) => {
        for (const i of page.data) if (ev.target.checked) selected.add(i.id); else selected.delete(i.id);
        renderRows(); countSelected();
      }})) : null,
      h('th', {scope: 'col'}, 'Issue'), h('th', {scope: 'col'}, '24 h'), h('th', {scope: 'col', class: 'num'}, 'Events'), h('th', {scope: 'col', class: 'num'}, 'Users'), h('th', {scope: 'col'}, 'Seen'))),
    tbody);
  mount(main, h('div', {class: 'head'}, h('h1', {}, 'Issues'), tabs, mineLink), filters, bulkBar, msg, newBanner,
    h('div', {class: 'scroll'}, table), pager,
    h('p', {class: 'muted small keys'}, 'Keys: j/k move, Enter opens, x selects, / searches.'));
  renderRows();
  performance.mark('periscope:issues-rendered');
  return () => { clearInterval(timer); document.removeEventListener('keydown', onKey); };
}
