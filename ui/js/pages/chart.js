// An inline SVG chart of run durations over time: one dot per finished run, coloured by its status.
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

// runs: newest first, as the API lists them.
export function durationChart(runs) {
  const done = runs.filter((r) => r.start && r.durationMs != null).reverse();
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart', role: 'img',
    'aria-label': `Durations of the last ${done.length} runs` });
  if (!done.length) {
    svg.append(s('text', { x: W / 2, y: H / 2, 'text-anchor': 'middle', class: 'axis' }, 'No finished runs yet.'));
    return svg;
  }
  const t0 = Date.parse(done[0].start), t1 = Date.parse(done[done.length - 1].start);
  const max = Math.max(...done.map((r) => r.durationMs), 1);
  const x = (t) => (t1 === t0 ? (L + W - R) / 2 : L + ((t - t0) / (t1 - t0)) * (W - L - R));
  const y = (d) => H - B - (d / max) * (H - T - B);
  svg.append(
    s('line', { x1: L, y1: H - B, x2: W - R, y2: H - B, class: 'axis-line' }),
    s('line', { x1: L, y1: T, x2: L, y2: H - B, class: 'axis-line' }),
    s('text', { x: L - 6, y: T + 4, 'text-anchor': 'end', class: 'axis' }, durationText(max)),
    s('text', { x: L - 6, y: H - B, 'text-anchor': 'end', class: 'axis' }, '0'),
    s('text', { x: L, y: H - 8, class: 'axis' }, dateFmt.format(new Date(t0))),
    s('text', { x: W - R, y: H - 8, 'text-anchor': 'end', class: 'axis' }, dateFmt.format(new Date(t1))));
  if (done.length > 1) {
    svg.append(s('polyline', { class: 'trend', points: done.map((r) =>
      `${x(Date.parse(r.start)).toFixed(1)},${y(r.durationMs).toFixed(1)}`).join(' ') }));
  }
  for (const r of done) {
    svg.append(s('circle', { cx: x(Date.parse(r.start)).toFixed(1), cy: y(r.durationMs).toFixed(1), r: 4,
      class: `dot d-${r.status}` }, s('title', {}, `${utcText(new Date(r.start))}: ${durationText(r.durationMs)}, ${r.status}`)));
  }
  return svg;
}
