"""`make cluster` (scripts/cluster.py, issue 13 item 10): it starts ZooKeeper, PostgreSQL, three servers and two
agents, prints the UI addresses and the leader; SIGINT stops everything (no process of it left). A start that
fails (the first server's port taken) stops what had started, and exits non-zero with one line."""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, http_request, main  # noqa: E402
from zk_harness import require_zookeeper  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "scripts", "cluster.py")


def setUpModule():
    require_zookeeper()


def processes_under(paths):
    """The pids whose command line names one of paths."""
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read().decode("utf-8", "replace")
        except OSError:
            continue
        if any(p in cmd for p in paths):
            found.append((int(pid), cmd.replace("\0", " ")[:200]))
    return found


class Cluster:
    """scripts/cluster.py running, its output lines gathered on a thread."""

    def __init__(self, *args):
        self.dir = tempfile.mkdtemp(prefix="gnomon-it-cluster-")
        self.lines = []
        self.proc = subprocess.Popen([sys.executable, SCRIPT, "--bin", BIN, "--dir", self.dir] + list(args),
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.reader = threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True)
        self.reader.start()

    def wait_line(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if line.startswith(prefix):
                    return line.strip()
            if self.proc.poll() is not None and not self.reader.is_alive():
                break
            time.sleep(0.1)
        raise AssertionError("no line %r within %.0f s:\n%s" % (prefix, timeout, "".join(self.lines)))

    def dirs(self):
        """The directories its processes run in: the data dir, ZooKeeper's and PostgreSQL's."""
        out = [self.dir]
        for line in self.lines:
            if "(files in " in line:
                out.append(line.rsplit("(files in ", 1)[1].rstrip(")\n"))
        return out

    def close(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # its cleanup stops what it started
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.reader.join(5)
        self.proc.stdout.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class MakeCluster(unittest.TestCase):
    def test_start_and_interrupt(self):
        c = Cluster("--port", "0")
        self.addCleanup(c.close)
        t0 = time.monotonic()
        lead = c.wait_line("leader: server-", 90)
        sys.stderr.write("\nscripts/cluster.py: %s after %.1f s\n" % (lead, time.monotonic() - t0))
        uis = [line.split()[3] for line in c.lines if line.startswith("server-") and "web UI" in line]
        self.assertEqual(len(uis), 3, c.lines)
        port = int(lead.rsplit(":", 1)[1].strip("/)"))
        status, _, body = http_request("127.0.0.1", port, "GET", "/api/v1/cluster")
        self.assertEqual(status, 200)
        self.assertIn(b'"leading": true', body.replace(b'"leading":true', b'"leading": true'))
        dirs = c.dirs()
        self.assertEqual(len(dirs), 3, c.lines)
        self.assertTrue(processes_under(dirs))
        c.proc.send_signal(signal.SIGINT)
        self.assertEqual(c.proc.wait(60), 0, "".join(c.lines))
        c.reader.join(5)
        self.assertIn("stopped", c.lines[-1])
        self.assertEqual(processes_under(dirs), [], "processes left running")

    def test_failed_start_stops_what_started(self):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            s.listen()
            port = s.getsockname()[1]
            c = Cluster("--port", str(port))
            self.addCleanup(c.close)
            rc = c.proc.wait(90)
        c.reader.join(5)
        self.assertNotEqual(rc, 0)
        errors = [line for line in c.lines if line.startswith("cluster: ")]
        self.assertEqual(len(errors), 1, c.lines)
        self.assertIn("port %d is taken" % port, errors[0])
        self.assertEqual(processes_under(c.dirs()), [], "processes left running")


if __name__ == "__main__":
    main()
