// Graph: the dependency graph as the server draws it (Graphviz SVG), inline so that each node is a link to its
// job; redrawn a moment after job changes.
import { graphSvg } from '../api.js';
import { onEvent } from '../events.js';
import { errorBox, fill, h, throttle } from '../dom.js';
import { setQuery, uiPath } from '../router.js';

const XLINK = 'http://www.w3.org/1999/xlink';

function inline(text) {
  const doc = new DOMParser().parseFromString(text, 'image/svg+xml');
  const svg = document.importNode(doc.documentElement, true);
  svg.setAttribute('role', 'group');
  svg.setAttribute('aria-label', 'Dependency graph');
  // Node links are "/ui/jobs/NAME" (xlink:href): give them a plain href too, for the router's clicks.
  for (const a of svg.querySelectorAll('a')) {
    const href = a.getAttributeNS(XLINK, 'href') || a.getAttribute('href');
    const path = href && uiPath(href);
    if (path) a.setAttribute('href', path);
    // Named by its job, not by its tooltip (the state) alone.
    const state = a.getAttributeNS(XLINK, 'title');
    a.setAttribute('aria-label', `${a.textContent.trim()}${state ? ` (${state})` : ''}`);
  }
  return svg;
}

export async function graphPage(main, _params, { signal, query }) {
  document.title = 'Graph · gnomon';
  let job = query.get('job') || '';
  const input = h('input', { id: 'graph-job', name: 'job', value: job, autocomplete: 'off',
    placeholder: 'every job' });
  const form = h('form', { class: 'inline-form', role: 'search', 'aria-label': 'Graph of one job' },
    h('label', { for: 'graph-job', text: 'Job' }), input, h('button', { type: 'submit', text: 'Show' }));
  const box = h('div', { class: 'graph-box' });
  const download = h('a', { class: 'button', download: 'graph.svg', text: 'Download SVG' });
  fill(main, h('h1', { text: 'Dependency graph' }), h('div', { class: 'bar' }, form, download),
    h('p', { class: 'hint', text: 'Colour: last result. Bold: running. Dashed: queued. Each node opens its job.' }),
    box);

  async function draw() {
    download.href = `/api/v1/graph.svg${job ? `?job=${encodeURIComponent(job)}` : ''}`;
    try {
      fill(box, inline(await graphSvg(job, signal)));
    } catch (err) {
      if (err.name !== 'AbortError') fill(box, errorBox(err));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    job = input.value.trim();
    setQuery({ job });
    draw();
  });
  const redraw = throttle(draw, 2000);
  onEvent(redraw, signal);
  signal.addEventListener('abort', redraw.cancel);
  await draw();
}
