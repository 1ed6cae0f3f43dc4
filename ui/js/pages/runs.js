// Runs as people name them (the slot's time in the viewer's zone and the try, the task id one click away), and
// tables of runs with the tries of one slot grouped under it: shared by the overview, the job and run pages.
import { badge, durationText, h, jobHref, runHref, timeEl } from '../dom.js';

const slotFmt = new Intl.DateTimeFormat(undefined, { month: 'short', day: 'numeric', hour: '2-digit',
  minute: '2-digit', second: '2-digit', hourCycle: 'h23' });

// "6 Dec, 17:15:11" for the run's slot (its due time; its start when it has none).
export function slotText(r) {
  const t = r.due || r.start;
  return t ? slotFmt.format(new Date(t)) : 'unscheduled';
}

// "try 2 of 3": attempt counts from 0; tries is the job's retries + 1 when known (given, or the run's own "tries",
// as the overview's runs in progress carry it).
export function tryText(r, tries) {
  const n = (r.attempt || 0) + 1;
  tries = tries || r.tries;
  return tries ? `try ${n} of ${Math.max(tries, n)}` : `try ${n}`;
}

export function runName(r, tries) {
  return `${slotText(r)} · ${tryText(r, tries)}`;
}

// A small button that shows the task id, selected and copied to the clipboard when it can be.
export function taskIdButton(taskId) {
  const out = h('input', { class: 'task-id mono', readonly: true, value: taskId, 'aria-label': 'Task id', hidden: true,
    size: Math.min(taskId.length, 40) });
  const btn = h('button', { type: 'button', class: 'tid', title: `Task id: ${taskId}`, 'aria-label': 'Show the task id',
    'aria-expanded': 'false', text: 'id', onclick: async () => {
      out.hidden = !out.hidden;
      btn.setAttribute('aria-expanded', String(!out.hidden));
      if (out.hidden) return;
      out.select();
      try {
        await navigator.clipboard.writeText(taskId);
        btn.title = 'Copied';
      } catch { /* not allowed here: the id is selected for the user to copy */ }
    } });
  return h('span', { class: 'run-id' }, btn, out);
}

// A run's name linking to its page, with its task id one click away.
export function runLink(r, tries) {
  return h('span', { class: 'run-name' }, h('a', { href: runHref(r.taskId), text: runName(r, tries),
    'data-task-id': r.taskId }), ' ', taskIdButton(r.taskId));
}

// Why a run failed, where it says: its reason and the last line of its stderr.
export function errorInPlace(r) {
  if (!['failed', 'lost', 'killed'].includes(r.status)) return null;
  return h('div', { class: 'why small' }, r.reason ? h('span', { class: 'reason', text: r.reason }) : null,
    r.stderrLast ? h('code', { class: 'stderr-last', title: 'The last line of its stderr', text: r.stderrLast }) : null);
}

const COLUMNS = {
  job: ['Job', (r) => h('a', { href: jobHref(r.job), text: r.job })],
  run: ['Run', (r, tries) => runLink(r, tries)],
  status: ['Status', (r) => [badge(r.status, r.reason || null), errorInPlace(r)]],
  trigger: ['Trigger', (r) => r.trigger],
  attempt: ['Attempt', (r) => String(r.attempt)],
  due: ['Due', (r) => timeEl(r.due)],
  start: ['Start', (r) => timeEl(r.start)],
  duration: ['Duration', (r) => durationText(r.durationMs)],
  exit: ['Exit', (r) => exitText(r)],
  agent: ['Agent', (r) => r.agent || (r.status === 'waiting' && r.reason
    ? h('span', { class: 'muted small', text: `waiting: ${r.reason}` }) : '—')],
  reason: ['Reason', (r) => [r.reason, skippedSlots(r)]],
};

// What a skipped record covers (its skippedSlots, skippedFrom and skippedTo fields; absent in records of 0.1,
// whose reason says it): " (3 slots, <from> to <to>)", or null.
export function skippedSlots(r) {
  if (!r.skippedSlots) return null;
  if (r.skippedSlots === 1) return h('span', { class: 'muted small skipped-slots' }, ' (1 slot, ', timeEl(r.skippedFrom), ')');
  return h('span', { class: 'muted small skipped-slots' },
    ` (${r.skippedSlots} slots, `, timeEl(r.skippedFrom), ' to ', timeEl(r.skippedTo), ')');
}

export function exitText(r) {
  if (r.signalName) return r.signalName;
  if (r.signal) return `signal ${r.signal}`;
  return r.exitCode == null || r.exitCode < 0 ? '—' : String(r.exitCode);
}

// The slot a run belongs to: its job and due time (the tries of one slot share them).
export const slotKey = (r) => `${r.job}\n${r.due || r.taskId}`;

// tries: the job's retries + 1 when known. earlier: a try of a slot listed above it (grouped under it).
export function runRow(run, columns, tries, earlier = false) {
  return h('tr', { 'data-task': run.taskId, 'data-slot': slotKey(run), class: earlier ? 'try-earlier' : null },
    columns.map((c, i) => h(i ? 'td' : 'th', { scope: i ? null : 'row', class: `col-${c}` }, COLUMNS[c][1](run, tries))));
}

// Rows of runs listed newest first: a slot's earlier tries follow its latest, marked as under it.
export function runRows(runs, columns, tries) {
  const seen = new Set();
  return runs.map((r) => {
    const key = slotKey(r);
    const earlier = seen.has(key);
    seen.add(key);
    return runRow(r, columns, tries, earlier);
  });
}

// A table of runs with the given columns (keys of COLUMNS); returns {el, tbody}.
export function runTable(label, runs, columns, empty = 'None.', tries = null) {
  const tbody = h('tbody', {}, runRows(runs, columns, tries));
  if (!runs.length) tbody.append(h('tr', {}, h('td', { colspan: columns.length, class: 'muted', text: empty })));
  const el = h('div', { class: 'table-wrap' }, h('table', { 'aria-label': label, class: 'runs' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: `col-${c}`, text: COLUMNS[c][0] })))), tbody));
  return { el, tbody };
}

// What a Chronos task id says ("ct:<due ms>:<attempt>:<job>:<arguments>"): {job, due, attempt}, or null.
export function parseTaskId(id) {
  const m = /^ct:(\d+):(\d+):([^:]*)/.exec(id || '');
  return m ? { job: m[3], due: new Date(Number(m[1])).toISOString(), attempt: Number(m[2]), taskId: id } : null;
}
