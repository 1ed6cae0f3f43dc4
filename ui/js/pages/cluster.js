// Cluster: this server's view of the cluster (GET /api/v1/cluster): the mode, the instances in election order
// (which one leads, which one is this server), the epoch, this server's role and its last change, ZooKeeper's
// and PostgreSQL's health. Refetched every few seconds (none of it comes through the event stream), and redrawn
// only when something changed.
import { clusterView } from '../api.js';
import { durationText, errorBox, fill, h, timeEl } from '../dom.js';

const REFRESH_MS = 2000;

// What PostgreSQL's health says, in the order shown; other fields the server adds are shown after them.
const PG_FIELDS = [
  ['connected', 'Connected'], ['lastError', 'Last error'], ['writesRefused', 'Writes refused'],
  ['fenced', 'Fenced (a newer leader wrote)'], ['lastLoad', 'Last load'], ['schemaVersion', 'Schema version'],
  ['connections', 'Connections made'], ['inFlight', 'Requests in flight'],
];

const yesNo = (v) => (v ? 'yes' : 'no');

// A badge whose colour says good, neutral, warning or bad.
function tone(word, kind) {
  return h('span', { class: `badge b-${kind}`, text: word });
}

function roleBadge(role) {
  const kind = { leader: 'good', follower: 'neutral', standalone: 'good' }[role] || 'warn';
  return tone(role, kind);
}

function facts(label, rows) {
  return h('dl', { class: 'facts', 'aria-label': label },
    rows.map(([term, ...dd]) => [h('dt', { text: term }), h('dd', {}, dd)]));
}

function section(title, ...body) {
  return h('section', { 'aria-label': title }, h('h2', { text: title }), body);
}

// The instances' table; each address links to that instance's own cluster page.
function instancesTable(c) {
  const rows = c.instances.map((i) => h('tr', { 'data-instance': i.address || i.node, class: i.self ? 'self' : null },
    h('th', { scope: 'row' },
      i.address ? h('a', { href: `${location.protocol}//${i.address}/ui/cluster`, class: 'mono', text: i.address })
        : h('span', { class: 'muted', text: 'address unreadable' }),
      i.self ? h('span', { class: 'muted small', text: ' (this server)' }) : null),
    h('td', { class: 'instance-role' }, roleBadge(i.role)),
    h('td', { class: 'mono small', text: i.node || '—' })));
  const tbody = h('tbody', {}, rows);
  if (!rows.length) tbody.append(h('tr', {}, h('td', { colspan: 3, class: 'muted', text: 'No instances known.' })));
  return h('div', { class: 'table-wrap' }, h('table', { id: 'instances', 'aria-label': 'Instances' },
    h('thead', {}, h('tr', {}, ['Instance', 'Role', 'Election node'].map((t) => h('th', { scope: 'col', text: t })))),
    tbody));
}

// Said when the list is not what ZooKeeper holds now.
function staleNotice(c) {
  if (c.instancesCurrent) return null;
  return h('p', { class: 'warn-box', role: 'status', id: 'instances-stale' },
    c.instancesReadAt ? ['ZooKeeper is out of reach: this list is the one read at ', timeEl(c.instancesReadAt),
      ' and may be out of date.'] : 'ZooKeeper is out of reach: the instances are unknown until it answers.');
}

function lastChange(ch) {
  if (!ch || !ch.what) return '—';
  return [h('strong', { text: ch.what }), ch.why ? ` (${ch.why})` : '', ch.at ? [', ', timeEl(ch.at)] : ''];
}

// This server's epoch when it leads (or standalone); a follower's is the leader's, as ZooKeeper's counter holds it.
function epoch(c) {
  if (c.leading || !c.zookeeper) return h('span', { id: 'cluster-epoch', text: String(c.epoch) });
  return [h('span', { id: 'cluster-epoch', text: String(c.zookeeper.epochCounter) }),
    h('span', { class: 'muted small', text: ' (the leader\'s, from ZooKeeper)' })];
}

function summary(c) {
  const ha = c.mode === 'ha';
  return facts('This server', [
    ['Mode', ha ? 'high availability (ZooKeeper election)' : 'standalone'],
    ['This server', h('span', { class: 'mono', text: c.self })],
    ['Role', roleBadge(c.role), c.suspended ? [' ', tone('suspended', 'warn')] : null],
    ['Leader', c.leader ? h('span', { class: 'mono', id: 'cluster-leader', text: c.leader })
      : tone('none known', 'bad')],
    ['Epoch', epoch(c)],
    ['Last role change', lastChange(c.lastRoleChange)],
  ]);
}

function zookeeper(z) {
  if (!z) return h('p', { class: 'muted', text: 'Not used: a standalone server elects nobody (--zk-hosts joins a cluster).' });
  return facts('ZooKeeper', [
    ['State', tone(z.state, z.connected ? 'good' : 'bad')],
    ['Connected', yesNo(z.connected)],
    ['Session', z.sessionId ? h('span', { class: 'mono', text: z.sessionId }) : '—',
      z.sessions > 1 ? h('span', { class: 'muted small', text: ` (session ${z.sessions} of this process)` }) : null],
    ['Session timeout', durationText(z.sessionTimeoutMs)],
    ['Hosts', h('span', { class: 'mono', text: z.hosts })],
    ['Path', h('span', { class: 'mono', text: z.path })],
    ['Last change', timeEl(z.lastChange)],
    ['Epoch counter', String(z.epochCounter)],
    ['This server\'s last term', z.epoch ? `epoch ${z.epoch}` : '—'],
    ['Last demotion', z.lastDemotion || '—'],
  ]);
}

function pgValue(key, v) {
  if (v === null || v === undefined) return '—';
  if (key === 'connected') return tone(yesNo(v), v ? 'good' : 'bad');
  if (key === 'writesRefused' || key === 'fenced') return v ? tone('yes', 'bad') : 'no';
  if (key === 'lastLoad') return timeEl(v);
  if (typeof v === 'boolean') return yesNo(v);
  return typeof v === 'object' ? h('code', { text: JSON.stringify(v) }) : String(v);
}

function postgres(p) {
  if (!p) return h('p', { class: 'muted', text: 'Not used: this server keeps its state in SQLite in its data dir.' });
  const known = new Set(PG_FIELDS.map(([k]) => k));
  const rows = PG_FIELDS.filter(([k]) => k in p).map(([k, label]) => [label, pgValue(k, p[k])]);
  for (const [k, v] of Object.entries(p)) if (!known.has(k)) rows.push([k, pgValue(k, v)]);
  return facts('PostgreSQL', rows);
}

function render(c) {
  const ha = c.mode === 'ha';
  return [
    ha ? null : h('p', { class: 'notice', id: 'standalone' }, h('strong', { text: 'Standalone' }),
      ': this server runs alone and schedules with its own state; there is no election and no other instance.'),
    summary(c),
    section('Instances', ha ? h('p', { class: 'muted small', text: 'In election order: the first leads, the next takes over when it goes.' }) : null,
      staleNotice(c), instancesTable(c)),
    h('div', { class: 'grid' }, section('ZooKeeper', zookeeper(c.zookeeper)), section('PostgreSQL', postgres(c.postgres))),
  ];
}

export async function clusterPage(main, _params, { signal }) {
  document.title = 'Cluster · gnomon';
  const body = h('div');
  fill(main, h('h1', { text: 'Cluster' }), body);

  let shown = null;
  async function load() {
    let c;
    try {
      c = await clusterView(signal);
    } catch (err) {
      if (err.name !== 'AbortError') fill(body, errorBox(err));
      shown = null;
      return;
    }
    const text = JSON.stringify(c);
    if (text === shown) return; // nothing changed: keep the page (and the keyboard focus in it)
    shown = text;
    fill(body, render(c));
  }
  const timer = setInterval(load, REFRESH_MS);
  signal.addEventListener('abort', () => clearInterval(timer));
  await load();
}
