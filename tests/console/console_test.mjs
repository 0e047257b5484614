// Browser test of cfgd's console (/ui): a real cfgd with named tokens,
// driven through Debian's chromium by playwright-core. It signs in, toggles
// a flag with a reason, sees a refused write's every reason, opens a diff,
// rolls back and sees another client's change arrive live, without reload.
//
// usage: node console_test.mjs CFGD SOURCE_DIR WORK_DIR
// playwright-core is installed with `npm ci` into WORK_DIR (a build
// directory): nothing is downloaded at runtime but the locked package. A
// missing node, npm or chromium fails the test; it never skips.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const CHROMIUM = '/usr/bin/chromium';
const WAIT_MS = 10000;
// Without these, chromium waits on the (closed) network at startup.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync'];

const [cfgd, sourceDir, workDir] = process.argv.slice(2).map((a) => path.resolve(a));
if (!cfgd || !sourceDir || !workDir) {
  console.error('usage: node console_test.mjs CFGD SOURCE_DIR WORK_DIR');
  process.exit(2);
}

let passed = 0;
let failed = 0;
const notes = [];

function check(name, ok, detail) {
  if (ok) {
    passed++;
    console.log(`ok - ${name}`);
  } else {
    failed++;
    console.log(`FAIL - ${name}: ${typeof detail === 'string' ? detail : JSON.stringify(detail)}`);
  }
  return ok;
}

// ---- setup: playwright-core and chromium -----------------------------------

function installPlaywright() {
  fs.mkdirSync(workDir, { recursive: true });
  for (const f of ['package.json', 'package-lock.json']) {
    fs.copyFileSync(path.join(sourceDir, f), path.join(workDir, f));
  }
  execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--prefer-offline'],
    { cwd: workDir, stdio: ['ignore', 'inherit', 'inherit'], timeout: 120000 });
  return createRequire(path.join(workDir, 'package.json'))('playwright-core');
}

// ---- cfgd ---------------------------------------------------------------------

const token = () => randomBytes(20).toString('hex');

/// Starts cfgd; resolves to {url, proc} once it printed its listening line.
function startCfgd(dir, args) {
  return new Promise((resolve, reject) => {
    const stderr = fs.openSync(path.join(dir, `cfgd-${Date.now()}.stderr`), 'w');
    const proc = spawn(cfgd, args, { stdio: ['ignore', 'pipe', stderr] });
    let out = '';
    const timer = setTimeout(() => { proc.kill('SIGKILL'); reject(new Error('cfgd did not start: ' + out)); }, 30000);
    proc.stdout.on('data', (chunk) => {
      out += chunk;
      const m = /cfgd listening on (http:\/\/[\d.]+:\d+)/.exec(out);
      if (m) { clearTimeout(timer); resolve({ url: m[1], proc }); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`cfgd exited ${code}: ${out}`)); });
  });
}

async function api(url, method, p, tok, body, headers) {
  const h = Object.assign({}, headers || {});
  if (tok) h.Authorization = 'Bearer ' + tok;
  const init = { method, headers: h };
  if (body !== undefined) { h['Content-Type'] = 'application/json'; init.body = JSON.stringify(body); }
  const res = await fetch(url + p, init);
  const text = await res.text();
  let data = null;
  try { data = JSON.parse(text); } catch (e) { data = null; }
  return { status: res.status, data, text };
}

// ---- page helpers -------------------------------------------------------------

/// Waits until `fn(arg)`, run in the page, is true. Playwright's own
/// waitForFunction evaluates a string in the page, which the console's CSP
/// (rightly) forbids: page.evaluate goes through the debugger protocol.
async function until(page, fn, arg) {
  const end = Date.now() + WAIT_MS;
  for (;;) {
    if (await page.evaluate(fn, arg)) return;
    if (Date.now() > end) throw new Error('timed out waiting for ' + String(fn));
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function signIn(page, tok) {
  await page.fill('#token', tok);
  await page.click('#signin-button');
  await until(page, () => document.getElementById('who').textContent.startsWith('signed in'));
}

async function signOut(page) {
  await page.click('#signout');
  await page.waitForSelector('#signin-button', { state: 'visible', timeout: WAIT_MS });
}

async function giveReason(page, reason) {
  await page.waitForSelector('#reason-dialog[open]', { timeout: WAIT_MS });
  await page.fill('#reason', reason);
  await page.click('#reason-ok');
}

/// The notice shown: {kind, title, details[]} once it is visible.
async function noticeOf(page, kind) {
  await page.waitForSelector(`#notice.${kind}:not([hidden])`, { timeout: WAIT_MS });
  return page.evaluate(() => ({
    title: document.getElementById('notice-title').textContent,
    details: [...document.querySelectorAll('#notice-details li')].map((li) => li.textContent),
  }));
}

async function dismiss(page) {
  if (await page.isVisible('#notice')) await page.click('#notice-close');
}

async function tab(page, name) {
  await page.click(`#tabs button[data-view="${name}"]`);
  await page.waitForSelector(`#view-${name}:not([hidden])`, { timeout: WAIT_MS });
}

// ---- the test -----------------------------------------------------------------

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfgd-console-browser-'));
  const daemons = [];
  let context = null;
  try {
    check('chromium is installed at ' + CHROMIUM, fs.existsSync(CHROMIUM), 'apt-get install chromium (scripts/dev deps)');
    const { chromium } = installPlaywright();

    const alice = token();
    const viewer = token();
    const tokens = path.join(dir, 'tokens');
    fs.writeFileSync(tokens, `alice:write:${alice}\nviewer:read:${viewer}\n`, { mode: 0o600 });
    // The embedded example config and schema: flags new_algorithm, beta_ui,
    // enhanced_monitoring; buffer_size 100..100000.
    const d = await startCfgd(dir, ['--http', '127.0.0.1:0', '--token-file', tokens]);
    daemons.push(d.proc);
    const url = d.url;
    const gradual = { enabled: true, rollout: 25, rules: [{ attribute: 'country', op: 'in', values: ['de', 'fr'], enabled: true }] };
    const created = await api(url, 'POST', '/features/gradual?create=true', alice, gradual);
    check('a flag with a rollout and a rule is created through the API', created.status === 200, created.text);

    context = await chromium.launchPersistentContext(path.join(dir, 'profile'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    });
    const page = context.pages()[0] || await context.newPage();
    const problems = [];
    // Refused requests (403, 422, the absent OFREP's 404) are logged by
    // chromium as failed loads: expected. A CSP violation or a script error
    // is not.
    page.on('console', (msg) => {
      if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) problems.push(msg.text());
    });
    const missing = [];
    page.on('response', (res) => {
      if (res.status() === 404 && new URL(res.url()).pathname.startsWith('/ui')) missing.push(res.url());
    });
    page.on('pageerror', (err) => problems.push(String(err)));

    // Open reads: everything shows before signing in, read-only.
    await page.goto(url + '/ui');
    check('/ui lands on /ui/', page.url() === url + '/ui/', page.url());
    await page.waitForSelector('#flags tr[data-flag="beta_ui"]', { timeout: WAIT_MS });
    const flags = await page.$$eval('#flags tbody tr', (rows) => rows.map((r) => r.dataset.flag));
    check('the Flags view lists every flag under features', JSON.stringify(flags) === JSON.stringify(['beta_ui', 'enhanced_monitoring', 'gradual', 'new_algorithm']), flags);
    const gradualRow = await page.$$eval('#flags tr[data-flag="gradual"] td', (tds) => tds.map((t) => t.textContent));
    check('a flag shows its state, rollout and rules summary', gradualRow[1] === 'on' && gradualRow[2] === '25%' && gradualRow[3] === 'country in [de, fr] \u2192 on', gradualRow);
    check('signed out, the page is read-only (no toggle shown)', !(await page.isVisible('#flags tr[data-flag="beta_ui"] button.toggle')), 'toggle visible');
    check('signed out, it says so', (await page.textContent('#who')).includes('read-only'), await page.textContent('#who'));
    await until(page, () => document.getElementById('live').textContent === 'live');
    check('the live indicator says live (WebSocket open)', true);
    await page.evaluate(() => { window.__same_page = 1; });

    // A read-only token: the toggle is refused, and the page says why.
    await signIn(page, viewer);
    check('a read token signs in as read-only', (await page.textContent('#who')).includes('read-only'), await page.textContent('#who'));
    check('the token stays in sessionStorage only', await page.evaluate((t) => sessionStorage.getItem('cfgd.console.token') === t && localStorage.length === 0, viewer), 'storage');
    await page.click('#flags tr[data-flag="beta_ui"] button.toggle');
    await giveReason(page, 'read-only attempt');
    let n = await noticeOf(page, 'error');
    check('a toggle with a read token shows a clear 403 sign-in message', n.title.includes('403') && n.title.includes('sign in'), n);
    check('... and the reason cfgd gives', n.details.some((x) => x.includes('no write scope')), n);
    await dismiss(page);
    await signOut(page);
    check('sign out forgets the token', await page.evaluate(() => sessionStorage.getItem('cfgd.console.token') === null), 'token kept');

    // A writer toggles a flag with a reason.
    await signIn(page, alice);
    check('a write token signs in as a writer', (await page.textContent('#who')).includes('may write'), await page.textContent('#who'));
    const before = (await api(url, 'GET', '/config')).data;
    await page.click('#flags tr[data-flag="beta_ui"] button.toggle');
    const reason = 'console test: open beta to staff';
    await giveReason(page, reason);
    n = await noticeOf(page, 'ok');
    const flipVersion = Number(/version (\d+) committed/.exec(n.title)?.[1]);
    check('the toggle commits a new version', flipVersion > 0, n);
    await page.waitForSelector('#flags tr[data-flag="beta_ui"] td.state.on', { timeout: WAIT_MS });
    check('the flag shows as on', true);
    const after = (await api(url, 'GET', '/config')).data;
    check('GET /config shows the flag changed', before.features.beta_ui === false && after.features.beta_ui === true, after.features);
    const history = (await api(url, 'GET', '/history')).data;
    const newest = history[0];
    check('GET /history has the new version first', newest.version === flipVersion, newest);
    check('... made by the named token', newest.origin === 'api:alice', newest);
    check('... with the token\'s name as author', newest.author === 'alice', newest);
    check('... and the reason given in the page', newest.reason === reason, newest);
    await tab(page, 'history');
    await page.waitForSelector(`#history tr[data-version="${flipVersion}"]`, { timeout: WAIT_MS });
    const row = await page.$$eval(`#history tr[data-version="${flipVersion}"] td`, (cells) => cells.map((c) => c.textContent));
    check('the History view shows the author and the reason', row.includes('alice') && row.includes(reason), row);
    await tab(page, 'flags');
    const byCell = await page.textContent('#flags tr[data-flag="beta_ui"] td.by');
    check('the Flags view says who changed the flag last', byCell.includes('alice'), byCell);
    const changedCell = await page.textContent('#flags tr[data-flag="beta_ui"] td.changed');
    check('... and in which version', changedCell.startsWith('v' + flipVersion), changedCell);
    await dismiss(page);

    // A write the schema refuses: every reason shows.
    await tab(page, 'config');
    await page.waitForSelector('#config tr[data-path="features.new_algorithm"]', { timeout: WAIT_MS });
    const layerCell = await page.textContent('#config tr[data-path="buffer_size"] td.layer');
    check('the Config view names the layer that set a value', layerCell === 'defaults:embedded' || layerCell.startsWith('defaults'), layerCell);
    const betaLayer = await page.textContent('#config tr[data-path="features.beta_ui"] td.layer');
    const betaShadows = await page.textContent('#config tr[data-path="features.beta_ui"] td.shadows');
    check('a value written at runtime is set by the runtime layer', betaLayer === 'runtime', betaLayer);
    check('... and shadows the default', betaShadows.startsWith('defaults') && betaShadows.includes('false'), betaShadows);
    const bad = { enabled: 'yes', rollout: 500 };
    await page.click('#config tr[data-path="features.new_algorithm"] button.edit');
    await page.fill('#config tr[data-path="features.new_algorithm"] input.edit-value', JSON.stringify(bad));
    await page.click('#config tr[data-path="features.new_algorithm"] button.save');
    await giveReason(page, 'a rollout too far');
    n = await noticeOf(page, 'error');
    const refused = await api(url, 'PUT', '/config/features.new_algorithm', alice, bad);
    check('the API refuses that value with 422 and several reasons', refused.status === 422 && refused.data.details.length >= 2, refused.text);
    check('the page shows the 422', n.title.includes('422'), n);
    check('the page shows every reason cfgd gave', JSON.stringify(n.details) === JSON.stringify(refused.data.details), { page: n.details, api: refused.data.details });
    await dismiss(page);

    // History: a diff, then a rollback to before the flag flip.
    await tab(page, 'history');
    await page.waitForSelector(`#history tr[data-version="${flipVersion}"]`, { timeout: WAIT_MS });
    await page.click(`#history tr[data-version="${flipVersion}"] button.diff`);
    await page.waitForSelector('#diff-table tr[data-path="features.beta_ui"]', { timeout: WAIT_MS });
    const diffRow = await page.$$eval('#diff-table tr[data-path="features.beta_ui"] td', (tds) => tds.map((t) => t.textContent));
    check('the diff shows the flag going from false to true', JSON.stringify(diffRow) === JSON.stringify(['features.beta_ui', 'false', 'true']), diffRow);
    await page.click(`#history tr[data-version="${flipVersion - 1}"] button.rollback`);
    await giveReason(page, 'roll back the beta');
    n = await noticeOf(page, 'ok');
    const rollbackVersion = Number(/version (\d+) committed/.exec(n.title)?.[1]);
    check('the rollback commits a new version', rollbackVersion > flipVersion, n);
    const rolled = (await api(url, 'GET', '/config')).data;
    check('GET /config shows the flag back to off', rolled.features.beta_ui === false, rolled.features);
    await page.waitForSelector(`#history tr[data-version="${rollbackVersion}"]`, { timeout: WAIT_MS });
    check('the History view lists the rollback', true);
    await dismiss(page);

    // Another client's change appears live, without reload.
    const hostile = '<img src=x onerror="window.__xss=1">';
    const other = await api(url, 'PUT', '/config/note', alice, hostile, { 'X-Change-Reason': 'second client' });
    check('a second client writes through the API', other.status === 200, other.text);
    await page.waitForSelector(`#history tr[data-version="${other.data.version}"]`, { timeout: WAIT_MS });
    check('its version appears in the History view without reload', await page.evaluate(() => window.__same_page === 1), 'the page reloaded');
    await tab(page, 'config');
    await page.waitForSelector('#config tr[data-path="note"]', { timeout: WAIT_MS });
    const noteCell = await page.textContent('#config tr[data-path="note"] td.value');
    check('config text is shown as text, never as markup', noteCell === hostile && await page.evaluate(() => window.__xss === undefined && document.querySelectorAll('main img').length === 0), noteCell);
    const live2 = await api(url, 'PUT', '/config/buffer_size', alice, 4096);
    await until(page, () => document.querySelector('#config tr[data-path="buffer_size"] td.value')?.textContent === '4096');
    check('a second change shows live in the Config view too', live2.status === 200 && await page.evaluate(() => window.__same_page === 1), live2.text);

    // Nodes and the charts.
    await tab(page, 'nodes');
    await page.waitForSelector('#nodes tbody tr', { timeout: WAIT_MS });
    const node = await page.$$eval('#nodes tbody tr td', (tds) => tds.map((t) => t.textContent));
    check('the Nodes view shows the primary', node[1] === 'primary' && node[5] === 'no', node);
    await until(page, () => document.querySelectorAll('#chart-commits polyline').length === 1
      && /\d/.test(document.getElementById('chart-commits-now').textContent));
    check('the commit-rate sparkline draws from /metrics', true);

    // Playground: OFREP if this cfgd has it, else a plain "not available".
    await tab(page, 'playground');
    await page.click('#evaluate');
    await until(page, () => document.getElementById('playground-status').textContent !== '');
    const ofrep = await api(url, 'POST', '/ofrep/v1/evaluate/flags', alice, { context: { targetingKey: 'user-1', country: 'de' } });
    const status = await page.textContent('#playground-status');
    check('cfgd answers the OFREP bulk evaluation', ofrep.status === 200, ofrep.text);
    {
      const shown = await page.$$eval('#evaluation tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
      const flags = ofrep.data.flags || [];
      const agree = flags.length > 0 && shown.length === flags.length && flags.every((f) => {
        const row = shown.find((r) => r[0] === f.key);
        if (!row) return false;
        if (f.errorCode) return row[3].startsWith(f.errorCode);
        return row[3] === f.reason && row[2] === (f.variant || '')
          && (typeof f.value !== 'boolean' || row[1] === String(f.value));
      });
      check('the playground shows what OFREP answers for its context, flag by flag', agree, { shown, ofrep: ofrep.text });
      const gradual = shown.find((r) => r[0] === 'gradual');
      check('... among them the rule match of gradual (country in [de, fr])', gradual && gradual[3] === 'TARGETING_MATCH', shown);
    }
    {
      // Rendering: an answer holding markup shows as text (a stub in the
      // browser only; cfgd is not changed), and the form sends its rows.
      let sent = null;
      await page.route('**/ofrep/v1/evaluate/flags', (route) => {
        sent = route.request().postDataJSON();
        route.fulfill({
          status: 200, contentType: 'application/json',
          body: JSON.stringify({ flags: [
            { key: 'beta_ui', value: true, reason: 'TARGETING_MATCH', variant: 'on', metadata: {} },
            { key: '<b>x</b>', errorCode: 'PARSE_ERROR', errorDetails: '<i>bad</i>' }] }),
        });
      });
      await page.fill('#context-rows tbody tr:first-child input.ctx-value', 'fr');
      await page.click('#add-row');
      await page.fill('#context-rows tbody tr:last-child input.ctx-key', 'age');
      await page.fill('#context-rows tbody tr:last-child input.ctx-value', '42');
      await page.fill('#targeting-key', 'u1');
      await page.click('#evaluate');
      await page.waitForSelector('#evaluation tr[data-flag="<b>x</b>"]', { timeout: WAIT_MS });
      const cells = await page.$$eval('#evaluation tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent)));
      check('the playground sends the context rows and targetingKey',
        JSON.stringify(sent) === JSON.stringify({ context: { targetingKey: 'u1', country: 'fr', age: 42 } }), sent);
      check('the playground shows value, variant, reason and errors as text',
        JSON.stringify(cells) === JSON.stringify([['beta_ui', 'true', 'on', 'TARGETING_MATCH'], ['<b>x</b>', '', '', 'PARSE_ERROR: <i>bad</i>']])
        && await page.evaluate(() => document.querySelectorAll('#evaluation b, #evaluation i').length === 0), cells);
      await page.unroute('**/ofrep/v1/evaluate/flags');
    }

    check('no script error and no CSP violation in the page', problems.length === 0, problems);
    check('every file the page loads under /ui exists', missing.length === 0, missing);
    await context.close();
    context = null;

    // Reads that need a token: nothing shows before signing in; the page
    // falls back from the WebSocket (a browser cannot send a token on it) to
    // polling /healthz.
    const reader = token();
    const readTokens = path.join(dir, 'read-tokens');
    fs.writeFileSync(readTokens, `reader:read:${reader}\n`, { mode: 0o600 });
    const d2 = await startCfgd(dir, ['--http', '127.0.0.1:0', '--token-file', tokens, '--read-token-file', readTokens]);
    daemons.push(d2.proc);
    context = await chromium.launchPersistentContext(path.join(dir, 'profile2'), {
      executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS,
    });
    const page2 = context.pages()[0] || await context.newPage();
    await page2.goto(d2.url + '/ui/');
    await until(page2, () => document.getElementById('who').textContent.includes('sign in'));
    check('where reads need a token, the page asks to sign in and shows no flag', (await page2.$$('#flags tbody tr')).length === 0, 'rows shown');
    await signIn(page2, reader);
    await page2.waitForSelector('#flags tr[data-flag="beta_ui"]', { timeout: WAIT_MS });
    check('after signing in with a read token the flags show', true);
    await until(page2, () => document.getElementById('live').textContent === 'polling');
    const change = await api(d2.url, 'POST', '/features/new_algorithm', alice, { enabled: true });
    await page2.waitForSelector('#flags tr[data-flag="new_algorithm"] td.state.on', { timeout: WAIT_MS });
    check('changes still arrive by polling', change.status === 200, change.text);
  } catch (e) {
    check('the test runs to its end', false, String(e && e.stack || e));
  } finally {
    if (context) await context.close().catch(() => {});
    for (const p of daemons) p.kill('SIGTERM');
    fs.rmSync(dir, { recursive: true, force: true });
  }
  for (const note of notes) console.log('note - ' + note);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed === 0 && passed > 0 ? 0 : 1);
}

main();
