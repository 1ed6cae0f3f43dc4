// Timeline (/ui/timeline): a Gantt view of the runs of the filtered jobs over the last hour, day or week, drawn on
// one canvas (thousands of runs in view stay fast). A bar is a run (coloured by its outcome), a thin amber line
// before it the time it waited after its slot (queueing), a red mark a start later than a minute after its slot;
// runs of one job that overlap stack in lanes; the coming fires are ghosts to the right of now.
import { timeline } from '../api.js';
import { onEvent, onReload } from '../events.js';
import { debounce, durationText, errorBox, fill, h, jobHref, runHref, throttle } from '../dom.js';
import { navigate, setQuery } from '../router.js';
import { RESULTS, STATES } from './jobs.js';
import { runName } from './runs.js';

const WINDOWS = { hour: 3600e3, day: 86400e3, week: 7 * 86400e3 };
const AHEAD = 0.15; // of the window, after now, for the coming fires
const LANE = 12, GAP = 5, AXIS = 22, LATE_MS = 60e3;
const REFRESH_MS = 5000; // at least this long between two fetches that runs' events ask for
const COLOURS = { succeeded: '#1e7b34', failed: '#b3261e', lost: '#7a1610', killed: '#c77d00', skipped: '#b9a26b',
  running: '#0b5cad', starting: '#0b5cad', queued: '#8c96a6', waiting: '#8c96a6' };

const tickFmt = {
  hour: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
  day: new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }),
  week: new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric' }),
};
const TICKS = { hour: 10 * 60e3, day: 3 * 3600e3, week: 86400e3 };

// The runs and fires grouped by job, each job's runs given lanes so that overlapping runs do not hide each other.
export function layout(data) {
  const jobs = new Map();
  const job = (name) => {
    if (!jobs.has(name)) jobs.set(name, { name, runs: [], fires: [], lanes: 1, top: 0, typical: 0 });
    return jobs.get(name);
  };
  const now = Date.parse(data.now);
  for (const r of data.runs) {
    const due = r.due && !r.attempt ? Date.parse(r.due) : NaN; // a retry's due is its slot's: it did not wait for it
    const start = r.start ? Date.parse(r.start) : NaN;
    const end = r.end ? Date.parse(r.end) : now;
    const begin = Math.min(isNaN(due) ? Infinity : due, isNaN(start) ? Infinity : start);
    if (begin === Infinity) continue;
    job(r.job).runs.push({ r, due, start, end, begin, lane: 0 });
  }
  for (const f of data.fires) job(f.job).fires.push(Date.parse(f.at));
  let overlapping = 0, late = 0;
  for (const j of jobs.values()) {
    j.runs.sort((a, b) => a.begin - b.begin);
    const ends = [];
    const durations = [];
    for (const x of j.runs) {
      let lane = ends.findIndex((e) => e <= x.begin);
      if (lane < 0) { lane = ends.length; ends.push(0); }
      ends[lane] = x.end;
      x.lane = lane;
      if (lane > 0) overlapping++;
      if (!isNaN(x.start) && !isNaN(x.due) && x.start - x.due > LATE_MS) late++;
      if (!isNaN(x.start) && x.r.end) durations.push(x.end - x.start);
    }
    j.lanes = Math.max(1, ends.length);
    durations.sort((a, b) => a - b);
    j.typical = durations.length ? durations[durations.length >> 1] : 0;
  }
  const list = [...jobs.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let y = AXIS;
  for (const j of list) {
    j.top = y;
    y += j.lanes * LANE + GAP;
  }
  return { jobs: list, height: y + 4, overlapping, late, now };
}

// Draw the layout on canvas between from and to (ms); returns the milliseconds it took.
export function draw(canvas, lay, from, to, span, labelW) {
  const t0 = performance.now();
  const width = canvas.parentElement.clientWidth || 800;
  const dpr = window.devicePixelRatio || 1;
  canvas.width = Math.floor(width * dpr);
  canvas.height = Math.floor(lay.height * dpr);
  canvas.style.width = `${width}px`;
  canvas.style.height = `${lay.height}px`;
  const g = canvas.getContext('2d');
  g.setTransform(dpr, 0, 0, dpr, 0, 0);
  g.clearRect(0, 0, width, lay.height);
  const plotW = width - labelW - 8;
  const x = (t) => labelW + ((t - from) / (to - from)) * plotW;
  // rows, names
  g.font = '11px system-ui, sans-serif';
  g.textBaseline = 'middle';
  lay.jobs.forEach((j, i) => {
    if (i % 2) {
      g.fillStyle = '#f3f5f8';
      g.fillRect(0, j.top - GAP / 2, width, j.lanes * LANE + GAP);
    }
    g.fillStyle = '#1d2430';
    let name = j.name;
    while (name.length > 3 && g.measureText(name).width > labelW - 8) name = name.slice(0, -2);
    g.fillText(name === j.name ? name : `${name}…`, 4, j.top + LANE / 2);
  });
  // time axis
  g.strokeStyle = '#d9dde3';
  g.fillStyle = '#5b6474';
  g.beginPath();
  const step = TICKS[span];
  const offset = new Date(from).getTimezoneOffset() * 60e3;
  for (let t = Math.ceil((from - offset) / step) * step + offset; t <= to; t += step) {
    const px = Math.round(x(t)) + 0.5;
    g.moveTo(px, AXIS - 4);
    g.lineTo(px, lay.height);
    g.fillText(tickFmt[span].format(new Date(t)), px + 3, 9);
  }
  g.stroke();
  // queueing (due to start), then bars by colour, then late marks
  const minW = 1.5;
  g.strokeStyle = '#d19a00';
  g.lineWidth = 2;
  g.beginPath();
  for (const j of lay.jobs) {
    for (const r of j.runs) {
      if (isNaN(r.due) || isNaN(r.start) || r.start - r.due < 1000) continue;
      const y = j.top + r.lane * LANE + LANE / 2;
      g.moveTo(x(r.due), y);
      g.lineTo(x(r.start), y);
    }
  }
  g.stroke();
  for (const [status, colour] of Object.entries(COLOURS)) {
    g.fillStyle = colour;
    for (const j of lay.jobs) {
      for (const r of j.runs) {
        if (r.r.status !== status || isNaN(r.start)) continue;
        const a = x(r.start);
        g.fillRect(a, j.top + r.lane * LANE + 1, Math.max(minW, x(r.end) - a), LANE - 2);
      }
    }
  }
  g.fillStyle = '#d0021b';
  for (const j of lay.jobs) {
    for (const r of j.runs) {
      if (isNaN(r.start) || isNaN(r.due) || r.start - r.due <= LATE_MS) continue;
      const px = x(r.due), y = j.top + r.lane * LANE;
      g.beginPath();
      g.moveTo(px - 3, y);
      g.lineTo(px + 3, y);
      g.lineTo(px, y + 4);
      g.fill();
    }
  }
  // the coming fires: ghosts as long as the job's typical run
  g.setLineDash([3, 2]);
  g.lineWidth = 1;
  g.strokeStyle = '#5b6474';
  g.fillStyle = 'rgba(91, 100, 116, 0.12)';
  for (const j of lay.jobs) {
    for (const t of j.fires) {
      const a = x(t), w = Math.max(4, x(t + j.typical) - a);
      g.fillRect(a, j.top + 1, w, LANE - 2);
      g.strokeRect(a + 0.5, j.top + 1.5, w - 1, LANE - 3);
    }
  }
  g.setLineDash([]);
  // now
  g.strokeStyle = '#1f5fbf';
  g.lineWidth = 2;
  g.beginPath();
  g.moveTo(x(lay.now), AXIS - 6);
  g.lineTo(x(lay.now), lay.height);
  g.stroke();
  return performance.now() - t0;
}

// The run (or fire) under a point of the canvas, or null.
function hit(lay, from, to, plotLeft, plotW, px, py) {
  const t = from + ((px - plotLeft) / plotW) * (to - from);
  const slack = ((to - from) / plotW) * 3;
  let lo = 0, hi = lay.jobs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (lay.jobs[mid].top - GAP / 2 <= py) lo = mid; else hi = mid - 1;
  }
  const j = lay.jobs[lo];
  if (!j) return null;
  const lane = Math.floor((py - j.top) / LANE);
  if (lane < 0 || lane >= j.lanes) return null;
  for (const r of j.runs) {
    if (r.lane === lane && t >= Math.min(r.begin, isNaN(r.start) ? r.begin : r.start) - slack && t <= r.end + slack) return { run: r, job: j };
  }
  if (lane === 0) {
    for (const f of j.fires) if (t >= f - slack && t <= f + Math.max(j.typical, slack)) return { fire: f, job: j };
  }
  return null;
}

function tip(found) {
  if (found.fire) return `${found.job.name}: fires at ${new Date(found.fire).toLocaleString()}`;
  const { r, due, start } = found.run;
  const lines = [`${r.job} · ${runName(r)}`, r.status];
  if (r.durationMs != null) lines.push(`took ${durationText(r.durationMs)}`);
  if (!isNaN(start) && !isNaN(due) && start - due >= 1000) lines.push(`waited ${durationText(start - due)} after its slot`);
  if (r.reason) lines.push(r.reason);
  return lines.join('\n');
}

const TABLE_MAX = 500;

// The same window in words, a row per job (for a screen reader, and to sort out a busy chart): its runs, how many
// failed, overlapped another of its runs, started late, and its coming fires.
function jobTable(lay) {
  const rows = lay.jobs.slice(0, TABLE_MAX).map((j) => {
    const failed = j.runs.filter((x) => ['failed', 'lost'].includes(x.r.status)).length;
    const overlapping = j.runs.filter((x) => x.lane > 0).length;
    const late = j.runs.filter((x) => !isNaN(x.start) && !isNaN(x.due) && x.start - x.due > LATE_MS).length;
    return h('tr', { 'data-job': j.name }, h('th', { scope: 'row' }, h('a', { href: jobHref(j.name), text: j.name })),
      [j.runs.length, failed, overlapping, late, j.fires.length].map((n) => h('td', { class: 'num', text: String(n) })),
      h('td', { text: j.typical ? durationText(j.typical) : '—' }));
  });
  return h('details', { class: 'fold timeline-jobs' },
    h('summary', { text: `The jobs in view as a table${lay.jobs.length > TABLE_MAX ? ` (the first ${TABLE_MAX})` : ''}` }),
    h('div', { class: 'table-wrap' }, h('table', { 'aria-label': 'Jobs in the timeline' },
      h('thead', {}, h('tr', {}, ['Job', 'Runs', 'Failed', 'Overlapping', 'Late', 'Coming', 'Typical run'].map((t) =>
        h('th', { scope: 'col', text: t })))), h('tbody', {}, rows))));
}

export async function timelinePage(main, _params, { signal, query }) {
  document.title = 'Timeline · gnomon';
  const state = { span: WINDOWS[query.get('window')] ? query.get('window') : 'day', q: query.get('q') || '',
    owner: query.get('owner') || '', state: query.get('state') || '', result: query.get('result') || '' };
  const canvas = h('canvas', { id: 'timeline', role: 'img', 'aria-label': 'Timeline of runs' });
  const box = h('div', { class: 'timeline-box' }, canvas);
  const tipEl = h('div', { class: 'tip', role: 'tooltip', hidden: true });
  const summary = h('p', { class: 'summary', role: 'status' });
  const legend = h('p', { class: 'legend small' }, ['succeeded', 'failed', 'killed', 'running', 'queued'].map((s) =>
    h('span', { class: 'key' }, h('i', { style: `background:${COLOURS[s]}` }), s)),
  h('span', { class: 'key' }, h('i', { class: 'k-queue' }), 'waited after its slot'),
  h('span', { class: 'key' }, h('i', { class: 'k-late' }), 'started late (> 1 min)'),
  h('span', { class: 'key' }, h('i', { class: 'k-ghost' }), 'coming fire'));
  const input = (key, label) => h('div', { class: 'field' }, h('label', { for: `t-${key}`, text: label }),
    h('input', { id: `t-${key}`, name: key, type: 'search', value: state[key], autocomplete: 'off' }));
  const choice = (key, label, options) => h('div', { class: 'field' }, h('label', { for: `t-${key}`, text: label }),
    h('select', { id: `t-${key}`, name: key }, options.map(([v, t]) => h('option', { value: v, text: t, selected: state[key] === v }))));
  const form = h('form', { class: 'filters', role: 'search', 'aria-label': 'Filter the timeline' },
    h('div', { class: 'field' }, h('label', { for: 't-window', text: 'Window' }),
      h('select', { id: 't-window', name: 'window' }, Object.keys(WINDOWS).map((w) =>
        h('option', { value: w, text: `last ${w}`, selected: w === state.span })))),
    input('q', 'Search jobs'), input('owner', 'Owner'), choice('state', 'State', STATES),
    choice('result', 'Last result', RESULTS));
  const table = h('div');
  fill(main, h('h1', { text: 'Timeline' }), form, summary, legend, h('div', { class: 'timeline-wrap' }, box, tipEl), table);

  let current = null;
  let asked = null;
  let inFlight = 0; // fetches not yet answered
  let again = false; // runs changed while one was in flight: fetch once more after it
  const labelW = () => (matchMedia('(max-width: 640px)').matches ? 90 : 170);
  async function load() {
    setQuery({ window: state.span === 'day' ? null : state.span, q: state.q, owner: state.owner, state: state.state,
      result: state.result });
    if (asked) asked.abort();
    asked = new AbortController();
    const started = performance.now();
    const now = Date.now(), span = WINDOWS[state.span];
    const from = now - span, to = now + span * AHEAD;
    let data;
    inFlight++;
    try {
      data = await timeline({ from: new Date(from).toISOString(), to: new Date(to).toISOString(), q: state.q,
        owner: state.owner, state: state.state, result: state.result }, AbortSignal.any([signal, asked.signal]));
    } catch (err) {
      if (err.name !== 'AbortError') fill(summary, errorBox(err));
      return;
    } finally {
      if (--inFlight === 0 && again && !signal.aborted) {
        again = false;
        refresh();
      }
    }
    const lay = layout(data);
    current = { lay, from, to };
    const ms = draw(canvas, lay, from, to, state.span, labelW());
    // Where a job's first drawn run is, in the canvas's CSS pixels (for tests and tools): {x, y} or null.
    canvas.runBox = (job) => {
      const j = lay.jobs.find((x) => x.name === job);
      const r = j && j.runs.find((x) => !isNaN(x.start));
      if (!r) return null;
      const lw = labelW(), plotW = canvas.clientWidth - lw - 8;
      const px = (t) => lw + ((t - from) / (to - from)) * plotW;
      return { x: (px(r.start) + Math.max(px(r.end), px(r.start) + 1.5)) / 2, y: j.top + r.lane * LANE + LANE / 2 };
    };
    canvas.dataset.drawMs = ms.toFixed(1);
    canvas.dataset.totalMs = (performance.now() - started).toFixed(1);
    canvas.dataset.runs = String(data.runs.length);
    const n = new Intl.NumberFormat();
    summary.textContent = `${n.format(data.runs.length)} runs of ${n.format(lay.jobs.length)} jobs` +
      `${data.truncated ? ' (the first shown: narrow the window or the filter)' : ''}; ${n.format(lay.overlapping)} ` +
      `overlapping, ${n.format(lay.late)} started late, ${n.format(data.fires.length)} coming fires.`;
    canvas.setAttribute('aria-label', summary.textContent);
    fill(table, jobTable(lay));
  }
  const redraw = debounce(() => { if (current) draw(canvas, current.lay, current.from, current.to, state.span, labelW()); }, 100);
  const changed = debounce(() => {
    Object.assign(state, { span: form.elements.window.value, q: form.elements.q.value.trim(),
      owner: form.elements.owner.value.trim(), state: form.elements.state.value, result: form.elements.result.value });
    load();
  }, 250);
  form.addEventListener('input', changed);
  form.addEventListener('submit', (e) => { e.preventDefault(); changed(); });
  const under = (e) => {
    if (!current) return null;
    const rect = canvas.getBoundingClientRect();
    const lw = labelW();
    return hit(current.lay, current.from, current.to, lw, rect.width - lw - 8, e.clientX - rect.left, e.clientY - rect.top);
  };
  canvas.addEventListener('mousemove', (e) => {
    const found = under(e);
    tipEl.hidden = !found;
    canvas.style.cursor = found && found.run ? 'pointer' : '';
    if (!found) return;
    tipEl.textContent = tip(found);
    const wrap = box.parentElement.getBoundingClientRect();
    tipEl.style.left = `${Math.min(e.clientX - wrap.left + 12, wrap.width - 260)}px`;
    tipEl.style.top = `${e.clientY - wrap.top + 14}px`;
  });
  canvas.addEventListener('mouseleave', () => { tipEl.hidden = true; });
  canvas.addEventListener('click', (e) => {
    const found = under(e);
    if (found && found.run) navigate(runHref(found.run.r.taskId));
  });
  addEventListener('resize', redraw, { signal });
  // Runs that start and end move the picture on: drawn again (window and now too) a few seconds after them, never
  // while a fetch is in flight (once more after it) nor more often than every REFRESH_MS.
  const refresh = throttle(() => {
    if (inFlight > 0) again = true;
    else load();
  }, REFRESH_MS);
  onEvent((ev) => { if (ev.run) refresh(); }, signal);
  onReload(load, signal);
  signal.addEventListener('abort', () => { changed.cancel(); redraw.cancel(); refresh.cancel(); });
  await load();
}
