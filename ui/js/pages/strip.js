// Outcome strips: a job's last runs as coloured cells, oldest on the left, each linking to its run with its time,
// duration and (for a failure) why on hover. A failure streak reads from across the room.
import { durationText, h, runHref } from '../dom.js';
import { runName } from './runs.js';

const CLASS = { succeeded: 'ok', failed: 'bad', lost: 'bad', killed: 'killed', skipped: 'skip', running: 'run',
  starting: 'run', queued: 'wait', waiting: 'wait' };

function cellTitle(r, tries) {
  const lines = [`${runName(r, tries)}: ${r.status}`];
  if (r.durationMs != null) lines.push(`took ${durationText(r.durationMs)}`);
  if (r.reason) lines.push(r.reason);
  if (r.stderrLast) lines.push(`stderr: ${r.stderrLast}`);
  return lines.join('\n');
}

// runs: newest first, as the API lists them; n: how many cells the strip holds (empty ones pad the left).
export function outcomeStrip(runs, { n = runs.length, tries = null, label = 'Last runs' } = {}) {
  const shown = runs.slice(0, n).reverse();
  const el = h('div', { class: 'strip', role: 'list', 'aria-label': `${label}: ${summary(shown)}` });
  for (let i = shown.length; i < n; i++) el.append(h('span', { class: 'cell c-none', 'aria-hidden': 'true' }));
  for (const r of shown) {
    el.append(h('a', { class: `cell c-${CLASS[r.status] || 'none'}`, role: 'listitem', href: runHref(r.taskId),
      title: cellTitle(r, tries), 'aria-label': `${runName(r, tries)}: ${r.status}`, 'data-status': r.status }));
  }
  return el;
}

function summary(runs) {
  if (!runs.length) return 'no runs yet';
  const counts = {};
  for (const r of runs) counts[r.status] = (counts[r.status] || 0) + 1;
  return Object.entries(counts).map(([s, c]) => `${c} ${s}`).join(', ');
}
