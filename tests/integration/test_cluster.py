"""The cluster client (src/cluster) against a real three-node ZooKeeper ensemble (zk_harness.py): several
gnomon_cluster_probe processes, each one client printing its events (elected, suspended, resumed, demoted,
leader) as JSON lines. Exactly one leads and the others learn its address; its session closed, another is
elected at once with a higher epoch; killed, another within the session timeout; a ZooKeeper node lost, the
leader stays leader (a leader connected to that node is suspended, then resumed with the same epoch); the
quorum lost, the leader is suspended then demoted; a session that expired (SIGSTOP past the timeout) is demoted
and joins again with a new session. The instances (cluster_instances(): the candidates in election order, kept by
a children watch) are the same list on every client, the leader first, the next one in the list leads next, a
killed client's entry goes with its session, and with the quorum lost the list is no longer current. Every wait
polls with a deadline."""

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from zk_harness import Ensemble, require_zookeeper  # noqa: E402
from gnomon_harness import sanitizer_lines, wait_until  # noqa: E402

PROBE = os.environ.get("GNOMON_CLUSTER_PROBE", "")
ENSEMBLE = None


def setUpModule():
    global ENSEMBLE
    require_zookeeper()
    if not PROBE or not os.access(PROBE, os.X_OK):
        sys.stderr.write("GNOMON_CLUSTER_PROBE is not set to the gnomon_cluster_probe binary (got %r)\n" % PROBE)
        sys.exit(2)
    ENSEMBLE = Ensemble(3)


def tearDownModule():
    if ENSEMBLE:
        ENSEMBLE.close()


class Probe:
    """One cluster client process; events() are its JSON lines so far."""

    def __init__(self, path, self_addr, timeout_ms, auth=None):
        self.self_addr = self_addr
        self.lines = []
        self.health_q = queue.Queue()
        self.instances_q = queue.Queue()
        self.lock = threading.Lock()
        self.stderr_path = os.path.join(ENSEMBLE.root, "probe-%s.log" % self_addr.replace(":", "_"))
        self.err = open(self.stderr_path, "wb")
        cmd = [PROBE, ENSEMBLE.hosts, path, str(timeout_ms), self_addr] + ([auth] if auth else [])
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.err)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for raw in self.proc.stdout:
            ev = json.loads(raw)
            if ev["event"] == "health":
                self.health_q.put(ev)
            elif ev["event"] == "instances":
                self.instances_q.put(ev)
            else:
                with self.lock:
                    self.lines.append(ev)

    def events(self, kind=None):
        with self.lock:
            return [e for e in self.lines if kind is None or e["event"] == kind]

    def send(self, line):
        self.proc.stdin.write(line.encode() + b"\n")
        self.proc.stdin.flush()

    def health(self):
        self.proc.stdin.write(b"health\n")
        self.proc.stdin.flush()
        return self.health_q.get(timeout=10)

    def instances(self):
        """{"current", "readMs", "epoch", "list": [{"node", "address", "self"}]}: the instances (and the epoch
        counter) as this client has them."""
        self.send("instances")
        return self.instances_q.get(timeout=10)

    def addresses(self):
        """The instances' addresses in election order, when the list is current; else None."""
        view = self.instances()
        return [i["address"] for i in view["list"]] if view["current"] else None

    def leading(self):
        """Leading now, by its last role event."""
        role = [e for e in self.events() if e["event"] in ("elected", "resumed", "suspended", "demoted")]
        return bool(role) and role[-1]["event"] in ("elected", "resumed")

    def leader(self):
        evs = self.events()
        return evs[-1]["leader"] if evs else ""

    def close(self, sig=signal.SIGTERM):
        if self.err.closed:
            return
        if self.proc.poll() is None:
            if sig == signal.SIGKILL:
                self.proc.send_signal(signal.SIGCONT)
            self.proc.send_signal(sig)
            self.proc.wait(15)
        self.err.close()
        self.reader.join(5)
        self.proc.stdin.close()
        self.proc.stdout.close()
        with open(self.stderr_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        bad = sanitizer_lines(text)
        if bad:
            raise AssertionError("sanitizer report in the probe's log:\n" + text[-6000:])
        if sig == signal.SIGTERM and self.proc.returncode != 0:
            raise AssertionError("probe exited %d\n%s" % (self.proc.returncode, text[-4000:]))

    def log(self):
        with open(self.stderr_path, "rb") as f:
            return f.read().decode("utf-8", "replace")


def wait_for(predicate, timeout, what):
    return wait_until(predicate, timeout, what=what)


class Cluster(unittest.TestCase):
    def setUp(self):
        self.probes = []
        self.path = "/gnomon-test/%s" % self._testMethodName

    def tearDown(self):
        failed = False
        for p in self.probes:
            try:
                p.close()
            except AssertionError:
                failed = True
                raise
            finally:
                if failed or self._outcome_failed():
                    sys.stderr.write("\n===== probe %s =====\n%s\n" % (p.self_addr, p.log()[-4000:]))
        for i in range(ENSEMBLE.n):
            if not ENSEMBLE.running(i):
                ENSEMBLE.start(i)
        ENSEMBLE.wait_quorum()

    def _outcome_failed(self):
        outcome = getattr(self, "_outcome", None)
        errors = getattr(outcome, "errors", None) or getattr(getattr(outcome, "result", None), "errors", [])
        return any(err for _, err in errors) if isinstance(errors, list) else False

    def start(self, n, timeout_ms, auth=None):
        new = [Probe(self.path, "10.0.0.%d:4400" % (len(self.probes) + i + 1), timeout_ms, auth) for i in range(n)]
        self.probes += new
        return new

    def one_leader(self, probes, timeout=15):
        """Wait until exactly one of probes leads and every other names it; returns it."""
        def settled():
            leaders = [p for p in probes if p.leading()]
            if len(leaders) != 1:
                return None
            if all(p.leader() == leaders[0].self_addr for p in probes):
                return leaders[0]
            return None
        return wait_for(settled, timeout, "one leader named by every client")

    def test_election_and_failover(self):
        probes = self.start(3, 3000)
        first = self.one_leader(probes)
        epoch1 = first.events("elected")[-1]["epoch"]
        self.assertGreaterEqual(epoch1, 1)
        for p in probes:
            if p is not first:
                self.assertEqual(p.events("elected"), [])
                self.assertFalse(p.health()["leading"])
        h = first.health()
        self.assertEqual((h["state"], h["connected"], h["leading"], h["epoch"], h["sessions"]),
                         ("connected", True, True, epoch1, 1))
        self.assertEqual(h["hosts"], ENSEMBLE.hosts)

        # its session closed (a graceful stop): another leads at once, with a higher epoch
        t0 = time.monotonic()
        first.close()
        rest = [p for p in probes if p is not first]
        second = self.one_leader(rest, timeout=5)
        closed_failover = time.monotonic() - t0
        epoch2 = second.events("elected")[-1]["epoch"]
        self.assertGreater(epoch2, epoch1)
        self.assertLess(closed_failover, 2.5, "a closed session's node goes at once")

        # killed: another leads once its session expires (3 s) and not much later
        t0 = time.monotonic()
        second.close(signal.SIGKILL)
        [third] = [p for p in rest if p is not second]
        wait_for(third.leading, 3 + 5, "the last client elected")
        killed_failover = time.monotonic() - t0
        self.assertGreater(third.events("elected")[-1]["epoch"], epoch2)
        self.assertEqual(third.leader(), third.self_addr)
        sys.stderr.write("\nfailover: closed session %.2f s, killed client %.2f s (session timeout 3 s)\n"
                         % (closed_failover, killed_failover))

    def same_instances(self, probes, n, timeout=10):
        """Wait until every one of probes has the same current list of n instances; returns its addresses."""
        def same():
            lists = [p.addresses() for p in probes]
            return lists[0] if lists[0] and len(lists[0]) == n and all(a == lists[0] for a in lists) else None
        return wait_for(same, timeout, "the same %d instances on every client" % n)

    def test_instances(self):
        """Three clients list the same three instances, the leader first and each one itself once; the leader's
        session closed, the next in the list leads and the list loses its first; a client killed, its entry
        goes once its session expires. Every client reads the leader's epoch from the counter."""
        probes = self.start(3, 3000)
        leader = self.one_leader(probes)
        order = self.same_instances(probes, 3)
        epoch = leader.events("elected")[-1]["epoch"]
        wait_for(lambda: all(p.instances()["epoch"] == epoch for p in probes), 10, "the epoch read by every client")
        self.assertEqual(order[0], leader.self_addr)
        self.assertEqual(sorted(order), sorted(p.self_addr for p in probes))
        for p in probes:
            view = p.instances()
            self.assertEqual([i["address"] for i in view["list"] if i["self"]], [p.self_addr])
            self.assertGreater(view["readMs"], 0)
            nodes = [i["node"] for i in view["list"]]
            self.assertEqual(nodes, sorted(nodes, key=lambda n: int(n[-10:])))
            self.assertTrue(all(n.startswith("n_") for n in nodes))

        leader.close()
        rest = [p for p in probes if p is not leader]
        second = self.one_leader(rest, timeout=5)
        self.assertEqual(second.self_addr, order[1], "the next candidate in the list leads next")
        self.assertEqual(self.same_instances(rest, 2), order[1:])
        epoch2 = second.events("elected")[-1]["epoch"]
        self.assertGreater(epoch2, epoch)
        wait_for(lambda: all(p.instances()["epoch"] == epoch2 for p in rest), 10, "the new epoch read by both")

        [last] = [p for p in rest if p is not second]
        second.close(signal.SIGKILL)
        wait_for(last.leading, 3 + 5, "the last client elected")
        self.assertEqual(self.same_instances([last], 1), [last.self_addr])

    def test_resign(self):
        """A leader that cannot lead gives its candidacy up: the other leads with a higher epoch, and the one that
        resigned joins again, with a new session, as a follower."""
        probes = self.start(2, 3000)
        old = self.one_leader(probes)
        epoch = old.events("elected")[-1]["epoch"]
        old.send("resign")
        wait_for(lambda: old.events("demoted"), 5, "the resigned leader demoted")
        new = self.one_leader(probes, timeout=10)
        self.assertIsNot(new, old)
        self.assertGreater(new.events("elected")[-1]["epoch"], epoch)
        self.assertEqual(len(old.events("demoted")), 1)
        wait_for(lambda: old.health()["sessions"] == 2, 10, "a new session")

    def test_digest_auth(self):
        """With digest credentials (--zk-auth) the nodes are the creator's: clients with them elect as usual."""
        self.path = "/gnomon-auth-test"  # its nodes are the creator's: a path of its own
        probes = self.start(2, 3000, auth="gnomon:s3cret")
        leader = self.one_leader(probes)
        self.assertEqual(leader.events("elected")[-1]["epoch"], 1)

    def test_zookeeper_node_lost(self):
        """Each ZooKeeper node killed in turn (and started again): the leader stays the leader, with its epoch;
        when the node it was connected to goes, it is suspended and resumed."""
        probes = self.start(2, 9000)
        leader = self.one_leader(probes)
        epoch = leader.events("elected")[-1]["epoch"]
        for i in range(ENSEMBLE.n):
            ENSEMBLE.kill(i)
            ENSEMBLE.wait_quorum()
            # a suspension is resumed (the same session, within a third of its timeout)
            wait_for(lambda: len(leader.events("resumed")) == len(leader.events("suspended")), 8,
                     "the leader resumed")
            ENSEMBLE.start(i)
            ENSEMBLE.wait_quorum()
        self.assertTrue(leader.leading())
        self.assertEqual(leader.events("demoted"), [])
        self.assertEqual(len(leader.events("elected")), 1)
        self.assertGreaterEqual(len(leader.events("suspended")), 1, "it was connected to one of the nodes killed")
        self.assertEqual({e["epoch"] for e in leader.events("resumed")}, {epoch})
        self.assertEqual(leader.health()["sessions"], 1)
        for p in probes:
            if p is not leader:
                self.assertEqual(p.events("elected"), [])
                wait_for(lambda: p.leader() == leader.self_addr, 10, "the follower names the leader")

    def test_quorum_lost(self):
        """Two of three ZooKeeper nodes gone: the leader is suspended at once and demoted a third of the session
        timeout later; the quorum back, one leads again with a higher epoch."""
        probes = self.start(2, 3000)
        leader = self.one_leader(probes)
        epoch = leader.events("elected")[-1]["epoch"]
        t0 = time.monotonic()
        ENSEMBLE.kill(0)
        ENSEMBLE.kill(1)
        wait_for(lambda: leader.events("suspended"), 2 * 3 + 2, "the leader suspended")
        suspended_after = time.monotonic() - t0
        wait_for(lambda: leader.events("demoted"), 3, "the leader demoted")
        self.assertFalse(any(p.leading() for p in probes))
        # the instances: the last list read, said to be no longer current, with when it was read
        stale = leader.instances()
        self.assertFalse(stale["current"])
        self.assertEqual(len(stale["list"]), 2)
        self.assertGreater(stale["readMs"], 0)
        self.assertLess(stale["readMs"], time.time() * 1000 - 1000)
        ENSEMBLE.start(0)
        ENSEMBLE.start(1)
        ENSEMBLE.wait_quorum()
        new = self.one_leader(probes, timeout=20)
        self.assertGreater(new.events("elected")[-1]["epoch"], epoch)
        self.assertEqual(self.same_instances(probes, 2)[0], new.self_addr)
        sys.stderr.write("\nquorum lost: suspended after %.2f s\n" % suspended_after)

    def test_session_expiry(self):
        """The leader paused (SIGSTOP) past its session timeout: the other is elected; woken, the old one is
        demoted, opens a new session and follows the new leader, without restarting."""
        probes = self.start(2, 2000)
        old = self.one_leader(probes)
        [other] = [p for p in probes if p is not old]
        epoch = old.events("elected")[-1]["epoch"]
        old.proc.send_signal(signal.SIGSTOP)
        try:
            wait_for(other.leading, 2 + 6, "the other elected")
        finally:
            old.proc.send_signal(signal.SIGCONT)
        self.assertGreater(other.events("elected")[-1]["epoch"], epoch)
        wait_for(lambda: old.events("demoted"), 10, "the old leader demoted")
        wait_for(lambda: old.health()["sessions"] == 2 and old.health()["connected"], 10, "a new session")
        wait_for(lambda: old.leader() == other.self_addr, 10, "the old leader names the new one")
        self.assertFalse(old.leading())
        self.assertTrue(other.leading())


if __name__ == "__main__":
    unittest.main(verbosity=2)
