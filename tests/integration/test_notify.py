"""Notifications against real receivers on loopback, started here on free ports: an SMTP server (aiosmtpd) that
receives the mail, HTTP receivers for Slack, Mattermost, the JSON webhook and a Sentry-shaped store endpoint, and
receivers that hang or answer 500, which must not delay any run. Also notifyOn, --cluster-name, the config file,
--check-config and option errors."""

import base64
import email
import email.policy
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, START_TIMEOUT, GnomonTestCase, free_port, main, sanitizer_lines,  # noqa: E402
                            sched, wait_until)

try:
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword
except ImportError:  # a Python of its own (pyenv) does not see Debian's python3-aiosmtpd; add its directory
    sys.path.append("/usr/lib/python3/dist-packages")
    from aiosmtpd.controller import Controller
    from aiosmtpd.smtp import AuthResult, LoginPassword

# Chronos's webhook fields, in order, then gnomon's.
CHRONOS_FIELDS = ["subject", "message", "to", "job", "command", "cpus", "softError", "errorCount",
                  "errorsSinceLastSuccess", "executor", "executorFlags", "lastError", "lastSuccess", "mem",
                  "retries", "successCount", "uris"]
RUN_FIELDS = ["event", "reason", "taskId", "status", "exitCode", "signal", "host", "cpuUserSeconds", "cpuSystemSeconds",
              "peakMemoryBytes", "stdoutTail", "stderrTail"]


class QuietHTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], ConnectionError):  # gnomon closing a kept-alive connection
            super().handle_error(request, client_address)


class HttpReceiver:
    """Records every POST. mode: ok (200), fail (500), flaky (503 first, then 200), hang (reads, never answers)."""

    def __init__(self, mode="ok"):
        self.mode = mode
        self.requests = []
        self.lock = threading.Lock()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                with receiver.lock:
                    receiver.requests.append({"path": self.path, "body": body,
                                              "headers": {k.lower(): v for k, v in self.headers.items()}})
                    n = len(receiver.requests)
                if receiver.mode == "hang":
                    receiver.release.wait(120)
                    return
                code = {"ok": 200, "fail": 500, "flaky": 503 if n == 1 else 200}[receiver.mode]
                self.send_response(code)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args):
                pass

        self.httpd = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path="/"):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def count(self):
        with self.lock:
            return len(self.requests)

    def json_bodies(self):
        with self.lock:
            return [json.loads(r["body"]) for r in self.requests]

    def wait(self, n, timeout=20):
        wait_until(lambda: self.count() >= n, timeout, interval=0.05, what="%d requests at %s" % (n, self.url()))
        with self.lock:
            return list(self.requests)

    def close(self):
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


class SilentServer:
    """Accepts TCP connections and never says a word (an SMTP server that hangs before its greeting)."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.conns = []
        self.accepted = 0
        self.closed = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.closed:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)
            self.accepted += 1

    def close(self):
        self.closed = True
        self.sock.close()
        for c in self.conns:
            c.close()


class SmtpReceiver:
    """aiosmtpd on a free port; keeps each message. auth: (user, password) required; tempfail: the first RCPT
    gets 451."""

    def __init__(self, auth=None, tempfail=False):
        self.messages = []
        self.rcpt_replies = 0
        self.lock = threading.Lock()
        receiver = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
                with receiver.lock:
                    receiver.rcpt_replies += 1
                    first = receiver.rcpt_replies == 1
                if tempfail and first:
                    return "451 4.3.0 try again later"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):
                msg = email.message_from_bytes(envelope.original_content or envelope.content,
                                               policy=email.policy.default)
                with receiver.lock:
                    receiver.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                                              "msg": msg})
                return "250 Message accepted"

        kwargs = {}
        if auth:
            def authenticator(server, session, envelope, mechanism, data):
                ok = (isinstance(data, LoginPassword) and data.login.decode() == auth[0]
                      and data.password.decode() == auth[1])
                return AuthResult(success=ok)
            kwargs = {"authenticator": authenticator, "auth_required": True, "auth_require_tls": False}
        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port, **kwargs)
        self.controller.start()

    def wait(self, n, timeout=20):
        wait_until(lambda: len(self.messages) >= n, timeout, interval=0.05, what="%d mails" % n)
        with self.lock:
            return list(self.messages)

    def close(self):
        self.controller.stop()


def body_text(msg):
    return msg.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")


def parse_iso(text):
    import datetime
    return int(datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


RUN_NOW = "R1//PT1S"      # one slot, due now
LATER = "R/2035-01-01T00:00:00Z/P1D"


class NotifyTestCase(GnomonTestCase):
    server_args = None

    def receiver(self, mode="ok"):
        r = HttpReceiver(mode)
        self.addCleanup(r.close)
        return r

    def smtp(self, **kw):
        r = SmtpReceiver(**kw)
        self.addCleanup(r.close)
        return r

    def counters(self, srv=None):
        status, body = (srv or self.server).json("GET", "/metrics")
        self.assertEqual(status, 200, body)
        return {k: v["count"] for k, v in body["counters"].items() if k.startswith("notify.")}

    def wait_counter(self, name, value, timeout=20, srv=None):
        return wait_until(lambda: self.counters(srv).get(name, 0) >= value, timeout, interval=0.05,
                          what="%s >= %d (now %r)" % (name, value, self.counters(srv)))

    def runs(self, name):
        status, body = self.server.json("GET", "/api/v1/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]


class Channels(NotifyTestCase):
    def test_failure_reaches_every_channel(self):
        smtp, slack, mm, hook, sentry = self.smtp(), self.receiver(), self.receiver(), self.receiver(), self.receiver()
        self.server = self.new_server([
            "--cluster-name", "prod", "--mail-server", "127.0.0.1:%d" % smtp.port, "--mail-from", "gnomon@example.org",
            "--slack-url", slack.url("/services/T/B/x"), "--mattermost-url", mm.url("/hooks/abc"),
            "--http-notification-url", hook.url("/notify"), "--http-notification-credentials", "hook:s3cret",
            "--raven-dsn", "http://pubkey:seckey@127.0.0.1:%d/42" % sentry.port])
        self.add_job(sched("nightly", "echo to-stdout; echo to-stderr >&2; exit 3", schedule=RUN_NOW, retries=0,
                           owner="ops@example.com, Dev <dev@example.com>"))
        subject = "[prod] [Chronos] job 'nightly' failed!"

        mail = smtp.wait(1)[0]
        self.assertEqual(mail["from"], "gnomon@example.org")
        self.assertEqual(mail["to"], ["ops@example.com", "dev@example.com"])
        self.assertEqual(mail["msg"]["Subject"], subject)
        self.assertEqual(mail["msg"]["From"], "gnomon@example.org")
        text = body_text(mail["msg"])
        self.assertRegex(text, r"^\n'\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z'\. Retries attempted: 0\.\nTask id: ct:\d+:0:nightly:\n")
        for part in ["Status: failed", "Exit code: 3", "to-stdout", "to-stderr", "--- stdout: 10 bytes ---"]:
            self.assertIn(part, text)

        for r in (slack, mm):
            req = r.wait(1)[0]
            self.assertEqual(req["headers"]["content-type"], "application/json")
            payload = json.loads(req["body"])
            self.assertEqual(list(payload), ["text"])
            self.assertTrue(payload["text"].startswith(subject + ": \n'"), payload)
            self.assertIn("to-stderr", payload["text"])
        self.assertEqual(slack.requests[0]["path"], "/services/T/B/x")

        req = hook.wait(1)[0]
        self.assertEqual(req["path"], "/notify")
        self.assertEqual(req["headers"]["authorization"], "Basic " + base64.b64encode(b"hook:s3cret").decode())
        payload = json.loads(req["body"])
        self.assertEqual(list(payload), CHRONOS_FIELDS + RUN_FIELDS)
        self.assertTrue(all(isinstance(v, str) for v in payload.values()), payload)
        self.assertEqual(payload["subject"], subject)
        self.assertEqual(payload["to"], "ops@example.com,dev@example.com")
        self.assertEqual(payload["message"], text)
        expect = {"job": "nightly", "command": "echo to-stdout; echo to-stderr >&2; exit 3", "cpus": "0.1",
                  "softError": "false", "errorCount": "1", "errorsSinceLastSuccess": "1", "executor": "",
                  "executorFlags": "", "lastSuccess": "", "mem": "128.0", "retries": "0", "successCount": "0",
                  "uris": "", "event": "run.retries_exhausted", "status": "failed", "exitCode": "3", "signal": "",
                  "stdoutTail": "to-stdout\n", "stderrTail": "to-stderr\n"}
        self.assertEqual({k: payload[k] for k in expect}, expect)
        run = self.runs("nightly")[0]
        self.assertEqual(payload["taskId"], run["taskId"])
        # what the run used (issue 14), as the run API has it, and a line of the message
        self.assertEqual(int(payload["peakMemoryBytes"]), run["peakMemoryBytes"])
        self.assertGreater(run["peakMemoryBytes"], 0)
        self.assertEqual(float(payload["cpuUserSeconds"]), run["cpuUserSeconds"])
        self.assertRegex(text, r"\nUsed: [0-9.]+ s CPU \([0-9.]+ s user, [0-9.]+ s system\), [0-9.]+ MiB peak memory\n")
        self.assertEqual(payload["lastError"], self.get_job("nightly")["lastError"])

        req = sentry.wait(1)[0]
        self.assertEqual(req["path"], "/api/42/store/")
        auth = req["headers"]["x-sentry-auth"]
        self.assertTrue(auth.startswith("Sentry sentry_version=7, sentry_client=gnomon/"), auth)
        self.assertIn("sentry_key=pubkey", auth)
        self.assertIn("sentry_secret=seckey", auth)
        event = json.loads(req["body"])
        self.assertRegex(event["event_id"], r"^[0-9a-f]{32}$")
        self.assertEqual(event["level"], "error")
        self.assertEqual(event["message"], subject + "\n\n" + payload["message"])
        self.assertEqual(event["tags"]["job"], "nightly")
        self.assertEqual(event["tags"]["owner"], "ops@example.com, Dev <dev@example.com>")
        self.assertEqual(event["tags"]["command"], payload["command"])
        self.assertEqual(event["extra"]["taskId"], run["taskId"])
        self.assertEqual(event["extra"]["mem"], "128.0")

        for ch in ("mail", "slack", "mattermost", "http", "sentry"):
            self.wait_counter("notify.%s.sent" % ch, 1)

    def test_mail_auth_and_transient_smtp_error(self):
        smtp = self.smtp(auth=("mailer", "pw-9f3kq"), tempfail=True)
        self.server = self.new_server(["--mail-server", "127.0.0.1:%d" % smtp.port, "--mail-from", "g@example.org",
                                       "--mail-user", "mailer", "--mail-password", "pw-9f3kq",
                                       "--notify-retry-delay", "50"])
        self.add_job(sched("authjob", "exit 1", schedule=RUN_NOW, retries=0, owner="a@example.org"))
        mail = smtp.wait(1)[0]
        self.assertEqual(mail["to"], ["a@example.org"])
        self.wait_counter("notify.mail.sent", 1)
        self.assertEqual(self.counters().get("notify.mail.retried"), 1)  # the 451 was retried
        self.assertNotIn("pw-9f3kq", self.server.current_log())

    def test_starttls_required_but_not_offered_fails(self):
        smtp = self.smtp()
        self.server = self.new_server(["--mail-server", "127.0.0.1:%d" % smtp.port, "--mail-from", "g@example.org",
                                       "--mail-starttls"])
        self.add_job(sched("tls", "exit 1", schedule=RUN_NOW, retries=0, owner="a@example.org"))
        self.wait_counter("notify.mail.failed", 1)
        self.assertEqual(smtp.messages, [])

    def test_deleted_disabled_and_cluster_prefix_unset(self):
        hook = self.receiver()
        self.server = self.new_server(["--http-notification-url", hook.url(), "--disable-after-failures", "1"])
        self.add_job(sched("gone", "true"))
        self.assertEqual(self.server.json("DELETE", "/v1/scheduler/job/gone")[0], 204)
        deleted = json.loads(hook.wait(1)[0]["body"])
        self.assertEqual(deleted["subject"], "[Chronos] Your job 'gone' was deleted!")
        self.assertNotIn("message", deleted)   # Chronos sent no body
        self.assertNotIn("to", deleted)        # no owner
        self.assertNotIn("taskId", deleted)
        self.assertEqual(deleted["event"], "job.deleted")

        self.add_job(sched("flaky", "exit 2", schedule=RUN_NOW, retries=0))
        hook.wait(3)
        events = {b["event"]: b for b in hook.json_bodies()[1:]}
        self.assertEqual(set(events), {"run.retries_exhausted", "job.disabled"})
        disabled = events["job.disabled"]
        self.assertEqual(disabled["subject"], "[Chronos] job 'flaky' disabled")
        self.assertRegex(disabled["message"], r"^\nFailed at '[^']+', 1 failures since last success\nTask id: ct:")

        self.add_job(sched("once", "true", schedule=RUN_NOW))
        hook.wait(4)
        last = hook.json_bodies()[3]
        self.assertEqual(last["subject"], "[Chronos] job 'once' disabled")
        self.assertTrue(last["message"].startswith("Job 'once' has exhausted all of its recurrences"), last)

    def test_skipped_slot_and_recovery(self):
        hook = self.receiver()
        self.server = self.new_server(["--http-notification-url", hook.url(), "--failure-retry", "100"])
        # Each run outlasts two slots: the second slot waits, the third is skipped.
        self.add_job(sched("slow", "sleep 2.5", schedule="R3//PT1S"))
        bodies = wait_until(lambda: [b for b in hook.json_bodies() if b["event"] == "run.skipped"], 20,
                            what="a skipped slot")
        self.assertEqual(bodies[0]["subject"], "[Chronos] job 'slow' skipped a run")
        self.assertEqual(bodies[0]["status"], "skipped")
        self.assertIn("the previous run was still going", bodies[0]["message"])
        # A failed slot, then a successful one: recovered.
        marker = os.path.join(self.server.root, "marker")
        self.add_job(sched("comeback", "test -e %s || { touch %s; exit 1; }" % (marker, marker), schedule="R2//PT1S",
                           retries=0))
        rec = wait_until(lambda: [b for b in hook.json_bodies() if b["event"] == "job.recovered"], 20,
                         what="the recovery")[0]
        self.assertEqual(rec["subject"], "[Chronos] job 'comeback' recovered")
        self.assertEqual(rec["status"], "succeeded")
        self.assertEqual(rec["errorsSinceLastSuccess"], "0")

    def test_slots_missed_while_the_server_was_down(self):
        hook = self.receiver()
        self.server = self.new_server(["--http-notification-url", hook.url()])
        start = (int(time.time()) + 2) * 1000
        iso = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(start / 1000)) + "Z"
        self.add_job(sched("every-second", "true", schedule="R/%s/PT1S" % iso, epsilon="PT0.5S"))
        self.server.stop()
        # down for the first slots and more than epsilon past them: they are missed
        wait_until(lambda: time.time() * 1000 > start + 2500, 10, what="slots to pass")
        self.server.start()
        missed = wait_until(lambda: [b for b in hook.json_bodies() if b["event"] == "run.skipped"], 20,
                            what="the missed slots")[0]
        self.assertEqual(missed["subject"], "[Chronos] job 'every-second' skipped a run")
        self.assertIn("missed: more than epsilon PT0.5S late", missed["message"])


class NotifyOn(NotifyTestCase):
    def run_now(self, name):
        status, _, body = self.server.request("PUT", "/v1/scheduler/job/" + name)
        self.assertEqual(status, 204, body)

    def test_always_never_and_no_owner(self):
        hook, smtp = self.receiver(), self.smtp()
        self.server = self.new_server(["--http-notification-url", hook.url(), "--mail-server",
                                       "127.0.0.1:%d" % smtp.port, "--mail-from", "g@example.org"])
        # Manual runs of jobs scheduled far ahead: no recurrence is used up, so nothing gets disabled.
        self.add_job(sched("quiet", "exit 1", schedule=LATER, retries=0, notifyOn="never", owner="q@example.org"))
        self.run_now("quiet")
        wait_until(lambda: [r for r in self.runs("quiet") if r["status"] == "failed"], 20, what="quiet failed")
        self.assertEqual(self.server.json("DELETE", "/v1/scheduler/job/quiet")[0], 204)
        self.add_job(sched("chatty", "echo fine", schedule=LATER, notifyOn="always", owner="c@example.org"))
        self.add_job(sched("loud", "exit 4", schedule=LATER, retries=0, notifyOn="ALWAYS"))
        self.run_now("chatty")
        self.run_now("loud")
        wait_until(lambda: {b["job"] for b in hook.json_bodies()} >= {"chatty", "loud"}, 20, what="both jobs")
        self.assertEqual(smtp.wait(1)[0]["to"], ["c@example.org"])
        # A marker notified after them: whatever the others sent has arrived by the time it has.
        self.add_job(sched("marker", "exit 1", schedule=RUN_NOW, retries=0))
        wait_until(lambda: "marker" in {b["job"] for b in hook.json_bodies()}, 20, what="the marker")
        bodies = [b for b in hook.json_bodies() if b["job"] != "marker"]
        self.assertNotIn("quiet", [b["job"] for b in bodies])
        self.assertEqual(sorted(b["job"] for b in bodies), ["chatty", "loud"])  # loud's end and failure: one
        by_job = {b["job"]: b for b in bodies}
        self.assertEqual(by_job["chatty"]["subject"], "[Chronos] job 'chatty' run succeeded")
        self.assertEqual(by_job["chatty"]["event"], "run.finished")
        self.assertEqual(by_job["chatty"]["stdoutTail"], "fine\n")
        self.assertEqual(by_job["loud"]["subject"], "[Chronos] job 'loud' failed!")
        self.assertEqual(by_job["loud"]["event"], "run.retries_exhausted")
        self.assertNotIn("to", by_job["loud"])  # no owner: no mail, the webhook still
        self.assertEqual(len(smtp.messages), 1)
        self.assertEqual(self.get_job("chatty")["notifyOn"], "always")
        self.assertEqual(self.get_job("loud")["notifyOn"], "always")

    def test_invalid_notify_on_is_refused(self):
        self.server = self.new_server()
        status, body = self.post_job(sched("bad", notifyOn="sometimes"))
        self.assertBadRequest(status, body, prefix="notifyOn:")
        status, body = self.post_job(sched("bad", notifyOn=3))
        self.assertBadRequest(status, body, prefix="notifyOn:")


class Delivery(NotifyTestCase):
    def test_500_is_retried_then_counted_as_failed(self):
        hook, flaky = self.receiver("fail"), self.receiver("flaky")
        self.server = self.new_server(["--http-notification-url", hook.url(), "--slack-url", flaky.url(),
                                       "--notify-retries", "2", "--notify-retry-delay", "100"])
        self.add_job(sched("broken", "exit 1", schedule=RUN_NOW, retries=0))
        self.wait_counter("notify.http.failed", 1)
        self.assertEqual(hook.count(), 3)  # the first attempt and two retries
        bodies = hook.json_bodies()
        self.assertTrue(all(b == bodies[0] for b in bodies), "a retry sends the same payload")
        self.wait_counter("notify.slack.sent", 1)
        c = self.counters()
        self.assertEqual((c.get("notify.http.retried"), c.get("notify.http.sent")), (2, None))
        self.assertEqual((c.get("notify.slack.retried"), c.get("notify.slack.failed")), (1, None))
        self.assertEqual(flaky.count(), 2)
        self.assertIn("notify: http: could not deliver the notification about job 'broken' after 3 attempts: "
                      "HTTP 500", self.server.current_log())

    def test_a_burst_is_all_delivered(self):
        hook = self.receiver()
        self.server = self.new_server(["--http-notification-url", hook.url()])
        names = ["burst%02d" % i for i in range(80)]  # more than the worker formats at once
        for name in names:
            self.add_job(sched(name, "exit 1", schedule=RUN_NOW, retries=0))
        self.wait_counter("notify.http.sent", len(names), timeout=60)
        self.assertEqual(sorted(b["job"] for b in hook.json_bodies()), names)
        self.assertNotIn("notify.http.dropped", self.counters())

    def test_hanging_and_failing_receivers_do_not_delay_runs(self):
        hang, fail, silent = self.receiver("hang"), self.receiver("fail"), SilentServer()
        self.addCleanup(silent.close)
        self.server = self.new_server([
            "--slack-url", hang.url(), "--http-notification-url", fail.url(), "--mail-server",
            "127.0.0.1:%d" % silent.port, "--mail-from", "g@example.org", "--notify-timeout", "3000",
            "--notify-retries", "2", "--notify-retry-delay", "200", "--notify-queue-size", "4"])
        self.add_job(sched("tick", "true", schedule="R//PT1S", notifyOn="always", owner="t@example.org"))
        self.add_job(sched("boom", "exit 1", schedule="R//PT1S", retries=0, owner="b@example.org"))
        ticks = wait_until(lambda: (lambda r: r if len(r) >= 8 else None)(
            [r for r in self.runs("tick") if r["status"] == "succeeded"]), 30, interval=0.2, what="8 ticks")
        late = [parse_iso(r["start"]) - parse_iso(r["due"]) for r in ticks]
        self.assertLess(max(late), 1500, late)  # a generous bound: the point is that nothing waits seconds
        boom = [r for r in self.runs("boom") if r["status"] == "failed"]
        self.assertGreaterEqual(len(boom), 6)
        c = self.counters()
        self.assertGreater(c.get("notify.dropped", 0), 0, c)
        self.assertGreater(c.get("notify.slack.dropped", 0), 0, c)
        self.assertGreater(hang.count() + silent.accepted, 0)
        self.assertIn("notify: the queue is full", self.server.current_log())
        t0 = time.monotonic()
        self.server.stop()  # asserts a clean exit 0 with transfers still hanging
        self.assertLess(time.monotonic() - t0, 5)


class Config(NotifyTestCase):
    def setUp(self):
        super().setUp()
        self.scratch = tempfile.mkdtemp(prefix="gnomon-it-notify-")
        self.addCleanup(shutil.rmtree, self.scratch, True)

    def write(self, text, name="gnomon.conf"):
        path = os.path.join(self.scratch, name)
        with open(path, "w") as f:
            f.write(text)
        return path

    def run_gnomon(self, args, env=None):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_") or k == "GNOMON_BIN"}
        full_env.update(env or {})
        r = subprocess.run([BIN] + args, cwd=self.scratch, env=full_env, capture_output=True, timeout=START_TIMEOUT)
        out, err = r.stdout.decode(), r.stderr.decode()
        self.assertEqual(sanitizer_lines(err), [], err)
        return r.returncode, out, err

    def test_config_file_flags_and_environment(self):
        slack = self.receiver()
        path = self.write("# notifications\n\nslack-url = %s\ncluster_name = from-file\nnotify-retries = 5\n"
                          "mail-password = hunter2\nhttp-port = 1\n"
                          "http-notification-url = http://127.0.0.1:9/hook?token=t0ps3cret\n" % slack.url("/file"))
        rc, out, err = self.run_gnomon(["server", "--config", path, "--check-config", "--http-port", "4500"],
                                       env={"GNOMON_NOTIFY_RETRIES": "7"})
        self.assertEqual(rc, 0, err)
        lines = out.splitlines()
        for line in ["slack-url = ********", "mail-password = ********", "http-notification-url = ********",
                     "cluster-name = from-file",
                     "notify-retries = 7", "http-port = 4500", "notify-queue-size = 1000", "# config = " + path]:
            self.assertIn(line, lines)
        self.assertNotIn("hunter2", out + err)
        self.assertNotIn("t0ps3cret", out + err)
        self.assertNotIn(slack.url(), out + err)
        self.assertFalse(os.path.exists(os.path.join(self.scratch, "gnomon-data")), "--check-config made a data dir")

        self.server = self.new_server(["--config", path])  # the harness's --http-port flag overrides the file's
        self.add_job(sched("cfg", "exit 1", schedule=RUN_NOW, retries=0))
        body = json.loads(slack.wait(1)[0]["body"])
        self.assertTrue(body["text"].startswith("[from-file] [Chronos] job 'cfg' failed!: "), body)

    def test_config_errors_exit_2_with_one_line(self):
        bad_line = self.write("http-port = 4400\n\nbogus-option = 1\n", "a.conf")
        cases = [
            (["--config", bad_line], "%s:3: unknown option 'bogus-option'" % bad_line),
            (["--config", os.path.join(self.scratch, "missing.conf")], "--config: cannot read"),
            (["--config=" + self.write("mail-ssl = perhaps\n", "b.conf")], "b.conf:1: --mail-ssl: invalid value"),
            (["--config", self.write("just words\n", "c.conf")], "c.conf:1: expected 'name = value'"),
            (["--mail-server", "nohost"], "--mail-server"),
            (["--mail-server", "h:70000", "--mail-from", "a@b"], "--mail-server"),
            (["--mail-server", "h:25"], "--mail-from"),
            (["--mail-from", "a@b"], "--mail-from"),
            (["--mail-server", "h:25", "--mail-from", "nobody"], "--mail-from"),
            (["--mail-server", "h:465", "--mail-from", "a@b", "--mail-ssl", "--mail-starttls"], "--mail-starttls"),
            (["--slack-url", "ftp://x/y"], "--slack-url"),
            (["--mattermost-url", "hooks"], "--mattermost-url"),
            (["--http-notification-url", "http://x/ y"], "--http-notification-url"),
            (["--http-notification-credentials", "nocolon"], "--http-notification-credentials"),
            (["--raven-dsn", "https://sentry.example.com/1"], "--raven-dsn"),
            (["--notify-queue-size", "0"], "--notify-queue-size"),
            (["--notify-timeout", "abc"], "--notify-timeout"),
            (["--notify-log-tail", "2Q"], "--notify-log-tail"),
        ]
        for args, named in cases:
            for check in ([], ["--check-config"]):
                with self.subTest(args=args, check=check):
                    rc, out, err = self.run_gnomon(["server", "--data-dir", os.path.join(self.scratch, "d")]
                                                   + check + args)
                    self.assertEqual(rc, 2, "exit status for %r (stderr %r)" % (args, err))
                    lines = [ln for ln in err.splitlines() if ln.strip()]
                    self.assertEqual(len(lines), 1, "expected one line on stderr, got %r" % err)
                    self.assertIn(named, lines[0])
                    self.assertEqual(out, "")
        self.assertFalse(os.path.exists(os.path.join(self.scratch, "d")))

    def test_help_lists_the_options(self):
        rc, out, err = self.run_gnomon(["server", "--help"])
        self.assertEqual(rc, 0, err)
        for opt in ["--config FILE", "--check-config", "--mail-server", "--mail-starttls", "--slack-url",
                    "--raven-dsn", "--notify-queue-size", "--notify-log-tail"]:
            self.assertIn(opt, out)


class AgentLost(NotifyTestCase):
    def test_lost_agent_reaches_the_webhook_and_chat(self):
        """An agent silent past --agent-timeout is told to the webhook and to Slack; there is no owner to mail. The
        agent is registered by hand (the protocol's first request, from loopback) and then says nothing more."""
        hook, slack = self.receiver(), self.receiver()
        self.server = self.new_server(["--agent-timeout", "2", "--http-notification-url", hook.url("/notify"),
                                       "--slack-url", slack.url("/services/T/B/x")])
        status, body = self.server.json("POST", "/api/v1/agent/register", {
            "version": 1, "id": "5f0c3a1e9b7d4e2a8c6b1d0e3f2a4b5c", "name": "a1", "hostname": "host-1",
            "agentVersion": "0.1.0", "attributes": {}, "resources": {"cpus": 1, "mem": 256, "disk": 256},
            "epoch": 0, "tasks": []})
        self.assertEqual(status, 200, body)
        self.assertEqual(self.server.json("GET", "/api/v1/agents/a1")[1]["state"], "up")
        req = hook.wait(1, timeout=30)[0]
        payload = json.loads(req["body"])
        self.assertEqual(payload["event"], "agent.lost")
        self.assertEqual(payload["agent"], "a1")
        self.assertEqual(payload["hostname"], "host-1")
        self.assertRegex(payload["subject"], r"^agent a1 \(host-1\) lost$")
        self.assertRegex(payload["reason"], r"^silent for \d+ s; 0 of its runs were recorded lost and are retried "
                                            r"per their jobs' policy$")
        self.assertNotIn("job", payload)
        text = json.loads(slack.wait(1)[0]["body"])["text"]
        self.assertTrue(text.startswith("agent a1 (host-1) lost: silent for "), text)
        self.assertEqual(self.server.json("GET", "/api/v1/agents/a1")[1]["state"], "lost")
        status, metrics = self.server.json("GET", "/metrics")
        self.assertEqual(metrics["gauges"]["gnomon.agents.lost"]["value"], 1)


if __name__ == "__main__":
    main()
