// projects — every project the caller can see, its last 24 h, and create.
import {h, mount, field, notice, num} from '../dom.js';
import {get, post, P} from '../api.js';
import {isAdmin} from '../session.js';
import {sparkline} from '../chart.js';

async function allProjects() {
  const out = [];
  let cursor = '';
  do {
    const page = await get(`/api/admin/projects?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    out.push(...page.data);
    cursor = page.next_cursor;
  } while (cursor && out.length < 2000);
  return out;
}

export async function projectsPage({main, navigate}) {
  const projects = await allProjects();
  const rows = projects.map((p) => {
    const events = h('td', {class: 'num'}, '…');
    const unresolved = h('td', {class: 'num'}, '…');
    const spark = h('td', {class: 'spark'});
    get(`${P(p.id)}/stats`).then((s) => {
      mount(events, num(s.events_24h));
      mount(unresolved, num(s.unresolved_issues));
      mount(spark, sparkline(s.histogram_24h, `${p.name}: events per hour, last 24 h`));
    }).catch(() => mount(events, '?'));
    return h('tr', {}, h('td', {}, h('a', {href: `/projects/${p.id}/issues`}, p.name)),
      events, unresolved, spark,
      h('td', {}, h('a', {href: `/projects/${p.id}/settings`, class: 'muted'}, 'Settings')));
  });
  const list = projects.length
    ? h('table', {class: 'grid', id: 'projects'},
      h('thead', {}, h('tr', {}, h('th', {scope: 'col'}, 'Project'), h('th', {scope: 'col', class: 'num'}, 'Events 24 h'),
        h('th', {scope: 'col', class: 'num'}, 'Unresolved'), h('th', {scope: 'col'}, 'Last 24 h'), h('th', {scope: 'col'}, h('span', {class: 'sr-only'}, 'Links')))),
      h('tbody', {}, rows))
    : h('p', {class: 'muted'}, 'No projects yet.');

  let create = null;
  if (isAdmin()) {
    const name = h('input', {type: 'text', name: 'name', required: true, maxlength: 200});
    const msg = h('div', {'aria-live': 'polite'});
    create = h('form', {class: 'card', id: 'create-project', onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const p = await post('/api/admin/projects', {name: name.value});
        navigate(`/projects/${p.id}/settings`);
      } catch (e) { mount(msg, notice(e.message, 'error')); }
    }}, h('h2', {}, 'New project'), field('Name', name), msg, h('button', {type: 'submit', class: 'btn primary'}, 'Create project'));
  }
  mount(main, h('h1', {}, 'Projects'), list, create);
}
