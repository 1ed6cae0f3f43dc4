// The job form (every Chronos field, grouped) and the raw JSON editor, shared by New job and Edit. A message
// from the API that names a field ("schedule: cannot parse ...") is shown next to that field.
import { ApiError, saveJob } from '../api.js';
import { h } from '../dom.js';
import { GROUPS, fromControl, toControl } from './fields.js';
import { whenGroup } from './when.js';

// A labelled field with a hint and a slot for its error message.
function field(key, label, control, hint) {
  const ids = [hint ? `hint-${key}` : null, `error-${key}`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', ids);
  const checkbox = control.type === 'checkbox';
  const lab = h('label', { for: control.id, text: checkbox ? null : label }, checkbox ? [control, ` ${label}`] : null);
  return h('div', { class: `field${checkbox ? ' check' : ''}`, 'data-field': key }, lab, checkbox ? null : control,
    hint ? h('p', { class: 'hint', id: `hint-${key}`, text: hint }) : null,
    h('p', { class: 'error', id: `error-${key}`, hidden: true }));
}

function control(f, value) {
  const id = `j-${f.key}`;
  const common = { id, name: f.key, placeholder: f.placeholder, required: f.required };
  if (f.type === 'checkbox') return h('input', { ...common, type: 'checkbox', checked: toControl(f, value) });
  if (['textarea', 'lines', 'env', 'json'].includes(f.type)) {
    return h('textarea', { ...common, rows: f.type === 'json' ? 3 : 2, spellcheck: 'false', value: toControl(f, value) });
  }
  return h('input', { ...common, type: f.type === 'number' ? 'number' : 'text', min: f.min, step: f.step,
    autocomplete: 'off', value: toControl(f, value) });
}

function clearErrors(form) {
  for (const p of form.querySelectorAll('.error[id^=error-]')) {
    p.hidden = true;
    p.textContent = '';
    p.removeAttribute('role');
  }
  for (const c of form.querySelectorAll('[aria-invalid]')) c.removeAttribute('aria-invalid');
  form.querySelector('.form-error').hidden = true;
}

// Show err next to the field it names, or above the form; focus the field.
function showError(form, err) {
  const slot = err.field && form.querySelector(`#error-${err.field}`);
  if (slot) {
    slot.textContent = err.message;
    slot.hidden = false;
    slot.setAttribute('role', 'alert');
    const input = form.querySelector(`[name=${err.field}]`);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      const group = input.closest('details');
      if (group) group.open = true;
      input.focus();
    }
    return;
  }
  const box = form.querySelector('.form-error');
  box.textContent = err.message;
  box.hidden = false;
}

// The job the form describes: base (the job as loaded) with every form field applied.
function collect(form, base, when) {
  const job = structuredClone(base);
  for (const [, fields] of GROUPS) {
    if (fields === 'when') continue;
    for (const f of fields) {
      const c = form.elements[f.key];
      let v;
      try {
        v = fromControl(f, f.type === 'checkbox' ? c.checked : c.value);
      } catch (err) {
        throw new ApiError(400, err.message);
      }
      if (v === undefined) delete job[f.key];
      else job[f.key] = v;
    }
  }
  when.collect(job);
  return job;
}

// The form for job (an empty object for a new one); onSaved(name) after the server accepted it.
export function jobForm(job, { editing, signal, onSaved }) {
  const when = whenGroup(job, field, signal);
  const form = h('form', { class: 'job-form', 'aria-label': editing ? 'Edit job' : 'New job', novalidate: true },
    h('p', { class: 'error-box form-error', role: 'alert', hidden: true }));
  GROUPS.forEach(([title, fields], i) => {
    if (fields === 'when') {
      form.append(when);
      return;
    }
    const body = fields.map((f) => field(f.key, f.label, control(f, job[f.key]), f.hint));
    // The first two groups are open; the rest fold away until needed.
    form.append(i < 3 ? h('fieldset', { class: 'group' }, h('legend', { text: title }), body)
      : h('details', { class: 'group' }, h('summary', { text: title }), h('fieldset', {}, h('legend', {
        class: 'sr-only', text: title }), body)));
  });
  if (editing) form.elements.name.readOnly = true;
  const save = h('button', { type: 'submit', class: 'primary', text: editing ? 'Save changes' : 'Create job' });
  form.append(h('div', { class: 'actions' }, save));
  // Editing a field takes its message away.
  form.addEventListener('input', (e) => {
    const slot = e.target.name && form.querySelector(`#error-${CSS.escape(e.target.name)}`);
    if (slot) slot.hidden = true;
    e.target.removeAttribute('aria-invalid');
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    clearErrors(form);
    save.disabled = true;
    try {
      const out = collect(form, job, when);
      await saveJob(out);
      onSaved(out.name);
    } catch (err) {
      showError(form, err);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

// The raw JSON editor: the job as text, posted as written.
export function jsonEditor(job, { onSaved }) {
  const text = h('textarea', { id: 'raw-json', name: 'json', rows: 16, spellcheck: 'false',
    value: JSON.stringify(job, null, 2) });
  const error = h('p', { class: 'error-box', role: 'alert', hidden: true });
  const form = h('form', { class: 'json-form', 'aria-label': 'Job JSON' },
    h('label', { for: 'raw-json', text: 'Job JSON' }), text, error,
    h('div', { class: 'actions' }, h('button', { type: 'submit', text: 'Save JSON' })));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.hidden = true;
    try {
      await saveJob(text.value);
      let name = job.name;
      try {
        name = JSON.parse(text.value).name || name;
      } catch { /* the server accepted it, so it parsed */ }
      onSaved(name);
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  return form;
}
