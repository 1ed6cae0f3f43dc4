// New job and Edit job: the job form, and the raw JSON editor folded under it.
import { getJob } from '../api.js';
import { fill, h, jobHref } from '../dom.js';
import { navigate } from '../router.js';
import { jobForm, jsonEditor } from './jobform.js';

const TEMPLATE = { name: '', command: '', schedule: '', owner: '' };

function page(main, job, editing, signal) {
  const onSaved = (name) => navigate(jobHref(name));
  fill(main,
    editing ? h('p', { class: 'crumbs' }, h('a', { href: '/ui/jobs', text: 'Jobs' }), ' / ',
      h('a', { href: jobHref(job.name), text: job.name })) : null,
    h('h1', { text: editing ? `Edit ${job.name}` : 'New job' }),
    jobForm(editing ? job : {}, { editing, signal, onSaved }),
    h('details', { class: 'raw' }, h('summary', { text: 'Raw JSON' }),
      jsonEditor(editing ? job : TEMPLATE, { onSaved })));
}

export async function newPage(main, _params, { signal }) {
  document.title = 'New job · gnomon';
  page(main, {}, false, signal);
}

export async function editPage(main, [name], { signal }) {
  document.title = `Edit ${name} · gnomon`;
  page(main, await getJob(name, signal), true, signal);
}
