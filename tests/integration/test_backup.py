"""`gnomon backup DIR` (issue 16 item 8): POST /api/v1/backup streams a consistent copy of a standalone server's
data dir (its SQLite store as of one moment, the runs' output files) as a ustar archive, which the CLI unpacks
into a new or empty DIR; a second server started on DIR has the same jobs, history and output. A taken backup
does not stop the first server (a job runs throughout); DIR that is not empty is refused before any request."""

import json
import os
import subprocess
import sys
import tarfile
import io
import socket
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, Server, dep, main, sched, wait_until  # noqa: E402

API = "/api/v1"


class Backup(GnomonTestCase):
    server_args = ("--stop-tasks-on-exit",)  # the sleeping job's task ends with its server

    def gnomon(self, *args, srv=None):
        r = subprocess.run([BIN] + list(args) + ["--server", (srv or self.server).url], capture_output=True,
                           text=True, timeout=120)
        return r.returncode, r.stdout, r.stderr

    def runs(self, name, srv=None):
        status, body = (srv or self.server).json("GET", "%s/jobs/%s/runs?limit=1000" % (API, name))
        self.assertEqual(status, 200, body)
        return body["runs"]

    def ended(self, name, srv=None):
        return [r for r in self.runs(name, srv) if r["status"] not in ("queued", "waiting", "starting", "running")]

    def run_now(self, name):
        status, _, body = self.server.request("PUT", "/scheduler/job/" + name)
        self.assertEqual(status, 204, body)

    def log(self, task_id, srv):
        status, _, body = srv.request("GET", "%s/runs/%s/log" % (API, task_id))
        self.assertEqual(status, 200, body)
        return body

    def test_copy_starts_a_server_with_the_same_jobs_and_history(self):
        self.add_job(sched("talker", "echo out-$GNOMON_TASK_ID; echo err >&2"))
        self.add_job(dep("child", ["talker"], "echo child"))
        self.add_job(sched("sleeper", "sleep 60"))
        self.add_job(sched("off", disabled=True))
        for i in range(3):
            self.run_now("talker")
            wait_until(lambda: len(self.ended("talker")) > i, 30, what="talker's run ended")
        wait_until(lambda: len(self.ended("child")) >= 1, 30, what="child ran")
        self.run_now("sleeper")
        wait_until(lambda: any(r["status"] == "running" for r in self.runs("sleeper")), 30, what="sleeper runs")

        before_jobs = {j["name"]: j for j in self.list_jobs()}
        before_runs = {n: [(r["taskId"], r["status"]) for r in self.ended(n)] for n in before_jobs}
        target = os.path.join(tempfile.mkdtemp(prefix="gnomon-backup-"), "copy")
        rc, out, err = self.gnomon("backup", target)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"^backed up http://127\.0\.0\.1:\d+ into %s: gnomon\.db and \d+ output files, \d+ "
                              r"bytes\n$" % target)
        self.assertEqual(sorted(os.listdir(target)), ["gnomon.db", "logs"])
        # the first server went on: its job still runs
        self.assertTrue(any(r["status"] == "running" for r in self.runs("sleeper")))

        copy = self.new_server(["--stop-tasks-on-exit"], start=False)
        copy.data_dir = target
        copy.start()
        after_jobs = {j["name"]: j for j in self.list_jobs(srv=copy)}
        self.assertEqual(sorted(after_jobs), sorted(before_jobs))
        for name, job in before_jobs.items():
            for key in ("command", "schedule", "parents", "disabled", "successCount", "errorCount", "owner"):
                self.assertEqual(after_jobs[name].get(key), job.get(key), "%s.%s" % (name, key))
        for name, ended in before_runs.items():
            got = [(r["taskId"], r["status"]) for r in self.ended(name, copy)]
            for run in ended:
                self.assertIn(run, got, name)
        # the run that was running at the copy is not running on the copy: recorded lost, as after a restart
        # (then retried there, as the job's retries say)
        sleeping = [r["taskId"] for r in self.runs("sleeper") if r["status"] == "running"]
        self.assertEqual(len(sleeping), 1)
        wait_until(lambda: (sleeping[0], "lost") in [(r["taskId"], r["status"]) for r in self.runs("sleeper", copy)],
                   30, what="the copied running run recorded lost")
        self.assertTrue(any(r["status"] == "running" for r in self.runs("sleeper")))
        self.assertEqual(len(before_runs["talker"]), 3)
        for task_id, _ in before_runs["talker"]:
            self.assertEqual(self.log(task_id, copy), ("out-%s\n" % task_id).encode())
            status, _, body = copy.request("GET", "%s/runs/%s/log?stream=stderr" % (API, task_id))
            self.assertEqual((status, body), (200, b"err\n"))

    def test_archive_is_tar(self):
        self.add_job(sched("one", "echo hello"))
        self.run_now("one")
        wait_until(lambda: len(self.ended("one")) == 1, 30, what="one ran")
        status, headers, body = self.server.request("POST", API + "/backup")
        self.assertEqual(status, 200, body[:200])
        self.assertEqual(headers.get("content-type"), "application/x-tar")
        with tarfile.open(fileobj=io.BytesIO(body)) as tar:
            names = tar.getnames()
            self.assertEqual(names[0], "gnomon.db")
            self.assertTrue(all(n.startswith("logs/") for n in names[1:]), names)
            self.assertTrue(any(n.endswith(".stdout") for n in names), names)
            self.assertEqual(tar.extractfile("gnomon.db").read(16), b"SQLite format 3\0")

    def test_client_gone(self):
        """A client that goes away before the copy is made, or while it streams, leaves nothing held: the next
        backup is served (not 409), and the server stops clean (no leak under ASan)."""
        self.add_job(sched("one", "head -c 300000 /dev/zero"))
        self.run_now("one")
        wait_until(lambda: len(self.ended("one")) == 1, 30, what="one ran")
        for read in (0, 1000):
            sock = socket.create_connection(("127.0.0.1", self.server.port))
            sock.sendall(b"POST /api/v1/backup HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")
            if read:
                sock.recv(read)
            sock.close()
        wait_until(lambda: self.server.request("POST", API + "/backup")[0] == 200, 30, what="a backup served again")

    def test_refusals(self):
        root = tempfile.mkdtemp(prefix="gnomon-backup-")
        with open(os.path.join(root, "something"), "w") as f:
            f.write("x")
        rc, out, err = self.gnomon("backup", root)
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(err, "gnomon: %s exists and is not empty: back up into a new or empty directory\n" % root)
        self.assertEqual(os.listdir(root), ["something"])
        rc, _, err = self.gnomon("backup", os.path.join(root, "something"))
        self.assertEqual(rc, 1)
        self.assertIn("exists and is not a directory", err)
        rc, _, err = self.gnomon("backup")
        self.assertEqual(rc, 2, err)
        # an empty directory is fine
        empty = os.path.join(root, "empty")
        os.mkdir(empty)
        rc, _, err = self.gnomon("backup", empty)
        self.assertEqual(rc, 0, err)
        self.assertEqual(os.listdir(empty), ["gnomon.db"])
        # no server there: nothing left behind
        gone = os.path.join(root, "never")
        srv = Server(start=False)
        srv.port = 1
        rc, _, err = self.gnomon("backup", gone, srv=srv)
        srv.close(check=False)
        self.assertEqual(rc, 1)
        self.assertTrue(err.startswith("gnomon: backup: "), err)
        self.assertFalse(os.path.exists(gone))


if __name__ == "__main__":
    main()
