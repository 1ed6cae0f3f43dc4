// The web UI's entry point: the routes of its pages and the live event stream.
import { startEvents } from './events.js';
import { startRouter } from './router.js';
import { agentsPage } from './pages/agents.js';
import { clusterPage } from './pages/cluster.js';
import { graphPage } from './pages/graph.js';
import { jobPage } from './pages/job.js';
import { editPage, newPage } from './pages/edit.js';
import { jobsPage } from './pages/jobs.js';
import { overviewPage } from './pages/overview.js';
import { runPage } from './pages/run.js';

startEvents();
startRouter([
  [/^$/, overviewPage],
  [/^jobs$/, jobsPage],
  [/^new$/, newPage],
  [/^jobs\/([^/]+)$/, jobPage],
  [/^jobs\/([^/]+)\/edit$/, editPage],
  [/^runs\/(.+)$/, runPage],
  [/^graph$/, graphPage],
  [/^agents$/, agentsPage],
  [/^cluster$/, clusterPage],
], document.getElementById('main'));
