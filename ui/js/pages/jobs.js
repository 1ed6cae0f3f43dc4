// Jobs: the server's paged, filtered, sorted listing (GET /api/v1/jobs?strip=N: each job with its last runs, drawn
// as an outcome strip), with rows kept up to date by the event stream. Only the rows on screen are touched: events
// are batched and applied a few times a second. On a phone the filters fold away and the name, last result, strip
// and state stay.
import { listJobs } from '../api.js';
import { onEvent, onReload } from '../events.js';
import { setQuery } from '../router.js';
import { badge, debounce, errorBox, fill, h, jobHref, throttle, timeEl } from '../dom.js';
import { outcomeStrip } from './strip.js';

const COLUMNS = [
  ['Name', 'name', 'name'], ['Schedule', null, 'schedule'], ['Next run', 'next', 'next'],
  ['Last result', 'result', 'result'], ['Recent runs', null, 'strip'], ['Last run', 'last', 'last'],
  ['State', 'state', 'state'], ['Successes', 'success', 'success'], ['Errors', 'errors', 'errors'],
  ['Owner', 'owner', 'owner'],
];
const STRIP = 20;
// The state and last-result filters' choices ([value, text]), shared with the timeline.
export const STATES = [['', 'any'], ['idle', 'idle'], ['queued', 'queued'], ['running', 'running'],
  ['enabled', 'enabled'], ['disabled', 'disabled']];
export const RESULTS = [['', 'any'], ['success', 'success'], ['failure', 'failure'], ['fresh', 'never ran']];
const FILTERS = ['q', 'name', 'command', 'owner', 'state', 'result'];
const PAGE_SIZES = [25, 50, 100, 200];
const APPLY_MS = 250;

function lastRun(job) {
  const times = [job.lastSuccess, job.lastError].filter(Boolean).sort();
  return times.length ? times[times.length - 1] : null;
}

function scheduleCell(job) {
  if (!job.parents.length) return job.scheduleText;
  return ['after ', job.parents.map((p, i) => [i ? ', ' : '', h('a', { href: jobHref(p), text: p })])];
}

// The cells of one job's row, in COLUMNS order.
function cells(job) {
  return [
    [h('a', { href: jobHref(job.name), text: job.name }),
      job.description ? h('div', { class: 'muted small', text: job.description }) : null],
    scheduleCell(job),
    timeEl(job.nextRun),
    badge(job.lastResult),
    outcomeStrip(job.recent || [], { n: STRIP, tries: job.tries, label: `Last runs of ${job.name}` }),
    timeEl(lastRun(job)),
    [badge(job.state), job.disabled ? [' ', badge('disabled')] : null],
    String(job.successCount),
    String(job.errorCount),
    job.owner,
  ];
}

function row(job) {
  const tr = h('tr', { 'data-job': job.name });
  cells(job).forEach((c, i) => tr.append(h(i ? 'td' : 'th', { scope: i ? null : 'row', class: `col-${COLUMNS[i][2]}` }, c)));
  return tr;
}

// Update a row in place (cells after the name, so focus on the name's link survives).
function updateRow(tr, job) {
  cells(job).forEach((c, i) => { if (i) fill(tr.children[i], c); });
}

// A job's last runs (newest first) with a run changed or added.
function withRun(recent, run) {
  const out = recent.filter((r) => r.taskId !== run.taskId);
  const at = recent.findIndex((r) => r.taskId === run.taskId);
  if (at >= 0) out.splice(at, 0, run);
  else out.unshift(run);
  return out.slice(0, STRIP);
}

function filterForm(state, onChange) {
  const field = (key, label, control) => h('div', { class: 'field' },
    h('label', { for: `f-${key}`, text: label }), control);
  const input = (key, label, type = 'text') => field(key, label,
    h('input', { id: `f-${key}`, name: key, type, value: state[key] || '', autocomplete: 'off' }));
  const select = (key, label, options) => field(key, label, h('select', { id: `f-${key}`, name: key },
    options.map(([v, t]) => h('option', { value: v, text: t, selected: String(state[key] || '') === v }))));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter jobs', id: 'job-filters' },
    input('q', 'Search', 'search'), input('name', 'Name'), input('command', 'Command'), input('owner', 'Owner'),
    select('state', 'State', STATES), select('result', 'Last result', RESULTS),
    select('limit', 'Per page', PAGE_SIZES.map((n) => [String(n), String(n)])));
  const changed = debounce(() => onChange(Object.fromEntries(new FormData(form))), 250);
  form.addEventListener('input', changed);
  form.addEventListener('submit', (e) => { e.preventDefault(); changed(); });
  // Folded on a phone (open when a filter is set), open on wider screens.
  const set = FILTERS.some((k) => state[k]);
  return h('details', { class: 'filters-fold', open: set || !matchMedia('(max-width: 640px)').matches },
    h('summary', { text: 'Filters' }), form);
}

export async function jobsPage(main, _params, { signal, query }) {
  document.title = 'Jobs · gnomon';
  const state = Object.fromEntries(query);
  state.limit = PAGE_SIZES.includes(Number(state.limit)) ? state.limit : '50';
  const status = h('p', { class: 'summary', role: 'status' });
  const notice = h('div', { class: 'notice', hidden: true });
  const tbody = h('tbody');
  const heads = COLUMNS.map(([title, key, cls]) => h('th', { scope: 'col', class: `col-${cls}` }, key ? h('button', {
    type: 'button', class: 'sort', text: title, onclick: () => sortBy(key),
  }) : title));
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of jobs' });
  const rows = new Map();
  const recents = new Map(); // a job's last runs, for its strip
  const tries = new Map(); // a job's retries + 1
  const pending = new Map();
  let loading = null;
  let total = 0;
  let created = 0;

  fill(main, h('h1', { text: 'Jobs' }), filterForm(state, (f) => {
    for (const k of [...FILTERS, 'limit']) state[k] = f[k];
    state.offset = 0;
    load();
  }), h('div', { class: 'bar' }, status, h('a', { class: 'button needs-admin', href: '/ui/new', text: 'New job' })), notice,
  h('div', { class: 'table-wrap' }, h('table', { id: 'jobs', class: 'jobs' },
    h('caption', { class: 'sr-only', text: 'Jobs' }), h('thead', {}, h('tr', {}, heads)), tbody)), pager);

  function sortBy(key) {
    state.order = state.sort === key && state.order !== 'desc' ? 'desc' : 'asc';
    state.sort = key;
    state.offset = 0;
    load();
  }

  function pageButton(text, offset, disabled) {
    return h('button', { type: 'button', text, disabled, onclick: () => { state.offset = offset; load(); } });
  }

  function renderPager(offset, limit) {
    const last = Math.max(0, Math.floor((total - 1) / limit) * limit);
    fill(pager, pageButton('First page', 0, offset === 0),
      pageButton('Previous page', Math.max(0, offset - limit), offset === 0),
      h('span', { text: ` Page ${Math.floor(offset / limit) + 1} of ${Math.max(1, Math.ceil(total / limit))} ` }),
      pageButton('Next page', offset + limit, offset + limit >= total),
      pageButton('Last page', last, offset >= last));
  }

  async function load() {
    const params = { ...state };
    setQuery(params);
    params.strip = STRIP;
    heads.forEach((th, i) => {
      const key = COLUMNS[i][1];
      if (key && key === state.sort) th.setAttribute('aria-sort', state.order === 'desc' ? 'descending' : 'ascending');
      else th.removeAttribute('aria-sort');
    });
    if (loading) loading.abort();
    loading = new AbortController();
    let page;
    try {
      page = await listJobs(params, AbortSignal.any([signal, loading.signal]));
    } catch (err) {
      if (err.name === 'AbortError') return;
      fill(status, errorBox(err));
      return;
    }
    total = page.total;
    rows.clear();
    pending.clear();
    recents.clear();
    tries.clear();
    tbody.replaceChildren(...page.jobs.map((job) => {
      recents.set(job.name, job.recent || []);
      tries.set(job.name, job.tries);
      const tr = row(job);
      rows.set(job.name, tr);
      return tr;
    }));
    if (!page.jobs.length) tbody.append(h('tr', {}, h('td', { colspan: COLUMNS.length, text: 'No jobs match.' })));
    const fmt = new Intl.NumberFormat();
    status.textContent = total ? `${fmt.format(page.offset + 1)}–${fmt.format(page.offset + page.jobs.length)} ` +
      `of ${fmt.format(total)} jobs` : '0 jobs';
    created = 0;
    notice.hidden = true;
    renderPager(page.offset, page.limit);
  }

  const apply = throttle(() => {
    for (const [name, job] of pending) {
      const tr = rows.get(name);
      if (!tr) continue;
      if (job) updateRow(tr, job);
      else tr.classList.add('deleted');
    }
    pending.clear();
  }, APPLY_MS);

  onEvent((ev) => {
    const name = ev.job && ev.job.name;
    if (ev.type === 'job.created') {
      created++;
      fill(notice, `${created} new job${created > 1 ? 's' : ''} since this page loaded. `,
        h('button', { type: 'button', text: 'Show', onclick: load }));
      notice.hidden = false;
      return;
    }
    if (!rows.has(name)) return;
    if (ev.run) recents.set(name, withRun(recents.get(name) || [], ev.run));
    pending.set(name, ev.type === 'job.deleted' ? null : { ...ev.job, recent: recents.get(name), tries: tries.get(name) });
    apply();
  }, signal);
  onReload(load, signal);
  signal.addEventListener('abort', apply.cancel);
  await load();
}
