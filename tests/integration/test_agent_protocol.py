"""The agent's side of the protocol (docs/agent-protocol.md) against a scripted server: the real `gnomon agent`,
and in place of gnomon's server a small HTTP server in this test that answers as the protocol says and does what
a real cluster does only by chance of timing.

- A result the agent holds is sent again after every registration, final output first and then its `ended`
  event, even when a server took them before: that server may have lost them with its leadership (one cut off
  from its database when the event came), and the server registered with next records a held result only when
  its `ended` event comes. Before, the agent sent the event once, and the run stayed `running` on the new leader
  for good (found by the fault suite, tests/chaos).
- A server that answers 5xx (an election: no leader yet, or "the leader changed while it was forwarded") is asked
  again before the next server: the next one may be the old leader, paused or cut off, that answers nothing for
  seconds (found by the fault suite too)."""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, main, wait_until  # noqa: E402

TASK = "ct:1700000000000:0:proto:"


def assignment(epoch):
    return {"taskId": TASK, "epoch": epoch, "job": "proto", "owner": "", "dueMs": 1700000000000, "attempt": 0,
            "parents": "", "command": "echo out; echo err >&2", "args": [], "shell": True, "container": None,
            "env": [], "runAsUser": "", "cpus": 0.1, "mem": 16, "disk": 0, "deadlineMs": 0, "graceMs": 1000,
            "outputCap": 65536}


class Scripted:
    """The server's side, scripted: one start, then the first `ended` event taken (200) and the session forgotten
    (409 to the next request), as a leader that lost its place would."""

    def __init__(self):
        self.lock = threading.Lock()
        self.sessions = 0
        self.session = None
        self.started = False
        self.forget = False
        self.log = []  # (session number, what): "register", "ended", "final stdout", ...
        self.registrations = []

    def handle(self, path, query, body):
        with self.lock:
            if path == "/api/v1/agent/register":
                self.sessions += 1
                self.session = "s%d" % self.sessions
                self.forget = False
                self.registrations.append(body.get("tasks", []))
                self.log.append((self.sessions, "register"))
                return 200, {"version": 1, "session": self.session, "epoch": 1, "pollMs": 300}
            if body.get("session") != self.session or self.forget:
                return 409, {"status": "Conflict", "message": "unknown session: register again"}
            if path == "/api/v1/agent/poll":
                if not self.started:
                    self.started = True
                    return 200, {"version": 1, "epoch": 1,
                                 "commands": [{"type": "start", "task": assignment(1)}]}
                return 200, {"version": 1, "epoch": 1, "commands": []}
            if path == "/api/v1/agent/events":
                for ev in body.get("events", []):
                    self.log.append((self.sessions, ev.get("type")))
                    if ev.get("type") == "ended" and self.sessions == 1:
                        self.forget = True  # taken, then lost with the leadership
                return 200, {"version": 1, "epoch": 1}
            if path == "/api/v1/agent/output":
                if query.get("final") == ["1"]:
                    self.log.append((self.sessions, "final " + query.get("stream", ["?"])[0]))
                return 200, {"version": 1}
            return 404, {"status": "Not Found", "message": path}


def make_handler(script):
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            url = urlparse(self.path)
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                body = json.loads(raw) if raw and url.path != "/api/v1/agent/output" else {}
            except ValueError:
                body = {}
            if url.path == "/api/v1/agent/output":
                body = {"session": parse_qs(url.query).get("session", [None])[0]}
            status, answer = script.handle(url.path, parse_qs(url.query), body)
            data = json.dumps(answer).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the agent gave up on this request (it stops, or its poll timed out)

        def log_message(self, *args):
            pass
    return Handler


class AgentProtocol(unittest.TestCase):
    def setUp(self):
        self.script = Scripted()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(self.script))
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()
        self.addCleanup(self.httpd.server_close)
        self.addCleanup(self.httpd.shutdown)
        self.root = tempfile.mkdtemp(prefix="gnomon-agent-proto-")
        self.addCleanup(shutil.rmtree, self.root, True)
        self.log_path = os.path.join(self.root, "agent.log")
        with open(self.log_path, "wb") as logf:
            self.agent = subprocess.Popen([BIN, "agent", "--server", "http://127.0.0.1:%d" % self.httpd.server_port,
                                           "--data-dir", os.path.join(self.root, "data"), "--name", "p1",
                                           "--log-level", "debug"], stdin=subprocess.DEVNULL, stdout=logf,
                                          stderr=logf)
        self.addCleanup(self.stop_agent)

    def stop_agent(self):
        if self.agent.poll() is None:
            self.agent.terminate()
            self.agent.wait(10)

    def agent_log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def events(self, session):
        with self.script.lock:
            return [what for s, what in self.script.log if s == session]

    def test_result_sent_again_after_a_new_registration(self):
        wait_until(lambda: "ended" in self.events(1), 20, interval=0.05, what="the ended event, first session")
        self.assertIn("final stdout", self.events(1), self.agent_log())
        # the server forgot the session: the agent registers again, holding the result
        wait_until(lambda: self.script.sessions >= 2, 20, interval=0.05, what="a second registration")
        with self.script.lock:
            held = self.script.registrations[1]
        self.assertEqual([(t["taskId"], t["state"]) for t in held], [(TASK, "ended")], self.agent_log())
        # and sends its final output and its ended event again, to the server it registered with now
        wait_until(lambda: "ended" in self.events(2), 20, interval=0.05,
                   what="the ended event sent again after the new registration\n" + self.agent_log())
        second = self.events(2)
        self.assertLess(second.index("final stdout"), second.index("ended"), second)
        self.assertIn("final stderr", second[:second.index("ended")], second)


class Electing:
    """A server in an election: busy (503) to the first `busy` registrations, then it registers the agent."""

    def __init__(self, busy):
        self.lock = threading.Lock()
        self.busy = busy
        self.calls = []

    def handle(self, path, query, body):
        with self.lock:
            self.calls.append(path)
            if path != "/api/v1/agent/register":
                return 200, {"version": 1, "epoch": 1, "commands": []}
            if self.busy > 0:
                self.busy -= 1
                return 503, {"status": "Service Unavailable",
                             "message": "POST /api/v1/agent/register: the leader changed from a to b while it was "
                                        "forwarded: retry"}
            return 200, {"version": 1, "session": "s1", "epoch": 1, "pollMs": 300}


class BusyServer(unittest.TestCase):
    def serve(self, script):
        httpd = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(script))
        threading.Thread(target=httpd.serve_forever, daemon=True).start()
        self.addCleanup(httpd.server_close)
        self.addCleanup(httpd.shutdown)
        return "http://127.0.0.1:%d" % httpd.server_port

    def test_a_busy_server_is_asked_again_before_the_next(self):
        first, second = Electing(busy=2), Electing(busy=0)
        urls = [self.serve(first), self.serve(second)]
        root = tempfile.mkdtemp(prefix="gnomon-agent-proto-")
        self.addCleanup(shutil.rmtree, root, True)
        log_path = os.path.join(root, "agent.log")
        with open(log_path, "wb") as logf:
            agent = subprocess.Popen([BIN, "agent", "--server", ",".join(urls), "--data-dir",
                                      os.path.join(root, "data"), "--name", "p1", "--log-level", "debug"],
                                     stdin=subprocess.DEVNULL, stdout=logf, stderr=logf)
        self.addCleanup(lambda: agent.poll() is None and (agent.terminate(), agent.wait(10)))

        def log():
            with open(log_path, errors="replace") as f:
                return f.read()
        wait_until(lambda: "registered with %s" % urls[0] in log(), 20, interval=0.05,
                   what="the agent registered with the server that was busy\n" + log())
        with first.lock, second.lock:
            self.assertEqual(first.calls[:3], ["/api/v1/agent/register"] * 3, log())
            self.assertEqual(second.calls, [], "the next server was tried while the first answered:\n" + log())


if __name__ == "__main__":
    main()
