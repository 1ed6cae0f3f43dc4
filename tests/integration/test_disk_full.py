"""A full disk (issue 10, point 10): a write the store cannot make gets 507 Insufficient Storage with SQLite's
message, never 500; reads keep working; the server keeps running, and writes work again once there is room.

The disk really fills up: the data dir is a small tmpfs mounted in a mount namespace of the server's own (unshare;
as root, or in a user namespace where the kernel allows one; skipped otherwise), so SQLite gets ENOSPC
(SQLITE_FULL, "database or disk is full"). A second case limits the size of the server's files instead
(RLIMIT_FSIZE through prlimit, which needs no privilege): SQLite gets EFBIG, an I/O error the server answers 507
as well (and the SIGXFSZ that comes with it must not kill it).

While the disk fills, a reader (in the server's mount namespace) holds a read transaction open on the database:
SQLite cannot then start its WAL over after a checkpoint, so every write needs new room and, once the disk is full, every write fails (without it,
a checkpoint could let a small write reuse the WAL's old space, and which write fails would depend on timing)."""

import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, Server, main, sched  # noqa: E402

V1 = "/v1/scheduler"
TMPFS_SIZE = 4 << 20
FSIZE_LIMIT = 3 << 20


READER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=10)
db.execute("BEGIN")
print(db.execute("SELECT count(*) FROM jobs").fetchone()[0], flush=True)
sys.stdin.read()
db.execute("COMMIT")
"""


class Reader:
    """A process that holds a read transaction on the database until end()."""

    def __init__(self, enter, path):
        self.proc = subprocess.Popen(enter + [sys.executable, "-c", READER, path], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, text=True)
        self.jobs = int(self.proc.stdout.readline() or -1)

    def end(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(20)
        self.proc.stdout.close()
        return self.proc.returncode


def namespace_prefix():
    """The unshare command that lets this process mount a tmpfs of its own, or None."""
    if shutil.which("unshare") is None:
        return None
    candidates = [["unshare", "--mount", "--propagation", "private"]] if os.geteuid() == 0 else []
    candidates.append(["unshare", "--user", "--map-root-user", "--mount", "--propagation", "private"])
    probe = tempfile.mkdtemp(prefix="gnomon-it-ns-")
    try:
        for cmd in candidates:
            r = subprocess.run(cmd + ["sh", "-c", 'mount -t tmpfs -o size=1m tmpfs "$1"', "sh", probe],
                               capture_output=True, timeout=20)
            if r.returncode == 0:
                return cmd
    finally:
        os.rmdir(probe)
    return None


class TmpfsServer(Server):
    """A server whose data dir is a tmpfs of size bytes, mounted in its own mount namespace."""

    def __init__(self, prefix, size, **kw):
        self.prefix, self.size = prefix, size
        super().__init__(**kw)

    def command(self):
        os.makedirs(self.data_dir, exist_ok=True)
        return self.prefix + ["sh", "-c", 'mount -t tmpfs -o size=%d tmpfs "$1" && shift && exec "$@"' % self.size,
                              "sh", self.data_dir] + super().command()

    def enter(self):
        """The command prefix that runs a command in the server's namespaces (where the tmpfs is mounted)."""
        return ["nsenter", "-t", str(self.proc.pid)] + (["-m"] if self.prefix[1] == "--mount" else ["-U", "-m"])

    def make_room(self):
        """The operator grows the file system: the tmpfs is remounted four times bigger."""
        subprocess.run(self.enter() + ["mount", "-o", "remount,size=%d" % (4 * self.size), self.data_dir],
                       check=True, timeout=20)


class LimitedServer(Server):
    """A server whose files may not grow past limit bytes (RLIMIT_FSIZE)."""

    def __init__(self, limit, **kw):
        self.limit = limit
        super().__init__(**kw)

    def command(self):
        return ["prlimit", "--fsize=%d:unlimited" % self.limit, "--"] + super().command()

    def enter(self):
        return []

    def make_room(self):
        """The operator lifts the limit of the running server."""
        subprocess.run(["prlimit", "--pid", str(self.proc.pid), "--fsize=unlimited:unlimited"], check=True,
                       timeout=20)


class DiskFull(GnomonTestCase):
    server_args = None
    message = None  # what SQLite says, after "store: could not save the job: "

    def start(self, srv):
        self._servers.append(srv)
        self.addCleanup(srv.close)
        self.server = srv
        self.add_job(sched("before", schedule="R/2030-01-01T00:00:00Z/P1D"))
        reader = Reader(srv.enter(), os.path.join(os.path.abspath(srv.data_dir), "gnomon.db"))
        self.addCleanup(reader.end)
        self.assertEqual(reader.jobs, 1)
        return reader

    def post(self, name, size):
        return self.server.json("POST", V1 + "/iso8601", sched(name, description="x" * size))

    def fill(self):
        """Post jobs, smaller each time one is refused, until even a small one is: the disk is full. Every answer
        is 204 or 507; returns the names of the jobs taken and the last refusal."""
        taken, refusal, size = [], None, 60000
        for i in range(5000):
            if size < 64:
                # A job is several rows; a smaller write (a job's counters) may still fit: use that room too.
                for _ in range(1000):
                    status, body = self.server.json("PUT", V1 + "/job/success/" + taken[0])
                    if status != 200:  # Chronos answers a marked success with 200 and true
                        self.assertEqual(status, 507, body)
                        return taken, refusal
                self.fail("the disk did not fill up")
            status, body = self.post("fill%d" % i, size)
            if status == 204:
                taken.append("fill%d" % i)
                continue
            self.assertEqual(status, 507, body)
            refusal = body
            size //= 4
        self.fail("the disk did not fill up")

    def check_full(self, srv, reader):
        taken, refusal = self.fill()
        self.assertGreater(len(taken), 3)
        self.assertEqual(refusal, {"status": "Insufficient Storage",
                                   "message": "store: could not save the job: " + self.message})

        # Every other write is refused the same way, and changes nothing.
        status, body = srv.json("PUT", V1 + "/job/before")
        self.assertEqual((status, body["status"]), (507, "Insufficient Storage"), body)
        self.assertEqual(body["message"], "store: could not record the run: " + self.message)
        status, body = srv.json("DELETE", V1 + "/job/before")
        self.assertEqual((status, body["message"]), (507, "store: could not delete the job: " + self.message))
        status, body = srv.json("PUT", V1 + "/job/success/before")
        self.assertEqual((status, body["message"]), (507, "store: could not record the success: " + self.message))

        # Reads keep working: every job that was acknowledged is there, nothing else.
        self.assertEqual(self.job_names(), ["before"] + taken)
        self.assertEqual(self.get_job("before")["successCount"], 0)
        for path in ["/ping", "/api/v1/jobs", "/api/v1/overview", "/api/v1/jobs/before/runs", V1 + "/jobs/summary",
                     "/metrics", "/ui/"]:
            with self.subTest(path=path):
                self.assertEqual(srv.request("GET", path)[0], 200)
        status, _ = srv.json("GET", V1 + "/job/" + taken[-1])
        self.assertEqual(status, 200)

        # Room again: writes work again, without a restart.
        self.assertEqual(reader.end(), 0)
        srv.make_room()
        self.assertEqual(self.post("after", 16)[0], 204)
        self.assertEqual(srv.json("PUT", V1 + "/job/before")[0], 204)
        self.assertEqual(self.job_names(), ["before"] + taken + ["after"])

    def test_full_tmpfs_gets_507_and_reads_keep_working(self):
        prefix = namespace_prefix()
        if prefix is None or shutil.which("nsenter") is None:
            self.skipTest("no way to mount a small tmpfs here (unshare --mount needs root, or user namespaces): "
                          "the RLIMIT_FSIZE case below covers the answer")
        self.message = "database or disk is full"
        srv = TmpfsServer(prefix, TMPFS_SIZE)
        self.check_full(srv, self.start(srv))

    def test_file_size_limit_gets_507_and_reads_keep_working(self):
        if shutil.which("prlimit") is None:
            self.skipTest("prlimit (util-linux) is missing")
        self.message = "disk I/O error (File too large)"
        srv = LimitedServer(FSIZE_LIMIT)
        self.check_full(srv, self.start(srv))
        self.assertNotIn("SIGXFSZ", srv.log())


if __name__ == "__main__":
    main()
