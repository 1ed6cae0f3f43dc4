"""`gnomon migrate --from DATA_DIR --to postgres://...` (issue 13, item 9), against a real PostgreSQL
(pg_harness.py; ctest runs this under tests/support/pg_cluster.py). A standalone SQLite server with a cron job,
an ISO job due every second, a dependent job and a run still open is stopped and migrated; `gnomon server
--state postgres://...` on the same data dir has the jobs, their counters, the history, the runs' output (read with
DATA_DIR/logs gone) and the open run, and the schedule goes on without a slot twice. Refused, one line and exit 1:
a data dir in use by a server (its lock), a missing data dir, a database that already holds gnomon data."""

import fcntl
import os
import re
import shutil
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, Server, dep, iso_ms, main, now_ms, sched, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, require_pg  # noqa: E402

OPEN = ("queued", "waiting", "starting", "running")


def setUpModule():
    require_pg()


def migrate(*args):
    return subprocess.run([BIN, "migrate"] + list(args), capture_output=True, text=True, timeout=60)


class PgMigrate(GnomonTestCase, RunChecks):
    server_args = None

    def assertRefused(self, proc, *words):
        self.assertEqual(proc.returncode, 1, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout, "")
        lines = proc.stderr.splitlines()
        self.assertEqual(len(lines), 1, proc.stderr)
        self.assertTrue(lines[0].startswith("gnomon migrate: "), lines[0])
        for w in words:
            self.assertIn(w, lines[0])

    def standalone(self):
        """A standalone server with history and an open run, stopped; its data dir's figures before the stop."""
        srv = self.new_server()
        self.add_job(sched("ticker", "echo ticked; echo on stderr >&2", "R/%s/PT1S" % iso_ms(now_ms())), srv=srv)
        self.add_job(dep("after-ticker", ["ticker"]), srv=srv)
        self.add_job(sched("minutely", "true", schedule="* * * * *"), srv=srv)
        self.add_job(sched("sleeper", "sleep 30", "R1/%s/PT1M" % iso_ms(now_ms())), srv=srv)
        wait_until(lambda: len(self.succeeded(srv, "ticker")) >= 3 and self.succeeded(srv, "after-ticker"), 20,
                   what="ticker and after-ticker runs")
        wait_until(lambda: any(r["status"] == "running" for r in self.runs(srv, "sleeper")), 10,
                   what="the sleeper running")
        srv.stop()
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(srv.data_dir, "gnomon.db"), uri=True)
        runs = db.execute("SELECT task_id, job, status FROM runs ORDER BY id").fetchall()
        jobs = [r[0] for r in db.execute("SELECT name FROM jobs ORDER BY seq")]
        db.close()
        return srv, jobs, runs

    def test_migrate_and_go_on(self):
        old, jobs, runs = self.standalone()
        self.assertTrue(any(status in OPEN for _, _, status in runs), runs)
        url = new_database("migrated")

        proc = migrate("--from", old.data_dir, "--to", url)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("%d jobs" % len(jobs), proc.stdout)
        ticked = sum(1 for _, job, status in runs if job == "ticker" and status == "succeeded")
        self.assertRegex(proc.stdout, r"the output of (\d+) runs")
        self.assertGreaterEqual(int(re.search(r"the output of (\d+) runs", proc.stdout).group(1)), ticked)
        # the output is in the database now: the server below reads it without the files
        shutil.rmtree(os.path.join(old.data_dir, "logs"))
        # once done, the database is no longer empty
        self.assertRefused(migrate("--from", old.data_dir, "--to", url), "already holds gnomon data")

        srv = Server(["--state", url], start=False)
        self._servers.append(srv)
        self.addCleanup(srv.close)
        srv.data_dir = old.data_dir  # the sleeper's working directory and executor journal
        srv.start()
        view = wait_until(lambda: (lambda v: v if v["leading"] else None)(self.cluster(srv)), 10,
                          what="leading on PostgreSQL")
        self.assertIsNotNone(view["postgres"])
        self.assertEqual(self.job_names(srv), jobs, "the jobs, in creation order")
        self.assertEqual(self.get_job("after-ticker", srv=srv)["parents"], ["ticker"])
        ended = {t for t, job, status in runs if job == "ticker" and status == "succeeded"}
        self.assertLessEqual(ended, {r["taskId"] for r in self.succeeded(srv, "ticker")}, "the history")
        self.assertGreaterEqual(self.get_job("ticker", srv=srv)["successCount"], len(ended), "the counters")
        for task_id in ended:
            for stream, text in (("stdout", b"ticked\n"), ("stderr", b"on stderr\n")):
                status, _, body = srv.request("GET", "/api/v1/runs/%s/log?stream=%s" % (task_id, stream))
                self.assertEqual((status, body), (200, text), "the output of %s, copied" % task_id)
        for task_id, _, status in runs:
            if status in OPEN:
                status_code, _ = srv.json("GET", "/api/v1/runs/%s" % task_id)
                self.assertEqual(status_code, 200, "the open run %s" % task_id)
        n = len(self.succeeded(srv, "ticker"))
        wait_until(lambda: len(self.succeeded(srv, "ticker")) >= n + 2, 20, what="the ticker going on")
        self.assertOncePerSlot(self.runs(srv, "ticker"))
        self.assertOncePerSlot(self.runs(srv, "after-ticker"))

    def test_refusals(self):
        srv = self.new_server()
        self.add_job(sched("one", "true"), srv=srv)
        url = new_database("refusals")
        # in use: the running server holds the data dir's lock
        self.assertRefused(migrate("--from", srv.data_dir, "--to", url), "in use")
        srv.stop()
        with open(os.path.join(srv.data_dir, "gnomon.lock")) as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self.assertRefused(migrate("--from", srv.data_dir, "--to", url), "in use")
        missing = os.path.join(srv.root, "missing")
        self.assertRefused(migrate("--from", missing, "--to", url), "no gnomon data")
        self.assertFalse(os.path.exists(missing), "a missing data dir is not made")
        # usage: exit 2
        self.assertEqual(migrate("--from", srv.data_dir).returncode, 2)
        # a database a server used
        used = new_database("used")
        other = self.new_server(["--state", used])
        wait_until(lambda: self.cluster(other)["leading"], 10, what="leading")
        other.stop()
        self.assertRefused(migrate("--from", srv.data_dir, "--to", used), "already holds gnomon data")
        proc = migrate("--from", srv.data_dir, "--to", url)
        self.assertEqual(proc.returncode, 0, proc.stderr)


if __name__ == "__main__":
    main()
