// The history views at scale (issue 17, item 9): the timeline with 10,000 runs in its window, and the jobs list
// with outcome strips over 100,000 jobs. Figures are printed (t.diagnostic) for the closing note; the assertions
// use budgets generous enough for the ASan build on two shared cores.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser, python } from './harness.mjs';
import { startWithJobs } from './many_jobs.mjs';

const JOBS = 100000;
const TIMELINE_JOBS = 100;
const RUNS = 10000;
const BUDGET_MS = 5000;
const API_BUDGET_MS = 3000; // an unfiltered /api/v1/timeline over every job: it holds the scheduler's loop

// RUNS runs of job-000000 ... job-<TIMELINE_JOBS - 1> over the last 23 hours, written straight into the history
// (the store's runs table): durations of 1 to 40 minutes (so runs of one job overlap), one in 7 failed, one in
// 11 started 2 minutes after its slot.
const SEED_RUNS = `
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1] + "/gnomon.db")
jobs, runs = int(sys.argv[2]), int(sys.argv[3])
now = int(time.time() * 1000)
span = 23 * 3600 * 1000
def rows():
    for i in range(runs):
        job = "job-%06d" % (i % jobs)
        due = now - span + (i * span) // runs
        start = due + (120000 if i % 11 == 0 else 50)
        end = start + 60000 * (1 + (i * 7919) % 40)
        end = min(end, now - 1000)
        failed = i % 7 == 0
        yield ("ct:%d:0:%s:" % (due, job), job, due, 0, "schedule", "failed" if failed else "succeeded", start, end,
               3 if failed else 0, "exited with status 3" if failed else "")
with db:
    db.executemany("INSERT INTO runs(task_id, job, due_ms, attempt, trigger, status, start_ms, end_ms, exit_code, reason)"
                   " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows())
print(db.execute("SELECT count(*) FROM runs").fetchone()[0])
`;

let server;
let browser;

before(async () => {
  server = await startWithJobs(JOBS, (dataDir) =>
    assert.equal(python(SEED_RUNS, dataDir, String(TIMELINE_JOBS), String(RUNS)).trim(), String(RUNS)));
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test(`the timeline draws ${RUNS.toLocaleString('en')} runs`, async (t) => {
  const { page } = browser;
  // the first 100 jobs hold the runs; the filter keeps the timeline to them, as a user would
  const url = `${server.url}/ui/timeline?window=day&q=job-0000`;
  await page.goto(url, { waitUntil: 'commit' });
  const total = await page.waitForFunction(() => {
    const c = document.querySelector('canvas#timeline');
    return c && c.dataset.runs && performance.now();
  }, null, { polling: 'raf' });
  const canvas = page.locator('canvas#timeline');
  const runs = Number(await canvas.getAttribute('data-runs'));
  const drawMs = Number(await canvas.getAttribute('data-draw-ms'));
  const fetchAndDraw = Number(await canvas.getAttribute('data-total-ms'));
  const fromNav = await total.jsonValue();
  t.diagnostic(`timeline: ${runs} runs of ${TIMELINE_JOBS} jobs drawn in ${drawMs.toFixed(1)} ms (canvas); ` +
    `${fetchAndDraw.toFixed(0)} ms from asking the server to drawn; ${fromNav.toFixed(0)} ms from navigation`);
  assert.equal(runs, RUNS);
  assert.ok(drawMs < BUDGET_MS, `drawing took ${drawMs} ms`);
  assert.ok(fromNav < 3 * BUDGET_MS, `the page took ${fromNav} ms`);
  const summary = await page.getByRole('status').filter({ hasText: /runs of/ }).textContent();
  // one run in 11 started 2 minutes late; durations of up to 40 minutes every 8 minutes or so overlap
  assert.match(summary, /^10,000 runs of 100 jobs; [1-9][\d,]* overlapping, 910 started late, 0 coming fires\.$/);
  assert.deepEqual(browser.errors, []);
});

test(`the jobs list with outcome strips over ${JOBS.toLocaleString('en')} jobs`, async (t) => {
  const { page } = browser;
  const figures = [];
  for (let i = 0; i < 3; i++) {
    await page.goto(`${server.url}/ui/jobs`, { waitUntil: 'commit' });
    const at = await page.waitForFunction(() => {
      const strip = document.querySelector('#jobs tbody tr[data-job="job-000000"] .strip');
      return strip && strip.querySelectorAll('a.cell').length === 20 && strip.checkVisibility() && performance.now();
    }, null, { polling: 'raf' });
    figures.push(await at.jsonValue());
  }
  t.diagnostic(`jobs list: first row with its strip of 20 runs after ${figures.map((f) => f.toFixed(0)).join(', ')} ms ` +
    `(three loads)`);
  assert.ok(Math.min(...figures) < BUDGET_MS, `${figures}`);
  await page.getByRole('status').filter({ hasText: '1–50 of 100,000 jobs' }).waitFor();
  assert.equal(await page.locator('#jobs tbody tr[data-job] .strip').count(), 50);
  assert.deepEqual(browser.errors, []);
});

test(`an unfiltered timeline over ${JOBS.toLocaleString('en')} jobs answers quickly and says what it left out`, async (t) => {
  const DAY = 24 * 3600 * 1000;
  const figures = [];
  // the web UI's day and week windows (a little ahead of now for the coming fires), and one a month ahead
  for (const [name, from, to] of [['day', -DAY, 0.15 * DAY], ['week', -7 * DAY, 1.05 * DAY], ['month ahead', 0, 30 * DAY]]) {
    const now = Date.now();
    const q = `/api/v1/timeline?from=${new Date(now + from).toISOString()}&to=${new Date(now + to).toISOString()}`;
    const started = performance.now();
    const [timeline, search] = await Promise.all([server.api('GET', q),
      (async () => {
        const s = performance.now();
        const r = await server.api('GET', '/v1/scheduler/jobs/search?name=job-000042');
        return { ...r, ms: performance.now() - s };
      })()]);
    const ms = performance.now() - started;
    assert.equal(timeline.status, 200, JSON.stringify(timeline.body).slice(0, 300));
    assert.equal(search.status, 200);
    const { runs, fires, truncated } = timeline.body;
    figures.push(`${name}: ${ms.toFixed(0)} ms (${runs.length} runs, ${fires.length} fires, truncated ${truncated}; ` +
      `a search meanwhile ${search.ms.toFixed(0)} ms)`);
    assert.ok(ms < API_BUDGET_MS, `${name}: ${ms} ms`);
    assert.ok(runs.length <= 20000 && fires.length <= 5000);
    if (name === 'month ahead') {
      // a fire a day for each job from 2030 on: none in a month from now
      assert.equal(fires.length, 0);
    } else {
      assert.equal(runs.length, RUNS, 'the seeded runs are all in the day window');
    }
  }
  t.diagnostic(`unfiltered timeline: ${figures.join('; ')}`);
});
