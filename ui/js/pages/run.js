// A run: its details, and its stdout and stderr followed live while it goes on.
import { followLog, getRun, killJob } from '../api.js';
import { onEvent } from '../events.js';
import { badge, durationText, fill, h, jobHref, runHref, timeEl } from '../dom.js';
import { exitText, skippedSlots } from './runs.js';

const FINAL = ['succeeded', 'failed', 'killed', 'lost', 'skipped'];

function details(r) {
  const row = (term, ...dd) => [h('dt', { text: term }), h('dd', {}, dd)];
  return h('dl', { class: 'facts' },
    row('Job', h('a', { href: jobHref(r.job), text: r.job })),
    row('Status', badge(r.status)),
    row('Trigger', r.trigger), row('Attempt', String(r.attempt)),
    row('Due', timeEl(r.due)), row('Start', timeEl(r.start)), row('End', timeEl(r.end)),
    row('Duration', durationText(r.durationMs)), row('Exit', exitText(r)),
    row('Host', r.host || '—'),
    row('Agent', r.agent ? h('a', { href: '/ui/agents', class: 'run-agent', text: r.agent })
      : h('span', { class: 'run-agent', text: r.status === 'waiting' ? 'none yet (waiting for room)' : '—' })),
    row('Arguments', r.arguments ? h('code', { text: r.arguments }) : '—'),
    r.parentTaskIds.length ? row('After', r.parentTaskIds.map((id, i) =>
      [i ? ', ' : '', h('a', { href: runHref(id), text: id, class: 'mono' })])) : null,
    r.reason ? row('Reason', r.reason, skippedSlots(r)) : null,
    row('Output', `${r.stdoutBytes} bytes on stdout, ${r.stderrBytes} on stderr`));
}

// One stream's output, appended as it arrives; stays scrolled to the end if it was there.
function logView(taskId, stream, signal, onEnd) {
  const pre = h('pre', { class: 'log', id: `log-${stream}`, tabindex: 0, 'aria-label': stream });
  const state = h('p', { class: 'muted small', role: 'status', text: 'following…' });
  followLog(taskId, stream, (text) => {
    const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.append(text);
    if (atEnd) pre.scrollTop = pre.scrollHeight;
  }, signal).then(() => {
    state.textContent = pre.textContent ? 'end of output' : 'no output';
    onEnd();
  }, (err) => {
    if (err.name !== 'AbortError') state.textContent = err.message;
  });
  return h('section', { 'aria-label': stream }, h('h2', { text: stream }), pre, state);
}

export async function runPage(main, [taskId], { signal }) {
  document.title = `Run ${taskId} · gnomon`;
  let run = await getRun(taskId, signal);
  const info = h('div');
  const kill = h('button', { type: 'button', class: 'danger needs-operator', text: 'Kill', onclick: () => killJob(run.job) });
  const show = (r) => {
    run = r;
    kill.hidden = FINAL.includes(r.status);
    fill(info, details(r));
  };
  const refetch = () => getRun(taskId, signal).then(show, () => {});
  show(run);
  fill(main, h('p', { class: 'crumbs' }, h('a', { href: '/ui/jobs', text: 'Jobs' }), ' / ',
    h('a', { href: jobHref(run.job), text: run.job })),
  h('h1', {}, 'Run ', h('span', { class: 'mono', text: taskId })), h('div', { class: 'toolbar' }, kill), info,
  h('div', { class: 'logs' }, logView(taskId, 'stdout', signal, refetch), logView(taskId, 'stderr', signal, refetch)));
  onEvent((ev) => { if (ev.run && ev.run.taskId === taskId) show(ev.run); }, signal);
}
