// History read at a glance (issue 17), in headless Chromium against the real server: runs named by their slot
// and try with the task id one click away, a slot's tries grouped, the overview's failures one row per job,
// outcome strips with their hovers, errors in place, the job page's order and its Kill, the definition folded,
// the peak-memory chart only when runs report it, the log viewer, the timeline, the calendar, and every page at
// phone width without sideways scrolling. Screenshots for the README at desktop and phone width.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { launchBrowser, screenshot, startGnomon } from './harness.mjs';

let server;
let browser;
let page;
let gate;

// "6 Dec, 17:15:11 · try 2 of 2" in en-GB (the harness's locale), in Europe/Paris.
const RUN_NAME = /^\d{1,2} [A-Z][a-z]{2}, \d\d:\d\d:\d\d · try \d of \d$/;

before(async () => {
  server = await startGnomon({ args: ['--log-cap', '1K'] });
  browser = await launchBrowser();
  page = browser.page;
  gate = path.join(server.root, 'gate');
  const add = async (job) => {
    const r = await server.api('POST', '/v1/scheduler/iso8601', { owner: 'ops@example.com', ...job });
    assert.equal(r.status, 204, JSON.stringify(r.body));
  };
  await add({ name: 'flaky', command: 'echo starting; echo "disk full on /data" >&2; exit 3', retries: 1,
    retryDelay: 'PT0S', schedule: 'R/2030-01-01T00:00:00Z/P1D', taskInfoData: 'x' });
  // the streams in turn, a pause after each write: the executor reads each before the next comes
  await add({ name: 'chatty', command: 'for i in $(seq 1 5); do echo "out line $i"; sleep 0.05; echo "err line $i" >&2; ' +
    'sleep 0.05; done; seq 1 400 | sed "s/^/filler /"', schedule: 'R/2030-01-01T00:00:00Z/P1D' });
  await add({ name: 'slow', command: `echo begun; while [ ! -e ${gate} ]; do sleep 0.05; done; echo finished`,
    schedule: 'R/2030-01-01T00:00:00Z/P1D' });
  for (const name of ['nightly', 'backup', 'vacuum']) await add({ name, command: 'true', schedule: '0 2 * * *' });
  await add({ name: 'hourly', command: 'true', schedule: '@hourly' });
  const r = await server.api('POST', '/v1/scheduler/dependency', { name: 'report', command: 'true', parents: ['nightly', 'backup'] });
  assert.equal(r.status, 204, JSON.stringify(r.body));
  for (const name of ['flaky', 'flaky', 'chatty']) {
    assert.equal((await server.api('PUT', `/v1/scheduler/job/${name}`)).status, 204);
    await waitFor(async () => (await runsOf(name)).every((r) => ['succeeded', 'failed'].includes(r.status)) &&
      (await runsOf(name)).length > 0 && (name !== 'flaky' || (await runsOf(name)).length % 2 === 0));
  }
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

async function runsOf(name) {
  return (await server.api('GET', `/api/v1/jobs/${name}/runs?limit=100`)).body.runs;
}

async function waitFor(fn, ms = 60000) {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}

const noSideways = () => page.evaluate(() => document.documentElement.scrollWidth <= innerWidth + 1);

test('runs are named by slot and try, their tries grouped, their errors in place, the task id one click away', async () => {
  await waitFor(async () => (await runsOf('flaky')).length === 4);
  await page.goto(`${server.url}/ui/jobs/flaky`);
  const table = page.getByRole('table', { name: 'Runs of flaky' });
  await table.locator('tbody tr').nth(3).waitFor();
  const names = await table.locator('.run-name > a').allTextContents();
  assert.equal(names.length, 4);
  for (const n of names) assert.match(n, RUN_NAME);
  // newest first: each slot's try 2, then its try 1 under it
  assert.deepEqual(names.map((n) => n.slice(-10)), ['try 2 of 2', 'try 1 of 2', 'try 2 of 2', 'try 1 of 2']);
  assert.deepEqual(await table.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.classList.contains('try-earlier'))),
    [false, true, false, true]);
  const first = table.locator('tbody tr').first();
  await first.locator('.why').filter({ hasText: 'exited with status 3' }).waitFor();
  assert.equal(await first.locator('code.stderr-last').textContent(), 'disk full on /data');
  assert.equal(await first.getByRole('textbox', { name: 'Task id' }).isVisible(), false);
  await first.getByRole('button', { name: 'Show the task id' }).click();
  const id = first.getByRole('textbox', { name: 'Task id' });
  assert.match(await id.inputValue(), /^ct:\d+:1:flaky:/);
  assert.equal(await id.evaluate((el) => el.selectionEnd - el.selectionStart), (await id.inputValue()).length);
  // the run page is named the same way
  await first.locator('.run-name > a').click();
  await page.getByRole('heading', { level: 1 }).filter({ hasText: /flaky \d{1,2} [A-Z][a-z]{2}, .* · try 2 of 2/ }).waitFor();
  await page.locator('.facts .why').filter({ hasText: 'disk full on /data' }).waitFor();
});

test('the overview lists recent failures one row per job, with the count and why', async () => {
  await page.goto(`${server.url}/ui/`);
  const failures = page.getByRole('table', { name: 'Recent failures' });
  await failures.locator('tbody tr[data-job]').first().waitFor();
  assert.equal(await failures.locator('tbody tr[data-job]').count(), 1);
  const row = failures.locator('tr[data-job="flaky"]');
  assert.equal(await row.locator('.fail-count').textContent(), '4×');
  assert.match(await row.locator('.run-name > a').textContent(), RUN_NAME);
  assert.equal(await row.locator('code.stderr-last').textContent(), 'disk full on /data');
  await screenshot(page, 'failures');
});

test('outcome strips in the jobs list and on the job page link to runs and say when, how long and why', async () => {
  await page.goto(`${server.url}/ui/jobs?sort=name`);
  const strip = page.locator('tr[data-job="flaky"] .strip');
  await strip.locator('a.cell').nth(3).waitFor();
  assert.equal(await strip.locator('a.cell.c-bad').count(), 4);
  const title = await strip.locator('a.cell').last().getAttribute('title');
  assert.match(title, /try 2 of 2: failed/);
  assert.match(title, /took \d+ ms/);
  assert.match(title, /stderr: disk full on \/data/);
  assert.equal(await page.locator('tr[data-job="chatty"] .strip a.cell.c-ok').count(), 1);
  await screenshot(page, 'strips');
  await strip.locator('a.cell').last().click();
  await page.getByRole('heading', { level: 1 }).filter({ hasText: 'try 2 of 2' }).waitFor();
  await page.goto(`${server.url}/ui/jobs/flaky`);
  const own = page.getByRole('region', { name: 'Last runs' }).locator('.strip');
  await own.locator('a.cell').nth(3).waitFor();
  assert.equal(await own.locator('a.cell.c-bad').count(), 4);
  assert.equal(await own.locator('.cell.c-none').count(), 26);
});

test('the job page leads with state, fires, strip and chart, then actions (Kill only while a run goes on), then history', async () => {
  await page.goto(`${server.url}/ui/jobs/slow`);
  await page.getByRole('heading', { name: 'slow', level: 1 }).waitFor();
  await page.getByRole('table', { name: 'Runs of slow' }).waitFor();
  const order = await page.evaluate(() => [...document.querySelectorAll('main section[aria-label], main [role=toolbar]')]
    .map((el) => el.getAttribute('aria-label')));
  assert.deepEqual(order.slice(0, 5), ['Next fire times', 'Last runs', 'Run durations', 'Peak memory', 'Actions']);
  assert.ok(order.indexOf('Run history') > order.indexOf('Actions'));
  assert.ok(order.indexOf('Definition') > order.indexOf('Run history'));
  const kill = page.getByRole('toolbar', { name: 'Actions' }).getByRole('button', { name: 'Kill' });
  assert.equal(await kill.isVisible(), false);
  assert.equal(await page.getByRole('region', { name: 'Peak memory' }).isVisible(), false);
  // Run now keeps its arguments behind its button
  assert.equal(await page.getByLabel('Arguments').isVisible(), false);
  await page.getByRole('button', { name: 'Run now…' }).click();
  await page.getByLabel('Arguments').fill('--fast');
  await page.getByRole('button', { name: 'Start run' }).click();
  await kill.waitFor();
  await page.getByRole('region', { name: 'Last runs' }).locator('a.cell.c-run').waitFor();
  await screenshot(page, 'job-glance');
  // the overview's runs in progress say how many tries their slot gets too
  await page.goto(`${server.url}/ui/`);
  const progress = page.getByRole('table', { name: 'Runs in progress' });
  await progress.locator('.run-name > a').first().waitFor();
  assert.match(await progress.locator('.run-name > a').first().textContent(), /· try 1 of 3$/);
  await page.goto(`${server.url}/ui/jobs/slow`);
  // a running run's log counts its bytes as they come
  await page.getByRole('table', { name: 'Runs of slow' }).locator('.run-name > a').first().click();
  await page.locator('.log-counts').filter({ hasText: /stdout: 6 bytes \(following\)/ }).waitFor();
  await page.locator('.facts .run-output').filter({ hasText: /^6 bytes on stdout, 0 on stderr so far$/ }).waitFor();
  fs.writeFileSync(gate, '');
  await page.locator('.log-counts').filter({ hasText: /stdout: 22 bytes · stderr: 0 bytes$/ }).waitFor();
  await page.locator('.facts .run-output').filter({ hasText: /^22 bytes on stdout, 0 on stderr$/ }).waitFor();
  await page.goto(`${server.url}/ui/jobs/slow`);
  await page.getByRole('region', { name: 'Last runs' }).locator('a.cell.c-ok').waitFor();
  assert.equal(await kill.isVisible(), false);
  // the definition: what the user set; defaults and Mesos-only fields folded away
  await page.goto(`${server.url}/ui/jobs/flaky`);
  const def = page.getByRole('region', { name: 'Definition' });
  await def.getByRole('term').filter({ hasText: /^command$/ }).waitFor();
  const set = await def.locator('dl[aria-label="Fields set"] dt').allTextContents();
  for (const k of ['name', 'command', 'retries', 'owner', 'schedule']) assert.ok(set.includes(k), `${k} in ${set}`);
  for (const k of ['shell', 'cpus', 'taskInfoData', 'successCount']) assert.ok(!set.includes(k), `${k} in ${set}`);
  const defaults = def.locator('details.defaults');
  assert.equal(await defaults.getAttribute('open'), null);
  assert.match(await defaults.locator('summary').textContent(), /^Chronos defaults \(\d+\)$/);
  assert.ok((await defaults.locator('dt').allTextContents()).includes('runAsUser'));
  const mesos = await def.locator('details.mesos dt').allTextContents();
  for (const k of ['executor', 'taskInfoData', 'cpus', 'mem']) assert.ok(mesos.includes(k), `${k} in ${mesos}`);
});

test('a peak-memory chart beside the durations when runs report peakMemoryBytes', async () => {
  await page.route('**/api/v1/jobs/chatty/runs?*', async (route) => {
    const res = await route.fetch();
    const body = await res.json();
    body.runs.forEach((r, i) => { r.peakMemoryBytes = 3 * 1024 * 1024 + i; });
    await route.fulfill({ response: res, json: body });
  });
  await page.goto(`${server.url}/ui/jobs/chatty`);
  const mem = page.getByRole('region', { name: 'Peak memory' });
  await mem.locator('svg.memory circle').first().waitFor();
  assert.match(await mem.locator('svg').getAttribute('aria-label'), /^Peak memory of the last 1 runs$/);
  assert.match(await mem.locator('svg title').first().textContent(), /3\.0 MiB, succeeded/);
  await page.unroute('**/api/v1/jobs/chatty/runs?*');
});

test('the log viewer: both streams in arrival order or one, line numbers, wrap, search, downloads, the cap explained', async () => {
  const [run] = await runsOf('chatty');
  await page.goto(`${server.url}/ui/runs/${encodeURIComponent(run.taskId)}`);
  const log = page.getByRole('log', { name: 'Output' });
  await log.locator('.line.l-stderr').first().waitFor();
  await page.locator('.log-counts').filter({ hasText: /^stdout: \d[\d,]* bytes · stderr: 55 bytes$/ }).waitFor();
  // Both: the lines in the order they came, each marked out or err, numbered in that order
  const lines = log.locator('.line');
  await log.locator('.line:nth-child(2).l-stderr').waitFor();
  const head = [];
  for (let i = 0; i < 11; i++) {
    const line = lines.nth(i);
    head.push([await line.getAttribute('data-n'), await line.locator('.tag').getAttribute('data-tag'),
      await line.textContent()]);
  }
  assert.deepEqual(head, [1, 2, 3, 4, 5].flatMap((i) => [[`${2 * i - 1}`, 'out', `out line ${i}`],
    [`${2 * i}`, 'err', `err line ${i}`]]).concat([['11', 'out', 'filler 1']]));
  // stdout was longer than --log-cap: its marker is there and explained; the order is known, no notice of it
  const marker = log.locator('.line.omitted');
  assert.match(await marker.textContent(), /^\[gnomon: \d+ bytes omitted\]$/);
  assert.match(await marker.locator('span:not(.tag)').getAttribute('title'), /--log-cap/);
  assert.match(await page.locator('.log-note').textContent(), /^\[gnomon: … bytes omitted\]: .*--log-cap bytes are kept/);
  // one stream
  await page.getByRole('radio', { name: 'stderr' }).check();
  assert.deepEqual(await log.locator('.line').allTextContents(), [1, 2, 3, 4, 5].map((i) => `err line ${i}`));
  // search highlights
  await page.getByRole('radio', { name: 'Both' }).check();
  await page.getByRole('searchbox', { name: 'Search the output' }).fill('LINE 3');
  assert.equal(await log.locator('mark').count(), 2);
  assert.equal(await page.locator('#log-found').textContent(), '2 lines match');
  assert.deepEqual(await log.locator('.line:has(mark)').evaluateAll((els) => els.map((e) => e.dataset.n)), ['5', '6']);
  // wrap toggle
  assert.equal(await log.evaluate((el) => el.classList.contains('nowrap')), false);
  await page.getByLabel('Wrap lines').uncheck();
  assert.equal(await log.evaluate((el) => el.classList.contains('nowrap')), true);
  // downloads and the raw text
  const dl = page.getByRole('link', { name: 'Download stderr' });
  assert.match(await dl.getAttribute('download'), /\.stderr\.txt$/);
  const raw = await page.getByRole('link', { name: 'raw stderr' }).getAttribute('href');
  const text = await (await fetch(server.url + raw)).text();
  assert.equal(text, [1, 2, 3, 4, 5].map((i) => `err line ${i}\n`).join(''));
  await page.getByRole('searchbox', { name: 'Search the output' }).fill('');
  await page.getByLabel('Wrap lines').check();
  await log.evaluate((el) => { el.scrollTop = 0; }); // the streams in turn, for the README
  await screenshot(page, 'log-viewer');
  // a run whose output was stored without its order (before the order record): the notice says what Both shows
  await page.route('**/log?stream=both', async (route) => {
    const res = await route.fetch();
    await route.fulfill({ response: res, headers: { ...res.headers(), 'gnomon-log-order': 'streams' } });
  });
  await page.reload();
  await page.locator('.log-note').filter({ hasText: /^Both: stdout, then stderr \(red\)\. .*without the order/ }).waitFor();
  await page.unroute('**/log?stream=both');
});

test('the timeline draws runs, their overlap and waits, and the coming fires, with hovers that lead to runs', async () => {
  await page.goto(`${server.url}/ui/timeline?window=hour`);
  const canvas = page.locator('canvas#timeline');
  await page.getByRole('status').filter({ hasText: /^\d+ runs of \d+ jobs/ }).waitFor();
  const summary = await page.getByRole('status').filter({ hasText: /runs of/ }).textContent();
  // flaky's 4, chatty's and slow's runs; the hourly job's fire when the hour turns within the window's 9 minutes ahead
  assert.match(summary, /^6 runs of [34] jobs; 0 overlapping, 0 started late, [01] coming fires\.$/);
  assert.ok(Number(await canvas.getAttribute('data-draw-ms')) >= 0);
  // hover a bar of flaky's: the tip names the run; a click opens it
  const box = await canvas.boundingBox();
  const at = await canvas.evaluate((c) => c.runBox('flaky'));
  await page.mouse.move(box.x + at.x, box.y + at.y);
  const tip = page.locator('.tip');
  await tip.waitFor();
  assert.match(await tip.textContent(), /^flaky · \d{1,2} [A-Z][a-z]{2}, \d\d:\d\d:\d\d · try \d\n(failed)\ntook \d+ ms/);
  // the same window as a table, a row per job
  await page.getByText('The jobs in view as a table').click();
  const flaky = page.getByRole('table', { name: 'Jobs in the timeline' }).locator('tr[data-job="flaky"] td');
  assert.deepEqual((await flaky.allTextContents()).slice(0, 5), ['4', '4', '0', '0', '0']);
  await page.mouse.move(box.x + at.x, box.y + at.y);
  await page.mouse.down();
  await page.mouse.up();
  await page.getByRole('heading', { level: 1 }).filter({ hasText: /^flaky / }).waitFor();
  await page.goto(`${server.url}/ui/timeline?window=day&q=chatty`);
  await page.getByRole('status').filter({ hasText: /^1 runs of 1 jobs/ }).waitFor();
  // a run that happens while the page is open appears on it: fetched again 5 s after its events, never while a
  // fetch is in flight (held here while another run goes by), then once more
  const asked = [];
  let open = 0, most = 0, release;
  const held = new Promise((r) => { release = r; });
  const ours = (req) => req.url().includes('/api/v1/timeline');
  const done = (req) => { if (ours(req)) open--; };
  const start = (req) => { if (ours(req)) { asked.push(Date.now()); most = Math.max(most, ++open); } };
  page.on('request', start);
  page.on('requestfinished', done);
  page.on('requestfailed', done);
  await page.route('**/api/v1/timeline*', async (route) => { await held; await route.continue(); });
  try {
    const ran = Date.now();
    assert.equal((await server.api('PUT', '/v1/scheduler/job/chatty')).status, 204);
    await waitFor(async () => asked.length === 1);
    assert.ok(asked[0] - ran >= 4900, `fetched ${asked[0] - ran} ms after the run`);
    assert.equal((await server.api('PUT', '/v1/scheduler/job/chatty')).status, 204);
    await waitFor(async () => (await runsOf('chatty')).filter((r) => r.status === 'succeeded').length === 3);
    await new Promise((r) => { setTimeout(r, 5500); }); // its events' refresh comes due while the first is held
    assert.equal(asked.length, 1, 'no second fetch while one is in flight');
    release();
    await page.getByRole('status').filter({ hasText: /^3 runs of 1 jobs/ }).waitFor();
    const answered = Date.now();
    await waitFor(async () => asked.length === 2 && open === 0); // the runs that went by while it was held
    assert.equal(most, 1);
    assert.ok(asked[1] - answered >= 4900, `fetched again ${asked[1] - answered} ms after the held answer`);
  } finally {
    release();
    await page.unroute('**/api/v1/timeline*');
    page.off('request', start).off('requestfinished', done).off('requestfailed', done);
  }
  await page.goto(`${server.url}/ui/timeline?window=week`);
  await page.getByLabel('Last result').selectOption('failure');
  await page.getByRole('status').filter({ hasText: /^4 runs of 1 jobs/ }).waitFor();
  assert.equal(new URL(page.url()).search, '?window=week&result=failure');
  await page.goto(`${server.url}/ui/timeline`);
  await page.getByRole('status').filter({ hasText: /runs of/ }).waitFor();
  await screenshot(page, 'timeline');
});

test('the calendar shows the next week of fires, a busy hour and a clock change standing out; the graph as a list', async () => {
  await page.goto(`${server.url}/ui/calendar`);
  const cal = page.getByRole('table', { name: 'Fires by day and hour' });
  await cal.waitFor();
  assert.equal(await cal.locator('thead th').count(), 8);
  // 02:00 in the viewer's zone (Europe/Paris) is 01:00 UTC: hourly fires there; 02:00 Paris gets nightly, backup,
  // vacuum (at 02:00 UTC = 03:00 Paris) ... so look for the hour with 4 jobs instead of guessing the offset
  const busy = cal.locator('td.busy');
  assert.ok(await busy.count() >= 6, 'a busy hour every day');
  assert.match(await busy.first().getAttribute('title'), /backup at \d\d:00\nhourly at \d\d:00\nnightly/);
  // 24 hourly fires a day, none counted twice: the last day ends at midnight
  const last = await cal.locator('tbody tr').first().locator('td').last().getAttribute('data-fires');
  assert.equal(last, '1');
  await page.getByRole('status').filter({ hasText: /fires of 4 jobs in these 7 days; \d+ busy hours/ }).waitFor();
  await screenshot(page, 'calendar');
  await page.goto(`${server.url}/ui/calendar?name=nightly`);
  await page.getByRole('status').filter({ hasText: /^[67] fires of 1 jobs in these 7 days\.$/ }).waitFor();
  assert.equal(await cal.locator('td.busy').count(), 0);
  // a week ahead: the spring's clock change in the viewer's zone (Europe/Paris: Sunday 28 March 2027) is marked,
  // and that day's 02:00 does not exist: the hourly job fires 23 times
  await page.goto(`${server.url}/ui/calendar?start=2027-03-25&name=hourly`);
  await page.getByRole('heading', { name: '7 days from Thu 25 Mar', level: 1 }).waitFor();
  await page.getByRole('status').filter({ hasText: /clocks go forward 1 h this week\.$/ }).waitFor();
  const dst = cal.locator('thead th.dst');
  assert.equal(await dst.count(), 1);
  assert.match(await dst.textContent(), /^Sun 28 Mar · clocks go forward 1 h$/);
  const sunday = await cal.locator('tbody tr').evaluateAll((rows) => rows.map((r) => r.children[4].dataset.fires || '0'));
  assert.equal(sunday.filter((n) => n === '1').length, 23);
  assert.equal(sunday[2], '0');
  // the graph's list view: each job with its parents and children
  await page.goto(`${server.url}/ui/graph?view=list`);
  const deps = page.getByRole('list', { name: 'Dependencies' });
  await deps.waitFor();
  assert.deepEqual(await deps.locator('li').evaluateAll((items) => items.map((li) => li.textContent)),
    ['backupthen report', 'nightlythen report', 'reportafter nightly, backup']);
  await deps.locator('li[data-job="report"]').getByRole('link', { name: 'nightly' }).click();
  await page.getByRole('heading', { name: 'nightly', level: 1 }).waitFor();
});

test('every page is usable at phone width without sideways scrolling', async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  const [run] = await runsOf('chatty');
  const pages = ['/ui/', '/ui/jobs', '/ui/jobs/flaky', `/ui/runs/${encodeURIComponent(run.taskId)}`, '/ui/timeline',
    '/ui/calendar', '/ui/agents', '/ui/graph', '/ui/new'];
  for (const p of pages) {
    await page.goto(server.url + p);
    await page.locator('main h1').waitFor();
    await page.waitForLoadState('networkidle');
    assert.ok(await noSideways(), `${p} scrolls sideways at 390 px`);
  }
  await page.goto(`${server.url}/ui/jobs?sort=name`);
  const row = page.locator('tr[data-job="flaky"]');
  await row.locator('.strip a.cell').first().waitFor();
  for (const cls of ['col-name', 'col-result', 'col-strip', 'col-state']) {
    const cell = row.locator(`.${cls}`);
    assert.ok(await cell.isVisible(), cls);
    const b = await cell.boundingBox();
    assert.ok(b.x + b.width <= 390, `${cls} ends at ${b.x + b.width}`);
  }
  assert.equal(await page.getByRole('search', { name: 'Filter jobs' }).isVisible(), false, 'filters folded');
  await screenshot(page, 'strips-phone');
  await page.goto(`${server.url}/ui/jobs/flaky`);
  await page.getByRole('region', { name: 'Last runs' }).locator('a.cell').first().waitFor();
  await screenshot(page, 'job-phone');
  await page.goto(`${server.url}/ui/timeline`);
  await page.getByRole('status').filter({ hasText: /runs of/ }).waitFor();
  await screenshot(page, 'timeline-phone');
  await page.setViewportSize({ width: 1280, height: 860 });
  assert.deepEqual(browser.errors, []);
});
