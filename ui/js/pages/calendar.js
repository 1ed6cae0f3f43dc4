// Calendar (/ui/calendar): the fires of the next seven days (or of the week from start=YYYY-MM-DD), for all jobs or
// the ones named, as a grid of days by hours in the viewer's zone; a busy hour stands out, and a day whose clocks
// change (DST) says so, before it comes.
import { timeline } from '../api.js';
import { debounce, errorBox, fill, h, jobHref } from '../dom.js';
import { setQuery } from '../router.js';

const DAYS = 7;
const FIRES_PER_JOB = 2000;
const BUSY = 3; // jobs firing in one hour

const dayFmt = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });

function startOfDay(t) {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

// The day's clock change in the viewer's zone ("clocks go forward 1 h"), or null.
function clockChange(day) {
  const next = new Date(day);
  next.setDate(next.getDate() + 1);
  const a = new Date(day).getTimezoneOffset(), b = next.getTimezoneOffset();
  if (a === b) return null;
  return `clocks go ${b < a ? 'forward' : 'back'} ${Math.abs(a - b) / 60} h`;
}

export function grid(fires, now) {
  const first = startOfDay(now);
  const days = []; // the starts of DAYS + 1 days: the last one ends the grid
  for (let i = 0; i <= DAYS; i++) {
    const d = new Date(first);
    d.setDate(d.getDate() + i);
    days.push(d.getTime());
  }
  const cells = days.slice(0, DAYS).map(() => Array.from({ length: 24 }, () => new Map()));
  for (const f of fires) {
    const t = Date.parse(f.at);
    const day = days.findIndex((d, i) => t >= d && t < days[i + 1]);
    if (day < 0 || day >= DAYS) continue;
    const hour = new Date(t).getHours();
    const m = cells[day][hour];
    if (!m.has(f.job)) m.set(f.job, []);
    m.get(f.job).push(t);
  }
  return { days: days.slice(0, DAYS), end: days[DAYS], cells };
}

function cellEl(m) {
  if (!m.size) return h('td', { class: 'cal-cell' });
  let n = 0;
  for (const times of m.values()) n += times.length;
  const names = [...m.keys()].sort();
  const title = names.slice(0, 12).map((j) => `${j} at ${m.get(j).map((t) => timeFmt.format(new Date(t))).join(', ')}`)
    .join('\n') + (names.length > 12 ? `\nand ${names.length - 12} more jobs` : '');
  const busy = m.size >= BUSY;
  return h('td', { class: `cal-cell${busy ? ' busy' : ''}`, title, 'data-jobs': m.size, 'data-fires': n },
    h('span', { class: 'cal-n', text: String(n) }),
    m.size === 1 ? h('a', { href: jobHref(names[0]), class: 'cal-job', text: names[0] }) : h('span', { class: 'cal-job', text: `${m.size} jobs` }));
}

export async function calendarPage(main, _params, { signal, query }) {
  document.title = 'Calendar · gnomon';
  const state = { name: query.get('name') || '', q: query.get('q') || '', start: query.get('start') || '' };
  const summary = h('p', { class: 'summary', role: 'status' });
  const body = h('div');
  const input = (key, label) => h('div', { class: 'field' }, h('label', { for: `c-${key}`, text: label }),
    h('input', { id: `c-${key}`, name: key, type: 'search', value: state[key], autocomplete: 'off' }));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the calendar' },
    input('name', 'Job name'), input('q', 'Search jobs'), h('div', { class: 'field' },
      h('label', { for: 'c-start', text: 'From' }), h('input', { id: 'c-start', name: 'start', type: 'date', value: state.start })));
  const title = h('h1');
  fill(main, title, form, summary, body);

  let asked = null;
  async function load() {
    setQuery(state);
    if (asked) asked.abort();
    asked = new AbortController();
    const start = /^\d{4}-\d\d-\d\d$/.test(state.start) ? new Date(`${state.start}T00:00:00`).getTime() : NaN;
    const now = isNaN(start) ? Date.now() : Math.max(Date.now(), start);
    title.textContent = isNaN(start) ? 'Next 7 days' : `7 days from ${dayFmt.format(new Date(start))}`;
    const { end } = grid([], now);
    let data;
    try {
      data = await timeline({ from: new Date(now).toISOString(), to: new Date(end).toISOString(), limit: 0,
        fires: FIRES_PER_JOB, name: state.name, q: state.q }, AbortSignal.any([signal, asked.signal]));
    } catch (err) {
      if (err.name !== 'AbortError') fill(body, errorBox(err));
      return;
    }
    const { days, cells } = grid(data.fires, now);
    const jobs = new Set(data.fires.map((f) => f.job));
    let busy = 0;
    for (const day of cells) for (const m of day) if (m.size >= BUSY) busy++;
    const changes = days.map(clockChange);
    summary.textContent = `${data.fires.length.toLocaleString()} fires of ${jobs.size} jobs in these 7 days` +
      `${busy ? `; ${busy} busy hours (${BUSY} or more jobs)` : ''}` +
      `${changes.some(Boolean) ? `; ${changes.filter(Boolean).join(', ')} this week` : ''}.`;
    const head = h('tr', {}, h('th', { scope: 'col', class: 'cal-hour', text: '' }), days.map((d, i) =>
      h('th', { scope: 'col', class: changes[i] ? 'dst' : null, title: changes[i] || null },
        dayFmt.format(new Date(d)), changes[i] ? h('span', { class: 'dst-note', text: ` · ${changes[i]}` }) : null)));
    const rows = [];
    for (let hr = 0; hr < 24; hr++) {
      rows.push(h('tr', {}, h('th', { scope: 'row', class: 'cal-hour', text: `${String(hr).padStart(2, '0')}:00` }),
        days.map((_, i) => cellEl(cells[i][hr]))));
    }
    fill(body, h('div', { class: 'table-wrap cal-wrap' }, h('table', { class: 'calendar', 'aria-label': 'Fires by day and hour' },
      h('thead', {}, head), h('tbody', {}, rows))));
  }
  const changed = debounce(() => {
    state.name = form.elements.name.value.trim();
    state.q = form.elements.q.value.trim();
    state.start = form.elements.start.value;
    load();
  }, 250);
  form.addEventListener('input', changed);
  form.addEventListener('submit', (e) => { e.preventDefault(); changed(); });
  signal.addEventListener('abort', changed.cancel);
  await load();
}
