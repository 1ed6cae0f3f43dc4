// Every Chronos job field the form edits, grouped, with how each is shown in and read back from its control.
// Counters (successCount, lastError, ...) are not edited: they are kept from the job as loaded.

export const GROUPS = [
  ['Job', [
    { key: 'name', label: 'Name', required: true, hint: "Letters, digits, '_', '.' and '-'." },
    { key: 'description', label: 'Description' },
    { key: 'owner', label: 'Owner', hint: 'E-mail addresses, comma-separated.' },
    { key: 'ownerName', label: 'Owner name' },
  ]],
  ['When', 'when'], // the kind, the schedule or the parents: see when.js
  ['Command', [
    { key: 'command', label: 'Command', type: 'textarea', required: true },
    { key: 'shell', label: 'Run through /bin/sh', type: 'checkbox', initial: true },
    { key: 'arguments', label: 'Arguments', type: 'lines', hint: 'One per line; appended to the command.' },
    { key: 'environmentVariables', label: 'Environment', type: 'env', hint: 'NAME=value, one per line.' },
    { key: 'runAsUser', label: 'Run as user', placeholder: 'the server\'s --user' },
  ]],
  ['Retries and limits', [
    { key: 'retries', label: 'Retries', type: 'number', placeholder: '2', min: 0 },
    { key: 'retryDelay', label: 'Retry delay', placeholder: 'PT60S', hint: 'An ISO 8601 duration.' },
    { key: 'retryBackoff', label: 'Retry backoff', type: 'number', placeholder: '1', min: 1, step: 'any' },
    { key: 'maxCompletionTime', label: 'Maximum run time (s)', type: 'number', placeholder: '0: none', min: 0 },
    { key: 'concurrent', label: 'Runs may overlap (concurrent)', type: 'checkbox' },
    { key: 'highPriority', label: 'High priority', type: 'checkbox' },
    { key: 'softError', label: 'A failure still triggers dependents (softError)', type: 'checkbox' },
    { key: 'async', label: 'Reports its own end (async)', type: 'checkbox' },
    { key: 'dataProcessingJobType', label: 'Data processing job', type: 'checkbox' },
    { key: 'disabled', label: 'Disabled', type: 'checkbox' },
  ]],
  ['Resources and placement', [
    { key: 'cpus', label: 'CPUs', type: 'number', placeholder: '0.1', min: 0, step: 'any' },
    { key: 'mem', label: 'Memory (MB)', type: 'number', placeholder: '128', min: 0, step: 'any' },
    { key: 'disk', label: 'Disk (MB)', type: 'number', placeholder: '256', min: 0, step: 'any' },
    { key: 'constraints', label: 'Constraints', type: 'json', placeholder: '[["rack", "EQUALS", "a"]]' },
    { key: 'uris', label: 'URIs', type: 'lines', hint: 'One per line (deprecated: use fetch).' },
    { key: 'fetch', label: 'Fetch', type: 'json', placeholder: '[{"uri": "https://…", "extract": true}]' },
    { key: 'container', label: 'Container', type: 'json', placeholder: '{"type": "DOCKER", "image": "…"}' },
  ]],
  ['Mesos executor', [
    { key: 'executor', label: 'Executor' },
    { key: 'executorFlags', label: 'Executor flags' },
    { key: 'taskInfoData', label: 'Task info data' },
  ]],
];

// The text a control shows for a value.
export function toControl(f, v) {
  switch (f.type) {
  case 'checkbox': return v === undefined ? Boolean(f.initial) : Boolean(v);
  case 'lines': return (v || []).join('\n');
  case 'env': return (v || []).map((e) => `${e.name}=${e.value}`).join('\n');
  case 'json': return v === undefined || (Array.isArray(v) && !v.length) ? '' : JSON.stringify(v, null, 2);
  default: return v == null ? '' : String(v);
  }
}

// The value of a control's text; undefined leaves the field to the server's default. Throws a message that
// starts with the field's name when the text is not valid.
export function fromControl(f, raw) {
  switch (f.type) {
  case 'checkbox': return raw;
  case 'lines': return raw.split('\n').map((s) => s.trim()).filter(Boolean);
  case 'env': return raw.split('\n').map((s) => s.trim()).filter(Boolean).map((line) => {
    const eq = line.indexOf('=');
    if (eq < 1) throw new Error(`${f.key}: expected NAME=value, got '${line}'`);
    return { name: line.slice(0, eq), value: line.slice(eq + 1) };
  });
  case 'json':
    if (!raw.trim()) return f.key === 'container' ? undefined : [];
    try {
      return JSON.parse(raw);
    } catch (err) {
      throw new Error(`${f.key}: not valid JSON (${err.message})`);
    }
  case 'number': return raw.trim() === '' ? undefined : Number(raw);
  default: return raw;
  }
}
