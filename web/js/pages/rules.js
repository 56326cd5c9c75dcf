// rules — the project's Lua script: edit, dry run against a stored or
// pasted event, save (hot reload), versions with diff and rollback, and
// the running script's hook statistics.
import {h, mount, field, notice, fmtTime, num} from '../dom.js';
import {get, post, put, P, ApiError} from '../api.js';
import {canEdit} from '../session.js';
import {luaEditor, diffLines} from '../editor.js';

const STARTER = `-- This project runs the default rules: every event is kept and grouped
-- as Sentry would group it. Return a table of optional hooks:
--   filter(event)               -> false drops the event
--   fingerprint(event, default) -> a list of strings ("{{ default }}" expands)
--   format(alert, destination)  -> the notification for one destination
return {}
`;

function dryRunResult(pid, r) {
  const notes = Object.entries(r.notifications || {});
  return h('div', {id: 'dry-run-result'},
    h('table', {class: 'kv'}, h('tbody', {},
      h('tr', {}, h('th', {scope: 'row'}, 'filter'), h('td', {id: 'dr-filter'}, r.filtered ? 'dropped (filtered)' : 'kept')),
      h('tr', {}, h('th', {scope: 'row'}, 'hash'), h('td', {}, h('code', {id: 'dr-hash'}, r.hash || '—'))),
      h('tr', {}, h('th', {scope: 'row'}, 'title'), h('td', {id: 'dr-title'}, r.title || '—')),
      h('tr', {}, h('th', {scope: 'row'}, 'culprit'), h('td', {}, r.culprit || '—')),
      h('tr', {}, h('th', {scope: 'row'}, 'joins issue'), h('td', {id: 'dr-issue'}, r.issue_id ? h('a', {href: `/projects/${pid}/issues/${r.issue_id}`}, `#${r.issue_id}`) : 'a new issue')),
      h('tr', {}, h('th', {scope: 'row'}, 'scrubbed values'), h('td', {}, String(r.scrubbed ?? 0))))),
    h('h3', {}, 'Components'),
    h('ol', {class: 'components', id: 'dr-components'}, (r.components || []).map((c) => h('li', {}, h('code', {}, typeof c === 'string' ? c : JSON.stringify(c))))),
    (r.errors || []).length ? h('div', {}, h('h3', {}, 'Errors'), h('ul', {class: 'errors'}, r.errors.map((e) =>
      h('li', {}, `${e.hook} (${e.kind})${e.line ? ` line ${e.line}` : ''}: ${e.message}`)))) : null,
    notes.length ? h('div', {}, h('h3', {}, 'Notifications'), notes.map(([type, body]) => h('details', {},
      h('summary', {}, type), h('pre', {class: 'code'}, typeof body === 'string' ? body : JSON.stringify(body, null, 2))))) : null);
}

async function recentEvents(pid) {
  const issues = (await get(`${P(pid)}/issues?status=all&limit=10`)).data;
  const out = await Promise.all(issues.map(async (i) => {
    try {
      const e = (await get(`${P(pid)}/issues/${i.id}/events?limit=1`)).data[0];
      return e ? {id: e.event_id, label: `${i.title.slice(0, 80)} (${fmtTime(e.received_at)})`} : null;
    } catch { return null; }
  }));
  return out.filter(Boolean);
}

function statsSection(stats) {
  if (!stats) return null;
  const hooks = Object.entries(stats.hooks || {});
  return h('section', {class: 'card', id: 'script-stats'}, h('h2', {}, 'Running script'),
    h('p', {class: 'muted'}, `${stats.activated_at ? `Since ${fmtTime(stats.activated_at)}` : 'Since the server started'}, on this server: ${num(stats.events)} events, ${num(stats.filtered)} filtered.`),
    hooks.length ? h('table', {class: 'grid'}, h('thead', {}, h('tr', {}, ['Hook', 'Calls', 'Errors', 'Timeouts'].map((t, i) => h('th', {scope: 'col', class: i ? 'num' : null}, t)))),
      h('tbody', {}, hooks.map(([k, v]) => h('tr', {}, h('td', {}, k), h('td', {class: 'num'}, num(v.calls)), h('td', {class: 'num'}, num(v.errors)), h('td', {class: 'num'}, num(v.timeouts)))))) : null,
    stats.last_error ? notice(`Last error: ${stats.last_error.hook} (${stats.last_error.kind})${stats.last_error.line ? ` line ${stats.last_error.line}` : ''}: ${stats.last_error.message} — ${fmtTime(stats.last_error.at)}`, 'error') : null);
}

export async function rulesPage({main, params}) {
  const [pid] = params;
  const editable = canEdit();
  const [script, versions, events] = await Promise.all([get(`${P(pid)}/script`), get(`${P(pid)}/script/versions`), recentEvents(pid)]);
  const editor = luaEditor({value: script.source || STARTER, readOnly: !editable});
  const saveMsg = h('div', {'aria-live': 'polite', id: 'save-result'});
  const result = h('div', {'aria-live': 'polite'});

  const pick = h('select', {name: 'event', id: 'dry-run-event'}, events.map((e) => h('option', {value: e.id}, e.label)), h('option', {value: 'paste'}, 'Paste an event (JSON)…'));
  const pasted = h('textarea', {class: 'paste', rows: 6, name: 'event_json', placeholder: '{"exception": {"values": [...]}}', 'aria-label': 'Event JSON'});
  const pasteBox = h('div', {hidden: pick.value !== 'paste'}, pasted);
  pick.addEventListener('change', () => { pasteBox.hidden = pick.value !== 'paste'; });

  const dryRun = async () => {
    mount(result, h('p', {class: 'muted'}, 'Running…'));
    const body = {source: editor.value};
    if (pick.value === 'paste') {
      try { body.event = JSON.parse(pasted.value); } catch (e) { return mount(result, notice(`The pasted event is not JSON: ${e.message}`, 'error')); }
    } else body.event_id = pick.value;
    try {
      const r = await post(`${P(pid)}/script/test`, body);
      const load = (r.errors || []).find((e) => e.hook === 'load');
      editor.markError(load ? load.line : 0);
      mount(result, dryRunResult(pid, r));
    } catch (e) {
      editor.markError(e.body && e.body.error && e.body.error.line);
      mount(result, notice(e.message, 'error'));
    }
  };
  const save = async () => {
    mount(saveMsg);
    try {
      const r = await put(`${P(pid)}/script`, editor.value);
      editor.markError(0);
      mount(saveMsg, notice(`Saved as version ${r.version}: live now.`));
      await drawVersions();
    } catch (e) {
      const line = e instanceof ApiError && e.body && e.body.error ? e.body.error.line : 0;
      editor.markError(line);
      mount(saveMsg, notice(`${line ? `Line ${line}: ` : ''}${e.message}`, 'error'));
    }
  };

  const versionsBox = h('section', {class: 'card', id: 'versions'});
  const diffBox = h('div', {'aria-live': 'polite'});
  async function drawVersions() {
    const [vs, current] = await Promise.all([get(`${P(pid)}/script/versions`), get(`${P(pid)}/script`)]);
    mount(versionsBox, h('h2', {}, 'Versions'),
      h('p', {class: 'muted'}, current.version ? `Version ${current.version} is live.` : 'The default rules are live.'),
      vs.data.length ? h('table', {class: 'grid'}, h('thead', {}, h('tr', {}, ['Version', 'Saved', 'Size', ''].map((t) => h('th', {scope: 'col'}, t)))),
        h('tbody', {}, vs.data.map((v) => h('tr', {},
          h('td', {}, `v${v.version}`, v.active ? h('span', {class: 'badge app'}, 'live') : null), h('td', {}, fmtTime(v.created_at)), h('td', {class: 'num'}, `${v.size} B`),
          h('td', {class: 'actions'},
            h('button', {type: 'button', class: 'btn small', onclick: async () => {
              const old = await get(`${P(pid)}/script/versions/${v.version}`);
              mount(diffBox, h('h3', {}, `v${v.version} → editor`), h('pre', {class: 'diff'}, diffLines(old.source, editor.value).map((d) =>
                h('span', {class: d.op === '+' ? 'add' : d.op === '-' ? 'del' : null}, `${d.op} ${d.text}\n`))));
            }}, 'Diff'),
            editable && !v.active ? h('button', {type: 'button', class: 'btn small', onclick: async () => {
              try {
                await post(`${P(pid)}/script/rollback`, {version: v.version});
                editor.value = (await get(`${P(pid)}/script/versions/${v.version}`)).source;
                mount(saveMsg, notice(`Rolled back to version ${v.version}.`));
                await drawVersions();
              } catch (e) { mount(saveMsg, notice(e.message, 'error')); }
            }}, 'Roll back') : null))))) : h('p', {class: 'muted'}, 'No saved versions.'),
      diffBox);
  }
  await drawVersions();

  mount(main, h('h1', {}, 'Rules'),
    h('section', {class: 'card'}, h('h2', {}, 'Script'), editor.el,
      editable ? h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'btn primary', id: 'save-script', onclick: save}, 'Save and go live'),
        h('button', {type: 'button', class: 'btn', id: 'dry-run', onclick: dryRun}, 'Dry run')) : h('p', {class: 'muted'}, 'Read only.'),
      saveMsg),
    h('section', {class: 'card'}, h('h2', {}, 'Dry run'), field('Event', pick), pasteBox,
      editable ? null : h('button', {type: 'button', class: 'btn', onclick: dryRun}, 'Dry run'), result),
    versionsBox, statsSection(script.stats));
  void versions;
}
