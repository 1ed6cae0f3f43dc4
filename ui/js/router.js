// History-API routing: every page is a real path under /ui/, so a job's or a run's URL can be bookmarked.
// Each page gets an AbortSignal that fires when the user leaves it (to stop fetches, streams, listeners).

let routes = [];
let main = null;
let current = null;

// routes: [[RegExp over the path after /ui/, render(main, params, {signal, query})], ...]
export function startRouter(table, mainEl) {
  routes = table;
  main = mainEl;
  document.addEventListener('click', onClick);
  addEventListener('popstate', render);
  render();
}

export function navigate(path, { replace = false } = {}) {
  history[replace ? 'replaceState' : 'pushState'](null, '', path);
  render();
}

// Change the query string of the current page without re-rendering it (filters, paging).
export function setQuery(params) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v != null && v !== '') qs.set(k, v);
  const s = qs.toString();
  history.replaceState(null, '', location.pathname + (s ? `?${s}` : ''));
}

// The UI's own page path of a link (same origin, under /ui), or null.
export function uiPath(href) {
  const url = new URL(href, location.href);
  if (url.origin !== location.origin) return null;
  return url.pathname.startsWith('/ui') ? url.pathname + url.search : null;
}

function onClick(e) {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest('a');
  if (!a || a.target || a.hasAttribute('download')) return;
  const href = a.getAttribute('href') || a.getAttribute('xlink:href');
  const path = href && uiPath(href);
  if (!path) return;
  e.preventDefault();
  navigate(path);
}

function render() {
  if (current) current.abort();
  current = new AbortController();
  const path = location.pathname.replace(/^\/ui\/?/, '');
  const query = new URLSearchParams(location.search);
  for (const a of document.querySelectorAll('nav a')) {
    const p = a.getAttribute('href').replace(/^\/ui\/?/, '');
    const here = p === '' ? path === '' : path === p || (p === 'jobs' && path.startsWith('jobs/'));
    if (here) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (!m) continue;
    const params = m.slice(1).map((s) => decodeURIComponent(s));
    main.replaceChildren();
    page(main, params, { signal: current.signal, query }).catch((err) => {
      if (err.name !== 'AbortError') showError(err);
    });
    main.focus({ preventScroll: true });
    scrollTo(0, 0);
    return;
  }
  showError(new Error(`No page at /ui/${path}`));
}

function showError(err) {
  const p = document.createElement('p');
  p.className = 'error-box';
  p.setAttribute('role', 'alert');
  p.textContent = err.message;
  main.append(p);
}
