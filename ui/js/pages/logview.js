// A run's output: stdout and stderr followed live, shown one at a time or both, with line numbers, a wrap toggle,
// search with highlighting, a download of each stream, the raw text, byte counts as they grow, and the marker a
// capped stream carries explained. "Both" shows the lines in the order they came (GET .../log?stream=both, asked
// again as the streams grow), each marked out or err; a run from before gnomon recorded that order shows stdout,
// then stderr, and says so.
import { followLog, logBoth } from '../api.js';
import { h } from '../dom.js';

const STREAMS = ['stdout', 'stderr'];
const MARKER = /^\[gnomon: (\d+) bytes omitted\]$/;
const enc = new TextEncoder();
const BOTH_EVERY_MS = 250; // the merged view is asked again at most this often while the streams grow

function omittedText(n) {
  return `This stream was longer than the server keeps: the first and the last --log-cap bytes are kept, and the ` +
    `${Number(n).toLocaleString()} bytes between them were dropped where the marker stands.`;
}

function logHref(taskId, stream) {
  return `/api/v1/runs/${encodeURIComponent(taskId)}/log?stream=${stream}`;
}

// onEnd(): both streams ended; onBytes({stdout, stderr}): the bytes received so far, as they grow.
export function logViewer(taskId, signal, onEnd, onBytes = () => {}) {
  const text = { stdout: '', stderr: '' };
  const bytes = { stdout: 0, stderr: 0 };
  const ended = { stdout: false, stderr: false };
  let view = 'both';
  let omitted = null; // the bytes a shown marker says were dropped
  let merged = null; // the last merged view: { order, lines }
  let asking = false; // a merged view is being fetched
  let stale = true; // the streams grew since it was asked
  const body = h('div', { class: 'log', id: 'log', tabindex: 0, role: 'log', 'aria-label': 'Output' });
  const counts = h('p', { class: 'muted small log-counts', role: 'status', 'aria-live': 'off' });
  const note = h('p', { class: 'muted small log-note' });
  const search = h('input', { type: 'search', id: 'log-search', placeholder: 'Search the output', autocomplete: 'off' });
  const found = h('span', { class: 'muted small', role: 'status', id: 'log-found' });
  const wrap = h('input', { type: 'checkbox', id: 'log-wrap', checked: true });
  const views = h('div', { class: 'seg', role: 'radiogroup', 'aria-label': 'Streams shown' },
    ['both', ...STREAMS].map((v) => h('label', { class: 'inline' }, h('input', { type: 'radio', name: 'log-view', value: v,
      checked: v === view }), ` ${v === 'both' ? 'Both' : v}`)));
  const links = h('span', { class: 'log-links' }, STREAMS.map((s) => [
    h('a', { class: 'button', href: logHref(taskId, s), download: `${taskId.replace(/[^\w.-]+/g, '_')}.${s}.txt`,
      text: `Download ${s}` }), ' ',
    h('a', { href: logHref(taskId, s), target: '_blank', rel: 'noopener', text: `raw ${s}` }), ' ']));

  function lines(stream) {
    const t = text[stream];
    if (!t) return [];
    const out = t.split('\n');
    if (out[out.length - 1] === '') out.pop();
    return out.map((l) => [stream, l]);
  }

  function lineEl(n, stream, line, q) {
    const el = h('div', { class: `line l-${stream}`, 'data-n': n });
    // the marker is drawn from its attribute (CSS): not part of the line's text, nor of a copy of it
    if (view === 'both') {
      el.append(h('span', { class: 'tag', title: stream, 'data-tag': stream === 'stderr' ? 'err' : 'out' }));
    }
    const m = MARKER.exec(line);
    if (m) {
      el.classList.add('omitted');
      el.append(h('span', { text: line, title: omittedText(m[1]) }));
      omitted = m[1];
      return el;
    }
    if (!q) {
      el.append(line || '\u200b');
      return el;
    }
    const low = line.toLowerCase();
    let i = 0;
    for (let at = low.indexOf(q); at >= 0; at = low.indexOf(q, i)) {
      el.append(line.slice(i, at), h('mark', { text: line.slice(at, at + q.length) }));
      i = at + q.length;
    }
    el.append(line.slice(i) || (i ? '' : '\u200b'));
    return el;
  }

  function render() {
    const atEnd = body.scrollTop + body.clientHeight >= body.scrollHeight - 4;
    const q = search.value.trim().toLowerCase();
    const arrival = merged && merged.order === 'arrival';
    const all = view !== 'both' ? lines(view) : merged ? merged.lines : [...lines('stdout'), ...lines('stderr')];
    omitted = null;
    let hits = 0;
    const frag = document.createDocumentFragment();
    all.forEach(([stream, line], i) => {
      if (q && line.toLowerCase().includes(q)) hits++;
      frag.append(lineEl(i + 1, stream, line, q));
    });
    body.replaceChildren(frag);
    body.classList.toggle('nowrap', !wrap.checked);
    body.classList.toggle('both', view === 'both');
    found.textContent = q ? `${hits} line${hits === 1 ? '' : 's'} match` : '';
    const state = (s) => (ended[s] ? '' : ' (following)');
    counts.textContent = `stdout: ${bytes.stdout.toLocaleString()} bytes${state('stdout')} · ` +
      `stderr: ${bytes.stderr.toLocaleString()} bytes${state('stderr')}`;
    note.textContent = [view === 'both' && !arrival ? 'Both: stdout, then stderr (red). This run\'s output was ' +
      'stored without the order in which its lines were written.' : '', omitted ? `[gnomon: … bytes omitted]: ` +
      `${omittedText(omitted)}` : ''].filter(Boolean).join(' ');
    if (!all.length) body.replaceChildren(h('div', { class: 'muted empty', text: ended.stdout && ended.stderr ? 'No output.' : 'Waiting for output…' }));
    if (atEnd) body.scrollTop = body.scrollHeight;
  }

  // Ask for the merged view; again (no more often than BOTH_EVERY_MS) while the streams grew meanwhile.
  async function askBoth() {
    if (asking || !stale || view !== 'both') return;
    asking = true;
    stale = false;
    try {
      merged = await logBoth(taskId, !(ended.stdout && ended.stderr), signal);
    } catch (err) {
      if (err.name === 'AbortError') return;
      merged = null; // the streams as followed, stdout then stderr
    } finally {
      asking = false;
    }
    later();
    if (stale) setTimeout(askBoth, BOTH_EVERY_MS);
  }
  const grew = () => {
    stale = true;
    askBoth();
  };

  let queued = false;
  const later = () => {
    if (queued) return;
    queued = true;
    requestAnimationFrame(() => { queued = false; render(); });
  };
  for (const s of STREAMS) {
    followLog(taskId, s, (chunk) => {
      text[s] += chunk;
      bytes[s] += enc.encode(chunk).length;
      onBytes({ ...bytes });
      grew();
      later();
    }, signal).then(() => {
      ended[s] = true;
      grew(); // its last bytes (a capped stream's tail) and the order record are complete at the end
      later();
      if (ended.stdout && ended.stderr) onEnd();
    }, (err) => {
      if (err.name !== 'AbortError') {
        ended[s] = true;
        text[s] += `\n[${s} could not be read: ${err.message}]\n`;
        later();
      }
    });
  }
  views.addEventListener('change', (e) => { view = e.target.value; askBoth(); render(); });
  search.addEventListener('input', render);
  wrap.addEventListener('change', render);
  render();
  return h('section', { class: 'log-viewer', 'aria-label': 'Output' }, h('h2', { text: 'Output' }),
    h('div', { class: 'log-tools' }, views, h('label', { class: 'inline' }, wrap, ' Wrap lines'),
      h('label', { class: 'sr-only', for: 'log-search', text: 'Search the output' }), search, found),
    counts, note, body, h('p', { class: 'log-links-line' }, links));
}
