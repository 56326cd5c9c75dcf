// alertrules — which alerts go where: the project's alert rules (kinds,
// level, environments, tags, frequency and users per window, destinations,
// throttle), or the default set (issue 19).
import {h, mount, notice, field} from '../dom.js';
import {get, put, P} from '../api.js';
import {canEdit} from '../session.js';

const KINDS = ['new', 'regression', 'escalating', 'frequency'];
const LEVELS = ['', 'debug', 'info', 'warning', 'error', 'fatal'];
const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

function ruleEditor(rule, dests, i, onRemove) {
  const w = rule.when || {};
  const ro = !canEdit();
  const inp = (name, value, attrs = {}) => h('input', {type: 'text', name, value: value ?? '', disabled: ro, ...attrs});
  const n = (name, value) => inp(name, value, {type: 'number', min: 0, size: 6});
  const el = h('fieldset', {class: 'card rule', dataset: {index: i}},
    h('legend', {}, rule.name || `Rule ${i + 1}`),
    field('Name', inp('name', rule.name, {maxlength: 64, required: true})),
    h('div', {class: 'field'}, h('span', {class: 'label'}, 'When the alert is'), h('div', {class: 'checks'}, KINDS.map((k) =>
      h('label', {class: 'check inline'}, h('input', {type: 'checkbox', name: 'kind', value: k, checked: (w.kinds || []).includes(k), disabled: ro}), ` ${k}`)))),
    h('div', {class: 'row'},
      field('Level at least', h('select', {name: 'level', disabled: ro}, LEVELS.map((l) => h('option', {value: l, selected: (w.level_at_least || '') === l}, l || 'any')))),
      field('Environments', inp('environments', (w.environments || []).join(', '), {placeholder: 'production, staging'}), 'comma-separated; empty: any'),
      field('Tags', inp('tags', Object.entries(w.tags || {}).map(([k, v]) => `${k}=${v}`).join(', '), {placeholder: 'tenant=acme'}), 'key=value, all must match')),
    h('div', {class: 'row'},
      field('Events per window', n('freq_count', w.frequency && w.frequency.count)),
      field('Users per window', n('users_count', w.users && w.users.count)),
      field('Window (minutes)', n('window', (w.frequency || w.users || {}).window_minutes)),
      field('Throttle (minutes)', n('throttle', rule.throttle_minutes))),
    h('div', {class: 'field'}, h('span', {class: 'label'}, 'Send to'), h('div', {class: 'checks'},
      dests.length ? dests.map((d) => h('label', {class: 'check inline'}, h('input', {type: 'checkbox', name: 'dest', value: d.id,
        checked: !rule.destinations || rule.destinations.includes(d.id), disabled: ro}), ` ${d.name}`)) : h('span', {class: 'muted'}, 'no destinations yet'))),
    ro ? null : h('button', {type: 'button', class: 'btn small danger', onclick: onRemove}, 'Remove rule'));
  return el;
}

function readRule(el, dests) {
  const v = (name) => el.querySelector(`[name=${name}]`).value.trim();
  const when = {kinds: [...el.querySelectorAll('[name=kind]:checked')].map((c) => c.value)};
  if (v('level')) when.level_at_least = v('level');
  if (v('environments')) when.environments = list(v('environments'));
  if (v('tags')) when.tags = Object.fromEntries(list(v('tags')).map((t) => t.split('=').map((x) => x.trim())));
  const win = Number(v('window')) || 60;
  if (Number(v('freq_count'))) when.frequency = {count: Number(v('freq_count')), window_minutes: win};
  if (Number(v('users_count'))) when.users = {count: Number(v('users_count')), window_minutes: win};
  const rule = {name: v('name'), when};
  const picked = [...el.querySelectorAll('[name=dest]:checked')].map((c) => Number(c.value));
  if (picked.length !== dests.length) rule.destinations = picked;
  if (Number(v('throttle'))) rule.throttle_minutes = Number(v('throttle'));
  return rule;
}

export async function alertRulesPage({main, params}) {
  const [pid] = params;
  const [cur, dests] = await Promise.all([get(`${P(pid)}/alert_rules`), get(`${P(pid)}/alert_notification_destinations`).then((r) => r.data)]);
  const msg = h('div', {'aria-live': 'polite'});
  const box = h('div', {id: 'alert-rules'});
  let rules = cur.default ? [] : cur.rules || []; // the default set is described above, not edited
  const draw = () => mount(box, rules.map((r, i) => ruleEditor(r, dests, i, () => { rules = read(); rules.splice(i, 1); draw(); })));
  const read = () => [...box.querySelectorAll('fieldset.rule')].map((el) => readRule(el, dests));
  draw();
  const save = async (body) => {
    try {
      const r = await put(`${P(pid)}/alert_rules`, body);
      rules = r.default ? [] : r.rules || [];
      draw();
      mount(state, r.default ? 'The default rules are in force.' : `${rules.length} rule${rules.length === 1 ? '' : 's'} in force.`);
      mount(msg, notice('Saved.'));
    } catch (e) { mount(msg, notice(e.message, 'error')); }
  };
  const state = h('p', {class: 'muted', id: 'rules-state'}, cur.default ? 'The default rules are in force: new issues, regressions and escalating issues go to every enabled destination.'
    : `${rules.length} rule${rules.length === 1 ? '' : 's'} in force.`);
  mount(main, h('p', {class: 'crumbs'}, h('a', {href: `/projects/${pid}/alerts`}, '← Alerts')), h('h1', {}, 'Alert rules'), state, msg,
    h('form', {id: 'rules-form', onsubmit: (ev) => { ev.preventDefault(); save({rules: read()}); }}, box,
      canEdit() ? h('div', {class: 'actions'},
        h('button', {type: 'button', class: 'btn', id: 'add-rule', onclick: () => {
          rules = [...read(), {name: `rule ${rules.length + 1}`, when: {kinds: ['new', 'regression']}}];
          draw();
        }}, 'Add rule'),
        h('button', {type: 'submit', class: 'btn primary', id: 'save-rules'}, 'Save rules'),
        h('button', {type: 'button', class: 'btn', id: 'default-rules', onclick: () => save({rules: null})}, 'Back to the default')) : null));
}
