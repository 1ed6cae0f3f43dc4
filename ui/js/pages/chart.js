// Inline SVG charts of runs over time: one dot per finished run, coloured by its status; durations, and the
// peak memory of runs that report it (peakMemoryBytes).
import { durationText, utcText } from '../dom.js';

const NS = 'http://www.w3.org/2000/svg';
const W = 640, H = 180, L = 64, R = 12, T = 12, B = 28;

function s(tag, attrs, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  for (const c of children) el.append(c);
  return el;
}

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'short', timeStyle: 'short' });

// 1536 -> "1.5 KiB".
export function bytesText(n) {
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++; }
  return i ? `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}` : `${n} bytes`;
}

// runs: newest first, as the API lists them; value(run): the plotted number or null; fmt: its text.
function runChart(runs, { value, fmt, what, className, empty }) {
  const done = runs.filter((r) => r.start && value(r) != null).reverse();
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: `chart ${className}`, role: 'img',
    'aria-label': `${what} of the last ${done.length} runs` });
  if (!done.length) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'axis' }, empty));
    return svg;
  }
  const t0 = Date.parse(done[0].start), t1 = Date.parse(done[done.length - 1].start);
  const max = Math.max(...done.map(value), 1);
  const x = (t) => (t1 === t0 ? (L + W - R) / 2 : L + ((t - t0) / (t1 - t0)) * (W - L - R));
  const y = (d) => H - B - (d / max) * (H - T - B);
  svg.append(
    s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis-line' }),
    s('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis-line' }),
    s('text', { x: L - 6, y: T + 4, 'text-anchor': 'end', class: 'axis' }, fmt(max)),
    s('text', { x: L - 6, y: H - B, 'text-anchor': 'end', class: 'axis' }, '0'),
    s('text', { x: L, y: H - 8, class: 'axis' }, dateFmt.format(new Date(t0))),
    s('text', { x: W - R, y: H - 8, 'text-anchor': 'end', class: 'axis' }, dateFmt.format(new Date(t1))));
  if (done.length > 1) {
    svg.append(s('polyline', { class: 'trend', points: done.map((r) =>
      `${x(Date.parse(r.start)).toFixed(1)},${y(value(r)).toFixed(1)}`).join(' ') }));
  }
  for (const r of done) {
    svg.append(s('circle', { cx: x(Date.parse(r.start)).toFixed(1), cy: y(value(r)).toFixed(1), r: 4,
      class: `dot d-${r.status}` }, s('title', {}, `${utcText(new Date(r.start))}: ${fmt(value(r))}, ${r.status}`)));
  }
  return svg;
}

export function durationChart(runs) {
  return runChart(runs, { value: (r) => r.durationMs, fmt: durationText, what: 'Durations', className: 'durations',
    empty: 'No finished runs yet.' });
}

// null when no run reports its peak memory (a server or runner that does not measure it).
export function memoryChart(runs) {
  if (!runs.some((r) => r.peakMemoryBytes != null)) return null;
  return runChart(runs, { value: (r) => r.peakMemoryBytes ?? null, fmt: bytesText, what: 'Peak memory',
    className: 'memory', empty: 'No run reported its memory.' });
}
