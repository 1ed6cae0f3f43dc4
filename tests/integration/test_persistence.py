"""Durability: every job acknowledged with 204 survives a graceful restart and a SIGKILL at any moment; order,
replacements, deletions and dependency edges are restored exactly."""

import http.client
import json
import os
import sqlite3
import random
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, full_job, main, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"


class KillDuringWrites(GnomonTestCase):
    JOBS_PER_ROUND = 200
    WRITERS = 4
    ROUNDS = 3

    def post_until_killed(self, names, acked, lock, stop):
        """POST each job in names on one keep-alive connection; record the 204s; stop at the first error."""
        conn = None
        for name in names:
            if stop.is_set():
                return
            body = json.dumps(sched(name, "echo %s" % name, owner="%s@example.com" % name))
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=20)
                conn.request("POST", V1 + "/iso8601", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
            except (OSError, http.client.HTTPException):
                return
            if resp.status != 204:
                self.errors.append("POST %s answered %d" % (name, resp.status))
                return
            with lock:
                acked.add(name)
        if conn is not None:
            conn.close()

    def test_acknowledged_jobs_survive_sigkill(self):
        self.errors = []
        # Switch threads often, so the killer wakes up close to the moment it chose.
        old_interval = sys.getswitchinterval()
        sys.setswitchinterval(0.0001)
        self.addCleanup(sys.setswitchinterval, old_interval)
        all_acked = set()
        rng = random.Random()
        for rnd in range(self.ROUNDS):
            names = ["r%d-job%03d" % (rnd, i) for i in range(self.JOBS_PER_ROUND)]
            acked, lock, stop = set(), threading.Lock(), threading.Event()
            # Kill once a random share of the jobs is acknowledged, plus a random sub-millisecond delay, so the
            # SIGKILL lands in the middle of requests being parsed, committed and answered.
            kill_after = rng.randrange(1, self.JOBS_PER_ROUND - self.WRITERS * 5)
            writers = [threading.Thread(target=self.post_until_killed, args=(names[w::self.WRITERS], acked, lock,
                                                                               stop))
                       for w in range(self.WRITERS)]
            for t in writers:
                t.start()
            try:
                wait_until(lambda: len(acked) >= kill_after or not any(t.is_alive() for t in writers), 60,
                           interval=0.0005, what="%d acknowledged jobs" % kill_after)
                time.sleep(rng.random() / 1000)
                with lock:
                    acked_before_kill = set(acked)
                self.server.kill9()
            finally:
                stop.set()
                for t in writers:
                    t.join(30)
            self.assertEqual(self.errors, [])
            self.assertLess(len(acked_before_kill), self.JOBS_PER_ROUND, "the kill came after every write")
            all_acked |= acked  # a 204 that raced with the kill still counts: it was acknowledged
            self.server.start()
            status, headers, raw = self.server.request("GET", V1 + "/jobs")
            self.assertEqual(status, 200)
            jobs = json.loads(raw)  # must be valid JSON
            self.assertIsInstance(jobs, list)
            listed = [j["name"] for j in jobs]
            self.assertEqual(len(listed), len(set(listed)), "duplicate jobs after restart")
            missing = sorted(all_acked - set(listed))
            self.assertEqual(missing, [], "round %d: %d acknowledged jobs lost (kill after %d)"
                             % (rnd, len(missing), kill_after))
            for j in jobs:
                # Whatever is there (acknowledged or not) is complete.
                self.assertEqual(j["command"], "echo " + j["name"])
                self.assertEqual(j["owner"], j["name"] + "@example.com")
        self.server.restart()
        self.assertTrue(all_acked <= set(self.job_names()))


class Restart(GnomonTestCase):

    def build_state(self):
        self.add_job(sched("a", "echo a1"))
        self.add_job(sched("b"))
        self.add_job(full_job("c"))
        self.add_job(dep("d", ["a", "c"]))
        self.add_job(dep("e", ["d"]))
        self.add_job(sched("a", "echo a2", scheduleTimeZone="Europe/Paris"))  # replaced: keeps first place
        status, _ = self.server.json("DELETE", V1 + "/job/b")
        self.assertEqual(status, 204)
        self.add_job(sched("f"))
        status, _ = self.server.json("DELETE", V1 + "/job/f")
        self.assertEqual(status, 204)
        return self.snapshot()

    def snapshot(self):
        _, _, dot = self.server.request("GET", V1 + "/graph/dot")
        _, _, csv = self.server.request("GET", V1 + "/graph/csv")
        _, summary = self.server.json("GET", V1 + "/jobs/summary")
        jobs = self.list_jobs()
        return {"jobs": jobs, "each": [self.get_job(j["name"]) for j in jobs], "summary": summary,
                "dot": dot.decode(), "csv": sorted(csv.decode().splitlines())}

    def check(self, expected):
        self.assertEqual(self.job_names(), ["a", "c", "d", "e"])
        got = self.snapshot()
        for key in expected:
            with self.subTest(key=key):
                self.assertEqual(got[key], expected[key])
        self.assertEqual(self.get_job("a")["command"], "echo a2")
        for gone in ["b", "f"]:
            status, _ = self.server.json("GET", V1 + "/job/" + gone)
            self.assertEqual(status, 404, "deleted job %s came back" % gone)

    def test_graceful_restart_keeps_everything(self):
        expected = self.build_state()
        self.server.restart()
        self.check(expected)
        self.server.restart()
        self.check(expected)

    def test_sigkill_right_after_changes_keeps_everything(self):
        expected = self.build_state()
        self.server.kill9()
        self.server.start()
        self.check(expected)

    def test_reparenting_is_persisted(self):
        self.add_job(sched("A", schedule="R/2030-06-01T08:30:00Z/PT2H", scheduleTimeZone="Europe/Paris"))
        self.add_job(dep("B", ["A"]))
        self.add_job(dep("C", ["B"]))
        status, _ = self.server.json("DELETE", V1 + "/job/B")
        self.assertEqual(status, 204)
        status, _ = self.server.json("DELETE", V1 + "/job/A")
        self.assertEqual(status, 204)
        before = self.get_job("C")
        self.assertEqual(before["schedule"], "R/2030-06-01T08:30:00Z/PT2H")
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.list_jobs(), [before])

    def test_many_jobs_and_an_unreadable_row_load_in_order(self):
        """A restart parses the stored jobs on every core, in batches: they come back in creation order, and a
        row that is not a job any more is skipped with a warning instead of stopping the server."""
        names = ["job-%05d" % i for i in range(9000)]  # more than one batch of the parallel loader
        for n in names:
            self.add_job(sched(n, "echo " + n))
        self.server.stop()
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gnomon.db"))
        with db:
            db.execute("UPDATE jobs SET json = '{\"name\": 12' WHERE name = 'job-04321'")
        db.close()
        self.server.start()
        want = [n for n in names if n != "job-04321"]
        self.assertEqual(self.job_names(), want)
        self.assertEqual(self.get_job("job-08999")["command"], "echo job-08999")
        self.assertIn("job 'job-04321' cannot be read and is skipped", self.server.log())

    def test_empty_store_after_deleting_everything(self):
        for n in ["x", "y", "z"]:
            self.add_job(sched(n))
        for n in ["y", "x", "z"]:
            self.assertEqual(self.server.json("DELETE", V1 + "/job/" + n)[0], 204)
        self.server.restart()
        self.assertEqual(self.list_jobs(), [])
        self.add_job(sched("y"))
        self.add_job(sched("x"))
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.job_names(), ["y", "x"])


if __name__ == "__main__":
    main()
