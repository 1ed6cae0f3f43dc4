// One server-sent event stream for the whole UI (GET /api/v1/events). Pages subscribe to job and run changes;
// after a gap (the server said "overflow", or the connection dropped and came back) they are told to reload.

const TYPES = ['job.created', 'job.updated', 'job.deleted', 'job.state', 'job.disabled', 'job.recovered',
  'run.changed', 'run.skipped', 'run.retries_exhausted', 'agent.lost'];

const listeners = new Set();
const reloaders = new Set();
let source = null;
let connectedBefore = false;

function setLive(text, ok) {
  const el = document.getElementById('live');
  if (!el) return;
  el.textContent = text;
  el.classList.toggle('live-ok', ok);
}

function connect() {
  source = new EventSource('/api/v1/events');
  source.addEventListener('hello', () => {
    setLive('live', true);
    if (connectedBefore) for (const fn of reloaders) fn();
    connectedBefore = true;
  });
  for (const type of TYPES) {
    source.addEventListener(type, (e) => {
      const data = JSON.parse(e.data);
      for (const fn of listeners) fn(data);
    });
  }
  // Fell too far behind: the server ends the stream. Connect again; the next hello reloads the pages.
  source.addEventListener('overflow', () => {
    source.close();
    connect();
  });
  source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? 'offline' : 'reconnecting…', false);
}

export function startEvents() {
  if (!source) connect();
}

// Call fn(data) for every event until signal aborts; data is {type, job, run?, reason?, agent?}.
export function onEvent(fn, signal) {
  listeners.add(fn);
  signal.addEventListener('abort', () => listeners.delete(fn));
}

// Call fn() when events may have been missed, until signal aborts.
export function onReload(fn, signal) {
  reloaders.add(fn);
  signal.addEventListener('abort', () => reloaders.delete(fn));
}
