// The server's HTTP API: Chronos v1 under /v1/scheduler and gnomon's own under /api/v1.

const enc = encodeURIComponent;

// An answer that was not 2xx; field is the job field an API message starts with ("schedule: ...").
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
    const m = /^([A-Za-z][A-Za-z0-9]*)(\[\d+\])?(\.[\w.[\]]+)?: /.exec(message || '');
    this.field = m ? m[1] : null;
  }
}

function withQuery(path, query) {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query || {})) if (v != null && v !== '') qs.set(k, v);
  const s = qs.toString();
  return s ? `${path}?${s}` : path;
}

// Every request says it comes from the UI: a change made with the session cookie must (README, "Access"), and a
// 401 then offers no Basic challenge (the browser would pop up its own login box).
async function call(method, path, { query, body, signal, headers } = {}) {
  const init = { method, signal, headers: { 'X-Gnomon-CSRF': '1', ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    init.headers['Content-Type'] = 'application/json';
  }
  const res = await fetch(withQuery(path, query), init);
  if (res.status === 401 && !path.startsWith('/api/v1/session')) dispatchEvent(new Event('gnomon:logged-out'));
  if (!res.ok) {
    let message = `${res.status} ${res.statusText}`;
    try {
      message = (await res.json()).message || message;
    } catch { /* not JSON */ }
    throw new ApiError(res.status, message);
  }
  if (res.status === 204) return null;
  return (res.headers.get('content-type') || '').includes('json') ? res.json() : res.text();
}

// The session (README, "Access"): who the UI acts as ({auth, name, role}; auth false: access control is off).
export const session = () => call('GET', '/api/v1/session');
export const login = (token) => call('POST', '/api/v1/session', { body: { token } });
export const loginBasic = (user, password) => call('POST', '/api/v1/session',
  { headers: { Authorization: `Basic ${btoa(`${user}:${password}`)}` } });
export const logout = () => call('DELETE', '/api/v1/session');

export const listJobs = (query, signal) => call('GET', '/api/v1/jobs', { query, signal });
export const jobSummary = (name, signal) => call('GET', `/api/v1/jobs/${enc(name)}`, { signal });
export const overview = (signal) => call('GET', '/api/v1/overview', { signal });
export const getJob = (name, signal) => call('GET', `/v1/scheduler/job/${enc(name)}`, { signal });
export const deleteJob = (name) => call('DELETE', `/v1/scheduler/job/${enc(name)}`);
export const runJob = (name, args) => call('PUT', `/v1/scheduler/job/${enc(name)}`, { query: { arguments: args } });
export const killJob = (name) => call('DELETE', `/v1/scheduler/task/kill/${enc(name)}`);
export const jobRuns = (name, query, signal) => call('GET', `/api/v1/jobs/${enc(name)}/runs`, { query, signal });
export const getRun = (taskId, signal) => call('GET', `/api/v1/runs/${enc(taskId)}`, { signal });
export const graphCsv = (signal) => call('GET', '/v1/scheduler/graph/csv', { signal });
export const graphSvg = (job, signal) => call('GET', '/api/v1/graph.svg', { query: { job }, signal });
export const clusterView = (signal) => call('GET', '/api/v1/cluster', { signal });
export const listAgents = (signal) => call('GET', '/api/v1/agents', { signal });
export const drainAgent = (id, drain) => call('POST', `/api/v1/agents/${enc(id)}/${drain ? 'drain' : 'undrain'}`);
export const auditEntries = (query, signal) => call('GET', '/api/v1/audit', { query, signal });
export const preview = (schedule, tz, count, signal) =>
  call('GET', '/api/v1/schedule/preview', { query: { schedule, tz, count }, signal });

// Create or replace a job (a parsed object, or JSON text): a "parents" key makes it dependent, as in Chronos.
export function saveJob(job) {
  const obj = typeof job === 'string' ? parseOrNull(job) : job;
  const kind = obj && typeof obj === 'object' && 'parents' in obj ? 'dependency' : 'iso8601';
  return call('POST', `/v1/scheduler/${kind}`, { body: job });
}

function parseOrNull(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null; /* the server says what is wrong with it */
  }
}

// Enable or disable: the job as stored, with "disabled" changed, posted back.
export async function setDisabled(name, disabled) {
  const job = await getJob(name);
  job.disabled = disabled;
  return saveJob(job);
}

// The next fire times of a stored job as Dates: the engine's own (GET /api/v1/jobs/{name}/next) where the
// server has it, else the preview of the job's schedule in its zone.
export async function nextFires(job, count, signal) {
  try {
    const r = await call('GET', `/api/v1/jobs/${enc(job.name)}/next`, { query: { count }, signal });
    return (r.next || []).map(toDate);
  } catch (err) {
    if (!(err instanceof ApiError && err.status === 404 && /^no such endpoint/.test(err.message))) throw err;
  }
  const p = await preview(job.schedule, job.scheduleTimeZone, count, signal);
  return p.utc.map(toDate);
}

function messageOf(text) {
  try {
    return JSON.parse(text).message;
  } catch {
    return text;
  }
}

function toDate(entry) {
  return new Date(typeof entry === 'string' ? entry : entry.utc || entry.at || entry.time || entry.local);
}

// Stream a run's stdout or stderr to onText(chunk) as it is written; resolves when the run's output ends.
export async function followLog(taskId, stream, onText, signal) {
  const res = await fetch(withQuery(`/api/v1/runs/${enc(taskId)}/log`, { stream, follow: 1 }), { signal });
  if (!res.ok) throw new ApiError(res.status, messageOf(await res.text()) || res.statusText);
  const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    onText(value);
  }
}

// Both streams of a run as they are now, merged (GET .../log?stream=both): { order: 'arrival' (the order the lines
// came) or 'streams' (stdout's, then stderr's: a run before the order record), lines: [[stream, text], ...] }.
// live: the run goes on (follow=1: in a cluster, the leader's files hold its output).
export async function logBoth(taskId, live, signal) {
  const res = await fetch(withQuery(`/api/v1/runs/${enc(taskId)}/log`, { stream: 'both', follow: live ? 1 : null }),
    { signal });
  if (!res.ok) throw new ApiError(res.status, messageOf(await res.text()) || res.statusText);
  const lines = (await res.text()).split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return {
    order: res.headers.get('Gnomon-Log-Order') || 'streams',
    lines: lines.map((l) => [l[0] === '2' ? 'stderr' : 'stdout', l.slice(2)]),
  };
}

// Runs of the filtered jobs over a window, with the coming fires (GET /api/v1/timeline).
export const timeline = (query, signal) => call('GET', '/api/v1/timeline', { query, signal });
