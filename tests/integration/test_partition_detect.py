"""A peer that goes silent (a partition drops its packets: no refusal, no reset) is given up in seconds, not at a
request's own timeout:
- an agent's long poll to its server ends within about 3 s (net/tcp_dead.h: TCP keepalive and TCP_USER_TIMEOUT
  on the agent's connections), so that in a cluster the agent is at the next server while a new leader is
  elected;
- a server's write to a silent PostgreSQL fails within about 3 s (store/pgconn.c: tcp_user_timeout), not at
  --state-timeout.
The chaos suite found both: the agents of a partitioned leader polling it 10-20 s after a new leader led, and a
leader cut off from PostgreSQL waiting 10 s on a write; the slots due meanwhile missed their epsilon.

Runs in a network namespace of its own (it re-executes itself under `unshare -n`, its PostgreSQL cluster with it:
the loopback, the cluster and the iptables rules go with the namespace), as root; skipped otherwise."""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, sched, wait_until  # noqa: E402
from test_agents import AgentsBase  # noqa: E402

INNER = "GNOMON_TEST_IN_NETNS"
PG_CLUSTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support", "pg_cluster.py")


def enter_namespace():
    """Run this file again in a network namespace of its own; returns only inside it."""
    if os.environ.get(INNER):
        return
    if os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("iptables"):
        print("skipped: needs root, unshare and iptables (a network namespace of its own)")
        sys.exit(77)  # ctest's SKIP_RETURN_CODE
    env = dict(os.environ, **{INNER: "1"})
    env.pop("GNOMON_TEST_PG", None)  # a server outside the namespace cannot be reached from it
    sys.stdout.flush()
    inner = [sys.executable, PG_CLUSTER, "run", sys.executable, os.path.abspath(__file__)] + sys.argv[1:]
    os.execvpe("unshare", ["unshare", "--net", "--", "sh", "-c", 'ip link set lo up && exec "$@"', "sh"] + inner,
               env)


class SilentServer(AgentsBase):
    # polls held 10 s (a third of the agent timeout, at most 10 s): an agent without the fix would wait 14 s
    server_args = ("--local-agent=false", "--agent-timeout", "60")

    def test_an_agent_gives_a_silent_server_up_within_seconds(self):
        a = self.agent("a1")
        self.wait_agents(["a1"])
        # cut just as a poll begins: a poll answered with a start, the next is sent at once, and the run is
        # reported running right after; so the poll in flight has its whole timeout ahead
        self.run_now(sched("hold", "sleep 60"))
        self.wait_run("hold", lambda r: r["status"] == "running", "the run on the agent")
        before = a.log().count("poll:")
        drop(self, self.server.port)
        cut = time.monotonic()
        wait_until(lambda: a.log().count("poll:") > before, 30, interval=0.05,
                   what="the agent to give its poll to the silent server up")
        took = time.monotonic() - cut
        print("a silent server given up after %.1f s (the poll's own timeout: 14 s)" % took)
        # the poll had about 14 s left: it ended through the dead connection, not at its timeout
        self.assertLess(took, 9.0, a.log()[-2000:])
        self.check_agent_logs()


def drop(test, port):
    """Drop every packet to port on this namespace's loopback until the test ends."""
    rule = ["INPUT", "-p", "tcp", "--dport", str(port), "-j", "DROP"]
    subprocess.run(["iptables", "-I"] + rule, check=True)
    test.addCleanup(subprocess.run, ["iptables", "-D"] + rule)


class SilentPostgres(GnomonTestCase):
    def setUp(self):
        self.server_args = ("--state", os.environ["GNOMON_TEST_PG"], "--state-timeout", "20000")
        super().setUp()

    def test_a_write_to_a_silent_database_fails_within_seconds(self):
        # it leads once the state is loaded from PostgreSQL: a write before that is refused (503)
        wait_until(lambda: self.server.json("GET", "/api/v1/cluster")[1].get("leading"), 20, interval=0.02,
                   what="the server leading")
        self.add_job({"name": "before", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT1H"})
        port = int(os.environ["GNOMON_TEST_PG"].rsplit(":", 1)[1].split("/")[0])
        drop(self, port)
        cut = time.monotonic()
        status, _, body = self.server.request("POST", "/v1/scheduler/iso8601", body={
            "name": "during", "command": "true", "schedule": "R/2030-01-01T00:00:00Z/PT1H"})
        took = time.monotonic() - cut
        print("a write to a silent PostgreSQL failed after %.1f s (--state-timeout 20 s): %d %s"
              % (took, status, body))
        self.assertGreaterEqual(status, 500, body)
        self.assertLess(took, 9.0)


if __name__ == "__main__":
    enter_namespace()
    main()
