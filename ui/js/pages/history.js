// A job's run history: a page of runs with Older/Newer paging, the tries of a slot grouped under it, and rows kept
// current by run events.
import { jobRuns } from '../api.js';
import { errorBox, fill, h } from '../dom.js';
import { runRow, runTable } from './runs.js';

const COLUMNS = ['run', 'status', 'trigger', 'start', 'duration', 'exit', 'agent'];
const PAGE = 20;

// tries(): the job's retries + 1, as now known.
export function runHistory(name, signal, tries = () => null) {
  const el = h('div', { class: 'history' });
  const cursors = []; // the "before" of each newer page
  let before = null;
  let tbody = null;

  async function load() {
    let page;
    try {
      page = await jobRuns(name, { limit: PAGE, before }, signal);
    } catch (err) {
      if (err.name !== 'AbortError') fill(el, errorBox(err));
      return;
    }
    const t = runTable(`Runs of ${name}`, page.runs, COLUMNS, 'No runs yet.', tries());
    tbody = t.tbody;
    const button = (text, disabled, onclick) => h('button', { type: 'button', text, disabled, onclick });
    fill(el, t.el, h('nav', { class: 'pager', 'aria-label': 'Pages of runs' },
      button('Newest runs', !cursors.length, () => { cursors.length = 0; before = null; load(); }),
      button('Newer runs', !cursors.length, () => { before = cursors.pop(); load(); }),
      button('Older runs', page.next == null, () => { cursors.push(before); before = page.next; load(); })));
  }

  // The first row of a slot is its latest try; the ones after it are its earlier tries.
  function regroup() {
    const seen = new Set();
    for (const tr of tbody.querySelectorAll('tr[data-slot]')) {
      tr.classList.toggle('try-earlier', seen.has(tr.dataset.slot));
      seen.add(tr.dataset.slot);
    }
  }

  // A run changed: update its row, or put it on top of the newest page.
  el.update = (run) => {
    if (!tbody) return;
    const old = tbody.querySelector(`tr[data-task="${CSS.escape(run.taskId)}"]`);
    const tr = runRow(run, COLUMNS, tries());
    if (old) old.replaceWith(tr);
    else if (before == null) {
      if (!tbody.querySelector('tr[data-task]')) tbody.replaceChildren();
      tbody.prepend(tr);
      while (tbody.children.length > PAGE) tbody.lastElementChild.remove();
    }
    regroup();
  };
  el.reload = load; // the first load too: the page calls it once it knows the job's tries
  return el;
}
