"""HA on PostgreSQL (issue 13): three `gnomon server --zk-hosts ... --state postgres://...` processes, a real
three-node ZooKeeper ensemble (zk_harness.py) and one real PostgreSQL database (pg_harness.py; ctest runs this
under tests/support/pg_cluster.py). The elected one loads what the database holds, leads and writes fenced by
its epoch. A job due every second across two kill -9 failovers: each new leader loads what the one before
wrote (jobs, history) and goes on; no task id twice, no slot that succeeded twice, no acknowledged job lost.
Followers' reads follow within their refresh. A leader paused past its session timeout is deposed: once woken it
steps down, and the history still has no slot twice. PostgreSQL stopped under the leader: nobody leads until it is
back, then one does by itself."""

import os
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, iso_ms, main, now_ms, sched, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, require_pg, start_server, stop_server  # noqa: E402
from zk_harness import Ensemble, require_zookeeper, zk_args  # noqa: E402

V1 = "/v1/scheduler"
ZK_TIMEOUT_MS = 4000
ENSEMBLE = None


def setUpModule():
    global ENSEMBLE
    require_pg()
    require_zookeeper()
    ENSEMBLE = Ensemble(3)


def tearDownModule():
    if ENSEMBLE:
        ENSEMBLE.close()


class PgHA(GnomonTestCase, RunChecks):
    server_args = None

    def start_servers(self, n=3, extra=()):
        db = new_database(self._testMethodName.lower())
        path = "/gnomon-pg-ha/%s" % self._testMethodName
        return [self.new_server(zk_args(ENSEMBLE.hosts, path, ZK_TIMEOUT_MS) + ["--state", db] + list(extra))
                for _ in range(n)]

    def leader_of(self, servers):
        leading = [s for s in servers if self.cluster(s)["leading"]]
        return leading[0] if len(leading) == 1 else None

    def wait_leader(self, servers, timeout):
        return wait_until(lambda: self.leader_of(servers), timeout, interval=0.05, what="one leader")
    def test_failovers(self):
        servers = self.start_servers()
        leader = self.wait_leader(servers, 20)
        pg = self.cluster(leader)["postgres"]
        self.assertEqual((pg["connected"], pg["writesRefused"]), (True, False))
        self.add_job(sched("ticker", "true", "R/%s/PT1S" % iso_ms(now_ms())), srv=leader)
        acknowledged = ["ticker"]
        wait_until(lambda: len(self.succeeded(leader, "ticker")) >= 3, 20, what="three ticker runs")
        # a follower's copy follows within its refresh (5 s)
        follower = [s for s in servers if s is not leader][0]
        wait_until(lambda: "ticker" in self.job_names(follower), 15, interval=0.2, what="the follower sees the job")
        # a change sent to the follower is proxied to the leader, acknowledged once the leader committed it
        status, body = self.post_job(sched("proxied"), srv=follower)
        self.assertEqual(status, 204, body)
        self.assertIn("proxied", self.job_names(leader))
        acknowledged.append("proxied")

        alive = list(servers)
        seen = set()
        for round_ in (1, 2):
            name = "acknowledged-%d" % round_
            self.add_job(sched(name), srv=leader)
            acknowledged.append(name)
            before = {r["taskId"] for r in self.succeeded(leader, "ticker")}
            seen |= before
            epoch = self.cluster(leader)["epoch"]
            t0 = time.monotonic()
            leader.kill9()
            alive.remove(leader)
            leader = self.wait_leader(alive, ZK_TIMEOUT_MS / 1000 + 15)
            failover = time.monotonic() - t0
            self.assertGreater(self.cluster(leader)["epoch"], epoch)
            self.assertLessEqual(set(acknowledged), set(self.job_names(leader)), "acknowledged jobs lost")
            self.assertLessEqual(before, {r["taskId"] for r in self.succeeded(leader, "ticker")},
                                 "history written by the old leader")
            wait_until(lambda: len(self.succeeded(leader, "ticker")) >= len(before) + 2, 20,
                       what="the ticker running on the new leader")
            sys.stderr.write("\nfailover %d on PostgreSQL (kill -9 to a new leader leading): %.2f s (session "
                             "timeout %.1f s)\n" % (round_, failover, ZK_TIMEOUT_MS / 1000))
        runs = self.runs(leader, "ticker")
        self.assertLessEqual(seen, {r["taskId"] for r in runs})
        self.assertOncePerSlot(runs)
        self.assertEqual(set(self.job_names(leader)), set(acknowledged))

    def test_deposed_leader(self):
        """The leader paused past its session timeout: another is elected and raises the epoch; woken, the old
        one steps down (ZooKeeper's demotion or the fence's -ESTALE, whichever comes first) and no slot ran
        twice."""
        servers = self.start_servers(2)
        old = self.wait_leader(servers, 20)
        [other] = [s for s in servers if s is not old]
        self.add_job(sched("ticker", "true", "R/%s/PT1S" % iso_ms(now_ms())), srv=old)
        wait_until(lambda: len(self.succeeded(old, "ticker")) >= 2, 20, what="two ticker runs")
        old.proc.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: self.cluster(other)["leading"], ZK_TIMEOUT_MS / 1000 + 15, interval=0.05,
                       what="the other server leading")
        finally:
            old.proc.send_signal(signal.SIGCONT)
        view = wait_until(lambda: (lambda v: v if not v["leading"] else None)(self.cluster(old)), 10, interval=0.05,
                          what="the old leader stepped down")
        sys.stderr.write("\nthe deposed leader: %s (its write fenced: %s)\n" % (view["lastRoleChange"]["why"],
                                                                                 view["postgres"]["fenced"]))
        n = len(self.succeeded(other, "ticker"))
        wait_until(lambda: len(self.succeeded(other, "ticker")) >= n + 2, 20, what="the ticker on the new leader")
        self.assertIs(self.leader_of(servers), other)
        self.assertOncePerSlot(self.runs(other, "ticker"))

    def test_postgres_outage(self):
        """PostgreSQL stopped under the leader: it steps down and gives its place up; no server leads while the
        database is out of reach (an elected one cannot record its epoch and resigns in turn); once it is back,
        one leads by itself and the ticker goes on, no slot twice."""
        servers = self.start_servers(2, ["--state-timeout", "1500"])
        leader = self.wait_leader(servers, 20)
        self.add_job(sched("ticker", "true", "R/%s/PT1S" % iso_ms(now_ms())), srv=leader)
        wait_until(lambda: len(self.succeeded(leader, "ticker")) >= 2, 20, what="two ticker runs")
        stop_server()
        try:
            view = wait_until(lambda: (lambda v: v if not v["leading"] else None)(self.cluster(leader)), 10,
                              interval=0.05, what="the leader stepped down")
            self.assertIn("PostgreSQL", view["lastRoleChange"]["why"])
            deadline = time.monotonic() + 4  # elections come and go: none leads
            while time.monotonic() < deadline:
                self.assertIsNone(self.leader_of(servers))
                time.sleep(0.1)
        finally:
            start_server()
        t0 = time.monotonic()
        leader = self.wait_leader(servers, 30)
        sys.stderr.write("\nPostgreSQL back: a server leads again after %.2f s\n" % (time.monotonic() - t0))
        n = len(self.succeeded(leader, "ticker"))
        wait_until(lambda: len(self.succeeded(leader, "ticker")) >= n + 2, 20, what="the ticker running again")
        self.assertOncePerSlot(self.runs(leader, "ticker"))


if __name__ == "__main__":
    main()
