// Many jobs for the jobs page: seeding a data dir with N jobs written straight into the SQLite store (rows
// shaped like the one the API stored for a first job) before a server starts, and timing how long the jobs page
// takes to show its first row. Shared by scale.test.mjs (which checks what is shown) and bench/ui-jobs (which
// prints how long it took).
import assert from 'node:assert/strict';
import { python, startGnomon } from './harness.mjs';

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

// A gnomon server whose store holds n jobs, job-000000 ... job-<n-1>; more(dataDir), if given, seeds more before
// it starts.
export async function startWithJobs(n, more) {
  async function seed(dataDir) {
    const first = await startGnomon({ dataDir });
    const r = await first.api('POST', '/v1/scheduler/iso8601', { name: 'job-000000', command: 'echo report 0',
      schedule: 'R/2030-01-01T00:00:00Z/P1D', owner: 'data@example.com' });
    await first.stop();
    assert.equal(r.status, 204);
    assert.equal(python(SEED, dataDir, String(n)).trim(), String(n));
    if (more) await more(dataDir);
  }
  return startGnomon({ prepare: seed });
}

// Milliseconds from the start of the navigation to path until the first job's row is on screen.
export async function firstRowMs(page, url) {
  await page.goto(url, { waitUntil: 'commit' });
  const t = await page.waitForFunction(() => {
    const row = document.querySelector('#jobs tbody tr[data-job]');
    return row && row.checkVisibility() && performance.now();
  }, null, { polling: 'raf' });
  return t.jsonValue();
}
