"""HA on PostgreSQL (issue 13 item 7): a follower's reads follow the leader's changes as they are announced. Two
`gnomon server --zk-hosts ... --state postgres://...` processes, a real three-node ZooKeeper (zk_harness.py) and a
real PostgreSQL (pg_harness.py; ctest runs this under tests/support/pg_cluster.py). The leader's writes NOTIFY
what they changed on commit; a follower LISTENs and reads again at once: a job put, a run started and ended, a
job and its history deleted show on the follower well within the old 5 s refresh, each through an announced
change whose rows alone it read again (the follower's changesRead counter in GET /api/v1/cluster's postgres
section; its loads counter stays). Idle, a follower does not read the database again every 5 s any more.
PostgreSQL restarted: the follower connects again, LISTENs again, reads everything again, and follows the new
leader's changes."""

import os
import re
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, iso_ms, main, now_ms, sched, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, require_pg, start_server, stop_server  # noqa: E402
from zk_harness import close_module_ensemble as tearDownModule, module_ensemble, zk_args  # noqa: E402, F401

ZK_TIMEOUT_MS = 4000
SEEN_WITHIN = 2.5  # seconds: the old refresh was 5 s


def setUpModule():
    require_pg()
    module_ensemble()


class PgFollow(GnomonTestCase, RunChecks):
    server_args = None

    def start_pair(self, extra=()):
        db = new_database(self._testMethodName.lower())
        path = "/gnomon-pg-follow/%s" % self._testMethodName
        servers = [self.new_server(zk_args(module_ensemble().hosts, path, ZK_TIMEOUT_MS) + ["--state", db] +
                                   list(extra)) for _ in range(2)]
        leader, follower = self.roles(servers, 20)
        # the follower's first load done: what changes from now on reaches it through announcements only
        wait_until(lambda: self.pg(follower)["lastLoad"], 20, interval=0.05, what="the follower's first load")
        return leader, follower

    def roles(self, servers, timeout):
        def pair():
            leading = [s for s in servers if self.cluster(s)["leading"]]
            if len(leading) != 1:
                return None
            return leading[0], [s for s in servers if s is not leading[0]][0]
        return wait_until(pair, timeout, interval=0.05, what="one leader")

    def runs_if(self, srv, name, status):
        """The job's runs with status on srv ([] while srv does not know the job yet)."""
        code, body = srv.json("GET", "/api/v1/jobs/%s/runs?limit=1000" % name)
        return [r for r in body["runs"] if r["status"] == status] if code == 200 else []

    def pg(self, srv):
        return self.cluster(srv)["postgres"]

    def counts(self, follower):
        pg = self.pg(follower)
        return pg["changesRead"], pg["loads"]

    def seen(self, follower, cond, what, before):
        """cond() comes true on the follower within SEEN_WITHIN (from now), through the rows of an announced change
        read again (not a load of everything) since its counts() were before."""
        t0 = time.monotonic()
        wait_until(cond, SEEN_WITHIN, interval=0.02, what=what)
        sys.stderr.write("\n%s: %.0f ms\n" % (what, (time.monotonic() - t0) * 1000))
        read, loads = self.counts(follower)
        self.assertGreater(read, before[0], "not through an announced change")
        self.assertEqual(loads, before[1], "everything was loaded again")

    def test_changes_followed(self):
        leader, follower = self.start_pair()
        before = self.counts(follower)
        self.add_job(sched("put", "true", "R1/2100-01-01T00:00:00Z/PT1S"), srv=leader)
        self.seen(follower, lambda: "put" in self.job_names(follower), "the follower sees a job put", before)
        before = self.counts(follower)
        self.add_job(sched("once", "sleep 3", "R1/%s/PT1S" % iso_ms(now_ms())), srv=leader)
        wait_until(lambda: [r for r in self.runs(leader, "once") if r["status"] == "running"], 20,
                   interval=0.02, what="the run started on the leader")
        self.seen(follower, lambda: self.runs_if(follower, "once", "running"),
                  "the follower sees the run started", before)
        before = self.counts(follower)
        wait_until(lambda: self.succeeded(leader, "once"), 20, interval=0.02, what="the run ended on the leader")
        self.seen(follower, lambda: self.runs_if(follower, "once", "succeeded"), "the follower sees the run ended",
                  before)
        before = self.counts(follower)
        status, body = leader.json("DELETE", "/v1/scheduler/job/once")
        self.assertIn(status, (200, 204), body)
        self.seen(follower, lambda: "once" not in self.job_names(follower) and
                  follower.json("GET", "/api/v1/jobs/once/runs")[0] == 404, "the follower sees the job deleted",
                  before)

    def links(self, srv):
        """The dependency edges srv's own graph holds, as (parent, child) names (Chronos's graph in DOT, which any
        server answers from its own copy: `  ID [ label = "NAME" ];` and `  ID -> ID;` lines)."""
        status, _, body = srv.request("GET", "/v1/scheduler/graph/dot")
        self.assertEqual(status, 200, body)
        text = body.decode()
        names = dict(re.findall(r'^  (\d+) \[ label = "([^"]*)" \];$', text, re.M))
        return sorted((names[a], names[b]) for a, b in re.findall(r"^  (\d+) -> (\d+);$", text, re.M))

    def test_dependencies_followed(self):
        """The follower's graph keeps its edges through announced changes: jobs added with their parent, the parent
        replaced (its children's edges kept), a child added, a child deleted."""
        leader, follower = self.start_pair()
        far = "R1/2100-01-01T00:00:00Z/PT1S"
        before = self.counts(follower)
        status, body = leader.json("POST", "/api/v1/jobs", [dep("c", ["p"]), sched("p", "true", far)])
        self.assertEqual(status, 200, body)
        self.seen(follower, lambda: self.links(follower) == [("p", "c")], "the follower links p -> c", before)
        before = self.counts(follower)
        self.add_job(sched("p", "echo replaced", far), srv=leader)
        self.seen(follower, lambda: follower.json("GET", "/v1/scheduler/job/p")[1]["command"] == "echo replaced",
                  "the follower sees p replaced", before)
        self.assertEqual(self.links(follower), [("p", "c")])
        before = self.counts(follower)
        status, body = leader.json("POST", "/v1/scheduler/dependency", dep("c2", ["p"]))
        self.assertEqual(status, 204, body)
        self.seen(follower, lambda: self.links(follower) == [("p", "c"), ("p", "c2")], "the follower links p -> c2",
                  before)
        before = self.counts(follower)
        status, body = leader.json("DELETE", "/v1/scheduler/job/c")
        self.assertIn(status, (200, 204), body)
        self.seen(follower, lambda: self.links(follower) == [("p", "c2")], "the follower unlinks c", before)
        self.assertEqual(self.links(follower), self.links(leader))

    def test_prune_followed(self):
        """--history-max-runs 1: the second run's end prunes the first; the follower's history loses it too, through
        the prune's announcement (no load of everything)."""
        leader, follower = self.start_pair(["--history-max-runs", "1"])
        self.add_job(sched("twice", "true", "R2/%s/PT1S" % iso_ms(now_ms())), srv=leader)
        first = wait_until(lambda: self.runs_if(follower, "twice", "succeeded"), 20, interval=0.02,
                           what="the first run on the follower")[0]["taskId"]
        before = self.counts(follower)
        wait_until(lambda: [r["taskId"] for r in self.runs(leader, "twice")] not in ([], [first]), 20,
                   interval=0.02, what="the first run pruned on the leader")
        self.seen(follower, lambda: first not in [r["taskId"] for r in self.runs(follower, "twice")],
                  "the follower sees the first run pruned", before)
        self.assertEqual(len(self.runs(follower, "twice")), 1)

    def test_idle_follower_does_not_reload(self):
        leader, follower = self.start_pair()
        self.add_job(sched("later", "true", "R1/2100-01-01T00:00:00Z/PT1S"), srv=leader)
        wait_until(lambda: "later" in self.job_names(follower), SEEN_WITHIN, interval=0.02, what="the job followed")
        loads = self.pg(follower)["loads"]
        time.sleep(6)  # longer than the old refresh: nothing changed, nothing is read again
        self.assertEqual(self.pg(follower)["loads"], loads, "the follower read the database again, idle")

    def test_postgres_restart(self):
        leader, follower = self.start_pair(["--state-timeout", "1500"])
        self.add_job(sched("before", "true", "R1/2100-01-01T00:00:00Z/PT1S"), srv=leader)
        wait_until(lambda: "before" in self.job_names(follower), SEEN_WITHIN, interval=0.02, what="the job followed")
        connections = {id(s): self.pg(s)["connections"] for s in (leader, follower)}
        loads = {id(s): self.pg(s)["loads"] for s in (leader, follower)}
        stop_server()
        start_server()
        leader, follower = self.roles([leader, follower], 40)
        wait_until(lambda: self.pg(follower)["connections"] > connections[id(follower)], 20, interval=0.05,
                   what="the follower connected again")
        # connected again, it listens again and reads everything again (it may have missed changes)
        wait_until(lambda: self.pg(follower)["loads"] > loads[id(follower)], 20, interval=0.05,
                   what="the follower loaded again")
        self.assertIn("before", self.job_names(follower))
        before = self.counts(follower)
        self.add_job(sched("after", "true", "R1/2100-01-01T00:00:00Z/PT1S"), srv=leader)
        self.seen(follower, lambda: "after" in self.job_names(follower), "the follower sees a job put after the "
                  "restart", before)


if __name__ == "__main__":
    main()
