// The audit trail (README, "Audit"; admin only): who changed what, from where, when, with what changed between
// before and after. The Audit page (filters by job and time, paged) and the job page's section of its recent
// entries.
import { auditEntries } from '../api.js';
import { errorBox, fill, h, jobHref, timeEl } from '../dom.js';
import { setQuery } from '../router.js';

const PAGE = 50;
const RECENT = 10;

// The admin role, which the listing needs (the session's role: app.js puts it on the body).
export const canReadAudit = () => document.body.dataset.role === 'admin';

function show(v) {
  return v === undefined ? '—' : JSON.stringify(v);
}

// The changes between before and after: one line per top-level field that differs (a job's definition; a run's
// task id; a token's name and role), "field: before → after".
export function auditDiff(before, after) {
  const isObj = (v) => v != null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(before) && !isObj(after)) {
    if (before == null && after == null) return [];
    return [{ field: '', before: before ?? undefined, after: after ?? undefined }];
  }
  const b = isObj(before) ? before : {};
  const a = isObj(after) ? after : {};
  const out = [];
  for (const k of new Set([...Object.keys(b), ...Object.keys(a)])) {
    if (JSON.stringify(b[k]) !== JSON.stringify(a[k])) out.push({ field: k, before: b[k], after: a[k] });
  }
  return out;
}

function diffEl(e) {
  const lines = auditDiff(e.before, e.after);
  if (!lines.length) return h('span', { class: 'muted', text: 'no change' });
  return h('ul', { class: 'audit-diff' }, lines.map((d) => h('li', {},
    d.field ? h('span', { class: 'mono', text: `${d.field}: ` }) : null,
    d.before !== undefined ? h('del', { text: show(d.before) }) : null,
    d.before !== undefined && d.after !== undefined ? ' → ' : null,
    d.after !== undefined ? h('ins', { text: show(d.after) }) : null)));
}

function auditTable(label, entries, withJob) {
  const rows = entries.map((e) => h('tr', { 'data-action': e.action },
    h('td', {}, timeEl(e.time)),
    h('td', {}, e.actor, ' ', h('span', { class: 'muted small', text: `(${e.actorKind})` })),
    h('td', { class: 'mono', text: e.address }),
    h('td', { class: 'mono', text: e.action }),
    withJob ? h('td', {}, e.job ? h('a', { href: jobHref(e.job), text: e.job }) : '—') : null,
    h('td', {}, diffEl(e))));
  const cols = ['Time', 'Who', 'From', 'Action', withJob ? 'Job' : null, 'Change'].filter(Boolean);
  if (!rows.length) rows.push(h('tr', {}, h('td', { colspan: cols.length, class: 'muted', text: 'No entries.' })));
  return h('div', { class: 'table-wrap' }, h('table', { 'aria-label': label },
    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))), h('tbody', {}, rows)));
}

export async function auditPage(main, params, { signal, query }) {
  document.title = 'Audit · gnomon';
  if (!canReadAudit()) {
    fill(main, h('h1', { text: 'Audit' }), h('p', { class: 'error-box', role: 'alert',
      text: 'The audit trail needs the admin role.' }));
    return;
  }
  const job = h('input', { type: 'text', name: 'job', value: query.get('job') || '', 'aria-label': 'Job' });
  const since = h('input', { type: 'datetime-local', name: 'since', 'aria-label': 'Since (your time)' });
  if (query.get('since')) {
    const d = new Date(query.get('since'));
    if (!isNaN(d)) since.value = new Date(d - d.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
  }
  const list = h('div', { class: 'audit' });
  const cursors = [];
  let before = null;

  const filters = () => ({ job: job.value.trim(), since: since.value ? new Date(since.value).toISOString() : '' });
  async function load() {
    let page;
    try {
      page = await auditEntries({ ...filters(), limit: PAGE, before }, signal);
    } catch (err) {
      if (err.name !== 'AbortError') fill(list, errorBox(err));
      return;
    }
    const button = (text, disabled, onclick) => h('button', { type: 'button', text, disabled, onclick });
    fill(list, auditTable('Audit entries', page.entries, true), h('nav', { class: 'pager', 'aria-label': 'Pages of entries' },
      button('Newest', !cursors.length, () => { cursors.length = 0; before = null; load(); }),
      button('Newer', !cursors.length, () => { before = cursors.pop(); load(); }),
      button('Older', page.next == null, () => { cursors.push(before); before = page.next; load(); })));
  }
  const form = h('form', { class: 'filters', onsubmit: (e) => {
    e.preventDefault();
    cursors.length = 0;
    before = null;
    setQuery(filters());
    load();
  } }, h('label', { class: 'field' }, 'Job', job), h('label', { class: 'field' }, 'Since', since), h('button', { type: 'submit', text: 'Show' }));
  fill(main, h('h1', { text: 'Audit' }), form, list);
  await load();
}

// The job page's section: the job's recent entries, with a link to the rest; null without the admin role.
export function jobAudit(name, signal) {
  if (!canReadAudit()) return null;
  const el = h('div', { class: 'job-audit' });
  el.reload = async () => {
    try {
      const page = await auditEntries({ job: name, limit: RECENT }, signal);
      fill(el, auditTable(`Changes of ${name}`, page.entries, false),
        h('p', {}, h('a', { href: `/ui/audit?job=${encodeURIComponent(name)}`, text: 'All changes of this job' })));
    } catch (err) {
      if (err.name !== 'AbortError') fill(el, errorBox(err));
    }
  };
  el.ready = el.reload();
  return el;
}
