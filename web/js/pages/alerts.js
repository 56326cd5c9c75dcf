// alerts — each alert with its deliveries and every attempt.
import {h, mount, ago, fmtTime} from '../dom.js';
import {get, qs, P} from '../api.js';

export async function alertsPage({main, params, query}) {
  const [pid] = params;
  const cursor = query.get('cursor') || '';
  const page = await get(`${P(pid)}/alerts${qs({limit: 25, cursor})}`);
  const items = page.data.map((a) => h('li', {class: 'card alert'},
    h('h2', {class: 'h3'}, h('span', {class: `badge ${a.kind}`}, a.kind), ' ',
      h('a', {href: `/projects/${pid}/issues/${a.issue_id}`}, a.issue_title || `Issue ${a.issue_id}`), ' ', h('span', {class: 'muted small'}, ago(a.created_at))),
    a.deliveries.length ? h('table', {class: 'grid'},
      h('thead', {}, h('tr', {}, ['Destination', 'Status', 'Attempts', 'Last status', 'Last error'].map((t) => h('th', {scope: 'col'}, t)))),
      h('tbody', {}, a.deliveries.map((d) => [
        h('tr', {}, h('td', {}, `${d.destination_name} (${d.destination_type})`), h('td', {}, h('span', {class: `badge ${d.status}`}, d.status)),
          h('td', {class: 'num'}, d.attempt_count), h('td', {}, d.last_status ?? '—'), h('td', {class: 'err'}, d.last_error || '')),
        (d.attempts || []).length ? h('tr', {class: 'attempts'}, h('td', {colspan: 5}, h('details', {}, h('summary', {}, `${d.attempts.length} attempt${d.attempts.length === 1 ? '' : 's'}`),
          h('ul', {}, d.attempts.map((t) => h('li', {}, fmtTime(t.attempted_at), ' — ', t.status_code ?? 'no answer', ` in ${t.duration_ms} ms`, t.error ? ` — ${t.error}` : '')))))) : null,
      ])))
      : h('p', {class: 'muted'}, 'No destination was enabled when this alert was raised.')));
  mount(main, h('div', {class: 'head'}, h('h1', {}, 'Alerts'), h('a', {class: 'btn small', id: 'rules-link', href: `/projects/${pid}/alerts/rules`}, 'Alert rules')),
    items.length ? h('ol', {class: 'plain', id: 'alerts'}, items) : h('p', {class: 'muted'}, 'No alerts yet: a new issue or a regression raises one.'),
    h('nav', {class: 'pager'}, page.next_cursor ? h('a', {class: 'btn small', href: `/projects/${pid}/alerts${qs({cursor: page.next_cursor})}`}, 'Older →') : null));
}
