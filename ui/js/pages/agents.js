// Agents: the fleet (GET /api/v1/agents) with each one's state, resources used of total, running tasks, when
// last heard and attributes; Drain/Undrain buttons. Refetched every few seconds (an agent's "last heard" and
// resources change without events) and a moment after run events or an agent.lost.
import { drainAgent, listAgents } from '../api.js';
import { onEvent, onReload } from '../events.js';
import { badge, errorBox, fill, h, runHref, throttle } from '../dom.js';
import { parseTaskId, runName, taskIdButton } from './runs.js';

const REFRESH_MS = 5000;

// "3 s ago" from the server's silentMs (its own clock, not the browser's).
export function agoText(ms) {
  const s = Math.floor(ms / 1000);
  if (ms == null || ms < 0) return '—';
  if (s < 1) return 'now';
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.floor(s / 60)} min ago`;
  if (s < 172800) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} d ago`;
}

// A task as people name it (its job, slot time and try), its task id one click away.
function taskLink(id) {
  const t = parseTaskId(id);
  return [h('a', { href: runHref(id), text: t ? `${t.job} · ${runName(t)}` : id, class: t ? null : 'mono' }), ' ',
    taskIdButton(id)];
}

function amount(used, total, resource) {
  if (resource === 'cpus') return `${+used.toFixed(1)} / ${+total.toFixed(1)}`;
  let unit = 'MiB';
  for (const u of ['GiB', 'TiB']) {
    if (total < 10 * 1024) break;
    total /= 1024;
    used /= 1024;
    unit = u;
  }
  return `${+used.toFixed(1)} / ${+total.toFixed(1)} ${unit}`;
}

// A bar of used over total, with the numbers beside it.
function resourceCell(a, resource) {
  const used = (a.used && a.used[resource]) || 0;
  const total = (a.resources && a.resources[resource]) || 0;
  const text = amount(used, total, resource);
  return h('div', { class: 'res' },
    h('meter', { min: 0, max: total || 1, value: used, 'aria-label': `${resource} used: ${text}`, title: text }),
    h('span', { class: 'small', text }));
}

function stateBadge(state) {
  return h('span', { class: `badge b-agent-${state}`, text: state });
}

function agentRow(a, onToggle) {
  const draining = a.state === 'draining';
  const button = h('button', { type: 'button', class: draining ? 'needs-admin' : 'danger needs-admin', text: draining ? 'Undrain' : 'Drain',
    disabled: a.state === 'lost', 'aria-label': `${draining ? 'Undrain' : 'Drain'} ${a.name}`,
    onclick: () => onToggle(a, !draining, button) });
  const attrs = Object.entries(a.attributes || {});
  return h('tr', { 'data-agent': a.name },
    h('th', { scope: 'row' }, h('span', { class: 'agent-name', text: a.name }),
      a.embedded ? h('span', { class: 'muted small', text: ' (embedded)' }) : null),
    h('td', { class: 'agent-state' }, stateBadge(a.state)),
    h('td', { text: a.hostname }),
    h('td', {}, resourceCell(a, 'cpus')), h('td', {}, resourceCell(a, 'mem')), h('td', {}, resourceCell(a, 'disk')),
    h('td', { class: 'agent-running' }, String(a.running),
      a.tasks && a.tasks.length ? h('details', { class: 'small' }, h('summary', { text: 'tasks' }),
        h('ul', { class: 'tasks' }, a.tasks.map((id) => h('li', {}, taskLink(id)))))
        : null),
    h('td', { text: agoText(a.silentMs), title: a.lastHeardMs ? new Date(a.lastHeardMs).toISOString() : null }),
    h('td', {}, attrs.length ? attrs.map(([k, v]) => h('code', { class: 'attr', text: `${k}=${v}` })) : '—'),
    h('td', {}, button));
}

export async function agentsPage(main, _params, { signal }) {
  document.title = 'Agents · gnomon';
  const status = h('p', { class: 'muted small', role: 'status' });
  const body = h('div');
  fill(main, h('h1', { text: 'Agents' }), status, body);

  async function toggle(a, drain, button) {
    button.disabled = true;
    try {
      await drainAgent(a.id, drain);
      status.textContent = `${a.name}: ${drain ? 'draining, no new tasks' : 'taking tasks again'}`;
    } catch (err) {
      status.textContent = err.message;
    }
    await load();
  }

  let shown = null;
  async function load() {
    let agents;
    try {
      agents = await listAgents(signal);
    } catch (err) {
      if (err.name !== 'AbortError') fill(body, errorBox(err));
      shown = null;
      return;
    }
    const text = JSON.stringify(agents);
    if (text === shown) return; // nothing changed: keep the table (and the keyboard focus in it)
    shown = text;
    const focused = document.activeElement && document.activeElement.closest('tr[data-agent]');
    const heads = ['Agent', 'State', 'Host', 'CPUs', 'Memory', 'Disk', 'Running', 'Last heard', 'Attributes', ''];
    const tbody = h('tbody', {}, agents.map((a) => agentRow(a, toggle)));
    if (!agents.length) tbody.append(h('tr', {}, h('td', { colspan: heads.length, class: 'muted', text: 'No agents.' })));
    fill(body, h('div', { class: 'table-wrap' }, h('table', { id: 'agents', 'aria-label': 'Agents' },
      h('thead', {}, h('tr', {}, heads.map((t) => h('th', { scope: 'col', text: t })))), tbody)));
    if (focused) { // the same agent's button again, for keyboard users
      const again = tbody.querySelector(`tr[data-agent="${CSS.escape(focused.dataset.agent)}"] button`);
      if (again) again.focus();
    }
  }
  const refresh = throttle(load, 1000);
  onEvent((ev) => { if (ev.type === 'agent.lost' || ev.run) refresh(); }, signal);
  onReload(load, signal);
  const timer = setInterval(load, REFRESH_MS);
  signal.addEventListener('abort', () => { clearInterval(timer); refresh.cancel(); });
  await load();
}
