// Overview: jobs counted by state and last result, runs in progress, recent failures (one row per job, with how
// many and why the last one failed) and skips, upcoming runs.
// Refetched (one small request) a moment after changes arrive, never per event.
import { overview } from '../api.js';
import { onEvent, onReload } from '../events.js';
import { badge, errorBox, fill, h, jobHref, throttle, timeEl } from '../dom.js';
import { errorInPlace, runLink, runTable } from './runs.js';

const CARDS = [
  ['jobs', 'Jobs', ''], ['running', 'Running', 'state=running'], ['queued', 'Queued', 'state=queued'],
  ['idle', 'Idle', 'state=idle'], ['disabled', 'Disabled', 'state=disabled'],
  ['success', 'Last run succeeded', 'result=success'], ['failure', 'Last run failed', 'result=failure'],
  ['fresh', 'Never ran', 'result=fresh'],
];

function cards(counts) {
  return h('ul', { class: 'cards', 'aria-label': 'Jobs by state' }, CARDS.map(([key, label, q]) =>
    h('li', { class: `card c-${key}` }, h('a', { href: `/ui/jobs${q ? `?${q}` : ''}`,
      'aria-label': `${counts[key]} ${label}` },
      h('span', { class: 'count', text: new Intl.NumberFormat().format(counts[key]) }),
      h('span', { class: 'label', text: label })))));
}

function upcoming(list) {
  const tbody = h('tbody', {}, list.map((u) => h('tr', {},
    h('th', { scope: 'row' }, h('a', { href: jobHref(u.job), text: u.job })), h('td', {}, timeEl(u.at)),
    h('td', { text: u.scheduleText }))));
  if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: 3, class: 'muted', text: 'Nothing scheduled.' })));
  return h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Upcoming runs' },
    h('thead', {}, h('tr', {}, ['Job', 'At', 'Schedule'].map((t) => h('th', { scope: 'col', text: t })))), tbody));
}

// failuresByJob: [{job, count, last, tries}] (count: among the server's newest failures).
function failures(list) {
  const tbody = h('tbody', {}, list.map((f) => h('tr', { 'data-job': f.job },
    h('th', { scope: 'row' }, h('a', { href: jobHref(f.job), text: f.job })),
    h('td', { class: 'count-cell' }, h('span', { class: 'fail-count', text: `${f.count}×`,
      title: `${f.count} of the newest failures` })),
    h('td', {}, runLink(f.last, f.tries)), h('td', {}, badge(f.last.status), errorInPlace(f.last)))));
  if (!list.length) tbody.append(h('tr', {}, h('td', { colspan: 4, class: 'muted', text: 'No failures.' })));
  return h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Recent failures', class: 'runs' },
    h('thead', {}, h('tr', {}, ['Job', 'Failures', 'Last failed run', 'Why'].map((t) => h('th', { scope: 'col', text: t })))),
    tbody));
}

function section(title, body) {
  return h('section', { 'aria-label': title }, h('h2', { text: title }), body);
}

export async function overviewPage(main, _params, { signal }) {
  document.title = 'Overview · gnomon';
  const body = h('div');
  fill(main, h('h1', { text: 'Overview' }), body);

  async function load() {
    let o;
    try {
      o = await overview(signal);
    } catch (err) {
      if (err.name !== 'AbortError') fill(body, errorBox(err));
      return;
    }
    fill(body, cards(o.counts), h('div', { class: 'grid' },
      section('Runs in progress', runTable('Runs in progress', o.running,
        ['job', 'run', 'status', 'start', 'duration'], 'Nothing is running.').el),
      section('Upcoming runs', upcoming(o.upcoming)),
      section('Recent failures', failures(o.failuresByJob || [])),
      section('Recent skips', runTable('Recent skips', o.recentSkips, ['job', 'due', 'reason'],
        'No skipped runs.').el)));
  }
  const refresh = throttle(load, 1000);
  onEvent(refresh, signal);
  onReload(load, signal);
  signal.addEventListener('abort', refresh.cancel);
  await load();
}
