// issue — one issue: facts, status actions, 14-day chart, tags, the
// selected event (navigation, stack trace, raw), grouping, activity.
import {h, mount, ago, fmtTime, num, notice} from '../dom.js';
import {get, patch, post, P, ApiError} from '../api.js';
import {canEdit} from '../session.js';
import {barChart} from '../chart.js';
import {renderEvent} from '../event.js';

function statusButtons(issue, onChange) {
  if (!canEdit()) return null;
  const b = (status, label, id) => h('button', {type: 'button', class: 'btn', id, onclick: () => onChange(status)}, label);
  return h('div', {class: 'actions'},
    issue.status !== 'resolved' ? b('resolved', 'Resolve', 'resolve') : null,
    issue.status !== 'ignored' ? b('ignored', 'Ignore', 'ignore') : null,
    issue.status !== 'unresolved' ? b('unresolved', 'Reopen', 'reopen') : null);
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

async function activityTab(pid, iid) {
  let rows;
  try {
    rows = (await get(`${P(pid)}/issues/${iid}/activity`)).data;
  } catch (e) {
    return h('section', {class: 'card', id: 'activity'}, h('h2', {}, 'Activity'), h('p', {class: 'muted'}, e instanceof ApiError && e.status === 404 ? 'No activity record.' : e.message));
  }
  return h('section', {class: 'card', id: 'activity'}, h('h2', {}, 'Activity'),
    rows.length ? h('ol', {class: 'timeline'}, rows.map((a) => h('li', {},
      h('span', {class: 'when muted'}, fmtTime(a.at || a.created_at)), ' ',
      h('strong', {}, (a.actor && (a.actor.name || a.actor.email)) || a.actor_name || a.actor_type || 'someone'), ' ',
      a.action || '', ' ', a.changes || a.change ? h('code', {}, JSON.stringify(a.changes || a.change)) : null)))
      : h('p', {class: 'muted'}, 'Nobody changed this issue yet.'));
}

export async function issuePage({main, params, query, navigate}) {
  const [pid, iid] = params;
  const base = `/projects/${pid}/issues/${iid}`;
  const tab = query.get('tab') || 'event';
  const [issue, stats, events] = await Promise.all([
    get(`${P(pid)}/issues/${iid}`), get(`${P(pid)}/issues/${iid}/stats`).catch(() => null),
    get(`${P(pid)}/issues/${iid}/events?limit=100`)]);
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
  const setStatus = async (status) => {
    try {
      await patch(`${P(pid)}/issues/${iid}`, {status});
      navigate(location.pathname + location.search, {replace: true});
    } catch (e) { mount(msg, notice(e.message, 'error')); }
  };

  const facts = h('dl', {class: 'facts'},
    h('div', {}, h('dt', {}, 'Status'), h('dd', {}, h('span', {class: `badge status ${issue.status}`, id: 'issue-status'}, issue.status))),
    h('div', {}, h('dt', {}, 'Level'), h('dd', {}, h('span', {class: `badge ${issue.level}`}, issue.level))),
    h('div', {}, h('dt', {}, 'Events'), h('dd', {id: 'issue-count'}, num(issue.count))),
    h('div', {}, h('dt', {}, 'Users'), h('dd', {}, stats ? num(stats.users) : '—')),
    h('div', {}, h('dt', {}, 'First seen'), h('dd', {}, ago(issue.first_seen))),
    h('div', {}, h('dt', {}, 'Last seen'), h('dd', {}, ago(issue.last_seen))));

  const chart = stats ? barChart(stats.histogram_14d, days14(stats.histogram_14d), 'Events per day, last 14 days') : null;
  const tabs = h('nav', {class: 'seg', 'aria-label': 'Issue sections'},
    [['event', 'Event'], ['grouping', 'Grouping'], ['activity', 'Activity']].map(([k, l]) =>
      h('a', {class: 'btn small', href: link({tab: k}), 'aria-current': tab === k ? 'page' : null}, l)));

  let body;
  if (tab === 'grouping') body = eventId ? await groupingTab(pid, eventId) : notice('No stored event to regroup.', 'info');
  else if (tab === 'activity') body = await activityTab(pid, iid);
  else if (!eventId) body = h('p', {class: 'muted'}, 'Every event of this issue was deleted by retention.');
  else {
    const ev = await get(`${P(pid)}/events/${eventId}`);
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
      statusButtons(issue, setStatus)),
    msg, facts, chart,
    h('details', {class: 'card', open: true}, h('summary', {}, 'Tags'), tagBreakdown(issue.tags)),
    tabs, body);
  performance.mark('periscope:issue-rendered');
}
