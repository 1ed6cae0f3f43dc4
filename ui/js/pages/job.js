// A job: what it is and does now, its actions (run now, kill, enable/disable, delete), next fire times, a
// chart of run durations, its run history and its definition; kept current by the event stream.
import * as api from '../api.js';
import { onEvent, onReload } from '../events.js';
import { badge, errorBox, fill, h, jobHref, throttle, timeEl } from '../dom.js';
import { navigate } from '../router.js';
import { durationChart } from './chart.js';
import { jobAudit } from './audit.js';
import { runHistory } from './history.js';

const NEXT_COUNT = 10;
const CHART_RUNS = 100;

function summaryList(s) {
  const row = (term, ...dd) => [h('dt', { text: term }), h('dd', {}, dd)];
  return h('dl', { class: 'facts' },
    row('Schedule', s.parents.length ? ['after ', s.parents.map((p, i) =>
      [i ? ', ' : '', h('a', { href: jobHref(p), text: p })])] : s.scheduleText),
    row('Command', h('code', { text: s.command })),
    row('Owner', s.owner || '—'),
    row('Next run', timeEl(s.nextRun)),
    row('Last success', timeEl(s.lastSuccess)),
    row('Last error', timeEl(s.lastError)),
    row('Successes', String(s.successCount)),
    row('Errors', `${s.errorCount} (${s.errorsSinceLastSuccess} since the last success)`));
}

function statusLine(s) {
  return [badge(s.state), ' ', badge(s.lastResult, 'last result'), s.disabled ? [' ', badge('disabled')] : null];
}

function deleteDialog(name) {
  const dlg = h('dialog', { 'aria-labelledby': 'delete-title' },
    h('h2', { id: 'delete-title', text: `Delete ${name}?` }),
    h('p', { text: 'The job is removed for good. Its children inherit its parents, or its schedule.' }),
    h('form', { method: 'dialog', class: 'actions' },
      h('button', { value: 'cancel', text: 'Cancel', autofocus: true }),
      h('button', { value: 'delete', class: 'danger', text: 'Delete' })));
  return dlg;
}

// The toolbar; its Enable/Disable button follows the job (toolbar.show(summary)).
function actions(name, say, reloadAll) {
  const args = h('input', { id: 'run-args', name: 'arguments', autocomplete: 'off', placeholder: 'optional' });
  const act = (fn, done) => async () => {
    try {
      await fn();
      say(typeof done === 'function' ? done() : done);
    } catch (err) {
      say(err.message, true);
    }
  };
  const run = h('form', { class: 'run-now needs-operator', 'aria-label': 'Run now' },
    h('label', { for: 'run-args', text: 'Arguments' }), args, h('button', { type: 'submit', text: 'Run now' }));
  run.addEventListener('submit', (e) => {
    e.preventDefault();
    act(() => api.runJob(name, args.value.trim()), `Run of ${name} requested.`)();
  });
  const dlg = deleteDialog(name);
  dlg.addEventListener('close', act(async () => {
    if (dlg.returnValue !== 'delete') return;
    await api.deleteJob(name);
    navigate('/ui/jobs');
  }, `${name} deleted.`));
  let disabled = false;
  const toggle = h('button', { type: 'button', class: 'needs-operator', onclick: act(async () => {
    await api.setDisabled(name, !disabled);
    await reloadAll();
  }, () => `${name} ${disabled ? 'disabled' : 'enabled'}.`) });
  const el = h('div', { class: 'toolbar' }, run,
    h('button', { type: 'button', class: 'needs-operator', text: 'Kill',
      onclick: act(() => api.killJob(name), 'Kill requested.') }),
    toggle, h('a', { class: 'button needs-admin', href: `${jobHref(name)}/edit`, text: 'Edit' }),
    h('a', { class: 'button', href: `/ui/graph?job=${encodeURIComponent(name)}`, text: 'Graph' }),
    h('button', { type: 'button', class: 'danger needs-admin', text: 'Delete…', onclick: () => dlg.showModal() }), dlg);
  el.show = (s) => {
    disabled = s.disabled;
    toggle.textContent = disabled ? 'Enable' : 'Disable';
  };
  return el;
}

async function nextList(job, signal) {
  if ('parents' in job) return h('p', { class: 'muted', text: 'Runs after its parents succeed.' });
  if (job.disabled) return h('p', { class: 'muted', text: 'Disabled: it does not fire.' });
  try {
    const times = await api.nextFires(job, NEXT_COUNT, signal);
    if (!times.length) return h('p', { class: 'muted', text: 'It never fires again.' });
    return h('ol', { class: 'next' }, times.map((t) => h('li', {}, timeEl(t.toISOString()))));
  } catch (err) {
    if (err.name === 'AbortError') throw err;
    return errorBox(err);
  }
}

function section(title, ...body) {
  return h('section', { 'aria-label': title }, h('h2', { text: title }), body);
}

export async function jobPage(main, [name], { signal }) {
  document.title = `${name} · gnomon`;
  const live = h('div');
  const note = h('p', { class: 'note', role: 'status' });
  const next = h('div');
  const chart = h('div', { class: 'chart-box' });
  const definition = h('pre', { class: 'definition', tabindex: 0, 'aria-label': 'Job definition' });
  const history = runHistory(name, signal);
  const changes = jobAudit(name, signal);
  let summary = null;

  const say = (text, bad) => { note.textContent = text; note.classList.toggle('error', Boolean(bad)); };
  const toolbar = actions(name, say, () => reloadAll());
  const renderHead = () => {
    toolbar.show(summary);
    fill(live, summary.description ? h('p', { text: summary.description }) : null,
      h('p', { class: 'status-line', 'aria-label': 'Status' }, statusLine(summary)), summaryList(summary));
  };
  async function loadDefinition() {
    const job = await api.getJob(name, signal);
    definition.textContent = JSON.stringify(job, null, 2);
    fill(next, await nextList(job, signal));
  }
  async function loadChart() {
    const page = await api.jobRuns(name, { limit: CHART_RUNS }, signal);
    fill(chart, durationChart(page.runs));
  }
  async function reloadAll() {
    summary = await api.jobSummary(name, signal);
    renderHead();
    await Promise.all([loadDefinition(), loadChart(), history.reload(), changes && changes.reload()]);
  }

  summary = await api.jobSummary(name, signal);
  renderHead();
  fill(main, h('p', { class: 'crumbs' }, h('a', { href: '/ui/jobs', text: 'Jobs' })), h('h1', { text: name }),
    toolbar, note, live, h('div', { class: 'grid' }, section('Next fire times', next), section('Run durations', chart)),
    section('Run history', history), changes && section('Changes', changes), section('Definition', definition));
  await Promise.all([loadDefinition(), loadChart(), history.ready, changes && changes.ready]);

  const later = (fn) => throttle(() => fn().catch((err) => { if (err.name !== 'AbortError') say(err.message, true); }), 500);
  const refreshHead = later(async () => renderHead());
  const refreshDefinition = later(loadDefinition);
  const refreshChart = later(loadChart);
  const refreshChanges = later(async () => changes && changes.reload());
  onEvent((ev) => {
    if (!ev.job || ev.job.name !== name) return;
    if (ev.type === 'job.deleted') {
      say(`${name} was deleted.`, true);
      return;
    }
    summary = ev.job;
    refreshHead();
    if (ev.type === 'job.updated' || ev.type === 'job.disabled') {
      refreshDefinition();
      if (changes) refreshChanges();
    }
    if (ev.run) {
      history.update(ev.run);
      if (ev.run.end) refreshChart();
    }
  }, signal);
  onReload(() => reloadAll().catch(() => {}), signal);
  for (const t of [refreshHead, refreshDefinition, refreshChart, refreshChanges]) signal.addEventListener('abort', t.cancel);
}
