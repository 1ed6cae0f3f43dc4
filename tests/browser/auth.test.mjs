// Access control in the web UI (README, "Access") in headless Chromium against a real server with
// --http-credentials: the UI shows its login page; a viewer's token logs in, sees the jobs and no button it cannot
// use (Run now, Kill, Disable, Edit, Delete, New job); an operator sees run now, kill and disable but not edit,
// delete or new job, and its Disable works (through the session cookie and the UI's X-Gnomon-CSRF field); the
// Basic credentials log in as admin and see everything; a wrong token is refused on the page; logging out comes
// back to the login page.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, screenshot, startGnomon } from './harness.mjs';

const BASIC = `Basic ${Buffer.from('ops:pw').toString('base64')}`;
let srv;
let browser;
let page;
const tokens = {};

async function admin(method, p, body) {
  const res = await fetch(srv.url + p, { method, body: body === undefined ? undefined : JSON.stringify(body),
    headers: { Authorization: BASIC, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) } });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

before(async () => {
  srv = await startGnomon({ args: ['--http-credentials', 'ops:pw'] });
  for (const role of ['viewer', 'operator']) {
    const r = await admin('POST', '/api/v1/tokens', { name: `ui-${role}`, role });
    assert.equal(r.status, 201);
    tokens[role] = r.body.token;
  }
  const r = await admin('POST', '/v1/scheduler/iso8601',
    { name: 'nightly', command: 'true', schedule: 'R/2030-01-01T00:00:00Z/P1D' });
  assert.equal(r.status, 204);
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  if (browser) await browser.close();
  if (srv) await srv.stop();
});

async function logIn({ token, user, password }) {
  await page.goto(`${srv.url}/ui/jobs/nightly`);
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
  if (token) await page.getByLabel('API token').fill(token);
  if (user) {
    await page.getByLabel('User').fill(user);
    await page.getByLabel('Password').fill(password);
  }
  await page.getByRole('button', { name: 'Log in' }).click();
}

async function logOut() {
  await page.getByRole('button', { name: 'Log out' }).click();
  await page.getByRole('heading', { name: 'Log in' }).waitFor();
}

// Whether the job page's controls are shown.
async function shown() {
  const toolbar = page.locator('.toolbar');
  const visible = async (loc) => loc.isVisible();
  return {
    run: await visible(toolbar.getByRole('button', { name: 'Run now…' })),
    // Kill shows only while a run goes on (nothing runs here): whether the role would see it then
    kill: await toolbar.getByRole('button', { name: 'Kill', includeHidden: true }).evaluate((el) => {
      el.hidden = false;
      const seen = el.checkVisibility();
      el.hidden = true;
      return seen;
    }),
    toggle: await visible(toolbar.getByRole('button', { name: /^(Disable|Enable)$/ })),
    edit: await visible(toolbar.getByRole('link', { name: 'Edit' })),
    del: await visible(toolbar.getByRole('button', { name: 'Delete…' })),
    newJob: await visible(page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'New job' })),
  };
}

test('a wrong token is refused on the login page', async () => {
  await logIn({ token: '0'.repeat(64) });
  await page.getByRole('alert').filter({ hasText: 'no such token' }).waitFor();
  await screenshot(page, 'login');
});

test('a viewer sees the job and no button it cannot use', async () => {
  await logIn({ token: tokens.viewer });
  await page.getByRole('heading', { name: 'nightly' }).waitFor();
  await page.locator('.who').filter({ hasText: 'ui-viewer (viewer)' }).waitFor();
  assert.deepEqual(await shown(), { run: false, kill: false, toggle: false, edit: false, del: false, newJob: false });
  await logOut();
});

test('an operator may run, kill and disable, not edit or delete', async () => {
  await logIn({ token: tokens.operator });
  await page.getByRole('heading', { name: 'nightly' }).waitFor();
  await page.locator('.toolbar').getByRole('button', { name: 'Disable' }).waitFor();
  assert.deepEqual(await shown(), { run: true, kill: true, toggle: true, edit: false, del: false, newJob: false });
  await page.locator('.toolbar').getByRole('button', { name: 'Disable' }).click();
  await page.locator('.toolbar').getByRole('button', { name: 'Enable' }).waitFor();
  assert.equal((await admin('GET', '/v1/scheduler/job/nightly')).body.disabled, true);
  await logOut();
});

test('the Basic credentials log in as admin', async () => {
  await logIn({ user: 'ops', password: 'pw' });
  await page.getByRole('heading', { name: 'nightly' }).waitFor();
  await page.locator('.who').filter({ hasText: 'ops (admin)' }).waitFor();
  assert.deepEqual(await shown(), { run: true, kill: true, toggle: true, edit: true, del: true, newJob: true });
  assert.deepEqual(browser.errors, []);
  await logOut();
});
