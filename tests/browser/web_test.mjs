// The web interface in headless Chromium (Debian's /usr/bin/chromium,
// driven by puppeteer-core; no browser is downloaded). Started by
// tests/e2e/test_web.py ("full" mode: every page and step, the timings),
// test_web_postgres.py and web_timings.py ("backend" mode, below), which
// run the server, fill it with real SDK events and pass what they made in
// $WEB_TEST_CONFIG (a JSON file).
// Every step asserts on what the page shows; any console error or CSP
// violation fails the run; axe-core checks every page; screenshots of
// every page at 1280 and 375 px, light and dark, go to config.screenshots.
import {createRequire} from 'node:module';
import {execFileSync} from 'node:child_process';
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';

const cfg = JSON.parse(fs.readFileSync(process.env.WEB_TEST_CONFIG, 'utf8'));
const require = createRequire(path.join(cfg.node_dir, 'package.json'));
const puppeteer = require('puppeteer-core');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const here = path.dirname(new URL(import.meta.url).pathname);
const results = {timings: {}, axe: {}, screenshots: 0, steps: []};

// Console errors the steps expect: the signed-out /api/auth/me, the wrong
// password, the viewer's refused edit, the refused script.
const EXPECTED = /Failed to load resource: the server responded with a status of (401|403|422)/;
const problems = [];

const t0 = Date.now();
function step(name) {
  results.steps.push(name);
  console.error(`step at ${((Date.now() - t0) / 1000).toFixed(1)} s: ${name}`);
}

async function newPage(browser) {
  const page = await browser.newPage();
  page.on('console', (m) => {
    if (m.type() === 'error' && !EXPECTED.test(m.text())) problems.push(`console: ${m.text()} (${page.url()})`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message} (${page.url()})`));
  await page.evaluateOnNewDocument(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page.setDefaultTimeout(15000);
  return page;
}

const url = (p) => cfg.url + p;
const text = (page, sel) => page.$eval(sel, (el) => el.textContent);
const count = (page, sel) => page.$$eval(sel, (els) => els.length);
async function waitText(page, sel, want) {
  await page.waitForFunction((s, w) => [...document.querySelectorAll(s)].some((el) => el.textContent.includes(w)), {}, sel, want);
}
async function clickText(page, sel, want) {
  const handle = await page.waitForFunction((s, w) => [...document.querySelectorAll(s)].find((el) => el.textContent.trim() === w), {}, sel, want);
  await handle.asElement().click();
}
async function settle(page) {
  await page.waitForFunction(() => !document.querySelector('main > p.muted') || document.querySelector('main').children.length > 1);
  await page.waitForNetworkIdle({idleTime: 150, timeout: 10000}).catch(() => {});
}

async function signIn(page, who, nextPath) {
  await page.waitForSelector('#login-form');
  await page.type('input[name=email]', who.email);
  await page.type('input[name=password]', who.password);
  await Promise.all([page.waitForFunction((p) => !location.pathname.startsWith('/login'), {}, nextPath), page.click('#login-form button[type=submit]')]);
}

async function signOut(page) {
  await clickText(page, '.who button', 'Sign out');
  await page.waitForSelector('#login-form');
}

async function checkHeaders(page, p) {
  const r = await page.goto(url(p), {waitUntil: 'domcontentloaded'});
  const hd = r.headers();
  assert.match(hd['content-security-policy'] || '', /script-src 'self'/);
  assert.match(hd['content-security-policy'], /frame-ancestors 'none'/);
  assert.doesNotMatch(hd['content-security-policy'], /unsafe-inline|unsafe-eval/);
  assert.equal(hd['x-content-type-options'], 'nosniff');
  assert.equal(hd['referrer-policy'], 'same-origin');
  return r;
}

async function axe(page, name) {
  if (!(await page.evaluate(() => !!window.axe))) await page.evaluate(axeSource);
  const r = await page.evaluate(() => window.axe.run(document, {resultTypes: ['violations']}));
  const bad = r.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  results.axe[name] = r.violations.map((v) => `${v.impact} ${v.id}`);
  assert.deepEqual(bad.map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`), [], `axe on ${name}`);
}

// The current page at both widths and in both schemes.
async function shots(page, name) {
  for (const scheme of ['light', 'dark']) {
    await page.emulateMediaFeatures([{name: 'prefers-color-scheme', value: scheme}]);
    for (const width of [1280, 375]) {
      await page.setViewport({width, height: width === 375 ? 812 : 900});
      await page.screenshot({path: path.join(cfg.screenshots, `${name}-${width}-${scheme}.png`), fullPage: width === 1280 && scheme === 'light', optimizeForSpeed: true});
      results.screenshots++;
    }
  }
  await page.emulateMediaFeatures([{name: 'prefers-color-scheme', value: 'light'}]);
  await page.setViewport({width: 1280, height: 900});
}

// A state of a page shot in full elsewhere: 1280 light and 375 dark.
async function stateShots(page, name) {
  await page.screenshot({path: path.join(cfg.screenshots, `${name}-1280-light.png`), optimizeForSpeed: true});
  await page.emulateMediaFeatures([{name: 'prefers-color-scheme', value: 'dark'}]);
  await page.setViewport({width: 375, height: 812});
  await page.screenshot({path: path.join(cfg.screenshots, `${name}-375-dark.png`), optimizeForSpeed: true});
  results.screenshots += 2;
  await page.emulateMediaFeatures([{name: 'prefers-color-scheme', value: 'light'}]);
  await page.setViewport({width: 1280, height: 900});
}

const apiJson = async (page, method, p, body) => JSON.parse((await apiAs(page, method, p, body)).body);

// An in-app navigation that waits for the page to be drawn again.
async function reloadIn(page, p, ready) {
  await page.evaluate((to) => { history.pushState(null, '', to); dispatchEvent(new PopStateEvent('popstate')); }, p);
  await page.waitForSelector(ready);
}

async function triage(page, pid) {
  const issueOf = async (q) => (await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues?status=all&query=${encodeURIComponent(q)}`)).data[0];
  const me = (await apiJson(page, 'GET', '/api/auth/me')).user;

  step('triage: assign to me, comment, the assigned:me filter');
  const typeErr = await issueOf('TypeError');
  const ip = `/projects/${pid}/issues/${typeErr.id}`;
  await reloadIn(page, ip, '#assign-me');
  await page.click('#assign-me');
  await waitText(page, '#assignee', '(you)');
  assert.equal((await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${typeErr.id}`)).assignee_id, me.id);
  await reloadIn(page, `${ip}?tab=activity`, '#comment-form');
  await page.type('#comment-form textarea', 'Seen after the api@7.0.1 deploy; looking into it.');
  await page.click('#comment-form button[type=submit]');
  await waitText(page, '#comments blockquote.comment', 'looking into it');
  await waitText(page, '#comments li.assigned', '(you)');
  await settle(page);
  await axe(page, 'issue-activity');
  await shots(page, 'issue-activity');
  await reloadIn(page, `/projects/${pid}/issues?status=all`, '#assigned-me');
  await page.click('#assigned-me');
  await page.waitForFunction(() => location.search.includes('assigned%3Ame'));
  await page.waitForFunction(() => document.querySelectorAll('#issues tr.issue').length === 1);
  await waitText(page, '#issues .title', 'TypeError');
  assert.equal(await page.$eval('#assigned-me', (a) => a.getAttribute('aria-current')), 'true');
  await stateShots(page, 'issues-assigned-me');

  step('triage: assign to another member of the project, by name and email');
  const vic = (await apiJson(page, 'GET', `/api/admin/projects/${pid}/members`)).users.find((u) => u.email === cfg.viewer.email);
  await reloadIn(page, ip, '#assign-menu');
  await page.click('#assign-menu');
  await page.select('#assign-to', String(vic.id));
  await page.click('#assign-form button[type=submit]');
  await waitText(page, '#assignee', `Vic Viewer <${cfg.viewer.email}>`);
  assert.equal((await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${typeErr.id}`)).assignee_id, vic.id);
  await page.click('#assign-me');
  await waitText(page, '#assignee', '(you)');

  step('triage: the users column and sort=users');
  await reloadIn(page, `/projects/${pid}/issues?status=all&sort=users`, '#issues tr.issue');
  assert.equal(await page.$eval('select[name=sort]', (el) => el.value), 'users');
  const users = await page.$$eval('#issues td.users', (els) => els.map((e) => Number(e.textContent)));
  assert.ok(users.length >= 4 && users[0] >= 1, users.join());
  assert.deepEqual(users, [...users].sort((a, b) => b - a));
  await stateShots(page, 'issues-by-users');

  step('triage: ignore until a condition (count, users, rate in a window, time)');
  const disk = await issueOf('Disk almost full');
  const dp = `/projects/${pid}/issues/${disk.id}`;
  const until = new Date(Date.now() + 86400000);
  const local = `${until.getFullYear()}-${String(until.getMonth() + 1).padStart(2, '0')}-${String(until.getDate()).padStart(2, '0')}T12:00`;
  const conds = [['count', {snooze_n: '100'}, 'until 100 more events', {count: 100}],
    ['users', {snooze_n: '25'}, 'until 25 more users', {users: 25}],
    ['until', {snooze_until: local}, 'until ', null],
    ['rate', {snooze_n: '50', snooze_window: '60'}, 'until 50 events in 60 min', {rate: 50, window_minutes: 60}]];
  for (const [kind, fields, shown, want] of conds) {
    await reloadIn(page, dp, '#ignore-menu');
    await page.click('#ignore-menu');
    await page.select('#snooze-kind', kind);
    for (const [name, value] of Object.entries(fields)) {
      await page.$eval(`#snooze-form [name=${name}]`, (el, v) => { el.value = v; }, value);
    }
    if (kind === 'rate') await stateShots(page, 'issue-snooze-form');
    await page.click('#snooze-form button[type=submit]');
    await waitText(page, '#issue-status', 'ignored');
    await waitText(page, '#snooze', shown);
    const got = (await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${disk.id}`)).ignore_until;
    if (want) assert.deepEqual(got, want);
    else assert.ok(got.until, JSON.stringify(got));
    if (kind !== 'rate') {
      await page.click('#reopen');
      await waitText(page, '#issue-status', 'unresolved');
    }
  }
  await stateShots(page, 'issue-snoozed');

  step('triage: resolve in a version, in the next release');
  await page.click('#reopen');
  await waitText(page, '#issue-status', 'unresolved');
  await page.click('#resolve-menu');
  await page.select('#resolve-in', 'version');
  await page.type('#release-form [name=version]', 'shop@1.5.0');
  await page.click('#release-form button[type=submit]');
  await waitText(page, '#resolved-in', 'shop@1.5.0');
  assert.equal((await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${disk.id}`)).resolved_in, 'shop@1.5.0');
  await page.click('#reopen');
  await waitText(page, '#issue-status', 'unresolved');
  await page.click('#resolve-menu');
  await page.click('#release-form button[type=submit]');
  await waitText(page, '#resolved-in', 'the release after');
  assert.equal((await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${disk.id}`)).resolved_in, 'next_release');
  await stateShots(page, 'issue-resolved-next-release');

  step('triage: merge the selected issues, split a hash out again');
  await reloadIn(page, `/projects/${pid}/issues?status=all&query=ZeroDivisionError`, '#issues tr.issue');
  await page.waitForFunction(() => document.querySelectorAll('#issues tr.issue').length === 2);
  await page.$$eval('#issues tr.issue input[type=checkbox]', (boxes) => boxes.forEach((b) => b.click()));
  await page.click('#bulk-merge');
  await waitText(page, '.notice', '2 issues merged');
  await page.waitForFunction(() => document.querySelectorAll('#issues tr.issue').length === 1);
  await stateShots(page, 'issues-merged');
  const merged = await issueOf('ZeroDivisionError');
  const full = await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${merged.id}`);
  assert.equal(full.hashes.length, 2);
  await reloadIn(page, `/projects/${pid}/issues/${merged.id}?tab=grouping`, '#hashes');
  assert.equal(await count(page, '#hashes button.unmerge'), 2);
  await settle(page);
  await stateShots(page, 'issue-hashes');
  await page.click(`#hashes button.unmerge[data-hash="${full.hashes[1]}"]`);
  await page.waitForFunction((old) => !location.pathname.endsWith(`/${old}`) && document.querySelector('#hashes'), {}, merged.id);
  await waitText(page, '#hashes', full.hashes[1]);
  assert.equal(await count(page, '#hashes li'), 1);
  const split = await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${merged.id}`);
  assert.equal(split.hashes.length, 1);

  step('triage: after a split the old issue\'s user count shows as an upper bound');
  assert.equal(await count(page, '#issue-users abbr'), 0);
  const splitId = Number(await page.evaluate(() => location.pathname.split('/').pop()));
  assert.equal(split.user_count_upper_bound, true);
  assert.equal((await apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${splitId}`)).user_count_upper_bound, false);
  await reloadIn(page, `/projects/${pid}/issues/${merged.id}`, '#issue-users abbr');
  assert.equal(await page.$eval('#issue-users abbr', (a) => a.textContent), `≤ ${split.user_count}`);
  assert.match(await page.$eval('#issue-users abbr', (a) => a.title), /split out/);

  step('triage: bulk ignore until N more events, bulk resolve in a release');
  const zeros = `/projects/${pid}/issues?status=all&query=ZeroDivisionError`;
  // Two rows, none selected: after a bulk change, once the list is drawn again.
  const selectAll = async () => {
    await page.waitForFunction(() => {
      const boxes = [...document.querySelectorAll('#issues tr.issue input[type=checkbox]')];
      return boxes.length === 2 && boxes.every((b) => !b.checked);
    });
    await page.$$eval('#issues tr.issue input[type=checkbox]', (boxes) => boxes.forEach((b) => b.click()));
  };
  const both = async () => Promise.all([merged.id, splitId].map((i) => apiJson(page, 'GET', `/api/admin/projects/${pid}/issues/${i}`)));
  await reloadIn(page, zeros, '#bulk-ignore-menu');
  await selectAll();
  await page.click('#bulk-ignore-menu');
  await page.select('#bulk-snooze-kind', 'count');
  await page.$eval('#bulk-snooze-form [name=snooze_n]', (el) => { el.value = '5'; });
  await stateShots(page, 'issues-bulk-snooze');
  await page.click('#bulk-snooze-form button[type=submit]');
  await waitText(page, '.notice', '2 issues marked ignored');
  for (const i of await both()) assert.deepEqual([i.status, i.ignore_until], ['ignored', {count: 5}]);
  await selectAll();
  await page.click('#bulk-resolve-menu');
  await page.select('#bulk-resolve-in', 'version');
  await page.type('#bulk-release-form [name=version]', 'api@7.0.2');
  await page.click('#bulk-release-form button[type=submit]');
  await waitText(page, '.notice', '2 issues marked resolved');
  for (const i of await both()) assert.deepEqual([i.status, i.resolved_in], ['resolved', 'api@7.0.2']);

  step('releases page');
  await visit(page, 'releases', `/projects/${pid}/releases`, '#releases');
  const versions = await page.$$eval('#releases tbody tr td:first-child code', (els) => els.map((e) => e.textContent));
  for (const v of ['shop@1.4.0', 'api@7.0.1']) assert.ok(versions.includes(v), versions.join());

  step('alert rules: level, environment, frequency, destinations');
  await visit(page, 'alert-rules-default', `/projects/${pid}/alerts/rules`, '#rules-state');
  await waitText(page, '#rules-state', 'default rules');
  await page.click('#add-rule');
  const rule = 'fieldset.rule[data-index="0"]';
  await page.$eval(`${rule} [name=name]`, (el) => { el.value = 'prod errors'; });
  await page.$$eval(`${rule} [name=kind]`, (els) => els.forEach((c) => { c.checked = c.value !== 'escalating'; }));
  await page.select(`${rule} [name=level]`, 'error');
  await page.type(`${rule} [name=environments]`, 'production');
  await page.type(`${rule} [name=tags]`, 'tenant=acme');
  await page.type(`${rule} [name=freq_count]`, '10');
  await page.type(`${rule} [name=window]`, '60');
  await page.type(`${rule} [name=throttle]`, '30');
  await page.$$eval(`${rule} [name=dest]`, (els) => { els[els.length - 1].click(); });
  await page.click('#save-rules');
  await waitText(page, '#rules-state', '1 rule in force');
  const saved = await apiJson(page, 'GET', `/api/admin/projects/${pid}/alert_rules`);
  assert.equal(saved.default, false);
  const r0 = saved.rules[0];
  assert.equal(r0.name, 'prod errors');
  assert.deepEqual(r0.when.kinds, ['new', 'regression', 'frequency']);
  assert.equal(r0.when.level_at_least, 'error');
  assert.deepEqual(r0.when.environments, ['production']);
  assert.deepEqual(r0.when.tags, {tenant: 'acme'});
  assert.deepEqual(r0.when.frequency, {count: 10, window_minutes: 60});
  assert.equal(r0.throttle_minutes, 30);
  assert.equal(r0.destinations.length, 1);
  await settle(page);
  await axe(page, 'alert-rules');
  await shots(page, 'alert-rules');
  await page.click('#default-rules');
  await waitText(page, '#rules-state', 'default rules');
}

// In-app navigation (the same document: axe stays loaded), as a click would.
async function visit(page, name, p, ready) {
  await page.evaluate((to) => { history.pushState(null, '', to); dispatchEvent(new PopStateEvent('popstate')); }, p);
  await page.waitForSelector(ready);
  await settle(page);
  await axe(page, name);
  await shots(page, name);
}

// The bytes of an asset as sent gzip-compressed (raw, not decoded).
function gzipBytes(u) {
  return new Promise((resolve, reject) => {
    http.get(u, {headers: {'Accept-Encoding': 'gzip'}}, (res) => {
      let n = 0;
      res.on('data', (c) => { n += c.length; });
      res.on('end', () => (res.headers['content-encoding'] === 'gzip' ? resolve(n) : reject(new Error(`${u} not gzip`))));
    }).on('error', reject);
  });
}

function sendPython(kind) {
  return JSON.parse(execFileSync(cfg.python, [path.join(here, 'send_events.py'), cfg.dsn, kind], {encoding: 'utf8'})).sent;
}

async function apiAs(page, method, p, body) {
  return page.evaluate(async (m, u, b) => {
    const r = await fetch(u, {method: m, headers: {'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('periscope.csrf') || ''},
      body: b === null ? undefined : JSON.stringify(b)});
    return {status: r.status, body: await r.text()};
  }, method, p, body === undefined ? null : body);
}

const RULE = `local function tag(event, name)
  local tags = event.tags
  if type(tags) ~= "table" then return nil end
  if type(tags[name]) == "string" then return tags[name] end
  for _, pair in ipairs(tags) do
    if type(pair) == "table" and pair[1] == name then return pair[2] end
  end
end

return {
  fingerprint = function(event, default)
    local value = tag(event, "checkout")
    if value then return { "checkout-rule", value } end
    return default
  end,
}
`;

// From navigation start to the app's User Timing mark, set once the rows
// (or the event) are in the document: the Navigation Timing clock. Taken
// cfg.timing_runs times, each a fresh navigation; the median is reported,
// with where the time went in the last run (the shell's response end, each
// API request's start and duration).
async function measure(page, p, mark, runs) {
  const ms = [];
  let detail = null;
  for (let i = 0; i < runs; i++) {
    await page.goto(url(p), {waitUntil: 'domcontentloaded'});
    const h = await page.waitForFunction((n) => {
      const m = performance.getEntriesByName(n, 'mark')[0];
      return m ? m.startTime : 0;
    }, {}, mark);
    ms.push(Math.round(await h.jsonValue()));
    detail = await page.evaluate(() => ({
      shell_ms: Math.round(performance.getEntriesByType('navigation')[0].responseEnd),
      dom_content_loaded_ms: Math.round(performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd),
      api: performance.getEntriesByType('resource').filter((e) => e.name.includes('/api/'))
        .map((e) => `${e.name.replace(location.origin, '')} at ${Math.round(e.startTime)} took ${Math.round(e.duration)}`),
    }));
  }
  const sorted = [...ms].sort((a, b) => a - b);
  return {median_ms: sorted[Math.floor(sorted.length / 2)], min_ms: sorted[0], max_ms: sorted[sorted.length - 1], runs_ms: ms, last_run: detail};
}

async function timings(page, deepIssueId) {
  const runs = cfg.timing_runs || 5;
  step('timing: 100,000 issues, first 50 rows');
  await page.goto(url('/'), {waitUntil: 'networkidle0'}); // the app's files in the cache, as for a person using it
  const list = await measure(page, `/projects/${cfg.big_project_id}/issues`, 'periscope:issues-rendered', runs);
  results.timings.issues_100k_first_50_ms = list.median_ms;
  results.timings.issues_100k_first_50 = list;
  assert.equal(await count(page, '#issues tr.issue'), 50);
  const assets = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\/static\/.*\.(js|css)(\?|$)/.test(n)));
  results.js_css_bytes_compressed = 0;
  for (const a of assets) results.js_css_bytes_compressed += await gzipBytes(a);
  results.js_css_files = assets.length;
  assert.ok(assets.length >= 10, `${assets.length} assets`);

  step('timing: an event of 200 frames');
  const issue = await measure(page, `/projects/${cfg.project_id}/issues/${deepIssueId}`, 'periscope:issue-rendered', runs);
  results.timings.issue_200_frames_ms = issue.median_ms;
  results.timings.issue_200_frames = issue;
  results.frames = await count(page, '.frame');
  assert.ok(results.frames >= 200, `${results.frames} frames`);
  // The goal is 300 ms on an idle machine (reported by test_web.py); the
  // bound asserted here leaves room for a test machine busy with other
  // builds, and still catches a page that waits on something it should not.
  assert.ok(list.median_ms < cfg.timing_bound_ms, `issues page ${list.median_ms} ms`);
  assert.ok(issue.median_ms < cfg.timing_bound_ms, `issue page ${issue.median_ms} ms`);
  assert.ok(results.js_css_bytes_compressed > 0 && results.js_css_bytes_compressed <= 150 * 1024, `${results.js_css_bytes_compressed} bytes`);
}

// "backend" mode (test_web_postgres.py; web_timings.py for `make
// web-timings`): sign in, the issue list, the issue page of a 200-frame
// event through the given backend's store; with a big project, the timings.
async function backend(page) {
  const name = cfg.backend === 'postgres' ? 'pg' : cfg.backend;
  step(`${cfg.backend}: sign in`);
  await page.goto(url(`/projects/${cfg.project_id}/issues`), {waitUntil: 'domcontentloaded'});
  await signIn(page, cfg.admin, `/projects/${cfg.project_id}/issues`);
  step(`${cfg.backend}: issue list`);
  await page.waitForSelector('#issues tr.issue');
  const titles = await page.$$eval('#issues tr.issue .title', (els) => els.map((e) => e.textContent));
  assert.ok(titles.some((t) => t.includes('RecursionError')), titles.join(' | '));
  assert.ok(titles.some((t) => t.includes('ZeroDivisionError')), titles.join(' | '));
  await settle(page);
  await axe(page, `${name}-issues`);
  await page.screenshot({path: path.join(cfg.screenshots, `${name}-issues-1280-light.png`), optimizeForSpeed: true});
  results.screenshots++;
  step(`${cfg.backend}: issue page`);
  await page.goto(url(`/projects/${cfg.project_id}/issues/${cfg.deep_issue_id}`), {waitUntil: 'domcontentloaded'});
  await waitText(page, '.exc-type', 'RecursionError');
  await settle(page);
  await page.screenshot({path: path.join(cfg.screenshots, `${name}-issue-1280-light.png`), optimizeForSpeed: true});
  results.screenshots++;
  results.frames = await count(page, '.frame');
  assert.ok(results.frames >= 200, `${results.frames} frames`);
  if (cfg.big_project_id) await timings(page, cfg.deep_issue_id);
  assert.deepEqual(problems, [], 'console errors or CSP violations');
}

async function main() {
  fs.mkdirSync(cfg.screenshots, {recursive: true});
  const browser = await puppeteer.launch({executablePath: cfg.chromium, headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--password-store=basic']});
  try {
    const page = await newPage(browser);
    await page.setViewport({width: 1280, height: 900});
    if (cfg.mode === 'backend') return await backend(page);
    const pid = cfg.project_id;

    step('headers: CSP, nosniff, referrer policy on the shell and on a static file');
    await checkHeaders(page, '/');
    const css = await page.goto(url('/static/app.css'));
    assert.match(css.headers()['content-type'], /^text\/css/);
    assert.ok(css.headers().etag);
    assert.equal(css.headers()['x-content-type-options'], 'nosniff');

    step('a wrong password shows an error and no data');
    await page.goto(url('/'), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#login-form');
    await axe(page, 'login');
    await shots(page, 'login');
    await page.type('input[name=email]', cfg.admin.email);
    await page.type('input[name=password]', 'not-the-password-at-all');
    await page.click('#login-form button[type=submit]');
    await waitText(page, '.notice.error', 'Wrong email or password');
    assert.equal(new URL(page.url()).pathname, '/login');
    assert.equal(await count(page, '#projects, #issues'), 0);
    assert.equal((await apiAs(page, 'GET', '/api/admin/projects')).status, 401);

    step('the notification link opens the issue after sign-in');
    const link = new URL(cfg.notification_link);
    await checkHeaders(page, link.pathname);
    await page.waitForSelector('#login-form');
    assert.equal(new URL(page.url()).searchParams.get('next'), link.pathname);
    await page.$eval('input[name=email]', (el) => { el.value = ''; });
    await signIn(page, cfg.admin, link.pathname);
    await page.waitForSelector('#issue-title');
    assert.equal(new URL(page.url()).pathname, link.pathname);
    await waitText(page, '.exc-type', 'ZeroDivisionError');
    await waitText(page, '.exc-value', 'division by zero');
    const inApp = await page.$$eval('.frame.in-app .fn', (els) => els.map((e) => e.textContent));
    for (const fn of ['compute_total', 'checkout']) assert.ok(inApp.includes(fn), `in-app frame ${fn} in ${inApp}`);
    await waitText(page, '#breadcrumbs', 'button#pay');
    await waitText(page, '#user', 'ada@example.com');
    await waitText(page, '.context li.hit', 'subtotal / discount');
    await settle(page);
    await axe(page, 'issue');
    await shots(page, 'issue');

    step('resolve it');
    await page.click('#resolve');
    await waitText(page, '#issue-status', 'resolved');
    const resolved = JSON.parse((await apiAs(page, 'GET', `/api/admin/projects/${pid}/issues/${cfg.zero_issue_id}`)).body);
    assert.equal(resolved.status, 'resolved');

    step('the grouping tab shows components and hash');
    await page.goto(url(`${link.pathname}?tab=grouping`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#grouping-hash');
    assert.equal(await text(page, '#grouping-hash'), resolved.hash);
    await waitText(page, '.components', 'ZeroDivisionError');
    await settle(page);
    await axe(page, 'issue-grouping');
    await shots(page, 'issue-grouping');

    step('projects list with 24 h counts');
    await page.goto(url('/'), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#projects');
    await page.waitForFunction(() => [...document.querySelectorAll('#projects tbody tr')].every((r) => !r.children[1].textContent.includes('…')));
    const webRow = await page.$$eval('#projects tbody tr', (rows) => rows.map((r) => [r.children[0].textContent, r.children[1].textContent]));
    assert.ok(webRow.some(([n, c]) => n === cfg.project_name && Number(c) >= 4), JSON.stringify(webRow));
    await settle(page);
    await axe(page, 'projects');
    await shots(page, 'projects');

    step('issues list: see, ignore one, search, keyboard');
    await page.goto(url(`/projects/${pid}/issues`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#issues tr.issue');
    const titles = await page.$$eval('#issues tr.issue .title', (els) => els.map((e) => e.textContent));
    assert.ok(titles.some((t) => t.includes('KeyError')), titles.join(' | '));
    assert.ok(titles.some((t) => t.includes('TypeError')), `node SDK issue in ${titles.join(' | ')}`);
    assert.ok(!titles.some((t) => t.includes('ZeroDivisionError')), 'the resolved issue left the unresolved tab');
    assert.ok(await count(page, '#issues svg.sparkline') >= 1);
    await settle(page);
    await axe(page, 'issues');
    await shots(page, 'issues');
    await page.$$eval('#issues tr.issue', (rows) => rows.find((r) => r.textContent.includes('KeyError')).querySelector('input[type=checkbox]').click());
    await page.click('#bulk-ignore');
    await waitText(page, '.notice', '1 issue marked ignored');
    await page.waitForFunction(() => ![...document.querySelectorAll('#issues .title')].some((e) => e.textContent.includes('KeyError')));
    await clickText(page, '.seg a', 'Ignored');
    await waitText(page, '#issues .title', 'KeyError');
    await page.goto(url(`/projects/${pid}/issues?status=all`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#issues tr.issue');
    await page.type('input[name=query]', 'Disk almost');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => location.search.includes('query=Disk'));
    await page.waitForFunction(() => document.querySelectorAll('#issues tr.issue').length === 1);
    await waitText(page, '#issues .title', 'Disk almost full');
    await page.click('h1');
    await page.keyboard.press('j');
    await page.keyboard.press('Enter');
    await page.waitForSelector('#issue-title');
    await waitText(page, '#issue-title', 'Disk almost full');

    step('new issues appear without a reload');
    await page.goto(url(`/projects/${pid}/issues`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#issues tr.issue');
    const before = await count(page, '#issues tr.issue');
    sendPython('deep');
    await page.waitForFunction((n) => document.querySelectorAll('#issues tr.issue').length > n, {timeout: 20000}, before);
    await waitText(page, '.notice', 'new issue');
    const deep = JSON.parse((await apiAs(page, 'GET', `/api/admin/projects/${pid}/issues?status=all&query=RecursionError`)).body).data;
    assert.equal(deep.length, 1);
    const deepIssueId = deep[0].id;

    step('destination: add a webhook, test-send to the local receiver');
    await page.goto(url(`/projects/${pid}/destinations`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('form.dest-form');
    await page.select('select[name=type]', 'generic_webhook');
    await page.type('input[name=name]', 'local receiver');
    await page.type('input[name=webhook_url]', cfg.receiver_url);
    await page.click('form.dest-form button[type=submit]');
    await waitText(page, '#destinations', 'local receiver');
    await page.$$eval('#destinations tbody tr', (rows) => rows.find((r) => r.children[0].textContent === 'local receiver').querySelector('button.test').click());
    await page.waitForFunction(() => [...document.querySelectorAll('#destinations tbody tr')].some((r) => r.children[0].textContent === 'local receiver' && /sent|failed/.test(r.querySelector('.test-result').textContent)));
    const sentLine = await page.$$eval('#destinations tbody tr', (rows) => rows.find((r) => r.children[0].textContent === 'local receiver').querySelector('.test-result').textContent);
    assert.match(sentLine, /sent \(204\)/);
    await settle(page);
    await axe(page, 'destinations');
    await shots(page, 'destinations');

    step('rules: edit, dry run, save, send an event, see it grouped by the new rule');
    await page.goto(url(`/projects/${pid}/rules`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#script-source');
    await settle(page);
    await axe(page, 'rules');
    await page.$eval('#script-source', (el, src) => { el.value = src; el.dispatchEvent(new Event('input')); }, 'return {\n  filter = function(event)\n    return nil +\n  end,\n}\n');
    await page.click('#dry-run');
    await page.waitForSelector('.notice.error, #dry-run-result');
    await page.click('#save-script');
    await waitText(page, '#save-result', 'Line 4');
    assert.equal(await count(page, '.editor .gutter .err'), 1);
    await page.$eval('#script-source', (el, src) => { el.value = src; el.dispatchEvent(new Event('input')); }, RULE);
    await page.select('#dry-run-event', 'paste');
    await page.$eval('textarea[name=event_json]', (el) => {
      el.value = JSON.stringify({tags: {checkout: 'rules-test'}, exception: {values: [{type: 'ZeroDivisionError', value: 'division by zero'}]}});
    });
    await page.click('#dry-run');
    await waitText(page, '#dr-components', 'rules-test');
    await waitText(page, '#dr-issue', 'a new issue');
    await page.click('#save-script');
    await waitText(page, '#save-result', 'Saved as version 1');
    await waitText(page, '#versions', 'v1');
    await shots(page, 'rules');
    const ruleSent = sendPython('rule');
    assert.equal(ruleSent.length, 1);
    await page.goto(url(`/projects/${pid}/issues?status=all&query=ZeroDivisionError`), {waitUntil: 'domcontentloaded'});
    await page.waitForFunction(() => document.querySelectorAll('#issues tr.issue').length === 2, {timeout: 20000});
    const newest = await page.$eval('#issues tr.issue .title', (a) => a.getAttribute('href'));
    await page.goto(url(`${newest}?tab=grouping`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#grouping-hash');
    await waitText(page, '#grouping', 'project script version 1');
    await waitText(page, '.components', 'checkout-rule');
    await waitText(page, '.components', 'rules-test');

    step('alerts with their deliveries');
    await visit(page, 'alerts', `/projects/${pid}/alerts`, '#alerts');
    await waitText(page, '#alerts', 'local receiver');

    await triage(page, pid);

    step('settings: DSN, snippets, keys, rate limit');
    await visit(page, 'settings', `/projects/${pid}/settings`, '#dsn');
    assert.equal(await text(page, '#dsn'), cfg.dsn);
    await clickText(page, '[role=tab]', 'Go');
    await waitText(page, '#snippet', 'sentry.Init');
    assert.ok((await text(page, '#snippet')).includes(cfg.dsn));
    const keysBefore = await count(page, '#keys tbody tr');
    await page.click('#new-key');
    await page.waitForFunction((n) => document.querySelectorAll('#keys tbody tr').length === n + 1, {}, keysBefore);
    await page.$eval('input[name=rate_limit_per_minute]', (el) => { el.value = '600'; });
    await page.click('#project-general button[type=submit]');
    await page.waitForSelector('#project-general .notice');
    assert.equal(await text(page, '#project-general .notice'), 'Saved.');
    assert.equal(JSON.parse((await apiAs(page, 'GET', `/api/admin/projects/${pid}`)).body).rate_limit_per_minute, 600);

    step('account page');
    await visit(page, 'account', '/account', 'main h1');

    await timings(page, deepIssueId);
    await signOut(page);

    step('a viewer sees no edit controls and the API refuses their edits');
    await page.goto(url(`/projects/${pid}/issues/${deepIssueId}`), {waitUntil: 'domcontentloaded'});
    await signIn(page, cfg.viewer, `/projects/${pid}/issues/${deepIssueId}`);
    await page.waitForSelector('#issue-title');
    assert.equal(await count(page, '#resolve, #ignore, #reopen, #assign-me, #assign-menu, #ignore-menu, #resolve-menu'), 0);
    const refused = await apiAs(page, 'PATCH', `/api/admin/projects/${pid}/issues/${deepIssueId}`, {status: 'unresolved'});
    assert.equal(refused.status, 403, refused.body);
    await page.goto(url(`/projects/${pid}/rules`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#script-source');
    assert.equal(await count(page, '#save-script'), 0);
    assert.equal(await page.$eval('#script-source', (el) => el.readOnly), true);
    await page.goto(url(`/projects/${pid}/destinations`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('main h1');
    await settle(page);
    assert.equal(await count(page, 'form.dest-form, #destinations button'), 0);
    await page.goto(url(`/projects/${pid}/issues`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#issues');
    assert.equal(await count(page, '#bulk-resolve, #bulk-merge, #issues input[type=checkbox]'), 0);
    await page.goto(url(`/projects/${pid}/alerts/rules`), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#rules-state');
    assert.equal(await count(page, '#save-rules, #add-rule'), 0);
    await signOut(page);

    step('setup page (the first-run link, here already used)');
    await page.goto(url('/setup'), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#setup-form');
    await axe(page, 'setup');
    await shots(page, 'setup');

    assert.deepEqual(problems, [], 'console errors or CSP violations');
  } finally {
    await browser.close();
    console.error(`done at ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    console.log(JSON.stringify(results));
    console.error(`results: ${JSON.stringify(results)}`);
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  if (problems.length) console.error(`console problems:\n${problems.join('\n')}`);
  process.exit(1);
});
