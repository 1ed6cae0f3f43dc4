"""Structured logs (issue 10, point 14): with --log-json every line is a JSON object, and lines about a job or a
run carry it in fields of their own (event, job, taskId, status), beside the message; job changes, manual runs,
kills and reported statuses made over HTTP are logged at info with the caller's address (remote). Text lines
stay readable, one line per message."""

import http.client
import json
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"


class LogTestCase(GnomonTestCase):

    def call(self, method, path, body=None):
        """One request on a connection whose local address is known: (status, "127.0.0.1:<our port>")."""
        conn = http.client.HTTPConnection(self.server.host, self.server.port, timeout=20)
        try:
            conn.connect()
            ip, port = conn.sock.getsockname()[:2]
            headers = {"Content-Type": "application/json"} if body is not None else {}
            conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            resp = conn.getresponse()
            resp.read()
            return resp.status, "%s:%d" % (ip, port)
        finally:
            conn.close()

    def json_lines(self):
        text = self.server.current_log()
        if not text.endswith("\n"):
            text = text[:text.rfind("\n") + 1]  # the server is writing its last line: only whole lines count
        lines = [line for line in text.splitlines() if line.strip()]
        return [json.loads(line) for line in lines]

    def wait_line(self, what, **fields):
        """The first JSON line whose fields include all of the given ones."""
        def find():
            for line in self.json_lines():
                if all(line.get(k) == v for k, v in fields.items()):
                    return line
            return None
        return wait_until(find, 20, interval=0.05, what=what)


class JsonLines(LogTestCase):
    server_args = ("--log-json",)

    def test_every_line_is_json_with_time_level_and_message(self):
        self.add_job(sched("a", "echo hi"))
        self.wait_line("the creation", event="job.created", job="a")
        for line in self.json_lines():
            self.assertRegex(line["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(line["level"], ["error", "warn", "info", "debug"])
            self.assertIsInstance(line["msg"], str)
            self.assertEqual(list(line)[:2], ["time", "level"])
            self.assertEqual(list(line)[-1], "msg")

    def test_job_changes_carry_the_job_and_the_callers_address(self):
        status, remote = self.call("POST", V1 + "/iso8601", sched("j", "true"))
        self.assertEqual(status, 204)
        line = self.wait_line("job.created", event="job.created", job="j")
        self.assertEqual((line["level"], line["remote"]), ("info", remote))
        self.assertEqual(line["msg"], "job 'j' created by %s" % remote)
        self.assertNotIn("taskId", line)

        status, remote = self.call("POST", V1 + "/iso8601", sched("j", "false"))
        self.assertEqual(status, 204)
        self.assertEqual(self.wait_line("job.updated", event="job.updated", job="j")["remote"], remote)

        self.add_job(sched("child", "true", parents=["j"]), kind="dependency")
        status, remote = self.call("DELETE", V1 + "/job/j")
        self.assertEqual(status, 204)
        line = self.wait_line("job.deleted", event="job.deleted", job="j")
        self.assertEqual((line["level"], line["remote"]), ("info", remote))
        # Its child is rewritten by the same request.
        self.assertEqual(self.wait_line("the child's re-parenting", event="job.updated", job="child")["remote"],
                         remote)

    def test_a_manual_run_and_its_events(self):
        self.add_job(sched("m", "echo out"))
        status, remote = self.call("PUT", V1 + "/job/m?arguments=" + urllib.parse.quote("-x 1"))
        self.assertEqual(status, 204)
        requested = self.wait_line("run.requested", event="run.requested", job="m")
        task_id = requested["taskId"]
        self.assertRegex(task_id, r"^ct:\d+:0:m:-x 1$")
        self.assertEqual((requested["level"], requested["remote"]), ("info", remote))
        self.assertIn("requested by %s with arguments '-x 1'" % remote, requested["msg"])
        started = self.wait_line("run.started", event="run.started", taskId=task_id)
        finished = self.wait_line("run.finished", event="run.finished", taskId=task_id)
        self.assertEqual((started["job"], started["status"], started["level"]), ("m", "running", "info"))
        self.assertEqual((finished["job"], finished["status"], finished["level"]), ("m", "succeeded", "info"))
        lines = self.json_lines()
        self.assertLess(lines.index(requested), lines.index(started))
        self.assertLess(lines.index(started), lines.index(finished))

    def test_a_scheduled_run_and_a_retry(self):
        self.add_job(sched("s", "exit 3", schedule="R1//PT1M", retries=1))
        finished = self.wait_line("the failed run", event="run.finished", job="s", status="failed")
        self.assertRegex(finished["taskId"], r"^ct:\d+:0:s:$")
        retry = self.wait_line("the retry", event="run.retry", job="s")
        self.assertRegex(retry["taskId"], r"^ct:\d+:1:s:$")

    def test_a_kill_carries_the_callers_address(self):
        self.add_job(sched("k", "sleep 30"))
        self.server.request("PUT", V1 + "/job/k")
        self.wait_line("the run's start", event="run.started", job="k")
        status, remote = self.call("DELETE", V1 + "/task/kill/k")
        self.assertEqual(status, 204)
        line = self.wait_line("job.killed", event="job.killed", job="k")
        self.assertEqual((line["level"], line["remote"]), ("info", remote))
        self.assertEqual(line["msg"], "job 'k': 1 run(s) killed on request of %s" % remote)
        self.wait_line("the killed run", event="run.finished", job="k", status="killed")

    def test_bytes_that_are_not_utf8_still_make_json(self):
        self.add_job(sched("u", "true"))
        status, _ = self.call("PUT", V1 + "/job/u?arguments=a%0Ab%FF%22")
        self.assertEqual(status, 204)
        line = self.wait_line("run.requested", event="run.requested", job="u")
        self.assertTrue(line["taskId"].endswith(":u:a\nb\ufffd\""), line)


class TextLines(LogTestCase):

    def test_text_lines_stay_readable_and_one_line_per_message(self):
        status, remote = self.call("POST", V1 + "/iso8601", sched("t", "true"))
        self.assertEqual(status, 204)
        self.call("PUT", V1 + "/job/t?arguments=" + urllib.parse.quote("a\n2026-01-01T00:00:00.000Z info  forged"))
        line = wait_until(lambda: [x for x in self.server.current_log().splitlines()
                                   if "requested by" in x], 20, what="the manual run's line")[0]
        self.assertRegex(line, r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z info  job 't': run ct:\d+:0:t:a\\n2026")
        self.assertFalse(any(x.startswith("2026-01-01T00:00:00.000Z") for x in self.server.current_log().splitlines()))
        self.assertTrue(any(x.endswith(" info  job 't' created by %s" % remote)
                            for x in self.server.current_log().splitlines()))
        self.assertFalse(any(x.startswith("{") for x in self.server.current_log().splitlines()))


if __name__ == "__main__":
    main()
