"""Both streams of a run in the order their lines came (GET /api/v1/runs/{id}/log?stream=both, issue 17 point 6):
a job that writes to stdout and stderr in turn, on the embedded agent (followed live, then ended; capped with the
omitted middle in place) and on a `gnomon agent` (the order record goes up with the streams); a run without an
order record (an older executor's) shown as before, stdout's lines then stderr's; a bad stream refused."""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, GnomonTestCase, main, sched, wait_until  # noqa: E402
from test_agents import AgentsBase  # noqa: E402

V1 = "/v1/scheduler"
API = "/api/v1"
FINAL = ("succeeded", "failed", "killed", "lost", "skipped")
# a pause between the writes: the executor reads each before the next comes (two pipes have no order of their own)
ALTERNATE = "for i in 1 2 3; do echo out$i; sleep 0.1; echo err$i >&2; sleep 0.1; done"
ALTERNATED = ["1 out1", "2 err1", "1 out2", "2 err2", "1 out3", "2 err3"]


class OrderMixin:
    def start_job(self, job, srv=None):
        srv = srv or self.server
        self.add_job(job, srv=srv)
        status, _, body = srv.request("PUT", V1 + "/job/" + job["name"])
        self.assertEqual(status, 204, body)

    def the_run(self, name, pred, what):
        def find():
            status, body = self.server.json("GET", API + "/jobs/%s/runs?limit=10" % name)
            self.assertEqual(status, 200, body)
            return [r for r in body["runs"] if pred(r)]
        return wait_until(find, 30, what=what)[0]

    def both(self, task_id):
        """(the order header, the lines) of the merged view."""
        status, headers, body = self.server.request("GET", API + "/runs/%s/log?stream=both" % task_id)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers["content-type"].startswith("text/plain"), headers)
        return headers.get("gnomon-log-order"), body.decode().splitlines()

    def live_then_ended(self):
        """A job writing to both streams in turn, then waiting: its lines in order while it runs and once it ended;
        returns the ended run."""
        go = os.path.join(self.server.root, "go")
        self.start_job(sched("alt", "%s; while [ ! -e %s ]; do sleep 0.05; done; echo last" % (ALTERNATE, go)))
        run = self.the_run("alt", lambda r: r["status"] == "running", "alt running")
        # live: what came so far, in order
        wait_until(lambda: self.both(run["taskId"]) == ("arrival", ALTERNATED), 20, what="the lines, live, in order")
        with open(go, "w"):
            pass
        run = self.the_run("alt", lambda r: r["status"] in FINAL, "alt ended")
        self.assertEqual(self.both(run["taskId"]), ("arrival", ALTERNATED + ["1 last"]))
        return run

    def stream(self, task_id, s):
        status, _, body = self.server.request("GET", API + "/runs/%s/log?stream=%s" % (task_id, s))
        self.assertEqual(status, 200, body)
        return body


class EmbeddedAgent(OrderMixin, GnomonTestCase):
    server_args = ("--log-cap", "16")

    def test_alternating_streams_live_then_ended(self):
        run = self.live_then_ended()
        self.assertEqual(run["status"], "succeeded", run)
        # the streams alone are as they were
        self.assertEqual(self.stream(run["taskId"], "stdout"), b"out1\nout2\nout3\nlast\n")
        self.assertEqual(self.stream(run["taskId"], "stderr"), b"err1\nerr2\nerr3\n")

    def test_capped_stream_keeps_its_marker_in_place(self):
        # stdout: 5 + 101 + 5 bytes past a cap of 16 at the head and 16 at the tail: 79 omitted
        cmd = ("echo aaaa; sleep 0.1; echo E1 >&2; sleep 0.1; printf 'x%.0s' $(seq 100); echo; sleep 0.1; "
               "echo E2 >&2; sleep 0.1; echo zzzz")
        self.start_job(sched("capped", cmd))
        run = self.the_run("capped", lambda r: r["status"] in FINAL, "capped ended")
        self.assertEqual(self.both(run["taskId"]), ("arrival", [
            "1 aaaa", "2 E1", "1 " + "x" * 11, "1 [gnomon: 79 bytes omitted]", "1 " + "x" * 10, "2 E2", "1 zzzz"]))

    def test_a_run_without_order_record_shows_stdout_then_stderr(self):
        self.start_job(sched("old", ALTERNATE))
        run = self.the_run("old", lambda r: r["status"] in FINAL, "old ended")
        logs = os.path.join(self.server.data_dir, "logs")
        orders = [f for f in os.listdir(logs) if f.endswith(".order")]
        self.assertEqual(len(orders), 1, os.listdir(logs))
        os.unlink(os.path.join(logs, orders[0]))  # as an executor before the record left it
        self.assertEqual(self.both(run["taskId"]), ("streams", ["1 out1", "1 out2", "1 out3",
                                                                "2 err1", "2 err2", "2 err3"]))

    def test_cli_both(self):
        self.start_job(sched("alt", ALTERNATE))
        self.the_run("alt", lambda r: r["status"] in FINAL, "alt ended")
        env = {k: v for k, v in os.environ.items() if k != "GNOMON_SERVER"}
        argv = [BIN, "logs", "--server", self.server.url, "alt", "--stream", "both"]
        r = subprocess.run(argv, capture_output=True, env=env, timeout=30)
        self.assertEqual((r.returncode, r.stdout.decode().splitlines(), r.stderr), (0, ALTERNATED, b""))
        r = subprocess.run(argv + ["-f"], capture_output=True, env=env, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (2, b""))
        self.assertRegex(r.stderr.decode(), r"^gnomon: option '--stream both' cannot be followed \(-f\)[^\n]*\n$")

    def test_bad_stream(self):
        self.start_job(sched("quiet", "true"))
        run = self.the_run("quiet", lambda r: r["status"] in FINAL, "quiet ended")
        self.assertEqual(self.both(run["taskId"]), ("arrival", []))
        status, body = self.server.json("GET", API + "/runs/%s/log?stream=order" % run["taskId"])
        self.assertBadRequest(status, body, contains=("stream: expected stdout, stderr or both",))


class RemoteAgent(OrderMixin, AgentsBase):
    def test_alternating_streams_on_an_agent(self):
        self.agent("a1")
        self.wait_agents(["a1"])
        self.start_job(sched("alt", ALTERNATE))
        run = self.the_run("alt", lambda r: r["status"] in FINAL, "alt ended")
        self.assertEqual((run["status"], run["agent"]), ("succeeded", "a1"), run)
        self.assertEqual(self.both(run["taskId"]), ("arrival", ALTERNATED))
        self.assertEqual(self.stream(run["taskId"], "stderr"), b"err1\nerr2\nerr3\n")
        self.check_agent_logs()

    def test_alternating_streams_live_on_an_agent(self):
        # while it runs, the agent sends the order it saw the chunks in (the executor's record goes up at the end)
        self.agent("a1")
        self.wait_agents(["a1"])
        run = self.live_then_ended()
        self.assertEqual((run["status"], run["agent"]), ("succeeded", "a1"), run)
        self.check_agent_logs()


if __name__ == "__main__":
    main()
