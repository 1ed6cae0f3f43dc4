// A real page on another origin, in Chromium, tries to drive gnomon (issue 10, point 1): the text/plain fetch
// that ran a command before, HTML forms (text/plain and urlencoded), a JSON fetch (preflighted) and a read; none
// creates a job or reads a thing, while the same job posted by a script is taken. With --cors-origins listing the
// page's origin, its JSON requests work (and its text/plain ones still do not). A DNS-rebinding page, which
// reaches gnomon under a name of its own, gets 421.
//
// The page's origin is http://attacker.test:PORT, served by a small node server; Chromium resolves attacker.test
// (and other.test, rebind.test) to 127.0.0.1 through --host-resolver-rules, so it is a different site from
// gnomon's http://127.0.0.1:PORT.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { freePort, launchBrowser, startGnomon } from './harness.mjs';

const HOSTS = ['attacker.test', 'other.test', 'rebind.test'];
let pages; // the node server of the pages
let pagesPort;
let browser;

before(async () => {
  pagesPort = await freePort();
  pages = http.createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end('<!doctype html><title>another site</title><p>nothing to see</p>');
  });
  await new Promise((resolve) => pages.listen(pagesPort, '127.0.0.1', resolve));
  browser = await launchBrowser({
    args: [`--host-resolver-rules=${HOSTS.map((h) => `MAP ${h} 127.0.0.1`).join(', ')}`,
      '--disable-features=HttpsUpgrades,HttpsFirstBalancedModeAutoEnable'],
  });
});

after(async () => {
  if (browser) await browser.close();
  if (pages) await new Promise((resolve) => pages.close(resolve));
});

const pageOrigin = (host = 'attacker.test') => `http://${host}:${pagesPort}`;

function job(name) {
  return { name, command: 'true', schedule: 'R1//PT1M' };
}

// Open the other site's page; every answer gnomon gives to it is collected as {method, path, status}.
async function openPage(server, host) {
  const { page } = browser;
  const seen = [];
  const onResponse = (r) => {
    const u = new URL(r.url());
    if (u.port === String(server.port)) seen.push({ method: r.request().method(), path: u.pathname, status: r.status() });
  };
  page.removeAllListeners('response');
  page.on('response', onResponse);
  await page.goto(`${pageOrigin(host)}/`);
  return { page, seen };
}

// In the page: a fetch; resolves to {status, text} or {error} when the browser refuses it to the page.
function pageFetch(page, url, init) {
  return page.evaluate(async ([u, i]) => {
    try {
      const r = await fetch(u, i);
      return { status: r.status, type: r.type, text: r.type === 'opaque' ? null : await r.text() };
    } catch (e) {
      return { error: String(e) };
    }
  }, [url, init]);
}

// In the page: an HTML form posted into an iframe (a top-level navigation would leave the page).
async function pageForm(page, action, enctype, fields) {
  const answered = page.waitForResponse((r) => r.url() === action && r.request().method() === 'POST');
  await page.evaluate(([a, e, f]) => {
    const frame = document.createElement('iframe');
    frame.name = `sink${Date.now()}`;
    document.body.append(frame);
    const form = document.createElement('form');
    Object.assign(form, { method: 'POST', action: a, enctype: e, target: frame.name });
    for (const [name, value] of f) {
      const input = document.createElement('input');
      Object.assign(input, { type: 'hidden', name, value });
      form.append(input);
    }
    document.body.append(form);
    form.submit();
  }, [action, enctype, fields]);
  return (await answered).status();
}

// The text/plain form trick: one field whose name and value make the body a JSON job.
function jsonForm(j) {
  const text = JSON.stringify({ ...j, pad: '' });
  const cut = text.lastIndexOf('""}');
  return [[text.slice(0, cut + 1), `${text.slice(cut + 1)}`]]; // name=value: {...,"pad":"=" + "}
}

test('a page on another site cannot create, run, delete or read jobs', async () => {
  const server = await startGnomon();
  try {
    const iso = `${server.url}/v1/scheduler/iso8601`;
    const { page, seen } = await openPage(server, 'attacker.test');

    // The reported attack: a no-cors fetch with a text/plain body (no preflight).
    const nocors = await pageFetch(page, iso, { method: 'POST', mode: 'no-cors',
      headers: { 'Content-Type': 'text/plain' }, body: JSON.stringify(job('fetched')) });
    assert.equal(nocors.type, 'opaque');

    // HTML forms: text/plain shaped as JSON, and urlencoded.
    assert.equal(await pageForm(page, iso, 'text/plain', jsonForm(job('formed'))), 403);
    assert.equal(await pageForm(page, iso, 'application/x-www-form-urlencoded', [['name', 'x']]), 403);
    assert.equal(await pageForm(page, `${server.url}/v1/scheduler/job/victim`, 'text/plain', [['a', 'b']]), 403);

    // A JSON fetch needs a preflight, which gnomon refuses; a read gets no CORS header, so the page sees nothing.
    const cors = await pageFetch(page, iso, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(job('preflighted')) });
    assert.match(cors.error, /TypeError/);
    const read = await pageFetch(page, `${server.url}/v1/scheduler/jobs`);
    assert.match(read.error, /TypeError/);
    const del = await pageFetch(page, `${server.url}/v1/scheduler/job/victim`, { method: 'DELETE' });
    assert.match(del.error, /TypeError/);

    // Each attempt reached gnomon and was refused there: the answers the page got (Chromium does not report
    // preflights as responses, so those are read from the server's log).
    const statuses = seen.map((s) => `${s.method} ${s.path} ${s.status}`);
    assert.deepEqual(statuses.filter((s) => s.startsWith('POST ')), ['POST /v1/scheduler/iso8601 403',
      'POST /v1/scheduler/iso8601 403', 'POST /v1/scheduler/iso8601 403', 'POST /v1/scheduler/job/victim 403']);
    const log = fs.readFileSync(path.join(server.root, 'server.log'), 'utf8');
    for (const line of [/refused OPTIONS \/v1\/scheduler\/iso8601 from 127\.0\.0\.1:\d+ \(403\): Origin/,
      /refused OPTIONS \/v1\/scheduler\/job\/victim from 127\.0\.0\.1:\d+ \(403\)/,
      /refused POST \/v1\/scheduler\/iso8601 from 127\.0\.0\.1:\d+ \(403\): Origin: 'http:\/\/attacker\.test:/]) {
      assert.match(log, line);
    }

    const list = await server.api('GET', '/v1/scheduler/jobs');
    assert.deepEqual(list.body, []);
    // The control: a script (no Origin) posting the same job is answered 204.
    assert.equal((await server.api('POST', '/v1/scheduler/iso8601', job('fetched'))).status, 204);
  } finally {
    await server.stop();
  }
});

test('a DNS-rebinding page reaches gnomon under its own name and gets 421', async () => {
  const server = await startGnomon();
  try {
    const { page } = browser;
    const res = await page.goto(`http://rebind.test:${server.port}/v1/scheduler/jobs`);
    assert.equal(res.status(), 421);
    assert.match(await page.textContent('body'), /Host: 'rebind\.test:\d+' is not a name of this server/);
    const ui = await page.goto(`http://rebind.test:${server.port}/ui/`);
    assert.equal(ui.status(), 421);
    // The same browser under a loopback name gets the UI.
    const own = await page.goto(`http://localhost:${server.port}/ui/`);
    assert.equal(own.status(), 200);
  } finally {
    await server.stop();
  }
});

test('with --cors-origins listing the page, its JSON requests work and its text/plain ones still do not', async () => {
  const server = await startGnomon({ args: ['--cors-origins', pageOrigin()] });
  try {
    const iso = `${server.url}/v1/scheduler/iso8601`;
    const { page } = await openPage(server, 'attacker.test');
    const created = await pageFetch(page, iso, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(job('listed')) });
    assert.equal(created.status, 204, JSON.stringify(created));
    const read = await pageFetch(page, `${server.url}/v1/scheduler/job/listed`);
    assert.equal(read.status, 200);
    assert.equal(JSON.parse(read.text).name, 'listed');
    const run = await pageFetch(page, `${server.url}/v1/scheduler/job/listed`, { method: 'PUT' });
    assert.equal(run.status, 204);

    const plain = await pageFetch(page, iso, { method: 'POST', headers: { 'Content-Type': 'text/plain' },
      body: JSON.stringify(job('plain')) });
    assert.equal(plain.status, 415);
    assert.match(JSON.parse(plain.text).message, /^Content-Type: 'text\/plain/);
    assert.equal(await pageForm(page, iso, 'text/plain', jsonForm(job('formed'))), 415);

    // A page of a site that is not listed is still refused.
    const other = await openPage(server, 'other.test');
    const refused = await pageFetch(other.page, iso, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(job('other')) });
    assert.match(refused.error, /TypeError/);

    const names = (await server.api('GET', '/v1/scheduler/jobs')).body.map((j) => j.name);
    assert.deepEqual(names, ['listed']);
  } finally {
    await server.stop();
  }
});
