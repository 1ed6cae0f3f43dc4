"""One `gnomon server --state postgres://...` without ZooKeeper (issue 13): jobs, runs and history kept in a real
PostgreSQL (pg_harness.py; ctest runs this under tests/support/pg_cluster.py). kill -9 and a start again: every
acknowledged job is there, the history goes on, no slot ran twice. PostgreSQL stopped under the running leader:
it steps down at once (nothing is dispatched, a change answers 503, /api/v1/cluster's postgres says why), and
leads again by itself once PostgreSQL is back. A second server on the same database deposes the first, whose
next write the fence refuses."""

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, iso_ms, main, now_ms, sched, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, require_pg, start_server, stop_server  # noqa: E402

V1 = "/v1/scheduler"


def setUpModule():
    require_pg()


class PgServer(GnomonTestCase, RunChecks):
    server_args = None

    def start(self):
        self.db = new_database(self._testMethodName.lower())
        srv = self.new_server(["--state", self.db])
        self.wait_leading(srv)
        return srv

    def wait_leading(self, srv, timeout=10):
        """The cluster view once srv leads: a server answers before its election (raise, load) completes."""
        return wait_until(lambda: (lambda v: v if v["leading"] else None)(self.cluster(srv)), timeout, interval=0.02,
                          what="leading")

    def test_jobs_runs_and_restart(self):
        srv = self.start()
        view = self.wait_leading(srv)
        self.assertEqual((view["mode"], view["leading"]), ("standalone", True))
        pg = view["postgres"]
        self.assertEqual((pg["connected"], pg["writesRefused"], pg["fenced"]), (True, False, False))
        self.assertGreaterEqual(pg["schemaVersion"], 1)
        self.assertEqual([f for f in os.listdir(srv.data_dir) if f.endswith((".db", ".db-wal"))], [],
                         "no SQLite store beside PostgreSQL")
        self.add_job(sched("ticker", "true", "R/%s/PT1S" % iso_ms(now_ms())), srv=srv)
        self.add_job(dep("after-ticker", ["ticker"]), srv=srv)
        wait_until(lambda: len(self.succeeded(srv, "ticker")) >= 3, 20, what="three ticker runs")
        self.add_job(sched("acknowledged-last", "true"), srv=srv)
        before = self.succeeded(srv, "ticker")
        epoch = self.cluster(srv)["epoch"]

        srv.kill9()
        srv.start()
        view = self.wait_leading(srv)
        self.assertGreater(view["epoch"], epoch)
        self.assertEqual(set(self.job_names(srv)), {"ticker", "after-ticker", "acknowledged-last"})
        self.assertEqual(self.get_job("after-ticker", srv=srv)["parents"], ["ticker"])
        have = {r["taskId"] for r in self.succeeded(srv, "ticker")}
        self.assertLessEqual({r["taskId"] for r in before}, have, "runs the history had before the kill")
        wait_until(lambda: len(self.succeeded(srv, "ticker")) >= len(before) + 3, 20,
                   what="the ticker running again after the restart")
        self.assertOncePerSlot(self.runs(srv, "ticker"))
        self.assertTrue(self.succeeded(srv, "after-ticker"), "the dependent job ran")
        status, body = srv.json("DELETE", V1 + "/job/after-ticker")
        self.assertEqual(status, 204, body)
        srv.stop()
        srv.start()
        self.wait_leading(srv)
        self.assertEqual(set(self.job_names(srv)), {"ticker", "acknowledged-last"})

    def test_outage(self):
        srv = self.start()
        self.add_job(sched("ticker", "true", "R/%s/PT1S" % iso_ms(now_ms())), srv=srv)
        wait_until(lambda: len(self.succeeded(srv, "ticker")) >= 2, 20, what="two ticker runs")
        stop_server()
        try:
            view = wait_until(lambda: (lambda v: v if not v["leading"] else None)(self.cluster(srv)), 10,
                              interval=0.05, what="the leader stepped down")
            self.assertFalse(view["postgres"]["connected"])
            self.assertIn("PostgreSQL", view["lastRoleChange"]["why"])
            self.assertIsNotNone(view["postgres"]["lastError"])
            status, body = self.post_job(sched("while-down"), srv=srv)
            self.assertEqual(status, 503, body)
            self.assertIn("no leader: PostgreSQL (--state) is out of reach", body["message"])  # the reason
            status, _ = srv.json("GET", V1 + "/jobs")  # reads go on from the copy
            self.assertEqual(status, 200)
            down_at = len(srv.current_log())
            n = len(self.runs(srv, "ticker"))
            deadline = time.monotonic() + 3  # three due slots pass: none is dispatched
            while time.monotonic() < deadline:
                self.assertEqual(len(self.runs(srv, "ticker")), n)
                time.sleep(0.2)
        finally:
            start_server()
        self.assertEqual(len(self.runs(srv, "ticker")), n, "nothing ran while PostgreSQL was down")
        self.assertNotIn(" started (pid", srv.current_log()[down_at:].split("PostgreSQL answers again")[0])
        view = wait_until(lambda: (lambda v: v if v["leading"] else None)(self.cluster(srv)), 20, interval=0.05,
                          what="leading again once PostgreSQL is back")
        self.assertTrue(view["postgres"]["connected"])
        self.add_job(sched("after-outage"), srv=srv)
        wait_until(lambda: len(self.succeeded(srv, "ticker")) > n, 20, what="the ticker running again")
        self.assertOncePerSlot(self.runs(srv, "ticker"))

    def test_deposed_by_another_server(self):
        """A second server started on the same database raises the epoch: the first one's next write is refused
        by the fence (-ESTALE), it steps down and stays down (standalone, only SIGUSR2 takes the role again); the
        second goes on with the first one's jobs and history, and no slot ran twice."""
        first = self.start()
        self.add_job(sched("ticker", "true", "R/%s/PT1S" % iso_ms(now_ms())), srv=first)
        wait_until(lambda: len(self.succeeded(first, "ticker")) >= 2, 20, what="two ticker runs")
        second = self.new_server(["--state", self.db])
        self.wait_leading(second)
        view = wait_until(lambda: (lambda v: v if not v["leading"] else None)(self.cluster(first)), 10,
                          interval=0.05, what="the first server deposed")
        self.assertTrue(view["postgres"]["fenced"])
        self.assertIn("newer leader's epoch", view["lastRoleChange"]["why"])
        self.assertIn("ticker", self.job_names(second))
        n = len(self.succeeded(second, "ticker"))
        wait_until(lambda: len(self.succeeded(second, "ticker")) >= n + 2, 20, what="the ticker on the second")
        self.assertFalse(self.cluster(first)["leading"], "a deposed standalone server does not lead again alone")
        status, body = self.post_job(sched("refused"), srv=first)
        self.assertEqual(status, 503, body)
        self.assertOncePerSlot(self.runs(second, "ticker"))


if __name__ == "__main__":
    main()
