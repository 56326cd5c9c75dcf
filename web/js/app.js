// app — the single-page shell: session, routes, header, link handling.
import {h, mount, notice} from './dom.js';
import {get, whenUnauthorized, setCsrf, ApiError, P} from './api.js';
import {session} from './session.js';
import {loginPage, setupPage, signOut} from './pages/login.js';
import {projectsPage} from './pages/projects.js';
import {settingsPage} from './pages/settings.js';
import {issuesPage} from './pages/issues.js';
import {issuePage} from './pages/issue.js';
import {alertsPage} from './pages/alerts.js';
import {destinationsPage} from './pages/destinations.js';
import {rulesPage} from './pages/rules.js';
import {accountPage} from './pages/account.js';
import {releasesPage} from './pages/releases.js';
import {alertRulesPage} from './pages/alertrules.js';

const ROUTES = [
  [/^\/login$/, loginPage, {public: true}],
  [/^\/setup$/, setupPage, {public: true}],
  [/^\/$/, projectsPage],
  [/^\/projects\/?$/, projectsPage],
  [/^\/projects\/(\d+)\/?$/, issuesPage],
  [/^\/projects\/(\d+)\/issues\/?$/, issuesPage],
  [/^\/projects\/(\d+)\/issues\/(\d+)\/?$/, issuePage],
  [/^\/projects\/(\d+)\/alerts\/?$/, alertsPage],
  [/^\/projects\/(\d+)\/alerts\/rules\/?$/, alertRulesPage],
  [/^\/projects\/(\d+)\/releases\/?$/, releasesPage],
  [/^\/projects\/(\d+)\/destinations\/?$/, destinationsPage],
  [/^\/projects\/(\d+)\/rules\/?$/, rulesPage],
  [/^\/projects\/(\d+)\/settings\/?$/, settingsPage],
  [/^\/account\/?$/, accountPage],
];

const main = document.getElementById('main');
const top = document.getElementById('top');
let cleanup = null;
// Project names for the header, kept in sessionStorage for the person
// signed in: a page load (a notification's link, a reload) asks for the
// name once per tab instead of once per load, one request fewer beside the
// page's own (the admin API answers two at a time).
const NAMES_KEY = 'periscope.project-names';
function storedNames() {
  try {
    const s = JSON.parse(sessionStorage.getItem(NAMES_KEY));
    if (s && session.user && s.user === session.user.id) return new Map(Object.entries(s.names));
  } catch { /* none kept */ }
  return new Map();
}
let projectNames = storedNames();
let namesUser = session.user && session.user.id;
function keepNames() {
  if (session.user) sessionStorage.setItem(NAMES_KEY, JSON.stringify({user: session.user.id, names: Object.fromEntries(projectNames)}));
}

export function navigate(path, {replace = false} = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  route();
}

function signInFirst() {
  const here = location.pathname + location.search;
  session.user = null;
  navigate(`/login${here !== '/' && !here.startsWith('/login') ? `?next=${encodeURIComponent(here)}` : ''}`,
    {replace: true});
}

async function projectName(id) {
  const who = session.user && session.user.id;
  if (who !== namesUser) { projectNames = storedNames(); namesUser = who; }
  if (!projectNames.has(id)) {
    try { projectNames.set(id, (await get(P(id))).name); } catch { return `Project ${id}`; }
    keepNames();
  }
  return projectNames.get(id);
}
export function forgetProjectName(id) { projectNames.delete(String(id)); keepNames(); }

async function header(projectId, section) {
  const u = session.user;
  const nav = [];
  if (projectId) {
    const base = `/projects/${projectId}`;
    const tab = (name, path, label) => h('a', {href: base + path,
      'aria-current': section === name ? 'page' : null}, label);
    nav.push(h('span', {class: 'project-name'}, await projectName(projectId)),
      tab('issues', '/issues', 'Issues'), tab('releases', '/releases', 'Releases'), tab('alerts', '/alerts', 'Alerts'),
      tab('destinations', '/destinations', 'Destinations'), tab('rules', '/rules', 'Rules'),
      tab('settings', '/settings', 'Settings'));
  }
  mount(top, h('nav', {class: 'bar', 'aria-label': 'Main'},
    h('a', {href: '/', class: 'brand'}, h('img', {src: '/static/favicon.svg', alt: '', width: 20, height: 20}), 'Periscope'),
    h('div', {class: 'tabs'}, nav),
    u ? h('div', {class: 'who'},
      h('a', {href: '/account', title: `Signed in as ${u.email} (${u.role})`}, u.name || u.email),
      h('button', {type: 'button', class: 'btn small', onclick: signOut}, 'Sign out')) : null));
}

export async function route() {
  if (cleanup) { try { cleanup(); } catch { /* the old page is gone either way */ } cleanup = null; }
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  let found = null;
  for (const [re, page, opts] of ROUTES) {
    const m = path.match(re);
    if (m) { found = {page, params: m.slice(1), opts: opts || {}}; break; }
  }
  if (!found) {
    await header(null);
    mount(main, h('h1', {}, 'Not found'), h('p', {}, 'There is no page here. ', h('a', {href: '/'}, 'Projects')));
    return;
  }
  if (!found.opts.public && !session.user) return signInFirst();
  const projectId = path.startsWith('/projects/') ? found.params[0] : null;
  const section = projectId ? (path.split('/')[3] || 'issues') : null;
  const drawn = header(projectId, section); // in parallel with the page's own requests
  mount(main, h('p', {class: 'muted'}, 'Loading…'));
  try {
    cleanup = (await found.page({main, params: found.params, query, navigate})) || null;
    await drawn;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    mount(main, h('h1', {}, e instanceof ApiError && e.status === 404 ? 'Not found' : 'Something went wrong'),
      notice(e.message, 'error'));
  }
  if (document.activeElement === document.body) main.focus({preventScroll: true});
}

document.addEventListener('click', (ev) => {
  const a = ev.target.closest('a[href]');
  if (!a || ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
  const href = a.getAttribute('href');
  if (!href.startsWith('/') || href.startsWith('//') || href.startsWith('/api/') || a.target || a.hasAttribute('download')) return;
  ev.preventDefault();
  navigate(href);
});
window.addEventListener('popstate', route);
whenUnauthorized(signInFirst);

// The page is drawn at once for the person this tab last saw signed in,
// while /api/auth/me confirms the session (one round trip less before the
// page's own requests); a changed or ended session draws it again.
async function boot() {
  const cached = session.user;
  const me = get('/api/auth/me', {quiet401: true}).then((m) => {
    if (m.csrf_token) setCsrf(m.csrf_token);
    return m.user || m;
  }, () => null);
  if (cached) route();
  const u = await me;
  if (!u) {
    session.user = null;
    if (!cached) route();
    else if (!location.pathname.startsWith('/login') && !location.pathname.startsWith('/setup')) signInFirst();
    return;
  }
  session.user = u;
  if (!cached || cached.id !== u.id || cached.role !== u.role) route();
}
boot();
