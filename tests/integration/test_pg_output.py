"""Runs' output in PostgreSQL (issue 13, item 3: "so nothing is lost with a server's disk"), against a real
PostgreSQL (pg_harness.py; ctest runs this under tests/support/pg_cluster.py). A run on the embedded agent and
one on a remote `gnomon agent`, both with stdout and stderr; the agent's journal forgets the task (its release,
sent once the output committed); then the server is killed -9 and its data dir deleted (the disk lost): a second
server started on the same database and a new data dir answers both runs' logs, each stream alone and both in
their order (stream=both: the order record is stored with them). History retention takes the
output rows with the runs. PostgreSQL stopped while a run writes its output and ends: once it is back, the run's
end is recorded and its output stored, and another server reads it."""

import os
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, iso_ms, main, now_ms, read_text, run_file_name, sched, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, require_pg, start_server, stop_server  # noqa: E402
import pg_cluster  # noqa: E402  (pg_harness put tests/support on the path)
from test_agents import Agent  # noqa: E402

API = "/api/v1"


def setUpModule():
    require_pg()


def sql(url, query):
    """One value from psql, as text."""
    out = subprocess.run([os.path.join(pg_cluster.pg_bin(), "psql"), "-Atq", "-d", url, "-c", query],
                         capture_output=True, text=True, check=True, timeout=30)
    return out.stdout.strip()


class PgOutput(GnomonTestCase, RunChecks):
    server_args = None

    def setUp(self):
        super().setUp()
        self.db = new_database(self._testMethodName.lower())

    def leading(self, srv, timeout=15):
        return wait_until(lambda: (lambda v: v if v["leading"] else None)(self.cluster(srv)), timeout,
                          interval=0.05, what="leading")

    def log(self, srv, task_id, stream):
        status, _, body = srv.request("GET", API + "/runs/%s/log?stream=%s" % (task_id, stream))
        self.assertEqual(status, 200, body)
        return body.decode()

    def one_run(self, srv, job, status="succeeded", timeout=20):
        return wait_until(lambda: next((r for r in self.runs(srv, job) if r["status"] == status), None), timeout,
                          what="a %s run of %s" % (status, job))

    def test_output_outlives_the_servers_disk(self):
        a = self.new_server(["--state", self.db], hostname="embedded-host")
        self.leading(a)
        agent = Agent(a, "remote-1", attrs=("pool=remote",)).start()
        self.addCleanup(agent.close)
        wait_until(lambda: any(x["name"] == "remote-1" and x["state"] == "up" for x in a.json("GET", API + "/agents")[1]),
                   20, what="the agent up")
        now = iso_ms(now_ms())
        # stderr first: the order of the two (stream=both) comes from the order record stored beside them
        self.add_job(sched("on-server", "echo its stderr >&2; sleep 0.1; echo from the embedded agent", "R1/%s/PT1M" % now,
                           constraints=[["hostname", "EQUALS", "embedded-host"]]), srv=a)
        self.add_job(sched("on-agent", "seq 1 40000 >&2; sleep 0.1; echo from a remote agent", "R1/%s/PT1M" % now,
                           constraints=[["pool", "EQUALS", "remote"]]), srv=a)
        local = self.one_run(a, "on-server")
        remote = self.one_run(a, "on-agent")
        self.assertEqual(remote["agent"], "remote-1")
        tasks = os.path.join(agent.data_dir, "tasks")
        # the release (after the output committed) empties the agent's journal
        wait_until(lambda: not os.listdir(tasks), 20, what="the agent's journal emptied by the release")
        self.assertEqual(sql(self.db, "SELECT count(DISTINCT task_id) FROM run_output"), "2")
        agent.stop()

        a.kill9()
        shutil.rmtree(a.data_dir)  # the disk lost
        b = self.new_server(["--state", self.db])
        self.leading(b)
        self.assertEqual(self.log(b, local["taskId"], "stdout"), "from the embedded agent\n")
        self.assertEqual(self.log(b, local["taskId"], "stderr"), "its stderr\n")
        self.assertEqual(self.log(b, remote["taskId"], "stdout"), "from a remote agent\n")
        err = self.log(b, remote["taskId"], "stderr")
        self.assertTrue(err.startswith("1\n2\n3\n"), err[:100])
        self.assertIn("bytes omitted]", err)  # the agent's cap (64 KiB head and tail) as it kept it
        self.assertTrue(err.endswith("39999\n40000\n"), err[-100:])
        self.assertEqual(self.log(b, local["taskId"], "both"), "2 its stderr\n1 from the embedded agent\n")
        both = self.log(b, remote["taskId"], "both").splitlines()
        self.assertEqual(both[:2] + both[-2:], ["2 1", "2 2", "2 40000", "1 from a remote agent"])
        self.assertEqual(len([line for line in both if line.startswith("2 [gnomon: ")]), 1)
        status, _, _ = b.request("GET", API + "/runs/%s/log?stream=stdout" % "ct:1:0:nobody:")
        self.assertEqual(status, 404)

    def test_retention_takes_the_output(self):
        srv = self.new_server(["--state", self.db, "--history-max-runs", "2"])
        self.leading(srv)
        self.add_job(sched("ticker", "echo tick", "R/%s/PT1S" % iso_ms(now_ms())), srv=srv)
        seen = []

        def enough():
            for r in self.succeeded(srv, "ticker"):
                if r["taskId"] not in seen:
                    seen.append(r["taskId"])
            return len(seen) >= 5
        wait_until(enough, 30, what="five ticker runs")
        kept = {r["taskId"] for r in self.succeeded(srv, "ticker")}
        gone = [t for t in seen[:2] if t not in kept]
        self.assertTrue(gone, (seen, kept))
        self.assertEqual(sql(self.db, "SELECT count(*) FROM run_output WHERE task_id IN (%s)" %
                             ",".join("'%s'" % t for t in gone)), "0")
        self.assertEqual(sql(self.db, "SELECT count(*) FROM runs WHERE task_id IN (%s)" %
                             ",".join("'%s'" % t for t in gone)), "0")
        wait_until(lambda: sql(self.db, "SELECT count(*) FROM run_output o JOIN runs r USING (task_id) "
                               "WHERE r.job = 'ticker'") != "0", 10, what="the kept runs' output stored")

    def test_postgres_down_while_a_run_writes(self):
        a = self.new_server(["--state", self.db])
        self.leading(a)
        self.add_job(sched("writer", "echo before; sleep 2; echo after", "R1/%s/PT1M" % iso_ms(now_ms())), srv=a)
        run = self.one_run(a, "writer", status="running")
        stop_server()
        try:
            wait_until(lambda: not self.cluster(a)["leading"], 10, what="stepped down")
            path = os.path.join(a.data_dir, "logs", run_file_name(run["taskId"]) + ".stdout")
            wait_until(lambda: read_text(path) == "before\nafter", 20, what="the run's end, written locally")
        finally:
            start_server()
        self.leading(a, timeout=30)
        self.one_run(a, "writer")  # its end recorded once PostgreSQL answered
        # one row for stdout's final content (its live chunks replaced), one for the order record
        wait_until(lambda: sql(self.db, "SELECT string_agg(stream::text, ',' ORDER BY stream) FROM run_output "
                               "WHERE task_id = '%s'" % run["taskId"]) == "0,2", 20, what="the output stored")
        a.kill9()
        shutil.rmtree(a.data_dir)
        b = self.new_server(["--state", self.db])
        self.leading(b)
        self.assertEqual(self.log(b, run["taskId"], "stdout"), "before\nafter\n")


if __name__ == "__main__":
    main()
