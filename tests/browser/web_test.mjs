// The web interface in headless Chromium (Debian's /usr/bin/chromium,
// driven by puppeteer-core; no browser is downloaded). Started by
// tests/e2e/test_web.py, which runs the server, fills it with real SDK
// events and passes what it made in $WEB_TEST_CONFIG (a JSON file).
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
      await page.screenshot({path: path.join(cfg.screenshots, `${name}-${width}-${scheme}.png`), fullPage: width === 1280 && scheme === 'light'});
      results.screenshots++;
    }
  }
  await page.emulateMediaFeatures([{name: 'prefers-color-scheme', value: 'light'}]);
  await page.setViewport({width: 1280, height: 900});
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

async function main() {
  fs.mkdirSync(cfg.screenshots, {recursive: true});
  const browser = await puppeteer.launch({executablePath: cfg.chromium, headless: true,
    args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu', '--no-first-run', '--password-store=basic']});
  try {
    const page = await newPage(browser);
    await page.setViewport({width: 1280, height: 900});
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

    step('timing: 100,000 issues, first 50 rows');
    // From navigation start to the app's User Timing mark set once the rows
    // are in the document (the Navigation Timing clock).
    const markAt = (name) => page.waitForFunction((n) => {
      const m = performance.getEntriesByName(n, 'mark')[0];
      return m ? m.startTime : 0;
    }, {}, name).then((h) => h.jsonValue());
    await page.goto(url('/'), {waitUntil: 'networkidle0'});
    await page.goto(url(`/projects/${cfg.big_project_id}/issues`), {waitUntil: 'domcontentloaded'});
    results.timings.issues_100k_first_50_ms = Math.round(await markAt('periscope:issues-rendered'));
    assert.equal(await count(page, '#issues tr.issue'), 50);
    results.issues_page_requests = await page.evaluate(() => performance.getEntriesByType('resource')
      .map((e) => `${e.name.replace(location.origin, '')} ${Math.round(e.startTime)}+${Math.round(e.duration)}`));
    const assets = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name).filter((n) => /\/static\/.*\.(js|css)(\?|$)/.test(n)));
    results.js_css_bytes_compressed = 0;
    for (const a of assets) results.js_css_bytes_compressed += await gzipBytes(a);
    results.js_css_files = assets.length;
    assert.ok(assets.length >= 10, `${assets.length} assets`);

    step('timing: an event of 200 frames');
    await page.goto(url(`/projects/${pid}/issues/${deepIssueId}`), {waitUntil: 'domcontentloaded'});
    results.timings.issue_200_frames_ms = Math.round(await markAt('periscope:issue-rendered'));
    results.frames = await count(page, '.frame');
    assert.ok(results.frames >= 200, `${results.frames} frames`);
    // The goal is 300 ms on an idle machine (reported by test_web.py); the
    // bound asserted here leaves room for a test machine busy with other
    // builds, and still catches a page that waits on something it should not.
    assert.ok(results.timings.issues_100k_first_50_ms < cfg.timing_bound_ms, `issues page ${results.timings.issues_100k_first_50_ms} ms`);
    assert.ok(results.timings.issue_200_frames_ms < cfg.timing_bound_ms, `issue page ${results.timings.issue_200_frames_ms} ms`);
    assert.ok(results.js_css_bytes_compressed > 0 && results.js_css_bytes_compressed <= 150 * 1024, `${results.js_css_bytes_compressed} bytes`);
    await signOut(page);

    step('a viewer sees no edit controls and the API refuses their edits');
    await page.goto(url(`/projects/${pid}/issues/${cfg.zero_issue_id}`), {waitUntil: 'domcontentloaded'});
    await signIn(page, cfg.viewer, `/projects/${pid}/issues/${cfg.zero_issue_id}`);
    await page.waitForSelector('#issue-title');
    assert.equal(await count(page, '#resolve, #ignore, #reopen'), 0);
    const refused = await apiAs(page, 'PATCH', `/api/admin/projects/${pid}/issues/${cfg.zero_issue_id}`, {status: 'unresolved'});
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
    assert.equal(await count(page, '#bulk-resolve, #issues input[type=checkbox]'), 0);
    await signOut(page);

    step('setup page (the first-run link, here already used)');
    await page.goto(url('/setup'), {waitUntil: 'domcontentloaded'});
    await page.waitForSelector('#setup-form');
    await axe(page, 'setup');
    await shots(page, 'setup');

    assert.deepEqual(problems, [], 'console errors or CSP violations');
  } finally {
    await browser.close();
    console.log(JSON.stringify(results));
    console.error(`results: ${JSON.stringify(results)}`);
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  if (problems.length) console.error(`console problems:\n${problems.join('\n')}`);
  process.exit(1);
});
