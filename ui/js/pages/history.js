// A job's run history: a page of runs with Older/Newer paging, and rows kept current by run events.
import { jobRuns } from '../api.js';
import { errorBox, fill, h } from '../dom.js';
import { runRow, runTable } from './runs.js';

const COLUMNS = ['run', 'status', 'trigger', 'attempt', 'start', 'duration', 'exit', 'agent'];
const PAGE = 20;

export function runHistory(name, signal) {
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
    const t = runTable(`Runs of ${name}`, page.runs, COLUMNS, 'No runs yet.');
    tbody = t.tbody;
    const button = (text, disabled, onclick) => h('button', { type: 'button', text, disabled, onclick });
    fill(el, t.el, h('nav', { class: 'pager', 'aria-label': 'Pages of runs' },
      button('Newest runs', !cursors.length, () => { cursors.length = 0; before = null; load(); }),
      button('Newer runs', !cursors.length, () => { before = cursors.pop(); load(); }),
      button('Older runs', page.next == null, () => { cursors.push(before); before = page.next; load(); })));
  }

  // A run changed: update its row, or put it on top of the newest page.
  el.update = (run) => {
    if (!tbody) return;
    const old = tbody.querySelector(`tr[data-task="${CSS.escape(run.taskId)}"]`);
    const tr = runRow(run, COLUMNS);
    if (old) old.replaceWith(tr);
    else if (before == null) {
      if (!tbody.querySelector('tr[data-task]')) tbody.replaceChildren();
      tbody.prepend(tr);
      while (tbody.children.length > PAGE) tbody.lastElementChild.remove();
    }
  };
  el.reload = load;
  el.ready = load();
  return el;
}
