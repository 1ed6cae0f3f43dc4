// Small DOM helpers shared by the pages: element building, times and durations.

// h('a', {href, class, text, onclick}, ...children): an element; null/false props and children are skipped.
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v == null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'value' || k === 'checked') el[k] = v;
    else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c == null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// Replace everything inside el.
export function fill(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

const local = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

export function utcText(d) {
  return d.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
}

// A <time> in the browser's zone with UTC on hover; a dash when there is no time.
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted', text: '—' });
  const d = new Date(iso);
  if (isNaN(d)) return h('span', { text: iso });
  return h('time', { datetime: d.toISOString(), title: utcText(d), text: local.format(d) });
}

// 1234 -> "1.2 s", 125000 -> "2 min 5 s".
export function durationText(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return `${ms} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${Math.round(s % 60)} s`;
  return `${Math.floor(m / 60)} h ${m % 60} min`;
}

// A coloured word for a run status, a job state or a last result.
export function badge(word, extra) {
  const kind = String(word).replace(/^\d+ /, '');
  return h('span', { class: `badge b-${kind}`, text: word, title: extra });
}

export function jobHref(name) {
  return `/ui/jobs/${encodeURIComponent(name)}`;
}

export function runHref(taskId) {
  return `/ui/runs/${encodeURIComponent(taskId)}`;
}

// Run fn at most once per wait ms, after the last call (trailing debounce).
export function debounce(fn, wait) {
  let timer = null;
  const run = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), wait);
  };
  run.cancel = () => clearTimeout(timer);
  return run;
}

// Run fn once, wait ms after the first of a burst of calls (so a steady stream still gets applied).
export function throttle(fn, wait) {
  let timer = null;
  const run = () => {
    if (timer === null) timer = setTimeout(() => { timer = null; fn(); }, wait);
  };
  run.cancel = () => { clearTimeout(timer); timer = null; };
  return run;
}

export function errorBox(err) {
  return h('p', { class: 'error-box', role: 'alert', text: err && err.message ? err.message : String(err) });
}
