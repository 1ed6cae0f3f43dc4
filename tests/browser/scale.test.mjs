// The jobs page with 100,000 jobs renders its first page in under a second: the listing is paged on the
// server, so the browser only ever gets one page. The jobs are written straight into the SQLite store (rows
// shaped like the one the API stored for a first job) before the server starts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, python, startGnomon } from './harness.mjs';

const N = 100000;
const LIMIT_MS = 1000;

// Copies of the row the API wrote for job-000000, with their names, owners and times of day varied.
const SEED = `
import json, sqlite3, sys
db = sqlite3.connect(sys.argv[1] + "/gnomon.db")
n = int(sys.argv[2])
(template,) = db.execute("SELECT json FROM jobs WHERE name = 'job-000000'").fetchone()
job = json.loads(template)
owners = ["data", "ops", "web", "billing", "search"]
def rows():
    for i in range(1, n):
        job["name"] = "job-%06d" % i
        job["owner"] = "%s@example.com" % owners[i % len(owners)]
        job["command"] = "echo report %d" % i
        job["schedule"] = "R/2030-01-01T%02d:%02d:00Z/P1D" % (i % 24, i % 60)
        yield job["name"], json.dumps(job, separators=(",", ":"))
with db:
    db.executemany("INSERT INTO jobs(name, json) VALUES(?, ?)", rows())
print(db.execute("SELECT count(*) FROM jobs").fetchone()[0])
`;

async function seed(dataDir) {
  const first = await startGnomon({ dataDir });
  const r = await first.api('POST', '/v1/scheduler/iso8601', { name: 'job-000000', command: 'echo report 0',
    schedule: 'R/2030-01-01T00:00:00Z/P1D', owner: 'data@example.com' });
  await first.stop();
  assert.equal(r.status, 204);
  assert.equal(python(SEED, dataDir, String(N)).trim(), String(N));
}

let server;
let browser;

before(async () => {
  server = await startGnomon({ prepare: seed });
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

// Milliseconds from the start of the navigation to the first job's row being on screen.
async function firstRow(path) {
  const { page } = browser;
  await page.goto(server.url + path, { waitUntil: 'commit' });
  const t = await page.waitForFunction(() => {
    const row = document.querySelector('#jobs tbody tr[data-job]');
    return row && row.checkVisibility() && performance.now();
  }, null, { polling: 'raf' });
  return t.jsonValue();
}

test(`the jobs page renders its first page of ${N.toLocaleString('en')} jobs in under a second`, async (t) => {
  const { page } = browser;
  for (const [path, first] of [
    ['/ui/jobs', 'job-000000'],
    ['/ui/jobs?sort=name&order=desc', 'job-099999'],
    ['/ui/jobs?offset=99950', 'job-099950'],
    ['/ui/jobs?owner=billing&sort=next', null],
  ]) {
    const ms = await firstRow(path);
    t.diagnostic(`${path}: first row after ${ms.toFixed(0)} ms`);
    assert.ok(ms < LIMIT_MS, `${path}: the first row took ${ms.toFixed(0)} ms`);
    if (first) assert.equal(await page.locator('#jobs tbody tr').first().getAttribute('data-job'), first);
  }
  await page.getByRole('status').filter({ hasText: 'of 20,000 jobs' }).waitFor();
  await page.goto(`${server.url}/ui/jobs`);
  await page.getByRole('status').filter({ hasText: '1–50 of 100,000 jobs' }).waitFor();
  await page.getByRole('button', { name: 'Last page' }).click();
  await page.getByRole('status').filter({ hasText: '99,951–100,000 of 100,000 jobs' }).waitFor();
  assert.deepEqual(browser.errors, []);
});
