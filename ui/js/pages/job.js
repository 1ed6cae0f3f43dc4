// A job, leading with what matters: its state, next fires, outcome strip and charts; then its actions (run now
// with arguments behind its button, kill only while something runs, enable/disable, edit, delete); then its
// history, changes and definition. Kept current by the event stream.
import * as api from '../api.js';
import { onEvent, onReload } from '../events.js';
import { badge, errorBox, fill, h, jobHref, throttle, timeEl } from '../dom.js';
import { navigate } from '../router.js';
import { durationChart, memoryChart } from './chart.js';
import { jobAudit } from './audit.js';
import { definitionView } from './definition.js';
import { runHistory } from './history.js';
import { outcomeStrip } from './strip.js';

const NEXT_COUNT = 5;
const CHART_RUNS = 100;
const STRIP_RUNS = 30;

function summaryList(s) {
  const row = (term, ...dd) => [h('dt', { text: term }), h('dd', {}, dd)];
  return h('dl', { class: 'facts' },
    row('Schedule', s.parents.length ? ['after ', s.parents.map((p, i) =>
      [i ? ', ' : '', h('a', { href: jobHref(p), text: p })])] : s.scheduleText),
    row('Command', h('code', { text: s.command })),
    row('Owner', s.owner || '—'),
    row('Last success', timeEl(s.lastSuccess)),
    row('Last error', timeEl(s.lastError)),
    row('Successes', String(s.successCount)),
    row('Errors', `${s.errorCount} (${s.errorsSinceLastSuccess} since the last success)`));
}

function statusLine(s) {
  return [badge(s.state), ' ', badge(s.lastResult, 'last result'), s.disabled ? [' ', badge('disabled')] : null];
}

const busy = (s) => s.running > 0 || /running/.test(s.state);

function deleteDialog(name) {
  const dlg = h('dialog', { 'aria-labelledby': 'delete-title' },
    h('h2', { id: 'delete-title', text: `Delete ${name}?` }),
    h('p', { text: 'The job is removed for good. Its children inherit its parents, or its schedule.' }),
    h('form', { method: 'dialog', class: 'actions' },
      h('button', { value: 'cancel', text: 'Cancel', autofocus: true }),
      h('button', { value: 'delete', class: 'danger', text: 'Delete' })));
  return dlg;
}

// The toolbar; it follows the job (toolbar.show(summary)): Enable or Disable, Kill only while a run goes on.
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
  const run = h('form', { class: 'run-now', 'aria-label': 'Run now', hidden: true },
    h('label', { for: 'run-args', text: 'Arguments' }), args, h('button', { type: 'submit', class: 'primary', text: 'Start run' }),
    h('button', { type: 'button', text: 'Cancel', onclick: () => open(false) }));
  const opener = h('button', { type: 'button', class: 'needs-operator', text: 'Run now…', 'aria-expanded': 'false',
    'aria-controls': 'run-form', onclick: () => open(run.hidden) });
  run.id = 'run-form';
  function open(yes) {
    run.hidden = !yes;
    opener.setAttribute('aria-expanded', String(yes));
    if (yes) args.focus();
  }
  run.addEventListener('submit', (e) => {
    e.preventDefault();
    act(() => api.runJob(name, args.value.trim()), `Run of ${name} requested.`)();
    open(false);
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
  const kill = h('button', { type: 'button', class: 'danger needs-operator', text: 'Kill', hidden: true,
    onclick: act(() => api.killJob(name), 'Kill requested.') });
  const el = h('div', { class: 'actions-box' }, h('div', { class: 'toolbar', role: 'toolbar', 'aria-label': 'Actions' },
    opener, kill, toggle, h('a', { class: 'button needs-admin', href: `${jobHref(name)}/edit`, text: 'Edit' }),
    h('a', { class: 'button', href: `/ui/graph?job=${encodeURIComponent(name)}`, text: 'Graph' }),
    h('a', { class: 'button', href: `/ui/calendar?name=${encodeURIComponent(name)}`, text: 'Calendar' }),
    h('button', { type: 'button', class: 'danger needs-admin', text: 'Delete…', onclick: () => dlg.showModal() }), dlg),
  h('div', { class: 'needs-operator' }, run));
  el.show = (s) => {
    disabled = s.disabled;
    toggle.textContent = disabled ? 'Enable' : 'Disable';
    kill.hidden = !busy(s);
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
  const head = h('div');
  const facts = h('div');
  const note = h('p', { class: 'note', role: 'status' });
  const next = h('div');
  const strip = h('div', { class: 'strip-box' });
  const chart = h('div', { class: 'chart-box' });
  const memory = h('div', { class: 'chart-box' });
  const memorySection = section('Peak memory', memory);
  const definition = h('div');
  let tries = null;
  const history = runHistory(name, signal, () => tries);
  const changes = jobAudit(name, signal);
  let summary = null;

  const say = (text, bad) => { note.textContent = text; note.classList.toggle('error', Boolean(bad)); };
  const toolbar = actions(name, say, () => reloadAll());
  const renderHead = () => {
    toolbar.show(summary);
    fill(head, summary.description ? h('p', { text: summary.description }) : null,
      h('p', { class: 'status-line', 'aria-label': 'Status' }, statusLine(summary)));
    fill(facts, summaryList(summary));
  };
  async function loadDefinition() {
    const job = await api.getJob(name, signal);
    tries = (job.retries ?? 0) + 1;
    fill(definition, definitionView(job));
    fill(next, await nextList(job, signal));
  }
  async function loadRuns() {
    const page = await api.jobRuns(name, { limit: CHART_RUNS }, signal);
    fill(strip, outcomeStrip(page.runs, { n: STRIP_RUNS, tries, label: `Last runs of ${name}` }));
    fill(chart, durationChart(page.runs));
    const mem = memoryChart(page.runs);
    memorySection.hidden = !mem;
    fill(memory, mem);
  }
  async function reloadAll() {
    summary = await api.jobSummary(name, signal);
    renderHead();
    await loadDefinition();
    await Promise.all([loadRuns(), history.reload(), changes && changes.reload()]);
  }

  summary = await api.jobSummary(name, signal);
  renderHead();
  fill(main, h('p', { class: 'crumbs' }, h('a', { href: '/ui/jobs', text: 'Jobs' })), h('h1', { text: name }),
    head, section('Next fire times', next), section('Last runs', strip),
    h('div', { class: 'grid charts' }, section('Run durations', chart), memorySection),
    toolbar, note, facts, section('Run history', history), changes && section('Changes', changes),
    section('Definition', definition));
  await loadDefinition();
  await Promise.all([loadRuns(), history.reload(), changes && changes.ready]);

  const later = (fn) => throttle(() => fn().catch((err) => { if (err.name !== 'AbortError') say(err.message, true); }), 500);
  const refreshHead = later(async () => renderHead());
  const refreshDefinition = later(loadDefinition);
  const refreshRuns = later(loadRuns);
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
      refreshRuns();
    }
  }, signal);
  onReload(() => reloadAll().catch(() => {}), signal);
  for (const t of [refreshHead, refreshDefinition, refreshRuns, refreshChanges]) signal.addEventListener('abort', t.cancel);
}
