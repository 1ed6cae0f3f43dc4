// A run, named as people name it (its slot's time and its try), with its task id one click away; its details,
// why it failed, and its output in the log viewer, followed live while it goes on.
import { getJob, getRun, killJob } from '../api.js';
import { onEvent } from '../events.js';
import { badge, durationText, fill, h, jobHref, runHref, timeEl } from '../dom.js';
import { logViewer } from './logview.js';
import { errorInPlace, exitText, runName, skippedSlots, taskIdButton } from './runs.js';

const FINAL = ['succeeded', 'failed', 'killed', 'lost', 'skipped'];

// What the record says it wrote once it ended; while it runs, what the log viewer has received so far.
function outputText(r, live) {
  if (FINAL.includes(r.status) || !live) return `${r.stdoutBytes} bytes on stdout, ${r.stderrBytes} on stderr`;
  return `${live.stdout} bytes on stdout, ${live.stderr} on stderr so far`;
}

function details(r, live) {
  const row = (term, ...dd) => [h('dt', { text: term }), h('dd', {}, dd)];
  return h('dl', { class: 'facts' },
    row('Job', h('a', { href: jobHref(r.job), text: r.job })),
    row('Status', badge(r.status), errorInPlace(r)),
    row('Trigger', r.trigger), row('Task id', h('code', { class: 'mono', text: r.taskId })),
    row('Due', timeEl(r.due)), row('Start', timeEl(r.start)), row('End', timeEl(r.end)),
    row('Duration', durationText(r.durationMs)), row('Exit', exitText(r)),
    row('Host', r.host || '—'),
    row('Agent', r.agent ? h('a', { href: '/ui/agents', class: 'run-agent', text: r.agent })
      : h('span', { class: 'run-agent', text: r.status === 'waiting' ? 'none yet (waiting for room)' : '—' })),
    row('Arguments', r.arguments ? h('code', { text: r.arguments }) : '—'),
    r.parentTaskIds.length ? row('After', r.parentTaskIds.map((id, i) =>
      [i ? ', ' : '', h('a', { href: runHref(id), text: id, class: 'mono' })])) : null,
    r.reason ? row('Reason', r.reason, skippedSlots(r)) : null,
    row('Output', h('span', { class: 'run-output', text: outputText(r, live) })));
}

export async function runPage(main, [taskId], { signal }) {
  let run = await getRun(taskId, signal);
  let tries = null;
  try {
    tries = ((await getJob(run.job, signal)).retries ?? 0) + 1;
  } catch (err) {
    if (err.name === 'AbortError') throw err; /* a deleted job: its runs are still named */
  }
  document.title = `${run.job} ${runName(run, tries)} · gnomon`;
  const info = h('div');
  const title = h('span');
  const kill = h('button', { type: 'button', class: 'danger needs-operator', text: 'Kill', onclick: () => killJob(run.job) });
  let live = null;
  const show = (r) => {
    run = r;
    kill.hidden = FINAL.includes(r.status);
    title.textContent = runName(r, tries);
    fill(info, details(r, live));
  };
  const onBytes = (b) => {
    live = b;
    const el = info.querySelector('.run-output');
    if (el) el.textContent = outputText(run, live);
  };
  const refetch = () => getRun(taskId, signal).then(show, () => {});
  show(run);
  fill(main, h('p', { class: 'crumbs' }, h('a', { href: '/ui/jobs', text: 'Jobs' }), ' / ',
    h('a', { href: jobHref(run.job), text: run.job })),
  h('h1', { class: 'run-title' }, `${run.job} `, title, ' ', taskIdButton(taskId)), h('div', { class: 'toolbar' }, kill), info,
  logViewer(taskId, signal, refetch, onBytes));
  onEvent((ev) => { if (ev.run && ev.run.taskId === taskId) show(ev.run); }, signal);
}
