// releases — the versions a project's events came with: first and last
// seen, events, new issues (issue 19).
import {h, mount, ago, num} from '../dom.js';
import {get, P} from '../api.js';

export async function releasesPage({main, params}) {
  const [pid] = params;
  const rows = (await get(`${P(pid)}/releases`)).data;
  mount(main, h('h1', {}, 'Releases'),
    rows.length ? h('div', {class: 'scroll'}, h('table', {class: 'grid', id: 'releases'},
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Version'), h('th', {scope: 'col'}, 'First seen'), h('th', {scope: 'col'}, 'Last seen'),
        h('th', {scope: 'col', class: 'num'}, 'Events'), h('th', {scope: 'col', class: 'num'}, 'New issues'))),
      h('tbody', {}, rows.map((r) => h('tr', {},
        h('td', {}, h('a', {href: `/projects/${pid}/issues?status=all&query=${encodeURIComponent(`release:${r.version}`)}`}, h('code', {}, r.version)),
          r.semver ? null : h('span', {class: 'muted small'}, ' (not semver: ordered by first seen)')),
        h('td', {}, ago(r.first_seen)), h('td', {}, ago(r.last_seen)),
        h('td', {class: 'num'}, num(r.events)), h('td', {class: 'num'}, num(r.new_issues)))))))
      : h('p', {class: 'muted'}, 'No event came with a release yet (the SDK\'s release option).'));
}
