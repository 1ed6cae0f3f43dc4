// The audit trail in the web UI (README, "Audit") in headless Chromium against a real server with
// --http-credentials: an admin (the Basic credentials) sees the Audit link, the page lists the changes with who
// made them and what changed between before and after (a command's old value struck out, its new one inserted),
// filters by job; the job page shows that job's recent changes; a viewer sees neither the link nor the section.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, screenshot, startGnomon } from './harness.mjs';

const BASIC = `Basic ${Buffer.from('ops:pw').toString('base64')}`;
let srv;
let browser;
let page;
let viewer;

async function admin(method, p, body) {
  const res = await fetch(srv.url + p, { method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { Authorization: BASIC, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

const job = (name, command) => ({ name, command, schedule: 'R/2030-01-01T00:00:00Z/P1D' });

before(async () => {
  srv = await startGnomon({ args: ['--http-credentials', 'ops:pw'] });
  const r = await admin('POST', '/api/v1/tokens', { name: 'ui-viewer', role: 'viewer' });
  assert.equal(r.status, 201);
  viewer = r.body.token;
  assert.equal((await admin('POST', '/v1/scheduler/iso8601', job('nightly', 'echo one'))).status, 204);
  assert.equal((await admin('POST', '/v1/scheduler/iso8601', job('nightly', 'echo two'))).status, 204);
  assert.equal((await admin('POST', '/v1/scheduler/iso8601', job('other', 'true'))).status, 204);
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

async function logIn(fill) {
  await page.goto(`${srv.url}/ui/`);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  await fill();
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.getByRole('button', { name: 'Log out' }).waitFor();
}

test('an admin sees the audit page with the diff of each change, and filters it by job', async () => {
  await logIn(async () => {
    await page.getByLabel('User').fill('ops');
    await page.getByLabel('Password').fill('pw');
  });
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).click();
  const table = page.getByRole('table', { name: 'Audit entries' });
  await table.waitFor();
  const rows = table.locator('tbody tr');
  await assert.doesNotReject(rows.first().waitFor());
  assert.deepEqual(await table.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.action)),
    ['job.create', 'job.update', 'job.create', 'token.create']);
  const update = table.locator('tr[data-action="job.update"]');
  assert.match(await update.innerText(), /ops \(basic\)/);
  assert.equal(await update.locator('del').innerText(), '"echo one"');
  assert.equal(await update.locator('ins').innerText(), '"echo two"');
  await screenshot(page, 'audit');

  await page.getByLabel('Job').fill('other');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForFunction(() => document.querySelectorAll('table[aria-label="Audit entries"] tbody tr').length === 1);
  assert.match(page.url(), /\?job=other$/);
});

test("the job page shows the job's recent changes", async () => {
  await page.goto(`${srv.url}/ui/jobs/nightly`);
  const changes = page.getByRole('table', { name: 'Changes of nightly' });
  await changes.waitFor();
  assert.deepEqual(await changes.locator('tbody tr').evaluateAll((trs) => trs.map((tr) => tr.dataset.action)),
    ['job.update', 'job.create']);
  await page.getByRole('button', { name: 'Log out' }).click();
  // the log-out's own navigation done: a goto of the next test while it runs is aborted (ERR_ABORTED)
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
});

test('a viewer sees neither the Audit link nor the job page section', async () => {
  await logIn(async () => page.getByLabel('API token').fill(viewer));
  await page.goto(`${srv.url}/ui/jobs/nightly`);
  await page.getByRole('heading', { name: 'nightly' }).waitFor();
  await page.getByRole('region', { name: 'Run history' }).waitFor();
  assert.equal(await page.getByRole('region', { name: 'Changes' }).count(), 0);
  assert.equal(await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Audit' }).isVisible(),
    false);
});
