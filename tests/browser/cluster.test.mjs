// The Cluster page (ui/js/pages/cluster.js) in headless Chromium against real servers: a standalone server's
// clear standalone view (its address, a server string, shown as text); then two servers on a real three-node
// ZooKeeper ensemble (tests/integration/zk_harness.py serve): the page on the follower shows both instances,
// which one leads and which one is this, ZooKeeper's health; the leader killed (-9), the page, refreshing on its
// own, shows this server leading alone with a higher epoch; the ensemble's quorum lost, it says the instances
// are no longer current. Everything started is stopped in after(), failed or not.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { TIMEOUT, launchBrowser, screenshot, startEnsemble, startGnomon } from './harness.mjs';

const ZK_TIMEOUT_MS = 3000;
const started = []; // stopped in reverse order: the servers before the ensemble they use
let browser;
let page;

before(async () => {
  browser = await launchBrowser();
  page = browser.page;
});

after(async () => {
  const errors = [];
  if (browser) await browser.close();
  for (const s of started.reverse()) {
    try {
      await s.stop();
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length) throw errors[0];
});

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// Poll fn until it returns something truthy, or fail after TIMEOUT saying what was awaited.
async function until(fn, what) {
  const deadline = Date.now() + TIMEOUT;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await delay(100);
  }
}

const view = async (srv) => (await srv.api('GET', '/api/v1/cluster')).body;
// The <dd> after the <dt> term in the facts list labelled label.
const fact = (label, term) => page.locator(`dl[aria-label="${label}"] dt`).filter({ hasText: new RegExp(`^${term}$`) })
  .locator('xpath=following-sibling::dd[1]');
const instanceRow = (address) => page.locator(`#instances tbody tr[data-instance="${address}"]`);

test('a standalone server: the standalone view, itself the one instance', async () => {
  const address = '<em>gnomon<em>&amp;:4400'; // a server string: shown as text, never as markup
  const srv = await startGnomon({ args: ['--advertise-address', address] });
  started.push(srv);
  await page.goto(`${srv.url}/ui/`);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Cluster' }).click();
  await page.getByRole('heading', { name: 'Cluster', level: 1 }).waitFor();
  assert.equal(page.url(), `${srv.url}/ui/cluster`);
  assert.equal(await page.getByRole('link', { name: 'Cluster' }).getAttribute('aria-current'), 'page');
  await page.locator('#standalone').filter({ hasText: /^Standalone: this server runs alone/ }).waitFor();
  assert.equal(await fact('This server', 'Mode').textContent(), 'standalone');
  assert.equal(await fact('This server', 'Role').textContent(), 'standalone');
  assert.equal(await page.locator('#cluster-leader').textContent(), address);
  const rows = page.locator('#instances tbody tr');
  assert.equal(await rows.count(), 1);
  const row = instanceRow(address);
  assert.equal(await row.locator('th a').textContent(), address);
  assert.equal(await row.locator('em').count(), 0, 'the address is text');
  assert.match(await row.locator('th').textContent(), /\(this server\)$/);
  assert.equal(await row.locator('.instance-role').textContent(), 'leader');
  await page.getByRole('region', { name: 'ZooKeeper' }).filter({ hasText: 'Not used' }).waitFor();
  await page.getByRole('region', { name: 'PostgreSQL' }).filter({ hasText: 'Not used' }).waitFor();
  assert.equal(await page.locator('#instances-stale').count(), 0);
  assert.deepEqual(browser.errors, []);
});

test('two servers on ZooKeeper: both instances and the leader, then the new leader after a kill -9', async () => {
  const zk = await startEnsemble(3);
  started.push(zk);
  const args = ['--zk-hosts', zk.hosts, '--zk-path', '/gnomon-browser', '--zk-timeout', String(ZK_TIMEOUT_MS)];
  const a = await startGnomon({ args });
  started.push(a);
  const b = await startGnomon({ args });
  started.push(b);
  const addr = (s) => `127.0.0.1:${s.port}`;
  await until(async () => {
    const [va, vb] = [await view(a), await view(b)];
    return va.leader && va.leader === vb.leader && [va, vb].every((v) => v.instancesCurrent && v.instances.length === 2);
  }, 'one leader and both instances, on both servers');
  const leaderAddr = (await view(a)).leader;
  const [leader, follower] = leaderAddr === addr(a) ? [a, b] : [b, a];
  const epoch = (await view(leader)).epoch;
  await until(async () => (await view(follower)).zookeeper.epochCounter === epoch, "the leader's epoch read by the follower");

  await page.goto(`${follower.url}/ui/cluster`);
  await instanceRow(leaderAddr).locator('.instance-role').filter({ hasText: /^leader$/ }).waitFor();
  const me = instanceRow(addr(follower));
  assert.equal(await me.locator('.instance-role').textContent(), 'follower');
  assert.match(await me.locator('th').textContent(), /\(this server\)$/);
  assert.doesNotMatch(await instanceRow(leaderAddr).locator('th').textContent(), /this server/);
  assert.deepEqual(await page.locator('#instances tbody tr').evaluateAll((trs) => trs.map((t) => t.dataset.instance)),
    [leaderAddr, addr(follower)], 'in election order: the leader first');
  assert.equal(await page.locator('#cluster-leader').textContent(), leaderAddr);
  assert.equal(await page.locator('#cluster-epoch').textContent(), String(epoch), "the leader's epoch");
  assert.equal(await fact('This server', 'Mode').textContent(), 'high availability (ZooKeeper election)');
  assert.equal(await fact('This server', 'Role').textContent(), 'follower');
  assert.equal(await fact('ZooKeeper', 'State').textContent(), 'connected');
  assert.equal(await fact('ZooKeeper', 'Hosts').textContent(), zk.hosts);
  assert.equal(await fact('ZooKeeper', 'Path').textContent(), '/gnomon-browser');
  assert.match(await fact('ZooKeeper', 'Session').textContent(), /^0x[0-9a-f]+$/);
  await page.getByRole('region', { name: 'PostgreSQL' }).filter({ hasText: 'Not used' }).waitFor();
  assert.equal(await page.locator('#standalone').count(), 0);
  await screenshot(page, 'cluster');

  // The leader killed: once its session expires, the page (no reload) shows this server leading alone.
  await leader.kill();
  await page.locator('#cluster-leader').filter({ hasText: addr(follower) }).waitFor();
  await page.locator('#instances tbody tr').nth(1).waitFor({ state: 'detached' });
  await me.locator('.instance-role').filter({ hasText: /^leader$/ }).waitFor();
  await fact('This server', 'Role').filter({ hasText: /^leader$/ }).waitFor();
  assert.ok(Number(await page.locator('#cluster-epoch').textContent()) > epoch, 'a higher epoch');
  await fact('This server', 'Last role change').filter({ hasText: /^elected/ }).waitFor();

  // The quorum lost: the list shown is the last one read, and the page says so.
  await zk.kill(0);
  await zk.kill(1);
  await page.locator('#instances-stale').filter({ hasText: /^ZooKeeper is out of reach: this list is the one read at / })
    .waitFor();
  assert.notEqual(await fact('ZooKeeper', 'State').textContent(), 'connected');
  assert.equal(await page.locator('#instances tbody tr').count(), 1);
  assert.deepEqual(browser.errors, []);
});
