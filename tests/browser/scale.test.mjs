// The jobs page with 100,000 jobs: the listing is paged, sorted and filtered on the server, so the browser only
// ever gets one page of rows. How fast that first page shows is a figure, not a test: bench/ui-jobs prints it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { launchBrowser } from './harness.mjs';
import { firstRowMs, startWithJobs } from './many_jobs.mjs';

const N = 100000;
const PAGE = 50;

let server;
let browser;

before(async () => {
  server = await startWithJobs(N);
  browser = await launchBrowser();
});

after(async () => {
  if (browser) await browser.close();
  if (server) await server.stop();
});

test(`the jobs page shows one page of ${N.toLocaleString('en')} jobs, sorted, offset and filtered`, async (t) => {
  const { page } = browser;
  // The size of every listing the browser fetches, read as it arrives (a body is gone once the page navigates).
  const listed = [];
  page.on('response', (res) => {
    if (new URL(res.url()).pathname === '/api/v1/jobs')
      listed.push(res.json().then((b) => [res.url(), b.jobs?.length], () => [res.url(), 'unread']));
  });
  for (const [path, first] of [
    ['/ui/jobs', 'job-000000'],
    ['/ui/jobs?sort=name&order=desc', 'job-099999'],
    ['/ui/jobs?offset=99950', 'job-099950'],
    ['/ui/jobs?owner=billing&sort=next', null],
  ]) {
    const ms = await firstRowMs(page, server.url + path);
    t.diagnostic(`${path}: first row after ${ms.toFixed(0)} ms (bench/ui-jobs measures this)`);
    if (first) assert.equal(await page.locator('#jobs tbody tr').first().getAttribute('data-job'), first);
    assert.ok(await page.locator('#jobs tbody tr[data-job]').count() <= PAGE, `${path}: more than a page shown`);
  }
  await page.getByRole('status').filter({ hasText: 'of 20,000 jobs' }).waitFor();
  await page.goto(`${server.url}/ui/jobs`);
  await page.getByRole('status').filter({ hasText: '1–50 of 100,000 jobs' }).waitFor();
  await page.getByRole('button', { name: 'Last page' }).click();
  await page.getByRole('status').filter({ hasText: '99,951–100,000 of 100,000 jobs' }).waitFor();
  // Every listing the browser fetched was one page, never the whole set.
  assert.ok(listed.length > 0);
  let read = 0;
  for (const [url, count] of await Promise.all(listed)) {
    if (count === 'unread') continue; // a listing superseded by a navigation before its body came
    read++;
    assert.ok(count <= PAGE, `${url}: ${count} jobs`);
  }
  assert.ok(read > 0, 'no listing was read');
  assert.deepEqual(browser.errors, []);
});
