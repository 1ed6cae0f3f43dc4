// The "When" part of the job form: scheduled (an ISO 8601 or cron schedule in a zone, with a preview of its
// next fire times as you type) or dependent (after its parents).
import { preview } from '../api.js';
import { debounce, h, timeEl } from '../dom.js';

const EXAMPLES = [
  ['Every 15 minutes', '*/15 * * * *'],
  ['Every hour', '@hourly'],
  ['Every day at 09:00', () => `R/${new Date().toISOString().slice(0, 10)}T09:00:00/P1D`],
  ['Weekdays at 13:00', '0 13 * * MON-FRI'],
];
const PREVIEW_COUNT = 5;

let zones = null;
function zoneList() {
  if (!zones) {
    zones = h('datalist', { id: 'zones' }, Intl.supportedValuesOf('timeZone').map((z) => h('option', { value: z })));
    document.body.append(zones);
  }
  return 'zones';
}

// field(key, label, control, hint) makes a labelled field with its error slot (from the form).
export function whenGroup(job, field, signal) {
  const dependent = 'parents' in job;
  const kind = (value, text) => h('label', { class: 'inline' }, h('input', {
    type: 'radio', name: 'kind', value, checked: dependent === (value === 'dependent'),
  }), ` ${text}`);
  const schedule = h('input', { id: 'j-schedule', name: 'schedule', value: job.schedule || '', autocomplete: 'off',
    placeholder: 'R/2030-01-01T09:00:00Z/P1D or */15 * * * *', spellcheck: 'false' });
  const zone = h('input', { id: 'j-scheduleTimeZone', name: 'scheduleTimeZone', value: job.scheduleTimeZone || '',
    list: zoneList(), autocomplete: 'off', placeholder: 'UTC' });
  const epsilon = h('input', { id: 'j-epsilon', name: 'epsilon', value: job.epsilon || '', placeholder: 'PT60S' });
  const parents = h('input', { id: 'j-parents', name: 'parents', value: (job.parents || []).join(', '),
    autocomplete: 'off', placeholder: 'extract, transform' });
  const out = h('div', { class: 'preview', id: 'schedule-preview', role: 'status', 'aria-live': 'polite' });
  const examples = h('div', { class: 'examples' }, 'Examples: ', EXAMPLES.map(([text, value]) => h('button', {
    type: 'button', class: 'link', text, onclick: () => {
      schedule.value = typeof value === 'function' ? value() : value;
      update();
    },
  })));
  const scheduled = h('div', { class: 'when-scheduled' },
    field('schedule', 'Schedule', schedule, 'ISO 8601 R[n]/[start]/period, or a 5-field cron expression; empty: run once, now.'),
    examples, field('scheduleTimeZone', 'Time zone', zone, 'An IANA zone; empty is UTC.'),
    h('section', { 'aria-label': 'Next fire times' }, h('h3', { text: 'Next fire times' }), out));
  const after = h('div', { class: 'when-dependent' },
    field('parents', 'Parents', parents, 'Runs after each of these jobs succeeded, comma-separated.'));
  const el = h('fieldset', { class: 'group' }, h('legend', { text: 'When' }),
    h('div', { class: 'kinds', role: 'radiogroup', 'aria-label': 'Kind of job' },
      kind('scheduled', 'On a schedule'), kind('dependent', 'After other jobs')),
    scheduled, after, field('epsilon', 'Late start allowed (epsilon)', epsilon, 'How late a missed run may start.'));

  let asked = null;
  const update = debounce(async () => {
    if (asked) asked.abort();
    asked = new AbortController();
    if (!schedule.value.trim()) {
      out.replaceChildren(h('p', { class: 'muted', text: 'Type a schedule to see when it fires.' }));
      return;
    }
    try {
      const p = await preview(schedule.value.trim(), zone.value.trim(), PREVIEW_COUNT,
        AbortSignal.any([signal, asked.signal]));
      out.replaceChildren(p.utc.length ? h('ol', {}, p.utc.map((t, i) => h('li', {}, timeEl(t),
        h('span', { class: 'muted', text: ` (${p.times[i].slice(0, 16).replace('T', ' ')} ${p.timeZone})` }))))
        : h('p', { text: 'It never fires again.' }));
    } catch (err) {
      if (err.name !== 'AbortError') out.replaceChildren(h('p', { class: 'error', text: err.message }));
    }
  }, 300);
  const showKind = () => {
    const dep = el.querySelector('input[name=kind]:checked').value === 'dependent';
    scheduled.hidden = dep;
    after.hidden = !dep;
  };
  el.addEventListener('change', (e) => { if (e.target.name === 'kind') showKind(); });
  schedule.addEventListener('input', update);
  zone.addEventListener('input', update);
  showKind();
  update();

  // Put the When fields into job (a copy being built from the form).
  el.collect = (out2) => {
    const dep = el.querySelector('input[name=kind]:checked').value === 'dependent';
    if (dep) {
      out2.parents = parents.value.split(',').map((s) => s.trim()).filter(Boolean);
      delete out2.schedule;
    } else {
      delete out2.parents;
      out2.schedule = schedule.value.trim();
      out2.scheduleTimeZone = zone.value.trim();
      if (!out2.schedule) delete out2.schedule; // as in Chronos: the job runs once, now
    }
    if (epsilon.value.trim()) out2.epsilon = epsilon.value.trim();
    else delete out2.epsilon;
  };
  return el;
}
