"""PostgreSQL for the integration tests of `gnomon server --state postgres://...`: the tests run under
tests/support/pg_cluster.py (tests/CMakeLists.txt wraps every test_pg_*.py with it), which gives a throwaway
server in GNOMON_TEST_PG and the commands that stop it (an immediate shutdown: an outage) and start it again.
Each test takes a database of its own (new_database), so that nothing one test wrote is seen by another."""

import collections
import os
import re
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
import pg_cluster  # noqa: E402

URL_RE = re.compile(r"^postgres(?:ql)?://([^@/]+)@([^:/]+):(\d+)/(\w+)$")


def require_pg():
    """The server's URL, or the test module is skipped (run it under pg_cluster.py)."""
    url = os.environ.get("GNOMON_TEST_PG", "")
    if not URL_RE.match(url):
        raise unittest.SkipTest("GNOMON_TEST_PG is not set: run under tests/support/pg_cluster.py run")
    return url


def new_database(name):
    """A new empty database on the test server; its URL."""
    user, host, port, _ = URL_RE.match(require_pg()).groups()
    subprocess.run([os.path.join(pg_cluster.pg_bin(), "createdb"), "-h", host, "-p", port, "-U", user, name],
                   check=True)
    return "postgresql://%s@%s:%s/%s" % (user, host, port, name)


def query(url, sql):
    """The rows of a query, read by psql straight from the database at url (not through a server): tuples of
    strings, None for NULL."""
    user, host, port, name = URL_RE.match(url).groups()
    out = subprocess.run([os.path.join(pg_cluster.pg_bin(), "psql"), "-h", host, "-p", port, "-U", user, "-d", name,
                          "-X", "-q", "-A", "-t", "-F", "\x1f", "-R", "\x1e", "-P", "null=\x01",
                          "-v", "ON_ERROR_STOP=1", "-c", sql], check=True, capture_output=True).stdout.decode()
    rows = [r for r in out.split("\x1e") if r.strip("\n")]
    return [tuple(None if f == "\x01" else f for f in r.strip("\n").split("\x1f")) for r in rows]


def stop_server():
    """Stop PostgreSQL at once (pg_ctl -m immediate): the connections break as in a crash."""
    subprocess.run(os.environ["GNOMON_TEST_PG_STOP"], shell=True, check=True)


def start_server():
    """Start it again on the same port; returns once it accepts connections."""
    subprocess.run(os.environ["GNOMON_TEST_PG_START"], shell=True, check=True)


class RunChecks:
    """For a GnomonTestCase: a server's cluster view and a job's runs, and the check that no slot ran twice."""

    def cluster(self, srv):
        status, body = srv.json("GET", "/api/v1/cluster")
        self.assertEqual(status, 200, body)
        return body

    def runs(self, srv, name):
        status, body = srv.json("GET", "/api/v1/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def succeeded(self, srv, name):
        return [r for r in self.runs(srv, name) if r["status"] == "succeeded"]

    def assertOncePerSlot(self, runs):
        """Task ids unique, and no due slot with two successes."""
        ids = [r["taskId"] for r in runs]
        self.assertEqual(len(ids), len(set(ids)), "task ids repeated: %r" % ids)
        done = collections.Counter(r["due"] for r in runs if r["status"] == "succeeded")
        twice = [d for d, n in done.items() if n > 1]
        self.assertEqual(twice, [], "slots that succeeded twice: %r" % [r for r in runs if r["due"] in twice])
