// issue — one issue: facts, status actions, 14-day chart, tags, the
// selected event (navigation, stack trace, raw), grouping, activity.
import {h, mount, ago, fmtTime, num, notice, field} from '../dom.js';
import {get, patch, post, del, P, ApiError} from '../api.js';
import {canEdit, session} from '../session.js';
import {barChart} from '../chart.js';
import {renderEvent} from '../event.js';
import {snoozeForm, releaseForm} from '../triage.js';

// Assign to one of the project's members (those the caller may list).
function assignForm(issue, members, onChange) {
  const others = members.filter((m) => m.id !== issue.assignee_id);
  if (!others.length) return null;
  const pick = h('select', {name: 'assignee', id: 'assign-to'}, others.map((m) => h('option', {value: m.id}, label(m))));
  const menu = h('details', {class: 'menu'}, h('summary', {class: 'btn', id: 'assign-menu'}, 'Assign to…'),
    h('form', {class: 'card pop', id: 'assign-form', onsubmit: (ev) => {
      ev.preventDefault();
      menu.open = false;
      onChange(null, {assignee_id: Number(pick.value)});
    }}, field('Assignee', pick), h('button', {type: 'submit', class: 'btn primary'}, 'Assign')));
  return menu;
}

const label = (u) => (u.name ? `${u.name} <${u.email}>` : u.email);

function statusButtons(issue, members, onChange) {
  if (!canEdit()) return null;
  const b = (status, label, id) => h('button', {type: 'button', class: 'btn', id, onclick: () => onChange(status)}, label);
  const me = session.user && session.user.id;
  return h('div', {class: 'actions'},
    issue.status !== 'resolved' ? [b('resolved', 'Resolve', 'resolve'), releaseForm(onChange, issue.last_release || '1.2.3')] : null,
    issue.status !== 'ignored' ? [b('ignored', 'Ignore', 'ignore'), snoozeForm(onChange)] : null,
    issue.status !== 'unresolved' ? b('unresolved', 'Reopen', 'reopen') : null,
    me && issue.assignee_id !== me ? h('button', {type: 'button', class: 'btn', id: 'assign-me', onclick: () => onChange(null, {assignee_id: me})}, 'Assign to me') : null,
    assignForm(issue, members, onChange),
    issue.assignee_id ? h('button', {type: 'button', class: 'btn', id: 'unassign', onclick: () => onChange(null, {assignee_id: null})}, 'Unassign') : null);
}

export function who(id, names) {
  if (id === null || id === undefined) return 'the admin key';
  if (session.user && id === session.user.id) return `${label(session.user)} (you)`;
  return names.get(id) || `user ${id}`;
}

function snoozeText(u) {
  if (!u) return '';
  if (u.count) return `until ${u.count} more events`;
  if (u.users) return `until ${u.users} more users`;
  if (u.rate) return `until ${u.rate} events in ${u.window_minutes} min`;
  if (u.until) return `until ${fmtTime(new Date(u.until).toISOString())}`;
  return '';
}

function tagBreakdown(tags) {
  if (!tags || !tags.length) return h('p', {class: 'muted'}, 'No tags.');
  return h('div', {class: 'tag-bars'}, tags.map((t) => h('div', {class: 'tag'},
    h('div', {class: 'tagkey'}, t.key, h('span', {class: 'muted'}, ` ${num(t.total)}`)),
    h('ul', {}, t.top_values.map((v) => {
      const pct = t.total ? Math.round((v.count / t.total) * 100) : 0;
      const bar = h('span', {class: 'fill'});
      bar.style.width = `${pct}%`;
      return h('li', {title: `${v.count} events`}, h('span', {class: 'meter'}, bar), h('span', {class: 'v'}, v.value), h('span', {class: 'muted'}, ` ${pct}%`));
    })))));
}

function days14(values) {
  const today = new Date();
  return values.map((_, i) => {
    const d = new Date(today.getTime() - (values.length - 1 - i) * 86400000);
    return `${d.getUTCMonth() + 1}/${d.getUTCDate()}`;
  });
}

function hashesCard(pid, issue, navigate, msg) {
  const hashes = issue.hashes || [issue.hash];
  return h('section', {class: 'card', id: 'hashes'}, h('h2', {}, `Hashes (${hashes.length})`),
    h('p', {class: 'muted small'}, 'Events with any of these grouping hashes join this issue. Splitting a hash out moves it and its events to a new issue.'),
    h('ul', {class: 'plain hash-list'}, hashes.map((hs) => h('li', {}, h('code', {}, hs), ' ',
      canEdit() && hashes.length > 1 ? h('button', {type: 'button', class: 'btn small unmerge', dataset: {hash: hs}, onclick: async () => {
        try {
          const r = await del(`${P(pid)}/issues/${issue.id}/hashes/${hs}`);
          navigate(`/projects/${pid}/issues/${r.id}?tab=grouping`);
        } catch (e) { mount(msg, notice(e.message, 'error')); }
      }}, 'Split out') : null))));
}

async function groupingTab(pid, eventId) {
  const [result, script, rules] = await Promise.all([
    post(`${P(pid)}/script/test`, {event_id: eventId}),
    get(`${P(pid)}/script`).catch(() => null),
    get(`${P(pid)}/grouping-rules`).catch(() => null)]);
  const source = script && script.version ? `project script version ${script.version}` : 'the default rules (Sentry\'s grouping)';
  const ruleText = rules && [rules.fingerprint_rules, rules.stacktrace_rules].filter(Boolean).join('\n');
  return h('section', {class: 'card', id: 'grouping'}, h('h2', {}, 'Grouping'),
    h('p', {}, 'This event was grouped by ', h('strong', {}, source), ruleText ? ' with the project\'s fingerprint and stack trace rules' : '',
      rules && rules.grouping_config ? ` (config ${rules.grouping_config})` : '', '.'),
    h('table', {class: 'kv'}, h('tbody', {},
      h('tr', {}, h('th', {scope: 'row'}, 'hash'), h('td', {}, h('code', {id: 'grouping-hash'}, result.hash || '—'))),
      h('tr', {}, h('th', {scope: 'row'}, 'title'), h('td', {}, result.title || '—')),
      h('tr', {}, h('th', {scope: 'row'}, 'filtered'), h('td', {}, String(result.filtered))))),
    h('h3', {}, 'Components (hashed in this order)'),
    h('ol', {class: 'components'}, (result.components || []).map((c) => h('li', {}, h('code', {}, typeof c === 'string' ? c : JSON.stringify(c))))),
    ruleText ? h('details', {}, h('summary', {}, 'Grouping rules'), h('pre', {class: 'code'}, ruleText)) : null,
    (result.errors || []).length ? notice(result.errors.map((e) => `${e.hook}: ${e.message}`).join('; '), 'error') : null);
}

const KIND_TEXT = {comment: 'commented', assigned: 'assigned', merged: 'merged', unmerged: 'split out'};

function timelineCard(pid, issue, names, navigate, msg) {
  const items = (issue.activity || []).map((a) => h('li', {class: `act ${a.kind}`},
    h('span', {class: 'when muted'}, fmtTime(typeof a.created_at === 'number' ? new Date(a.created_at).toISOString() : a.created_at)), ' ',
    h('strong', {}, who(a.user_id, names)), ' ', KIND_TEXT[a.kind] || a.kind,
    a.kind === 'assigned' ? [' to ', h('strong', {}, a.data && a.data.assignee_id ? who(a.data.assignee_id, names) : 'nobody')] : null,
    a.kind === 'merged' || a.kind === 'unmerged' ? [' ', h('code', {}, JSON.stringify(a.data))] : null,
    a.kind === 'comment' ? h('blockquote', {class: 'comment'}, a.text) : null));
  const text = h('textarea', {name: 'comment', rows: 3, maxlength: 10000, placeholder: 'Write a comment'});
  return h('section', {class: 'card', id: 'comments'}, h('h2', {}, 'Comments and changes'),
    items.length ? h('ol', {class: 'acts'}, items) : h('p', {class: 'muted'}, 'No comments yet.'),
    canEdit() ? h('form', {id: 'comment-form', onsubmit: async (ev) => {
      ev.preventDefault();
      if (!text.value.trim()) return;
      try {
        await post(`${P(pid)}/issues/${issue.id}/comments`, {text: text.value.trim()});
        navigate(location.pathname + location.search, {replace: true});
      } catch (e) { mount(msg, notice(e.message, 'error')); }
    }}, field('Comment', text), h('button', {type: 'submit', class: 'btn primary'}, 'Comment')) : null);
}

async function activityTab(pid, iid) {
  let rows;
  try {
    rows = (await get(`${P(pid)}/issues/${iid}/activity`)).data;
  } catch (e) {
    return h('section', {class: 'card', id: 'activity'}, h('h2', {}, 'Audit record'), h('p', {class: 'muted'}, e instanceof ApiError && e.status === 404 ? 'No activity record.' : e.message));
  }
  return h('section', {class: 'card', id: 'activity'}, h('h2', {}, 'Audit record'),
    rows.length ? h('ol', {class: 'acts'}, rows.map((a) => h('li', {},
      h('span', {class: 'when muted'}, fmtTime(a.at || a.created_at)), ' ',
      h('strong', {}, (a.actor && (a.actor.name || a.actor.email)) || a.actor_name || a.actor_type || 'someone'), ' ',
      a.action || '', ' ', a.changes || a.change ? h('code', {}, JSON.stringify(a.changes || a.change)) : null)))
      : h('p', {class: 'muted'}, 'Nobody changed this issue yet.'));
}

export async function issuePage({main, params, query, navigate}) {
  const [pid, iid] = params;
  const base = `/projects/${pid}/issues/${iid}`;
  const tab = query.get('tab') || 'event';
  // The members (listed for project admins): the assignee picker and names.
  const [issue, stats, events, memberList] = await Promise.all([
    get(`${P(pid)}/issues/${iid}`), get(`${P(pid)}/issues/${iid}/stats`).catch(() => null),
    get(`${P(pid)}/issues/${iid}/events?limit=100`),
    canEdit() ? get(`${P(pid)}/members`).catch(() => null) : null]);
  const ids = events.data.map((e) => e.event_id);
  const eventId = query.get('event') || (issue.latest_event && issue.latest_event.event_id) || ids[0];
  const at = ids.indexOf(eventId);
  const full = query.get('full') === '1';
  const link = (changes) => {
    const q = new URLSearchParams({tab, event: eventId, ...(full ? {full: '1'} : {}), ...changes});
    for (const [k, v] of [...q.entries()]) if (!v || (k === 'tab' && v === 'event')) q.delete(k);
    const s = q.toString();
    return base + (s ? `?${s}` : '');
  };

  const msg = h('div', {'aria-live': 'polite'});
  const names = new Map();
  const members = (memberList && memberList.users) || [];
  if (session.user && !members.some((m) => m.id === session.user.id)) members.unshift(session.user);
  for (const m of members) names.set(m.id, label(m));
  if ((tab === 'activity' || (issue.assignee_id && !names.has(issue.assignee_id))) && session.user && session.user.role === 'admin') {
    const users = await get('/api/admin/users').catch(() => null);
    for (const m of (users && (users.data || users.users)) || []) if (!names.has(m.id)) names.set(m.id, label(m));
  }
  const setStatus = async (status, extra = {}) => {
    try {
      await patch(`${P(pid)}/issues/${iid}`, status ? {status, ...extra} : extra);
      navigate(location.pathname + location.search, {replace: true});
    } catch (e) { mount(msg, notice(e.message, 'error')); }
  };

  const facts = h('dl', {class: 'facts'},
    h('div', {}, h('dt', {}, 'Status'), h('dd', {}, h('span', {class: `badge status ${issue.status}`, id: 'issue-status'}, issue.status),
      issue.ignore_until ? h('span', {class: 'small', id: 'snooze'}, ` ${snoozeText(issue.ignore_until)}`) : null,
      issue.resolved_in ? h('span', {class: 'small', id: 'resolved-in'}, ` in ${issue.resolved_in === 'next_release' ? `the release after ${issue.resolved_after_release || 'the latest'}` : issue.resolved_in}`) : null)),
    h('div', {}, h('dt', {}, 'Assignee'), h('dd', {id: 'assignee'}, issue.assignee_id ? who(issue.assignee_id, names) : h('span', {class: 'muted'}, 'nobody'))),
    h('div', {}, h('dt', {}, 'Level'), h('dd', {}, h('span', {class: `badge ${issue.level}`}, issue.level))),
    h('div', {}, h('dt', {}, 'Events'), h('dd', {id: 'issue-count'}, num(issue.count))),
    h('div', {}, h('dt', {}, 'Users'), issue.user_count_upper_bound
      ? h('dd', {id: 'issue-users', class: 'upper'}, h('abbr', {title: 'At most this many: a hash was split out of this issue and its users stayed counted here (no record says which user came with which hash).'},
        `≤ ${num(issue.user_count)}`))
      : h('dd', {id: 'issue-users'}, num(issue.user_count))),
    h('div', {}, h('dt', {}, 'Releases'), h('dd', {}, issue.first_release || issue.last_release ? `${issue.first_release || '—'} → ${issue.last_release || '—'}` : h('span', {class: 'muted'}, 'none'))),
    h('div', {}, h('dt', {}, 'First seen'), h('dd', {}, ago(issue.first_seen))),
    h('div', {}, h('dt', {}, 'Last seen'), h('dd', {}, ago(issue.last_seen))));

  const chart = stats ? barChart(stats.histogram_14d, days14(stats.histogram_14d), 'Events per day, last 14 days') : null;
  const tabs = h('nav', {class: 'seg', 'aria-label': 'Issue sections'},
    [['event', 'Event'], ['grouping', 'Grouping'], ['activity', 'Activity']].map(([k, l]) =>
      h('a', {class: 'btn small', href: link({tab: k}), 'aria-current': tab === k ? 'page' : null}, l)));

  let body;
  if (tab === 'grouping') body = [hashesCard(pid, issue, navigate, msg), eventId ? await groupingTab(pid, eventId) : notice('No stored event to regroup.', 'info')];
  else if (tab === 'activity') body = [timelineCard(pid, issue, names, navigate, msg), await activityTab(pid, iid)];
  else if (!eventId) body = h('p', {class: 'muted'}, 'Every event of this issue was deleted by retention.');
  else {
    // The latest event comes with the issue: no second request for it.
    const latest = issue.latest_event;
    const ev = latest && latest.event_id === eventId && latest.data ? latest.data : await get(`${P(pid)}/events/${eventId}`);
    const nav = h('nav', {class: 'event-nav', 'aria-label': 'Events'},
      h('a', {class: 'btn small', href: link({event: ids[0]}), 'aria-disabled': at === 0 ? 'true' : null}, 'Latest'),
      at > 0 ? h('a', {class: 'btn small', id: 'newer', href: link({event: ids[at - 1]})}, '← Newer') : null,
      at >= 0 && at < ids.length - 1 ? h('a', {class: 'btn small', id: 'older', href: link({event: ids[at + 1]})}, 'Older →') : null,
      stats && stats.first_event_id ? h('a', {class: 'btn small', href: link({event: stats.first_event_id})}, 'First') : null,
      h('span', {class: 'muted'}, at >= 0 ? ` event ${at + 1} of ${events.next_cursor ? `${ids.length}+` : ids.length}` : ''),
      h('a', {class: 'btn small', href: link({full: full ? '' : '1'})}, full ? 'Collapse frames' : 'Full stack'));
    const eventList = h('details', {class: 'card event-list'}, h('summary', {}, `Recent events (${ids.length})`),
      h('ul', {}, events.data.slice(0, 100).map((e) => h('li', {}, h('a', {href: link({event: e.event_id}), 'aria-current': e.event_id === eventId ? 'true' : null},
        fmtTime(e.received_at)), ' ', h('span', {class: 'muted'}, [e.environment, e.release].filter(Boolean).join(' · '))))));
    body = [nav, h('p', {class: 'muted small'}, `Event ${eventId}`), renderEvent(ev, {full}), eventList,
      h('details', {class: 'card raw'}, h('summary', {}, 'Raw JSON'), h('pre', {class: 'code'}, JSON.stringify(ev, null, 2)))];
  }

  mount(main,
    h('p', {class: 'crumbs'}, h('a', {href: `/projects/${pid}/issues`}, '← Issues')),
    h('header', {class: 'issue-head'}, h('h1', {id: 'issue-title'}, issue.title || '(no title)'),
      issue.culprit ? h('p', {class: 'culprit muted', id: 'issue-culprit'}, issue.culprit) : null,
      statusButtons(issue, members, setStatus)),
    msg, facts, chart,
    h('details', {class: 'card', open: true}, h('summary', {}, 'Tags'), tagBreakdown(issue.tags)),
    tabs, body);
  performance.mark('periscope:issue-rendered');
}
