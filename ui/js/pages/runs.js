// Tables of runs, shared by the overview and the job page.
import { badge, durationText, h, jobHref, runHref, timeEl } from '../dom.js';

const COLUMNS = {
  job: ['Job', (r) => h('a', { href: jobHref(r.job), text: r.job })],
  run: ['Run', (r) => h('a', { href: runHref(r.taskId), text: r.taskId, class: 'mono' })],
  status: ['Status', (r) => badge(r.status, r.reason || null)],
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

export function runRow(run, columns) {
  return h('tr', { 'data-task': run.taskId }, columns.map((c, i) =>
    h(i ? 'td' : 'th', { scope: i ? null : 'row' }, COLUMNS[c][1](run))));
}

// A table of runs with the given columns (keys of COLUMNS); returns {el, tbody}.
export function runTable(label, runs, columns, empty = 'None.') {
  const tbody = h('tbody', {}, runs.map((r) => runRow(r, columns)));
  if (!runs.length) tbody.append(h('tr', {}, h('td', { colspan: columns.length, class: 'muted', text: empty })));
  const el = h('div', { class: 'table-wrap' }, h('table', { 'aria-label': label },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', text: COLUMNS[c][0] })))), tbody));
  return { el, tbody };
}
