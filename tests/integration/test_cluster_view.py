"""GET /api/v1/cluster's instances (issue 13, items 2 and 8): three `gnomon server --zk-hosts ...` processes
against a real three-node ZooKeeper ensemble (zk_harness.py). Every server lists the same three instances in
election order, the leader first, each one itself once with its own role; the leader stopped, the next in the list
leads and the list loses it at once; every server shows the leader's epoch (ZooKeeper's counter); a server killed (-9), its entry goes once its session expires; the quorum
lost, the list is the last one read, said to be no longer current, with the time it was read, and current again
once ZooKeeper is back. Standalone, the server alone; an ensemble out of reach, no instances known."""

import os
import socket
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, now_ms, parse_iso_ms, wait_until  # noqa: E402
from zk_harness import addr, close_module_ensemble as tearDownModule, module_ensemble, zk_args  # noqa: E402, F401

ZK_TIMEOUT_MS = 3000
INSTANCE_KEYS = ["address", "role", "self", "node"]


class ClusterView(GnomonTestCase):
    server_args = None  # each test starts its own servers

    def view(self, srv):
        status, body = srv.json("GET", "/api/v1/cluster")
        self.assertEqual(status, 200, body)
        return body

    def agreed(self, servers, n):
        """The instances' addresses when every one of servers has the same current list of n, its first the
        leader by everyone's role; else None."""
        views = [self.view(s) for s in servers]
        lists = [[i["address"] for i in v["instances"]] if v["instancesCurrent"] else None for v in views]
        if not lists[0] or len(lists[0]) != n or any(a != lists[0] for a in lists):
            return None
        leaders = [addr(s) for s, v in zip(servers, views) if v["role"] == "leader"]
        return lists[0] if leaders == [lists[0][0]] else None

    def wait_agreed(self, servers, n, timeout):
        return wait_until(lambda: self.agreed(servers, n), timeout, interval=0.05,
                          what="%d instances agreed on by every server" % n)

    def check_view(self, srv):
        """Each instance's fields, its role, and this server's own entry."""
        v = self.view(srv)
        for k in ("instances", "instancesCurrent", "instancesReadAt"):
            self.assertIn(k, v)
        mine = [i for i in v["instances"] if i["self"]]
        self.assertEqual(len(mine), 1, v["instances"])
        self.assertEqual((mine[0]["address"], mine[0]["role"]), (addr(srv), v["role"]))
        for pos, i in enumerate(v["instances"]):
            self.assertEqual(list(i.keys()), INSTANCE_KEYS)
            self.assertRegex(i["node"], r"^n_[0-9a-f]+-\d{10}$")
            self.assertEqual(i["role"], "leader" if pos == 0 else "follower")
        seqs = [int(i["node"][-10:]) for i in v["instances"]]
        self.assertEqual(seqs, sorted(seqs))
        self.assertLessEqual(parse_iso_ms(v["instancesReadAt"]), now_ms() + 1000)

    def test_instances(self):
        e = module_ensemble()
        path = "/gnomon-view/test_instances"
        servers = [self.new_server(zk_args(e.hosts, path, ZK_TIMEOUT_MS))
                   for _ in range(3)]
        order = self.wait_agreed(servers, 3, 20)
        self.assertEqual(sorted(order), sorted(addr(s) for s in servers))
        for s in servers:
            self.check_view(s)
        by_addr = {addr(s): s for s in servers}
        epoch = self.view(by_addr[order[0]])["epoch"]
        self.assertGreaterEqual(epoch, 1)
        wait_until(lambda: all(self.view(s)["zookeeper"]["epochCounter"] == epoch for s in servers), 10,
                   what="the leader's epoch in every server's view")

        # the leader stopped: its session closed, the next in the list leads, and the list loses its first at once
        by_addr[order[0]].stop()
        rest = [by_addr[a] for a in order[1:]]
        self.assertEqual(self.wait_agreed(rest, 2, 10), order[1:])
        epoch2 = self.view(rest[0])["epoch"]
        self.assertGreater(epoch2, epoch)
        wait_until(lambda: self.view(rest[1])["zookeeper"]["epochCounter"] == epoch2, 10,
                   what="the new leader's epoch in the follower's view")

        # the new leader killed: the last one lists itself alone, the leader, once the session expired
        t0 = time.monotonic()
        by_addr[order[1]].kill9()
        last = by_addr[order[2]]
        self.assertEqual(self.wait_agreed([last], 1, ZK_TIMEOUT_MS / 1000 + 6), [order[2]])
        sys.stderr.write("\nthe killed leader's entry gone after %.2f s (session timeout %.1f s)\n"
                         % (time.monotonic() - t0, ZK_TIMEOUT_MS / 1000))
        self.check_view(last)

        # the quorum lost: the list as last read, not current, with when it was read; back: current again. First
        # the last one's own election seen through (its epoch counter raised, which has the list read again).
        wait_until(lambda: (lambda v: v["leading"] and v["zookeeper"]["epochCounter"] == v["epoch"])(self.view(last)),
                   10, interval=0.02, what="the last one leading, its epoch counter read")
        read_at = self.view(last)["instancesReadAt"]
        try:
            e.kill(0)
            e.kill(1)
            # the one left serves until it notices the quorum is gone (a few ticks): a session may reconnect to
            # it meanwhile, and be current again for that while
            wait_until(lambda: e.modes() == [None, None, None], 30, what="the last ZooKeeper node not serving")
            stale = wait_until(lambda: (lambda v: v if not v["instancesCurrent"] else None)(self.view(last)),
                               2 * ZK_TIMEOUT_MS / 1000 + 2, what="the list no longer current")
            self.assertEqual([i["address"] for i in stale["instances"]], [order[2]])
            # the last read's time (a watch may have read it again since read_at, until the session was lost),
            # kept while the session is not connected
            self.assertLessEqual(parse_iso_ms(read_at), parse_iso_ms(stale["instancesReadAt"]))
            again = self.view(last)
            self.assertFalse(again["instancesCurrent"])
            self.assertEqual(again["instancesReadAt"], stale["instancesReadAt"])
        finally:
            for i in range(e.n):
                if not e.running(i):
                    e.start(i)
            e.wait_quorum()
        self.wait_agreed([last], 1, 20)
        self.assertGreater(parse_iso_ms(self.view(last)["instancesReadAt"]), parse_iso_ms(read_at))

    def test_out_of_reach(self):
        srv = self.new_server(["--zk-hosts", "192.0.2.1:2181", "--zk-timeout", "2000"])
        v = self.view(srv)
        self.assertEqual((v["instances"], v["instancesCurrent"], v["instancesReadAt"]), ([], False, None))

    def test_standalone(self):
        srv = self.new_server()
        v = self.view(srv)
        name = "%s:%d" % (socket.gethostname(), srv.port)
        self.assertEqual(v["instances"], [{"address": name, "role": "leader", "self": True, "node": None}])
        self.assertEqual((v["instancesCurrent"], v["instancesReadAt"]), (True, None))


if __name__ == "__main__":
    main()
