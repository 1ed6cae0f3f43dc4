"""Docker jobs (Chronos's `container`) until containers are supported: the job is accepted, stored and returned
as posted, but each of its runs fails at once with a reason that says why, without running the command on the
host, without a retry (it cannot succeed), and with the notifications of any final failure."""

import json
import os
import sys
import subprocess
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, main, wait_until  # noqa: E402

REASON = "container jobs need an agent with podman or docker"
FINAL = {"succeeded", "failed", "killed", "lost", "skipped"}


class Webhook:
    """Records the JSON body of every POST."""

    def __init__(self):
        self.bodies = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                hook.bodies.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0")))))
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self):
        return "http://127.0.0.1:%d/hook" % self.httpd.server_address[1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class ContainerJobs(GnomonTestCase):
    def setUp(self):
        self.hook = Webhook()
        self.addCleanup(self.hook.close)
        self.server_args = ("--http-notification-url", self.hook.url(), "--failure-retry", "200")
        super().setUp()

    def runs(self, name):
        status, body = self.server.json("GET", "/api/v1/jobs/%s/runs" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def test_docker_job_fails_at_once_without_running_its_command(self):
        marker = os.path.join(self.server.root, "ran")
        job = {"name": "boxed", "command": "touch %s" % marker, "schedule": "R1//PT1M", "retries": 2,
               "owner": "ops@example.com",
               "container": {"type": "DOCKER", "image": "busybox:1.36", "network": "BRIDGE",
                             "volumes": [{"containerPath": "/data", "hostPath": "/tmp", "mode": "RW"}]}}
        self.add_job(job)  # a Chronos client's docker job is accepted
        stored = self.get_job("boxed")
        self.assertEqual(stored["container"]["type"], "DOCKER")
        self.assertEqual(stored["container"]["image"], "busybox:1.36")

        run = wait_until(lambda: [r for r in self.runs("boxed") if r["status"] in FINAL], 20,
                         what="the run's end")[0]
        self.assertEqual((run["status"], run["attempt"], run["trigger"]), ("failed", 0, "schedule"), run)
        self.assertEqual(run["reason"], REASON)
        # The final failure is notified as any other, with its reason.
        exhausted = wait_until(lambda: [b for b in self.hook.bodies if b["event"] == "run.retries_exhausted"], 20,
                               what="the failure's notification")[0]
        self.assertEqual(exhausted["subject"], "[Chronos] job 'boxed' failed!")
        self.assertEqual(exhausted["taskId"], run["taskId"])
        self.assertEqual(exhausted["reason"], REASON)
        self.assertEqual(exhausted["status"], "failed")
        job = self.get_job("boxed")
        self.assertEqual((job["errorCount"], job["errorsSinceLastSuccess"], job["successCount"]), (1, 1, 0))
        # No retry, although the job allows two: it could not succeed.
        time.sleep(1)  # --failure-retry is 200 ms
        self.assertEqual(len(self.runs("boxed")), 1, self.runs("boxed"))

        # A manual run fails the same way; the command never ran on the host, and left nothing.
        self.assertEqual(self.server.request("PUT", "/v1/scheduler/job/boxed")[0], 204)
        manual = wait_until(lambda: [r for r in self.runs("boxed") if r["trigger"] == "manual" and
                                     r["status"] in FINAL], 20, what="the manual run's end")[0]
        self.assertEqual((manual["status"], manual["reason"]), ("failed", REASON))
        self.assertFalse(os.path.exists(marker))
        status, _, out = self.server.request(
            "GET", "/api/v1/runs/%s/log" % urllib.parse.quote(manual["taskId"], safe=""))
        self.assertEqual((status, out), (200, b""))
        self.assertEqual([d for d in os.listdir(os.path.join(self.server.data_dir, "work")) if d.isdigit()], [])
        # The command line shows the runs failed, and why with --json.
        cli = subprocess.run([BIN, "runs", "--server", self.server.url, "boxed", "--json"], capture_output=True,
                             timeout=30)
        self.assertEqual(cli.returncode, 0, cli.stderr)
        self.assertEqual([(r["status"], r["reason"]) for r in json.loads(cli.stdout)["runs"]],
                         [("failed", REASON)] * 2)

    def test_a_job_without_container_still_runs(self):
        marker = os.path.join(self.server.root, "ran")
        self.add_job({"name": "plain", "command": "touch %s" % marker, "schedule": "R1//PT1M", "owner": ""})
        run = wait_until(lambda: [r for r in self.runs("plain") if r["status"] in FINAL], 20,
                         what="the run's end")[0]
        self.assertEqual(run["status"], "succeeded", run)
        self.assertTrue(os.path.exists(marker))


if __name__ == "__main__":
    main()
