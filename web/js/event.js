// event — one stored event drawn for a person: the exception chain with
// its stack traces, breadcrumbs, request, user, contexts, tags, SDK, raw.
import {h, fmtTime} from './dom.js';

const list = (v) => (Array.isArray(v) ? v : v && Array.isArray(v.values) ? v.values : []);

function kv(obj) {
  const entries = Array.isArray(obj) ? obj : Object.entries(obj || {});
  if (!entries.length) return null;
  return h('table', {class: 'kv'}, h('tbody', {}, entries.map(([k, v]) => h('tr', {},
    h('th', {scope: 'row'}, String(k)), h('td', {}, typeof v === 'object' && v !== null ? h('code', {}, JSON.stringify(v)) : String(v))))));
}

function section(title, id, ...body) {
  const content = body.flat().filter(Boolean);
  if (!content.length) return null;
  return h('section', {class: 'card', id}, h('h2', {}, title), content);
}

function frameTitle(f) {
  const where = f.filename || f.abs_path || f.module || '?';
  return [h('span', {class: 'fn'}, f.function || '?'), h('span', {class: 'muted'}, ' in '),
    h('span', {class: 'file'}, where), f.lineno ? h('span', {class: 'muted'}, ` line ${f.lineno}${f.colno ? `:${f.colno}` : ''}`) : null];
}

function frameBody(f) {
  const lines = [];
  const start = (f.lineno || 0) - (f.pre_context || []).length;
  (f.pre_context || []).forEach((l, i) => lines.push([start + i, l, false]));
  if (f.context_line !== undefined && f.context_line !== null) lines.push([f.lineno, f.context_line, true]);
  (f.post_context || []).forEach((l, i) => lines.push([(f.lineno || 0) + 1 + i, l, false]));
  const code = lines.length ? h('ol', {class: 'context', start: Math.max(1, start)}, lines.map(([n, text, hit]) =>
    h('li', {class: hit ? 'hit' : null, value: n}, h('code', {}, text)))) : null;
  const vars = f.vars && Object.keys(f.vars).length ? h('details', {class: 'vars'}, h('summary', {}, 'Local variables'), kv(f.vars)) : null;
  return [code, vars];
}

// Frames most recent first; in-app frames open, others folded into runs.
function stacktrace(st, full) {
  const frames = (st && st.frames ? st.frames : []).slice().reverse();
  if (!frames.length) return null;
  const anyInApp = frames.some((f) => f.in_app);
  const out = [];
  let folded = [];
  const flush = () => {
    if (!folded.length) return;
    const n = folded.length;
    out.push(h('li', {class: 'system-run'}, h('details', {}, h('summary', {}, `${n} system frame${n === 1 ? '' : 's'}`),
      h('ol', {class: 'frames'}, folded))));
    folded = [];
  };
  frames.forEach((f, i) => {
    const inApp = f.in_app || !anyInApp;
    const item = h('li', {class: `frame ${f.in_app ? 'in-app' : 'system'}`},
      h('details', {open: inApp && (full || i < 3 || f.in_app)}, h('summary', {}, frameTitle(f), f.in_app ? h('span', {class: 'badge app'}, 'in app') : null),
        frameBody(f)));
    if (inApp || full) { flush(); out.push(item); } else folded.push(item);
  });
  flush();
  return h('ol', {class: 'frames'}, out);
}

function exceptions(ev, full) {
  const values = list(ev.exception);
  if (!values.length) return null;
  // The chain as Sentry shows it: the last (outermost) exception first.
  return values.slice().reverse().map((ex, i) => h('div', {class: 'exception'},
    i > 0 ? h('p', {class: 'muted small'}, 'caused by / during handling of the above:') : null,
    h('h3', {class: 'exc-type'}, ex.type || 'Error', ex.module ? h('span', {class: 'muted'}, ` (${ex.module})`) : null),
    ex.value ? h('p', {class: 'exc-value'}, ex.value) : null,
    ex.mechanism ? h('p', {class: 'muted small'}, `mechanism: ${ex.mechanism.type || '?'}${ex.mechanism.handled === false ? ', unhandled' : ''}`) : null,
    stacktrace(ex.stacktrace, full)));
}

function threads(ev, full) {
  return list(ev.threads).filter((t) => t.stacktrace && (t.crashed || t.current)).map((t) =>
    h('div', {class: 'exception'}, h('h3', {}, `Thread ${t.name || t.id || ''}`), stacktrace(t.stacktrace, full)));
}

function breadcrumbs(ev) {
  const crumbs = list(ev.breadcrumbs);
  if (!crumbs.length) return null;
  return h('ol', {class: 'timeline'}, crumbs.slice(-100).map((b) => h('li', {class: `crumb ${b.level || 'info'}`},
    h('span', {class: 'when muted'}, b.timestamp ? (typeof b.timestamp === 'number' ? new Date(b.timestamp * 1000).toISOString().slice(11, 23) : String(b.timestamp).slice(11, 23)) : ''),
    h('span', {class: 'cat'}, b.category || b.type || 'default'),
    h('span', {class: 'msg'}, b.message || (b.data ? JSON.stringify(b.data) : '')))));
}

function contexts(ev) {
  const c = ev.contexts || {};
  const cards = Object.entries(c).filter(([, v]) => v && typeof v === 'object').map(([name, v]) =>
    h('div', {class: 'ctx'}, h('h3', {}, name), kv(Object.entries(v).filter(([k]) => k !== 'type'))));
  return cards.length ? h('div', {class: 'ctx-grid'}, cards) : null;
}

function tags(ev) {
  const t = Array.isArray(ev.tags) ? ev.tags : Object.entries(ev.tags || {});
  if (!t.length) return null;
  return h('ul', {class: 'tags'}, t.map(([k, v]) => h('li', {}, h('span', {class: 'k'}, k), h('span', {class: 'v'}, String(v)))));
}

export function renderEvent(ev, {full = false} = {}) {
  const msg = ev.logentry ? (ev.logentry.formatted || ev.logentry.message) : ev.message;
  return [
    section('Exception', 'exception', exceptions(ev, full), threads(ev, full),
      !list(ev.exception).length && msg ? h('p', {class: 'exc-value'}, typeof msg === 'string' ? msg : JSON.stringify(msg)) : null),
    section('Breadcrumbs', 'breadcrumbs', breadcrumbs(ev)),
    section('Request', 'request', ev.request ? [
      h('p', {}, h('code', {}, `${ev.request.method || 'GET'} ${ev.request.url || ''}`)),
      kv(ev.request.headers), ev.request.query_string ? kv({query: ev.request.query_string}) : null,
      ev.request.data ? h('pre', {class: 'code'}, JSON.stringify(ev.request.data, null, 2)) : null] : null),
    section('User', 'user', ev.user ? kv(ev.user) : null),
    section('Contexts', 'contexts', contexts(ev)),
    section('Tags', 'tags', tags(ev)),
    section('Details', 'details', kv([['event id', ev.event_id], ['time', fmtTime(typeof ev.timestamp === 'number' ? new Date(ev.timestamp * 1000).toISOString() : ev.timestamp)],
      ['platform', ev.platform], ['environment', ev.environment], ['release', ev.release], ['server', ev.server_name],
      ['SDK', ev.sdk ? `${ev.sdk.name || '?'} ${ev.sdk.version || ''}` : null]].filter(([, v]) => v))),
  ];
}
