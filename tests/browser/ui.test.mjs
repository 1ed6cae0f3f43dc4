// The web UI in headless Chromium against the real server: a job's whole life through the pages (form,
// validation, run, history, log, edit, delete), a run's log following live, and the screenshots in README.md.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { SCREENSHOTS, launchBrowser, screenshot, startGnomon } from './harness.mjs';

let server;
let browser;
let page;

// The README's pictures as they were before the tests, to check the tests leave them alone.
const DOCS_SCREENSHOTS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../docs/screenshots');
const PICTURES = ['new-job', 'job', 'jobs', 'run', 'overview', 'graph', 'jobs-phone'];
const digest = (file) => (fs.existsSync(file) ? crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') : null);
const docsBefore = Object.fromEntries(PICTURES.map((n) => [n, digest(path.join(DOCS_SCREENSHOTS, `${n}.png`))]));
const started = Date.now();

before(async () => {
  server = await startGnomon();
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function addJob(job) {
  const kind = job.parents ? 'dependency' : 'iso8601';
  const r = await server.api('POST', `/v1/scheduler/${kind}`, job);
  assert.equal(r.status, 204, JSON.stringify(r.body));
}

// A few jobs around the one the test makes, so the pages have something to show.
async function neighbours() {
  const owner = 'data@example.com';
  await addJob({ name: 'extract', command: 'echo extracting', schedule: 'R/2030-01-01T02:00:00/P1D',
    scheduleTimeZone: 'Europe/Paris', owner, description: 'Pull the day\'s orders' });
  await addJob({ name: 'transform', command: 'echo transforming', parents: ['extract'], owner });
  await addJob({ name: 'load', command: 'echo loading', parents: ['transform'], owner });
  await addJob({ name: 'backup', command: 'echo backup', schedule: '0 3 * * *', owner: 'ops@example.com' });
  await addJob({ name: 'flaky', command: 'echo broken >&2; exit 3', schedule: 'R/2030-01-01T00:00:00Z/PT1H',
    retries: 0, owner: 'ops@example.com' });
  await addJob({ name: 'archive', command: 'true', schedule: '@weekly', disabled: true, owner: 'ops@example.com' });
  for (const name of ['extract', 'flaky']) assert.equal((await server.api('PUT', `/v1/scheduler/job/${name}`)).status, 204);
}

const field = (key) => page.locator(`[data-field="${key}"]`);
const text = (locator, pattern) => locator.filter({ hasText: pattern }).first().waitFor();

test('a job from the form to its deletion, watched live', async () => {
  await neighbours();
  await page.goto(`${server.url}/ui/new`);
  await page.getByRole('heading', { name: 'New job' }).waitFor();
  await page.getByLabel('Name', { exact: true }).fill('report');
  await page.getByLabel('Description').fill('The daily report');
  await page.getByLabel('Owner', { exact: true }).fill('me@example.com');
  const gate = path.join(server.root, 'report-gate');
  await page.getByLabel('Command', { exact: true }).fill(`echo "report for"; while [ ! -e ${gate} ]; do sleep 0.05; done; echo done >&2`);

  // A bad schedule: the API's message stands next to the schedule field.
  await page.getByLabel('Schedule', { exact: true }).fill('every tuesday');
  await page.getByRole('button', { name: 'Create job' }).click();
  const error = field('schedule').locator('.error');
  await text(error, /^schedule: .*'every tuesday'/);
  assert.equal(await page.getByLabel('Schedule', { exact: true }).getAttribute('aria-invalid'), 'true');

  // The schedule helper previews the next fire times as one types.
  await page.getByLabel('Schedule', { exact: true }).fill('R/2030-01-01T09:00:00/P1D');
  await error.waitFor({ state: 'hidden' });
  await page.getByLabel('Time zone').fill('Europe/Paris');
  const preview = page.getByRole('region', { name: 'Next fire times' });
  await text(preview.getByRole('listitem').nth(4), /5 Jan 2030, 09:00:00/);
  assert.equal(await preview.locator('time').first().getAttribute('title'), '2030-01-01 08:00:00 UTC');
  await screenshot(page, 'new-job');
  await page.getByRole('button', { name: 'Create job' }).click();

  // The job's page; a run started from it shows up and ends there, told by the event stream.
  await page.getByRole('heading', { name: 'report', level: 1 }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/ui/jobs/report');
  await page.getByRole('button', { name: 'Run now…' }).click();
  await page.getByLabel('Arguments').fill('Monday');
  await page.getByRole('button', { name: 'Start run' }).click();
  const history = page.getByRole('table', { name: 'Runs of report' });
  await text(history.getByRole('row'), /running.*manual/);
  await text(page.getByLabel('Status'), /running/);
  fs.writeFileSync(gate, '');
  await text(history.getByRole('row'), /succeeded/);
  await text(page.getByLabel('Status'), /idle.*success/);
  await page.getByRole('button', { name: 'Run now…' }).click();
  await page.getByRole('button', { name: 'Start run' }).click();
  await history.getByRole('row').filter({ hasText: /succeeded/ }).nth(1).waitFor();
  await page.locator('svg.chart circle').nth(1).waitFor();
  await screenshot(page, 'job');

  // Its history leads to a run and its log.
  await history.locator('.run-name > a').last().click();
  await page.getByRole('heading', { name: /^report \d{1,2} [A-Z][a-z]{2}, \d\d:\d\d:\d\d · try 1 of 3/ }).waitFor();
  // The arguments are appended to the command: the last echo prints them.
  const log = page.getByRole('log', { name: 'Output' });
  await text(log.locator('.line.l-stdout'), 'report for');
  await text(log.locator('.line.l-stderr'), 'done Monday');
  await text(page.locator('.facts'), /succeeded/);
  await page.goBack();
  await page.getByRole('heading', { name: 'report', level: 1 }).waitFor();

  // Edit it.
  await page.getByRole('link', { name: 'Edit' }).click();
  await page.getByRole('heading', { name: 'Edit report' }).waitFor();
  assert.equal(await page.getByLabel('Time zone').inputValue(), 'Europe/Paris');
  await page.getByLabel('Command', { exact: true }).fill('echo edited');
  await page.locator('summary', { hasText: 'Retries and limits' }).click();
  await page.getByLabel('Retries', { exact: true }).fill('5');
  await page.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('heading', { name: 'report', level: 1 }).waitFor();
  await text(page.locator('.facts'), 'echo edited');
  const stored = (await server.api('GET', '/v1/scheduler/job/report')).body;
  assert.equal(stored.retries, 5);
  assert.equal(stored.description, 'The daily report');
  assert.equal(stored.successCount, 2, 'the counters survive an edit');

  // Disable and enable.
  await page.getByRole('button', { name: 'Disable' }).click();
  await text(page.getByLabel('Status'), 'disabled');
  await page.getByRole('button', { name: 'Enable' }).click();
  await page.getByRole('button', { name: 'Disable' }).waitFor();

  // The jobs page finds it.
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Jobs' }).click();
  await page.getByRole('table', { name: 'Jobs' }).getByRole('link', { name: 'report' }).waitFor();
  await screenshot(page, 'jobs');
  await page.getByLabel('Search').fill('daily rep');
  await text(page.getByRole('status').filter({ hasText: 'jobs' }), '1–1 of 1 jobs');

  // Delete it, after confirming.
  await page.getByRole('link', { name: 'report' }).click();
  await page.getByRole('button', { name: 'Delete…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete report?' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.equal((await server.api('GET', '/v1/scheduler/job/report')).status, 200);
  await page.getByRole('button', { name: 'Delete…' }).click();
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('heading', { name: 'Jobs', level: 1 }).waitFor();
  assert.equal((await server.api('GET', '/v1/scheduler/job/report')).status, 404);
  assert.deepEqual(browser.errors, []);
});

test("a run's log follows live while it runs", async () => {
  const gate = path.join(server.root, 'slow-gate');
  await addJob({ name: 'slow', command: `echo first line; while [ ! -e ${gate} ]; do sleep 0.05; done; echo second line`,
    schedule: 'R/2030-01-01T00:00:00Z/P1D' });
  await page.goto(`${server.url}/ui/jobs/slow`);
  await page.getByRole('button', { name: 'Run now…' }).click();
  await page.getByRole('button', { name: 'Start run' }).click();
  const history = page.getByRole('table', { name: 'Runs of slow' });
  await text(history.getByRole('row'), /running/);
  await history.locator('.run-name > a').first().click();
  const log = page.getByRole('log', { name: 'Output' });
  await text(log.locator('.line'), 'first line');
  await text(page.locator('.facts'), /running/);
  await text(page.locator('.log-counts'), 'stdout: 11 bytes (following)');
  await screenshot(page, 'run');
  fs.writeFileSync(gate, '');
  await log.locator('.line').filter({ hasText: 'second line' }).waitFor();
  assert.deepEqual(await log.locator('.line').allTextContents(), ['first line', 'second line']);
  await text(page.locator('.log-counts'), /^stdout: 23 bytes · stderr: 0 bytes$/);
  await text(page.locator('.facts'), /succeeded/);
  assert.deepEqual(browser.errors, []);
});

test('the jobs table follows runs without fetching the list again', async () => {
  const listings = [];
  const count = (req) => { if (new URL(req.url()).pathname === '/api/v1/jobs') listings.push(req.url()); };
  page.on('request', count);
  await page.goto(`${server.url}/ui/jobs?sort=name`);
  const row = page.locator('tr[data-job="backup"]');
  await text(row, /fresh/);
  for (let i = 1; i <= 3; i++) {
    assert.equal((await server.api('PUT', '/v1/scheduler/job/backup')).status, 204);
    await text(row.locator('td.col-success'), String(i));
  }
  await text(row, /success/);
  page.off('request', count);
  assert.equal(listings.length, 1, `the list was fetched ${listings.length} times: ${listings}`);
});

test('overview and graph', async () => {
  await page.goto(`${server.url}/ui/`);
  const cards = page.getByRole('list', { name: 'Jobs by state' });
  await cards.getByRole('link', { name: '7 Jobs' }).waitFor();
  await page.getByRole('table', { name: 'Recent failures' }).getByRole('link', { name: 'flaky', exact: true }).waitFor();
  await page.getByRole('table', { name: 'Upcoming runs' }).getByRole('link', { name: 'backup', exact: true }).waitFor();
  await screenshot(page, 'overview');

  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Graph' }).click();
  const graph = page.getByRole('group', { name: 'Dependency graph' });
  await graph.getByRole('link', { name: /^transform \(/ }).waitFor();
  await screenshot(page, 'graph');
  await graph.getByRole('link', { name: /^transform \(/ }).click();
  await page.getByRole('heading', { name: 'transform', level: 1 }).waitFor();
  await text(page.locator('.facts'), 'after extract');

  assert.equal(new URL(page.url()).pathname, '/ui/jobs/transform');
  assert.deepEqual(browser.errors, []);
});

test('the agents page: the embedded agent drained and back; a run names its agent', async () => {
  const embedded = (await server.api('GET', '/api/v1/agents/embedded')).body;
  await page.goto(`${server.url}/ui/`);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Agents' }).click();
  await page.getByRole('heading', { name: 'Agents', level: 1 }).waitFor();
  const state = page.getByRole('table', { name: 'Agents' }).locator(`tr[data-agent="${embedded.name}"] .agent-state`);
  await text(state, 'up');
  await page.getByRole('button', { name: `Drain ${embedded.name}` }).click();
  await text(state, 'draining');
  assert.equal((await server.api('GET', '/api/v1/agents/embedded')).body.state, 'draining');
  await screenshot(page, 'agents');
  await page.getByRole('button', { name: `Undrain ${embedded.name}` }).click();
  await text(state, 'up');
  assert.equal((await server.api('GET', '/api/v1/agents/embedded')).body.state, 'up');

  // A run records the agent it ran on; its page and its job's run list name it.
  await addJob({ name: 'where', command: 'true', schedule: 'R/2030-01-01T00:00:00Z/PT1H', owner: 'ops@example.com' });
  assert.equal((await server.api('PUT', '/v1/scheduler/job/where')).status, 204);
  let run;
  for (let i = 0; i < 100 && !(run && run.status === 'succeeded'); i++) {
    await new Promise((r) => setTimeout(r, 100));
    [run] = (await server.api('GET', '/api/v1/jobs/where/runs')).body.runs;
  }
  assert.equal(run.agent, embedded.name);
  await page.goto(`${server.url}/ui/runs/${encodeURIComponent(run.taskId)}`);
  await text(page.locator('.facts .run-agent'), embedded.name);
  await page.goto(`${server.url}/ui/jobs/where`);
  await text(page.getByRole('table', { name: 'Runs of where' }).getByRole('row'), embedded.name);
});

test('readable at phone width', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(`${server.url}/ui/jobs`);
  await page.getByRole('table', { name: 'Jobs' }).getByRole('link', { name: 'extract' }).first().waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
  assert.ok(overflow <= 0, `the page is ${overflow}px wider than the phone`);
  await screenshot(page, 'jobs-phone');
});

test('screenshots go to GNOMON_SCREENSHOTS, not into the README\'s pictures', () => {
  const wanted = process.env.GNOMON_SCREENSHOTS;
  if (wanted) assert.equal(path.resolve(SCREENSHOTS), path.resolve(wanted));
  for (const name of PICTURES) {
    const file = path.join(SCREENSHOTS, `${name}.png`);
    assert.ok(fs.existsSync(file), `${file} was not written`);
    assert.ok(fs.statSync(file).mtimeMs >= started - 1000, `${file} is older than this run`);
  }
  if (path.resolve(SCREENSHOTS) === DOCS_SCREENSHOTS) return; // make screenshots
  for (const name of PICTURES) {
    assert.equal(digest(path.join(DOCS_SCREENSHOTS, `${name}.png`)), docsBefore[name],
      `docs/screenshots/${name}.png changed: tests must leave the source tree as it was`);
  }
});
