// Graph: the dependency graph as the server draws it (Graphviz SVG), inline so that each node is a link to its
// job; redrawn a moment after job changes. A list view (the Chronos graph CSV's edges) reads on a phone: each job
// that has parents or children, with them as links.
import { graphCsv, graphSvg } from '../api.js';
import { onEvent } from '../events.js';
import { errorBox, fill, h, jobHref, throttle } from '../dom.js';
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

// The edges of the CSV ("link,<parent>,<child>") as a list of the jobs in them, each with its parents and children;
// only those around job when one is named.
export function dependencyList(csv, job) {
  const parents = new Map(), children = new Map();
  const add = (m, k, v) => { if (!m.has(k)) m.set(k, []); m.get(k).push(v); };
  for (const line of csv.split('\n')) {
    const [kind, parent, child] = line.split(',');
    if (kind !== 'link' || !parent || !child) continue;
    add(parents, child, parent);
    add(children, parent, child);
  }
  let names = [...new Set([...parents.keys(), ...children.keys()])].sort();
  if (job) names = names.filter((n) => n === job || (parents.get(n) || []).includes(job) || (children.get(n) || []).includes(job));
  if (!names.length) return h('p', { class: 'muted', text: 'No dependencies.' });
  const links = (list) => (list || []).map((n, i) => [i ? ', ' : '', h('a', { href: jobHref(n), text: n })]);
  return h('ul', { class: 'deps', 'aria-label': 'Dependencies' }, names.map((n) => h('li', { 'data-job': n },
    h('a', { href: jobHref(n), class: 'dep-name', text: n }),
    parents.has(n) ? h('div', { class: 'small' }, 'after ', links(parents.get(n))) : null,
    children.has(n) ? h('div', { class: 'small muted' }, 'then ', links(children.get(n))) : null)));
}

export async function graphPage(main, _params, { signal, query }) {
  document.title = 'Graph · gnomon';
  let job = query.get('job') || '';
  const input = h('input', { id: 'graph-job', name: 'job', value: job, autocomplete: 'off',
    placeholder: 'every job' });
  const form = h('form', { class: 'inline-form', role: 'search', 'aria-label': 'Graph of one job' },
    h('label', { for: 'graph-job', text: 'Job' }), input, h('button', { type: 'submit', text: 'Show' }));
  const box = h('div', { class: 'graph-box' });
  let asList = query.get('view') === 'list' || (!query.get('view') && matchMedia('(max-width: 640px)').matches);
  const toggle = h('button', { type: 'button', 'aria-pressed': String(asList), text: 'List view', onclick: () => {
    asList = !asList;
    toggle.setAttribute('aria-pressed', String(asList));
    setQuery({ job, view: asList ? 'list' : 'graph' });
    draw();
  } });
  const download = h('a', { class: 'button', download: 'graph.svg', text: 'Download SVG' });
  fill(main, h('h1', { text: 'Dependency graph' }), h('div', { class: 'bar' }, form, h('span', { class: 'toolbar' }, toggle, download)),
    h('p', { class: 'hint', text: 'Colour: last result. Bold: running. Dashed: queued. Each node opens its job.' }),
    box);

  async function draw() {
    download.href = `/api/v1/graph.svg${job ? `?job=${encodeURIComponent(job)}` : ''}`;
    try {
      fill(box, asList ? dependencyList(await graphCsv(signal), job) : inline(await graphSvg(job, signal)));
    } catch (err) {
      if (err.name !== 'AbortError') fill(box, errorBox(err));
    }
  }
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    job = input.value.trim();
    setQuery({ job, view: asList ? 'list' : 'graph' });
    draw();
  });
  const redraw = throttle(draw, 2000);
  onEvent(redraw, signal);
  signal.addEventListener('abort', redraw.cancel);
  await draw();
}
