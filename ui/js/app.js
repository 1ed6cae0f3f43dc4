// The web UI's entry point: who it acts as (the login page when it has no session), the routes of its pages and
// the live event stream.
import * as api from './api.js';
import { h } from './dom.js';
import { startEvents } from './events.js';
import { loginPage } from './pages/login.js';
import { startRouter } from './router.js';
import { agentsPage } from './pages/agents.js';
import { auditPage } from './pages/audit.js';
import { calendarPage } from './pages/calendar.js';
import { clusterPage } from './pages/cluster.js';
import { graphPage } from './pages/graph.js';
import { jobPage } from './pages/job.js';
import { editPage, newPage } from './pages/edit.js';
import { jobsPage } from './pages/jobs.js';
import { overviewPage } from './pages/overview.js';
import { runPage } from './pages/run.js';
import { timelinePage } from './pages/timeline.js';

const main = document.getElementById('main');

// The session, or null after showing the login page.
async function whoAmI() {
  try {
    return await api.session();
  } catch (err) {
    if (err.status !== 401) throw err;
    loginPage(main);
    return null;
  }
}

function showWho(who) {
  document.body.dataset.role = who.role;
  if (!who.auth) return;
  const out = h('button', { type: 'button', text: 'Log out', onclick: async () => {
    await api.logout();
    location.reload();
  } });
  document.getElementById('who').replaceChildren(`${who.name} (${who.role})`, out);
}

const who = await whoAmI();
if (who) {
  showWho(who);
  // a credential that stops working (revoked, the session expired): back to the login page
  addEventListener('gnomon:logged-out', () => location.reload(), { once: true });
  startApp();
}

function startApp() {
  startEvents();
  startRouter([
    [/^$/, overviewPage],
    [/^jobs$/, jobsPage],
    [/^new$/, newPage],
    [/^jobs\/([^/]+)$/, jobPage],
    [/^jobs\/([^/]+)\/edit$/, editPage],
    [/^runs\/(.+)$/, runPage],
    [/^timeline$/, timelinePage],
    [/^calendar$/, calendarPage],
    [/^graph$/, graphPage],
    [/^agents$/, agentsPage],
    [/^cluster$/, clusterPage],
    [/^audit$/, auditPage],
  ], main);
}
