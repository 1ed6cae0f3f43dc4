"""A server whose wall clock is off (issue 15, point 4): two `gnomon server --zk-hosts ... --state postgres://...`
on a real ZooKeeper ensemble and a real PostgreSQL (ctest runs this under tests/support/pg_cluster.py), each under
libfaketime (LD_PRELOAD, a FAKETIME_TIMESTAMP_FILE of its own that the test rewrites, the monotonic clock left
alone). Each server reads PostgreSQL's clock every second; the leader whose clock moves 30 s forwards steps down at
once and says why (its log, /api/v1/cluster's postgres.clock), and the other leads; elected while its clock is
still off, it resigns without leading; once its clock is right again it leads again. The same 30 s backwards.
The jobs' commands do not see the fake time (their environment is gnomon's own)."""

import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, require_pg  # noqa: E402
from zk_harness import close_module_ensemble as tearDownModule  # noqa: E402,F401
from zk_harness import module_ensemble, zk_args  # noqa: E402

FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
ZK_TIMEOUT_MS = 4000
RESIGNED = "wall clock is off against PostgreSQL's (--max-clock-offset): letting another server lead"


def setUpModule():
    if not os.path.exists(FAKETIME):
        raise unittest.SkipTest("libfaketime is missing (scripts/install-deps.sh test installs it)")
    require_pg()


class ClockOffset(GnomonTestCase, RunChecks):
    server_args = None

    def skewed_server(self, db, path, name):
        rc = os.path.join(self.tmp, name + ".faketime")
        with open(rc, "w") as f:
            f.write("+0\n")
        env = {"LD_PRELOAD": FAKETIME, "FAKETIME_TIMESTAMP_FILE": rc, "FAKETIME_NO_CACHE": "1",
               "FAKETIME_DONT_FAKE_MONOTONIC": "1", "FAKETIME_DISABLE_SHM": "1",
               # a sanitized build: libfaketime comes before ASan's runtime in the preload list
               "ASAN_OPTIONS": os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0"}
        srv = self.new_server(zk_args(module_ensemble().hosts, path, ZK_TIMEOUT_MS) + ["--state", db, "--max-clock-offset",
                                                                               "2000"], env=env)
        srv.faketime = rc
        return srv

    def move(self, srv, offset):
        with open(srv.faketime + ".new", "w") as f:
            f.write(offset + "\n")
        os.replace(srv.faketime + ".new", srv.faketime)

    def clock(self, srv):
        return self.cluster(srv)["postgres"]["clock"]

    def leading(self, srv):
        return self.cluster(srv)["leading"]

    def test_a_leader_whose_clock_is_off_steps_down_and_leads_again_once_it_is_right(self):
        self.tmp = tempfile.mkdtemp(prefix="gnomon-it-clock-")
        self.addCleanup(shutil.rmtree, self.tmp, True)
        db = new_database("clock_offset")
        path = "/gnomon-clock/%s" % self._testMethodName
        a, b = self.skewed_server(db, path, "a"), self.skewed_server(db, path, "b")
        leader = wait_until(lambda: [s for s in (a, b) if self.leading(s)], 30, what="a leader")[0]
        other = b if leader is a else a
        c = wait_until(lambda: self.clock(leader)["checkedAt"] and self.clock(leader), 10, what="a clock reading")
        self.assertTrue(c["ok"], c)
        self.assertLess(abs(c["offsetMs"]), 2000, c)
        self.assertEqual(c["maxOffsetMs"], 2000)

        for offset in ("+30", "-30"):
            with self.subTest(offset=offset):
                self.move(leader, offset)
                wait_until(lambda: self.leading(other) and not self.leading(leader), 15,
                           what="the other server leading once the leader's clock moved %s s" % offset)
                c = wait_until(lambda: not self.clock(leader)["stepped"] and self.clock(leader), 10,
                               what="a reading after the step")
                self.assertFalse(c["ok"], c)
                self.assertAlmostEqual(c["offsetMs"], int(offset) * 1000, delta=1500)
                self.assertIn("wall clock", leader.log())
                # elected while its clock is off, it resigns without leading
                resigned = leader.log().count(RESIGNED)
                other.kill9()
                wait_until(lambda: leader.log().count(RESIGNED) > resigned, 20,
                           what="the skewed server resigning its election")
                self.assertFalse(self.leading(leader))
                # right again: it leads
                self.move(leader, "+0")
                wait_until(lambda: self.leading(leader), 20, what="the server leading with its clock right")
                self.assertTrue(self.clock(leader)["ok"])
                other.start()


if __name__ == "__main__":
    main()
