"""HA (issue 13, the election): three `gnomon server --zk-hosts ...` processes against a real three-node ZooKeeper
ensemble (zk_harness.py), each with its own data dir and port. Exactly one leads; GET /v1/scheduler/leader and
the X-Gnomon-Leader header name it on all three; GET /api/v1/cluster shows each one's role, epoch and
ZooKeeper's health; a follower passes a change on to the leader. kill -9 of the leader: another leads
within the session timeout and a margin, with a higher epoch, and the killed one started again follows. A
ZooKeeper node killed, the one the leader is connected to: the leader is suspended, resumes with the same
epoch and stays the leader. The leader paused past its session timeout steps down, and follows once woken.
Standalone, /api/v1/cluster says so and the header names the server itself."""

import os
import signal
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, iso_ms, main, now_ms, sched, wait_until  # noqa: E402
from zk_harness import addr, close_module_ensemble as tearDownModule, module_ensemble, zk_args  # noqa: E402, F401

V1 = "/v1/scheduler"
ZK_TIMEOUT_MS = 4000
ENSEMBLE = None


def ensemble():
    global ENSEMBLE
    ENSEMBLE = module_ensemble()
    return ENSEMBLE


class HA(GnomonTestCase):
    server_args = None  # each test starts its own servers

    def start_servers(self, n=3, timeout_ms=ZK_TIMEOUT_MS):
        e = ensemble()
        path = "/gnomon-ha/%s" % self._testMethodName
        servers = []
        for i in range(n):
            if i == 2:  # Chronos's spellings, with the path in its zk:// form
                args = ["--zk_hosts", "zk://%s%s" % (e.hosts, path), "--zk_timeout", str(timeout_ms)]
            else:
                args = zk_args(e.hosts, path, timeout_ms)
            servers.append(self.new_server(args))
        return servers

    def cluster(self, srv):
        status, body = srv.json("GET", "/api/v1/cluster")
        self.assertEqual(status, 200, body)
        return body

    def settled(self, servers):
        """The leader when exactly one of servers leads and all of them name it (GET /leader, the header, and
        /api/v1/cluster); else None."""
        views = [self.cluster(s) for s in servers]
        leaders = [s for s, v in zip(servers, views) if v["role"] == "leader"]
        if len(leaders) != 1:
            return None
        name = addr(leaders[0])
        for s, v in zip(servers, views):
            status, headers, body = s.request("GET", V1 + "/leader")
            if (v["leader"], headers.get("x-gnomon-leader"), status, body) != (name, name, 200,
                                                                             ('{"leader":"%s"}' % name).encode()):
                return None
        return leaders[0]

    def wait_leader(self, servers, timeout):
        return wait_until(lambda: self.settled(servers), timeout, interval=0.05, what="one leader named by all")

    def test_election_and_failover(self):
        servers = self.start_servers()
        leader = self.wait_leader(servers, 20)
        view = self.cluster(leader)
        self.assertEqual(sorted(view), sorted(["mode", "role", "leading", "suspended", "epoch", "self", "leader",
                                               "lastRoleChange", "zookeeper", "postgres", "instances",
                                               "instancesCurrent", "instancesReadAt"]))
        self.assertEqual((view["mode"], view["role"], view["leading"], view["suspended"], view["self"],
                          view["postgres"]), ("ha", "leader", True, False, addr(leader), None))
        self.assertEqual(view["lastRoleChange"]["what"], "elected")
        zk = view["zookeeper"]
        self.assertEqual((zk["hosts"], zk["path"], zk["state"], zk["connected"], zk["sessionTimeoutMs"],
                          zk["sessions"]), (ENSEMBLE.hosts, "/gnomon-ha/test_election_and_failover", "connected",
                                            True, ZK_TIMEOUT_MS, 1))
        self.assertRegex(zk["sessionId"], r"^0x[0-9a-f]+$")
        self.assertGreaterEqual(view["epoch"], zk["epoch"])
        epoch1 = view["epoch"]
        followers = [s for s in servers if s is not leader]
        for f in followers:
            fv = self.cluster(f)
            self.assertEqual((fv["role"], fv["leading"], fv["leader"]), ("follower", False, addr(leader)))
            self.add_job(sched("through-%d" % f.port), srv=f)  # proxied to the leader (test_ha_proxy.py)
            self.assertIn("through-%d" % f.port, self.job_names(leader))
        self.add_job(sched("on-the-leader"), srv=leader)

        t0 = time.monotonic()
        leader.kill9()
        new = self.wait_leader(followers, ZK_TIMEOUT_MS / 1000 + 6)
        failover = time.monotonic() - t0
        self.assertGreater(self.cluster(new)["epoch"], epoch1)
        self.assertGreater(self.cluster(new)["zookeeper"]["epoch"], zk["epoch"])
        self.add_job(sched("on-the-new-leader"), srv=new)
        sys.stderr.write("\nfailover after kill -9 of the leader: %.2f s (session timeout %.1f s)\n"
                         % (failover, ZK_TIMEOUT_MS / 1000))

        leader.start()  # the same data dir: it joins as a follower
        self.assertIs(self.wait_leader(servers, 20), new)
        self.assertEqual(self.cluster(leader)["role"], "follower")

    def runs(self, srv, name):
        status, body = srv.json("GET", "/api/v1/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return [r for r in body["runs"] if r["status"] == "succeeded"]

    def test_zookeeper_node_lost(self):
        """The ZooKeeper node the leader is connected to killed: the leader suspends its scheduling, moves to
        another node with the same session within a third of the timeout, and resumes with the same epoch:
        it stays the leader, and its jobs run again."""
        servers = self.start_servers(timeout_ms=9000)  # a third of it outlasts ZooKeeper's own re-election
        leader = self.wait_leader(servers, 20)
        view = self.cluster(leader)
        self.add_job(sched("ticker", "true", "R/%s/PT1S" % iso_ms(now_ms())), srv=leader)
        wait_until(lambda: self.runs(leader, "ticker"), 20, what="a ticker run")
        [node] = wait_until(lambda: [i for i in [ENSEMBLE.serving(view["zookeeper"]["sessionId"])] if i is not None],
                            10, what="the ZooKeeper node the leader is connected to")
        ENSEMBLE.kill(node)
        try:
            ENSEMBLE.wait_quorum()
            after = wait_until(lambda: (lambda v: v if v["lastRoleChange"]["what"] == "resumed" else None)(
                self.cluster(leader)), 15, interval=0.05, what="the leader resumed")
            self.assertEqual((after["role"], after["epoch"], after["suspended"], after["zookeeper"]["sessionId"],
                              after["zookeeper"]["sessions"]), ("leader", view["epoch"], False,
                                                                 view["zookeeper"]["sessionId"], 1))
            self.assertIs(self.wait_leader(servers, 10), leader)
            log = leader.current_log()
            self.assertIn("scheduling suspended (epoch %d)" % view["epoch"], log)
            self.assertNotIn("stepped down", log)
            n = len(self.runs(leader, "ticker"))
            wait_until(lambda: len(self.runs(leader, "ticker")) > n, 20, what="the ticker runs again")
            self.add_job(sched("still-leading"), srv=leader)
        finally:
            ENSEMBLE.start(node)
            ENSEMBLE.wait_quorum()

    def test_paused_leader(self):
        """The leader paused (SIGSTOP) past its session timeout: the other leads; woken, the old one steps down
        (its log and /api/v1/cluster say so), opens a new session and follows, without restarting."""
        servers = self.start_servers(2)
        old = self.wait_leader(servers, 20)
        [other] = [s for s in servers if s is not old]
        epoch = self.cluster(old)["epoch"]
        old.proc.send_signal(signal.SIGSTOP)
        try:
            wait_until(lambda: self.cluster(other)["role"] == "leader", ZK_TIMEOUT_MS / 1000 + 6, interval=0.05,
                       what="the other server elected")
        finally:
            old.proc.send_signal(signal.SIGCONT)
        self.assertIs(self.wait_leader(servers, 15), other)
        self.assertGreater(self.cluster(other)["epoch"], epoch)
        view = wait_until(lambda: (lambda v: v if v["zookeeper"]["sessions"] == 2 and v["zookeeper"]["connected"]
                                   else None)(self.cluster(old)), 15, interval=0.05, what="a new session")
        self.assertEqual((view["role"], view["leading"], view["suspended"], view["lastRoleChange"]["what"]),
                         ("follower", False, False, "stepped down"))
        self.assertIsNotNone(view["lastRoleChange"]["why"])
        self.assertEqual(view["zookeeper"]["lastDemotion"], view["lastRoleChange"]["why"])
        self.assertRegex(old.current_log(), r"stepped down from the (suspended )?scheduling \(epoch %d\)" % epoch)

    def test_ensemble_out_of_reach(self):
        """No ZooKeeper to be reached: the server starts as a follower (reads work, changes answer 503, no leader
        is named), says so in /api/v1/cluster, warns that it advertises a loopback address to a remote ensemble,
        and stops promptly."""
        srv = self.new_server(["--zk-hosts", "192.0.2.1:2181", "--zk-timeout", "2000"])
        view = self.cluster(srv)
        self.assertEqual((view["mode"], view["role"], view["leading"], view["leader"]), ("ha", "follower", False, None))
        self.assertEqual((view["zookeeper"]["state"], view["zookeeper"]["connected"], view["zookeeper"]["sessionId"]),
                         ("connecting", False, None))
        status, headers, _ = srv.request("GET", V1 + "/jobs")
        self.assertEqual(status, 200)
        self.assertNotIn("x-gnomon-leader", headers)
        self.assertEqual(srv.json("GET", V1 + "/leader"), (200, {"leader": ""}))
        status, body = self.post_job(sched("refused"), srv=srv)
        self.assertError(status, body, 503, contains=("not the leader", "unknown"), srv=srv)
        self.assertIn("a loopback address, to a ZooKeeper ensemble that is not on this machine", srv.current_log())
        t0 = time.monotonic()
        srv.stop()
        self.assertLess(time.monotonic() - t0, 5)

    def test_standalone(self):
        srv = self.new_server()
        status, headers, _ = srv.request("GET", "/ping")
        name = "%s:%d" % (socket.gethostname(), srv.port)
        self.assertEqual(headers.get("x-gnomon-leader"), name)
        view = self.cluster(srv)
        self.assertEqual((view["mode"], view["role"], view["leading"], view["suspended"], view["leader"],
                          view["zookeeper"], view["postgres"]), ("standalone", "standalone", True, False, name,
                                                                 None, None))


if __name__ == "__main__":
    main()
