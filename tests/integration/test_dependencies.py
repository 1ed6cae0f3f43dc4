"""Dependent jobs: Chronos's fan-in rounds (reference 3.4, 7.4, 7.5), persisted so that a restart in the middle of
a round changes nothing; the parents' task ids reach the child; softError, retries and disabled children."""

import os
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, main, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"
FINAL = {"succeeded", "failed", "killed", "lost", "skipped"}
NEVER = "R/2030-01-01T00:00:00Z/P1D"


class DepTestCase(GnomonTestCase):
    server_args = ("--failure-retry", "200")

    def runs(self, name, srv=None):
        status, body = (srv or self.server).json("GET", "/api/v1/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def done(self, name, srv=None):
        return [r for r in self.runs(name, srv) if r["status"] in FINAL]

    def wait_done(self, name, n, srv=None, timeout=60):
        return wait_until(lambda: (lambda d: d if len(d) >= n else None)(self.done(name, srv)), timeout,
                          interval=0.05, what="%d finished runs of %s" % (n, name))

    def idle(self, srv=None):
        """Every job idle, nothing queued: the cascade has settled."""
        status, body = (srv or self.server).json("GET", V1 + "/jobs/summary")
        return all(j["state"] == "idle" for j in body["jobs"])

    def settle(self, srv=None):
        wait_until(lambda: self.idle(srv), 60, interval=0.05, what="every job idle")

    def run_job(self, name, srv=None):
        status, _, _ = (srv or self.server).request("PUT", V1 + "/job/" + name)
        self.assertEqual(status, 204)

    def counts(self, names):
        return {n: len(self.done(n)) for n in names}


class Graphs(DepTestCase):
    def test_chronos_graph_sequence(self):
        """A->B, A->C, B->D, B->E, C->E with completions marked by PUT /job/success (reference 7.5):
        A => {B,C}; B => {D}; C => {E}; A => {B,C}; C => {}; B => {D,E}. B and C fail when they run, so only the
        marked successes drive the rounds."""
        self.add_job(sched("A", "true", schedule=NEVER))
        self.add_job(dep("B", ["A"], "exit 1", retries=0))
        self.add_job(dep("C", ["A"], "exit 1", retries=0))
        self.add_job(dep("D", ["B"], "true"))
        self.add_job(dep("E", ["B", "C"], "true"))
        names = ["B", "C", "D", "E"]
        steps = [("A", {"B", "C"}), ("B", {"D"}), ("C", {"E"}), ("A", {"B", "C"}), ("C", set()),
                 ("B", {"D", "E"})]
        for parent, expected in steps:
            before = self.counts(names)
            status, _, body = self.server.request("PUT", V1 + "/job/success/" + parent)
            self.assertEqual((status, body), (200, b"marked job %s as successful: true" % parent.encode()))
            self.settle()
            after = self.counts(names)
            self.assertEqual({n for n in names if after[n] > before[n]}, expected, "after %s succeeded" % parent)
            self.assertTrue(all(after[n] - before[n] <= 1 for n in names), after)

    def test_diamond_runs_child_once_with_parent_task_ids(self):
        self.add_job(sched("top", "true", schedule=NEVER))
        self.add_job(dep("left", ["top"], "sleep 0.3"))
        self.add_job(dep("right", ["top"], "true"))
        self.add_job(dep("bottom", ["left", "right"], 'echo "$GNOMON_PARENT_TASK_IDS"'))
        self.run_job("top")
        bottom = self.wait_done("bottom", 1)[0]
        self.settle()
        self.assertEqual(len(self.done("bottom")), 1)
        self.assertEqual(bottom["trigger"], "dependency")
        left, right = self.done("left")[0], self.done("right")[0]
        self.assertEqual(bottom["parentTaskIds"], [left["taskId"], right["taskId"]])
        self.assertGreaterEqual(bottom["start"], left["end"], "the child waited for the slow sibling")
        status, _, log = self.server.request(
            "GET", "/api/v1/runs/%s/log" % urllib.parse.quote(bottom["taskId"], safe=""))
        self.assertEqual(log.decode(), "%s,%s\n" % (left["taskId"], right["taskId"]))
        top = self.done("top")[0]
        self.assertEqual(left["parentTaskIds"], [top["taskId"]])

    def test_deep_chain(self):
        self.add_job(sched("c0", "true", schedule=NEVER))
        for i in range(1, 40):
            self.add_job(dep("c%d" % i, ["c%d" % (i - 1)], "true"))
        self.run_job("c0")
        last = self.wait_done("c39", 1)[0]
        self.settle()
        starts = [self.done("c%d" % i)[0]["start"] for i in range(40)]
        self.assertEqual(starts, sorted(starts))
        self.assertEqual(last["status"], "succeeded")

    def test_fan_out_of_1000(self):
        self.add_job(sched("hub", "true", schedule=NEVER))
        for i in range(1000):
            self.add_job(dep("leaf%04d" % i, ["hub"], "true"))
        self.run_job("hub")
        self.settle()
        status, body = self.server.json("GET", V1 + "/jobs/summary")
        leaves = [j for j in body["jobs"] if j["name"].startswith("leaf")]
        self.assertEqual(len(leaves), 1000)
        self.assertEqual({j["status"] for j in leaves}, {"success"})
        self.assertEqual(len(self.done("leaf0500")), 1)

    def test_fan_in_of_100(self):
        for i in range(100):
            self.add_job(sched("p%03d" % i, "true", schedule=NEVER))
        self.add_job(dep("sink", ["p%03d" % i for i in range(100)], "true"))
        for i in range(99):
            self.run_job("p%03d" % i)
        self.settle()
        self.assertEqual(self.done("sink"), [])
        self.run_job("p099")
        sink = self.wait_done("sink", 1)[0]
        self.assertEqual(len(sink["parentTaskIds"]), 100)
        self.run_job("p000")  # a new round starts: one parent is not enough
        self.settle()
        self.assertEqual(len(self.done("sink")), 1)


class Outcomes(DepTestCase):
    def test_retries_before_success_trigger_once(self):
        flag = os.path.join(self.server.root, "flag")
        self.add_job(sched("flaky", "test -f %s || { touch %s; exit 1; }" % (flag, flag), schedule=NEVER,
                           retries=2))
        self.add_job(dep("after", ["flaky"], "true"))
        self.run_job("flaky")
        self.wait_done("after", 1)
        self.settle()
        self.assertEqual(sorted(r["status"] for r in self.done("flaky")), ["failed", "succeeded"])
        self.assertEqual(len(self.done("after")), 1)

    def test_failed_parent_does_not_trigger_but_soft_error_does(self):
        self.add_job(sched("hard", "exit 1", schedule=NEVER, retries=0))
        self.add_job(sched("soft", "exit 1", schedule=NEVER, retries=0, softError=True))
        self.add_job(dep("after_hard", ["hard"], "true"))
        self.add_job(dep("after_soft", ["soft"], "true"))
        self.run_job("hard")
        self.run_job("soft")
        self.wait_done("after_soft", 1)
        self.settle()
        self.assertEqual(self.done("after_hard"), [])

    def test_disabled_child_is_skipped(self):
        self.add_job(sched("root", "true", schedule=NEVER))
        self.add_job(dep("off", ["root"], "true", disabled=True))
        self.add_job(dep("on", ["root"], "true"))
        self.run_job("root")
        self.wait_done("on", 1)
        self.settle()
        self.assertEqual(self.runs("off"), [])


class Persistence(DepTestCase):
    def test_restart_in_the_middle_of_a_round(self):
        """Chronos #811: a restart between two parents' runs made the child never run."""
        self.add_job(sched("pa", "true", schedule=NEVER))
        self.add_job(sched("pb", "true", schedule=NEVER))
        self.add_job(dep("child", ["pa", "pb"], "true"))
        self.run_job("pa")
        self.wait_done("pa", 1)
        self.settle()
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.done("child"), [])
        self.run_job("pb")
        child = self.wait_done("child", 1)[0]
        self.settle()
        self.assertEqual(len(self.done("child")), 1)
        self.assertEqual(child["parentTaskIds"], [self.done("pa")[0]["taskId"], self.done("pb")[0]["taskId"]])

    def test_deleted_child_leaves_no_round_behind(self):
        """A job deleted in the middle of a round and created again under its name starts a new round, also after
        a restart (the round entries went with the job)."""
        self.add_job(sched("pa", "true", schedule=NEVER))
        self.add_job(sched("pb", "true", schedule=NEVER))
        self.add_job(dep("kid", ["pa", "pb"], "true"))
        self.run_job("pa")
        self.wait_done("pa", 1)
        self.settle()
        self.assertEqual(self.server.request("DELETE", V1 + "/job/kid")[0], 204)
        self.add_job(dep("kid", ["pa", "pb"], "true"))
        self.server.restart()
        self.run_job("pb")
        self.wait_done("pb", 1)
        self.settle()
        self.assertEqual(self.done("kid"), [], "kid ran on a round of the job deleted before it")
        self.run_job("pa")
        kid = self.wait_done("kid", 1)[0]
        self.assertEqual(kid["parentTaskIds"], [self.done("pa")[0]["taskId"], self.done("pb")[0]["taskId"]])


class Triggers(DepTestCase):
    def test_every_success_triggers_a_run_even_within_one_millisecond(self):
        """Successes marked faster than one per millisecond each trigger the child: a task id taken already moves
        to the next millisecond instead of dropping the trigger."""
        self.add_job(sched("burst", "true", schedule=NEVER))
        self.add_job(dep("burstkid", ["burst"], "true", concurrent=True))
        n = 40
        errors = []

        def mark():
            status, _, body = self.server.request("PUT", V1 + "/job/success/burst")
            if status != 200:
                errors.append((status, body))
        threads = [threading.Thread(target=mark) for _ in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertEqual(errors, [])
        runs = self.wait_done("burstkid", n)
        self.settle()
        self.assertEqual(len(self.done("burstkid")), n)
        self.assertEqual(len({r["taskId"] for r in runs}), n)


if __name__ == "__main__":
    main()
