// The browser tests' runner: starts the real gnomon binary ($GNOMON_BIN, as ctest passes it) on a free loopback
// port with a fresh data dir, and Debian's Chromium (headless, fresh profile) through playwright-core; both are
// stopped by the tests' after() hooks, and the server also when this process exits or dies. startEnsemble() runs
// a real ZooKeeper ensemble through tests/integration/zk_harness.py, stopped the same ways.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const BIN = process.env.GNOMON_BIN || path.join(here, '../../build/gnomon');
// Where screenshot() writes: $GNOMON_SCREENSHOTS (ctest passes a folder of the build directory, `make screenshots`
// docs/screenshots), else build/screenshots. Never the source tree by default: a test run leaves it as it was.
export const SCREENSHOTS = process.env.GNOMON_SCREENSHOTS || path.join(here, '../../build/screenshots');
const START_TIMEOUT = Number(process.env.GNOMON_TEST_START_TIMEOUT || 120) * 1000;
// Generous: waits end as soon as what they wait for is there, and the ASan build is several times slower.
export const TIMEOUT = Number(process.env.GNOMON_BROWSER_TIMEOUT || 60) * 1000;
const SANITIZER = /ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/;
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--no-first-run'];

const children = new Set();
process.on('exit', () => { for (const c of children) c.kill('SIGKILL'); });

function tryPort(port) {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', (e) => (port ? resolve(0) : reject(e)));
    s.listen(port, '127.0.0.1', () => {
      const got = s.address().port;
      s.close(() => resolve(got));
    });
  });
}

// A loopback port that was free a moment ago, below the kernel's ephemeral range (as tests/support/free_port.py:
// a server started again on its port must not find it taken by some outgoing connection's local end).
export async function freePort() {
  let high = 32768;
  try {
    high = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0]) || high;
  } catch { /* not Linux: the default */ }
  const low = 10000;
  for (let i = 0; high - low >= 1000 && i < 100; i++) {
    const got = await tryPort(low + Math.floor(Math.random() * (high - low)));
    if (got) return got;
  }
  return tryPort(0);
}

const delay = (ms) => new Promise((r) => setTimeout(r, ms));

// An HA server's local agent (a gnomon-agent process of its own, src/server/server_agent.h) outlives its server by
// design: stopped here (SIGTERM, SIGKILL after 10 s) before the server's directory goes. Its pid is in its lock.
async function stopLocalAgent(dataDir) {
  const agentDir = path.join(dataDir, 'agent');
  let pid;
  try {
    pid = parseInt(fs.readFileSync(path.join(agentDir, 'agent.lock'), 'utf8'), 10);
    if (!fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').includes(agentDir)) return;
  } catch {
    return; // none runs
  }
  const alive = () => {
    try {
      return !/^\S+ \(.*\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
    } catch {
      return false;
    }
  };
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + 10000;
  while (alive() && Date.now() < deadline) await delay(20);
  if (alive()) process.kill(pid, 'SIGKILL');
}

// A gnomon server on a fresh data dir (or on dataDir, which it leaves in place), with extra server args;
// prepare(dataDir), if given, runs before it starts.
export async function startGnomon({ prepare, dataDir: given, args = [] } = {}) {
  if (!fs.existsSync(BIN)) throw new Error(`GNOMON_BIN is not a gnomon binary: ${BIN}`);
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'gnomon-browser-'));
  const dataDir = given || path.join(root, 'data');
  if (prepare) await prepare(dataDir);
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const log = path.join(root, 'server.log');
  const out = fs.openSync(log, 'w');
  const child = spawnTied([BIN, 'server', '--http-port', String(port), '--data-dir', dataDir, ...args],
    ['ignore', out, out]);
  fs.closeSync(out);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const deadline = Date.now() + START_TIMEOUT;
  // A start that failed: its log in the error, its directory removed (a data dir the caller gave is elsewhere).
  const failed = async (what) => {
    child.kill('SIGKILL');
    await exited;
    children.delete(child);
    const text = fs.readFileSync(log, 'utf8');
    fs.rmSync(root, { recursive: true, force: true });
    return new Error(`${what}:\n${text}`);
  };
  for (;;) {
    if (child.exitCode !== null) throw await failed('gnomon exited at start');
    try {
      if ((await fetch(`${url}/ping`)).ok) break;
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) throw await failed(`gnomon did not answer /ping within ${START_TIMEOUT} ms`);
    await delay(50);
  }

  let ended = false; // stopped or killed: stop() and kill() again do nothing
  async function stop() {
    if (ended) return;
    ended = true;
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const t = setTimeout(() => child.kill('SIGKILL'), 20000);
      await exited;
      clearTimeout(t);
    }
    children.delete(child);
    await stopLocalAgent(dataDir);
    const text = fs.readFileSync(log, 'utf8');
    fs.rmSync(root, { recursive: true, force: true });
    const bad = text.split('\n').filter((l) => SANITIZER.test(l));
    if (bad.length) throw new Error(`sanitizer report in gnomon's log:\n${text}`);
    const { code, signal } = await exited;
    if (code !== 0) throw new Error(`gnomon stopped with ${signal || `status ${code}`}:\n${text.slice(-4000)}`);
  }

  // SIGKILL (no chance to clean up, as a machine's death): its log is still checked for sanitizer reports.
  async function kill() {
    if (ended) return;
    ended = true;
    child.kill('SIGKILL');
    await exited;
    children.delete(child);
    await stopLocalAgent(dataDir); // the test is done with it: its directory goes
    const text = fs.readFileSync(log, 'utf8');
    fs.rmSync(root, { recursive: true, force: true });
    if (text.split('\n').some((l) => SANITIZER.test(l))) throw new Error(`sanitizer report in gnomon's log:\n${text}`);
  }

  // One API call: {status, body} with body parsed when it is JSON.
  async function api(method, p, body) {
    const res = await fetch(url + p, { method, body: body === undefined ? undefined : JSON.stringify(body),
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' } });
    const text = await res.text();
    let parsed = text;
    try { parsed = JSON.parse(text); } catch { /* text */ }
    return { status: res.status, body: parsed };
  }

  return { url, port, dataDir, root, stop, kill, api };
}

// Spawn argv with stdio; it gets SIGKILL if this process dies without running its exit handler (setpriv), and
// this process's exit handler kills it.
function spawnTied(argv, stdio) {
  const setpriv = '/usr/bin/setpriv';
  const child = fs.existsSync(setpriv) ? spawn(setpriv, ['--pdeathsig', 'KILL', '--', ...argv], { stdio })
    : spawn(argv[0], argv.slice(1), { stdio });
  children.add(child);
  return child;
}

// A real ZooKeeper ensemble of n nodes on loopback (zk_harness.py serve: its JVMs die with it):
// {hosts, kill(i), start(i), stop()}. stop() ends it (its stdin closed) and waits for it.
export async function startEnsemble(n = 3) {
  const script = path.join(here, '../integration/zk_harness.py');
  const child = spawnTied(['python3', script, 'serve', String(n)], ['pipe', 'pipe', 'inherit']);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const lines = [];
  let waiter = null;
  let buffered = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk) => {
    buffered += chunk;
    let nl;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      lines.push(JSON.parse(buffered.slice(0, nl)));
      buffered = buffered.slice(nl + 1);
    }
    if (waiter && lines.length) waiter();
  });
  async function next() {
    const deadline = Date.now() + START_TIMEOUT;
    while (!lines.length) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error('zk_harness.py serve exited');
      if (Date.now() > deadline) throw new Error(`zk_harness.py serve did not answer within ${START_TIMEOUT} ms`);
      await Promise.race([new Promise((r) => { waiter = r; }), delay(200)]);
      waiter = null;
    }
    return lines.shift();
  }
  async function command(word, i) {
    child.stdin.write(`${word} ${i}\n`);
    const answer = await next();
    if (answer[word] !== i) throw new Error(`zk_harness.py serve: ${JSON.stringify(answer)}`);
  }
  async function stop() {
    if (child.exitCode === null && child.signalCode === null) {
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 30000);
      await exited;
      clearTimeout(t);
    }
    children.delete(child);
  }
  let hosts;
  try {
    ({ hosts } = await next());
  } catch (err) {
    await stop();
    throw err;
  }
  return { hosts, kill: (i) => command('kill', i), start: (i) => command('start', i), stop };
}

// Headless Chromium with a fresh profile, and extra command-line args; times shown in Europe/Paris so the UTC
// hover differs.
export async function launchBrowser({ width = 1280, height = 860, args = [] } = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'gnomon-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium', headless: true, args: [...CHROMIUM_ARGS, ...args],
    viewport: { width, height }, timezoneId: 'Europe/Paris', locale: 'en-GB',
  });
  context.setDefaultTimeout(TIMEOUT);
  const page = context.pages()[0] || await context.newPage();
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    context, page, errors,
    async close() {
      await context.close();
      fs.rmSync(profile, { recursive: true, force: true });
    },
  };
}

// The page as a PNG in SCREENSHOTS; `make screenshots` points it at docs/screenshots, the README's pictures.
export async function screenshot(page, name) {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

// Run a Python snippet (the tests' helper language, as in tests/integration) with args.
export function python(code, ...args) {
  const r = spawnSync('python3', ['-c', code, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python3 failed: ${r.stderr}`);
  return r.stdout;
}
