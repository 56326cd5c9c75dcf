// triage — the "Ignore until…" and "Resolve in…" menus, shared by the issue
// page (one issue) and the issues list's bulk bar (the selected issues).
// onChange(status, extra) gets the PATCH body's status and its
// ignore_until / resolved_in; prefix keeps the element ids apart.
import {h, field} from './dom.js';

const SNOOZES = [['', 'Forever'], ['count', 'Until N more events'], ['users', 'Until N more users'],
  ['rate', 'Until N events in a window'], ['until', 'Until a time']];

// Ignore with a condition ("ignore until"): the fields the chosen kind needs.
export function snoozeForm(onChange, prefix = '', small = false) {
  const kind = h('select', {name: 'snooze', id: `${prefix}snooze-kind`}, SNOOZES.map(([k, l]) => h('option', {value: k}, l)));
  const n = h('input', {type: 'number', name: 'snooze_n', min: 1, value: 100, size: 6});
  const win = h('input', {type: 'number', name: 'snooze_window', min: 1, max: 10080, value: 60, size: 5});
  const until = h('input', {type: 'datetime-local', name: 'snooze_until'});
  const fN = field('N', n), fWin = field('Window (minutes)', win), fUntil = field('Time', until);
  const show = () => {
    fN.hidden = !['count', 'users', 'rate'].includes(kind.value);
    fWin.hidden = kind.value !== 'rate';
    fUntil.hidden = kind.value !== 'until';
  };
  kind.addEventListener('change', show);
  show();
  const menu = h('details', {class: 'menu'}, h('summary', {class: small ? 'btn small' : 'btn', id: `${prefix}ignore-menu`}, 'Ignore until…'),
    h('form', {class: 'card pop', id: `${prefix}snooze-form`, onsubmit: (ev) => {
      ev.preventDefault();
      const k = kind.value, N = Number(n.value);
      const cond = k === 'count' ? {count: N} : k === 'users' ? {users: N} : k === 'rate' ? {rate: N, window_minutes: Number(win.value)}
        : k === 'until' ? {until: new Date(until.value).toISOString()} : null;
      menu.open = false;
      onChange('ignored', cond ? {ignore_until: cond} : {});
    }}, field('Ignore', kind), fN, fWin, fUntil, h('button', {type: 'submit', class: 'btn primary'}, 'Ignore')));
  return menu;
}

// Resolve in the next release or in a version (placeholder: a version hint).
export function releaseForm(onChange, placeholder = '1.2.3', prefix = '', small = false) {
  const which = h('select', {name: 'resolved_in', id: `${prefix}resolve-in`}, h('option', {value: 'next_release'}, 'The next release'),
    h('option', {value: 'version'}, 'A version…'));
  const version = h('input', {type: 'text', name: 'version', placeholder, size: 14});
  const fVersion = field('Version', version);
  const show = () => { fVersion.hidden = which.value !== 'version'; };
  which.addEventListener('change', show);
  show();
  const menu = h('details', {class: 'menu'}, h('summary', {class: small ? 'btn small' : 'btn', id: `${prefix}resolve-menu`}, 'Resolve in…'),
    h('form', {class: 'card pop', id: `${prefix}release-form`, onsubmit: (ev) => {
      ev.preventDefault();
      menu.open = false;
      onChange('resolved', {resolved_in: which.value === 'version' ? version.value.trim() : 'next_release'});
    }}, field('Resolved in', which), fVersion, h('button', {type: 'submit', class: 'btn primary'}, 'Resolve')));
  return menu;
}
