// A job's definition as people read it: the fields its user set, then (folded away) the fields left at
// Chronos's defaults and the Mesos-only fields gnomon keeps for compatibility, and the whole JSON.
import { h } from '../dom.js';

// What a job created with only a name, a command and a schedule holds (GET /v1/scheduler/job/{name}).
const DEFAULTS = {
  shell: true, executor: '', executorFlags: '', taskInfoData: '', retries: 2, owner: '', ownerName: '',
  description: '', cpus: 0.1, disk: 256, mem: 128, disabled: false, softError: false,
  dataProcessingJobType: false, fetch: [], uris: [], environmentVariables: [], arguments: [], highPriority: false,
  runAsUser: 'root', concurrent: false, maxCompletionTime: 0, constraints: [], scheduleTimeZone: '',
  epsilon: 'PT60S', async: false, retryDelay: '', retryBackoff: 1, notifyOn: 'failure',
};
// Fields that only meant something to Mesos (gnomon stores and returns them for Chronos's clients).
const MESOS = ['executor', 'executorFlags', 'taskInfoData', 'cpus', 'disk', 'mem', 'fetch', 'uris', 'constraints',
  'container', 'dataProcessingJobType', 'async'];
// The counters the scheduler keeps (shown in the facts above the definition).
const COUNTERS = ['successCount', 'errorCount', 'lastSuccess', 'lastError', 'errorsSinceLastSuccess'];

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

function valueText(v) {
  if (typeof v === 'string') return v;
  return JSON.stringify(v);
}

function list(label, entries) {
  const row = ([k, v]) => [h('dt', { text: k }), h('dd', {}, h('code', { text: valueText(v) }))];
  return h('dl', { class: 'facts definition-fields', 'aria-label': label }, entries.map(row));
}

function folded(title, entries, cls) {
  if (!entries.length) return null;
  return h('details', { class: `fold ${cls}` }, h('summary', { text: `${title} (${entries.length})` }),
    list(title, entries));
}

export function definitionView(job) {
  const set = [], defaults = [], mesos = [];
  for (const [k, v] of Object.entries(job)) {
    if (COUNTERS.includes(k)) continue;
    if (MESOS.includes(k)) mesos.push([k, v]);
    else if (k in DEFAULTS && same(DEFAULTS[k], v)) defaults.push([k, v]);
    else set.push([k, v]);
  }
  return h('div', { class: 'definition-view' }, list('Fields set', set),
    folded('Chronos defaults', defaults, 'defaults'), folded('Mesos-only fields', mesos, 'mesos'),
    h('details', { class: 'fold json' }, h('summary', { text: 'JSON' }),
      h('pre', { class: 'definition', tabindex: 0, 'aria-label': 'Job definition', text: JSON.stringify(job, null, 2) })));
}
