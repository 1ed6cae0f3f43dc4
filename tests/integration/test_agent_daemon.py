"""`gnomon agent` (issue 12) against a protocol double: a small HTTP server in this test that plays the server's
side of docs/agent-protocol.md (registration, long polls with commands, events, output), on a random loopback
port. It checks what the real agent sends and does: the token on every request (a 401 is retried), the
registration's fields, a task started from a poll answer (journaled first), its running event, its output and
its ended event (final output before it), a release that empties the journal; a kill -9 of the agent while a task
runs and the restart that reports it running (same pid) and later its end; a stale epoch refused; a start after
the lease expired refused; `gnomon agent` being the program gnomon-agent beside gnomon, without libcurl. The double is no substitute for the real server's side: it is the agent's own test."""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, _die_with_parent, process_gone, require_binary, run_file_name,  # noqa: E402
                            sanitizer_lines, wait_until)
from gnomon_harness import read_text as read  # noqa: E402

TOKEN = "agent-token-0123456789abcdef"


class Double:
    """The server's side of the protocol, recording everything the agent sent (in order, in self.log)."""

    def __init__(self):
        self.cond = threading.Condition()
        self.token = TOKEN
        self.epoch = 1
        self.poll_ms = 300
        self.session = None
        self.sessions = 0
        self.commands = []      # handed out by the next poll
        self.stall = None       # (seconds, commands): the next poll is held that long, then answers them
        self.log = []           # (kind, payload) in arrival order
        self.unauthorized = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        with self.cond:
            self.cond.notify_all()
        self.httpd.shutdown()
        self.httpd.server_close()

    def url(self):
        return "http://127.0.0.1:%d" % self.port

    def record(self, kind, payload):
        with self.cond:
            self.log.append((kind, payload))
            self.cond.notify_all()

    def of(self, kind):
        with self.cond:
            return [p for k, p in self.log if k == kind]

    def events(self, type_=None, task_id=None):
        return [e for batch in self.of("events") for e in batch["events"]
                if (type_ is None or e["type"] == type_) and (task_id is None or e.get("taskId") == task_id)]

    def give(self, *commands):
        with self.cond:
            self.commands.extend(commands)
            self.cond.notify_all()

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body=None):
                data = b"" if body is None else json.dumps(body).encode()
                try:
                    self.send_response(status)
                    if body is not None:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the agent went away (kill -9)

            def do_POST(self):
                url = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                if self.headers.get("Authorization") != "Bearer " + double.token:
                    with double.cond:
                        double.unauthorized += 1
                    return self.answer(401, {"status": "Unauthorized", "message": "missing or wrong agent token"})
                if url.path == "/api/v1/agent/output":
                    return self.output(urllib.parse.parse_qs(url.query), body)
                assert self.headers.get("Content-Type") == "application/json", self.headers
                req = json.loads(body)
                if req.get("version") != 1:
                    return self.answer(400, {"status": "Bad Request", "message": "version: 1 only"})
                if url.path == "/api/v1/agent/register":
                    with double.cond:
                        double.sessions += 1
                        double.session = "s-%d" % double.sessions
                    double.record("register", req)
                    return self.answer(200, {"version": 1, "session": double.session, "epoch": double.epoch,
                                             "pollMs": double.poll_ms, "leader": "127.0.0.1:%d" % double.port})
                if req.get("session") != double.session:
                    return self.answer(409, {"status": "Conflict", "message": "unknown session"})
                if url.path == "/api/v1/agent/poll":
                    return self.poll(req)
                if url.path == "/api/v1/agent/events":
                    double.record("events", req)
                    return self.answer(200, {"version": 1, "epoch": double.epoch})
                return self.answer(404, {"status": "Not Found", "message": url.path})

            def poll(self, req):
                double.record("poll", req)
                with double.cond:
                    stall, double.stall = double.stall, None
                    if stall is None:
                        # a poll of an earlier session (an agent that was stopped) takes no command
                        double.cond.wait_for(lambda: double.commands or req["session"] != double.session,
                                             double.poll_ms / 1000)
                        if req["session"] != double.session:
                            return self.answer(409, {"status": "Conflict", "message": "unknown session"})
                        commands, double.commands = double.commands, []
                if stall is not None:
                    time.sleep(stall[0])
                    commands = stall[1]
                self.answer(200, {"version": 1, "epoch": double.epoch, "commands": commands})

            def output(self, q, body):
                if q.get("session", [""])[0] != double.session:
                    return self.answer(409, {"status": "Conflict", "message": "unknown session"})
                double.record("output", {"taskId": q["taskId"][0], "stream": q["stream"][0],
                                         "offset": int(q["offset"][0]), "final": q.get("final") == ["1"],
                                         "body": body})
                self.answer(204)

        return Handler



def assignment(task_id, command, epoch=1):
    return {"taskId": task_id, "epoch": epoch, "job": task_id.split(":")[3], "owner": "ops@example.net",
            "dueMs": 1765084800000, "attempt": 0, "parents": "", "command": command, "args": [], "shell": True,
            "container": None, "env": [{"name": "GREETING", "value": "hello"}], "runAsUser": "", "cpus": 0.1,
            "mem": 32, "disk": 0, "deadlineMs": 0, "graceMs": 1000, "outputCap": 65536}


def start(task):
    return {"type": "start", "task": task}


class Agent:
    """A `gnomon agent` process on a data dir of its own; restartable."""

    def __init__(self, root, double, args=()):
        self.root = root
        self.double = double
        self.data_dir = os.path.join(root, "data")
        self.token_file = os.path.join(root, "token")
        with open(self.token_file, "w") as f:
            f.write("  %s  \nsecond line is ignored\n" % TOKEN)
        self.args = list(args)
        self.proc = None
        self.logs = []

    def start(self):
        path = os.path.join(self.root, "agent-%d.log" % (len(self.logs) + 1))
        self.logs.append(path)
        cmd = [BIN, "agent", "--server", "http://127.0.0.1:1," + self.double.url(), "--data-dir", self.data_dir,
               "--name", "test-agent", "--attribute", "rack=a", "--attribute", "os=debian", "--cpus", "2", "--mem",
               "512", "--disk", "1024", "--agent-token-file", self.token_file, "--log-level", "debug"] + self.args
        with open(path, "wb") as logf:
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=logf, cwd=self.root,
                                         preexec_fn=_die_with_parent)
        return self

    def log(self):
        with open(self.logs[-1], errors="replace") as f:
            return f.read()

    def stop(self, sig=signal.SIGTERM):
        if self.proc is None:
            return None
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def journal(self, task_id):
        return os.path.join(self.data_dir, "tasks", run_file_name(task_id) + ".json")


class AgentDaemon(unittest.TestCase):
    def setUp(self):
        require_binary()
        self.root = tempfile.mkdtemp(prefix="gnomon-agent-it-")
        self.double = Double()
        self.addCleanup(self.double.close)
        self.pids = []
        self.addCleanup(self.kill_tasks)

    def kill_tasks(self):
        for pid in self.pids:
            if not process_gone(pid):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except OSError:
                    pass

    def agent(self, args=()):
        a = Agent(self.root, self.double, args).start()

        def cleanup():
            rc = a.stop()
            for path in a.logs:
                with open(path, errors="replace") as f:
                    text = f.read()
                self.assertEqual(sanitizer_lines(text), [], text)
            if rc is not None:
                self.assertEqual(rc, 0, a.log())
        self.addCleanup(cleanup)
        return a

    def registered(self, count=1):
        return wait_until(lambda: len(self.double.of("register")) >= count and self.double.of("register")[count - 1],
                          20, what="registration %d" % count)

    def test_token_registration_task_output_release(self):
        self.double.token = "another-token-that-is-not-the-agents"
        agent = self.agent()
        wait_until(lambda: self.double.unauthorized >= 3, 20, what="the agent retrying after 401")
        self.assertIn("refused this agent's token", agent.log())
        self.assertEqual(self.double.of("register"), [])
        self.double.token = TOKEN
        reg = self.registered()
        with open(os.path.join(agent.data_dir, "agent-id")) as f:
            agent_id = f.read().strip()
        self.assertRegex(agent_id, r"^[0-9a-f]{32}$")
        self.assertEqual(reg["id"], agent_id)
        self.assertEqual((reg["name"], reg["hostname"], reg["agentVersion"]),
                         ("test-agent", os.uname().nodename, reg["agentVersion"]))
        self.assertRegex(reg["agentVersion"], r"^\d+\.\d+\.\d+")
        self.assertEqual({k: v for k, v in reg["attributes"].items() if not k.startswith("container.")},
                         {"rack": "a", "os": "debian"})  # and the runtime's where there is one (test_containers)
        self.assertEqual(reg["resources"], {"cpus": 2, "mem": 512, "disk": 1024})
        self.assertEqual((reg["epoch"], reg["tasks"]), (0, []))
        wait_until(lambda: read(os.path.join(agent.data_dir, "epoch")) == "1", 10, what="epoch 1 kept")

        task_id = "ct:1765084800000:0:hello:"
        self.double.give(start(assignment(task_id, 'echo "$GREETING from $GNOMON_AGENT"; echo err >&2; '
                                                   'while [ ! -e go ]; do sleep 0.05; done; exit 3')))
        running = wait_until(lambda: self.double.events("running", task_id), 20, what="running")[0]
        self.pids.append(running["pid"])
        self.assertFalse(process_gone(running["pid"]))
        self.assertTrue(os.path.exists(agent.journal(task_id)), "no journal entry while it runs")
        with open(agent.journal(task_id)) as f:
            entry = json.load(f)
        self.assertEqual((entry["task"]["taskId"], entry["pid"]), (task_id, running["pid"]))
        # live output, best effort, from offset 0
        live = wait_until(lambda: [o for o in self.double.of("output") if o["stream"] == "stdout"], 20,
                          what="a live chunk")
        self.assertEqual((live[0]["offset"], live[0]["final"]), (0, False))
        self.assertEqual(live[0]["body"], ("hello from %s\n" % agent_id).encode())
        workdir = os.path.join(agent.data_dir, "work", run_file_name(task_id))
        with open(os.path.join(workdir, "go"), "w"):
            pass
        ended = wait_until(lambda: self.double.events("ended", task_id), 20, what="ended")[0]
        self.assertEqual((ended["result"]["end"], ended["result"]["exitCode"]), ("exited", 3), ended)
        # the final output of both streams came before the ended event
        log = self.double.log
        end_at = next(i for i, (k, p) in enumerate(log) if k == "events" and
                      any(e["type"] == "ended" for e in p["events"]))
        finals = {p["stream"]: p for k, p in log[:end_at] if k == "output" and p["final"]}
        self.assertEqual(finals["stdout"]["body"], ("hello from %s\n" % agent_id).encode())
        self.assertEqual(finals["stderr"]["body"], b"err\n")
        self.assertTrue(os.path.exists(agent.journal(task_id)), "the journal entry went before the release")

        self.double.give({"type": "release", "taskId": task_id, "outcome": "failed"})
        wait_until(lambda: not os.path.exists(agent.journal(task_id)), 20, what="the journal entry removed")
        wait_until(lambda: not os.path.exists(workdir), 20, what="the working directory removed")
        self.assertFalse(os.listdir(os.path.join(agent.data_dir, "logs")))
        text = agent.log()
        self.assertRegex(text, r"registered with http://127\.0\.0\.1:\d+ as test-agent")
        self.assertRegex(text, r"task %s started \(pid %d\)" % (re.escape(task_id), running["pid"]))
        self.assertIn("task %s ended: exited, exit code 3" % task_id, text)
        self.assertEqual(agent.stop(), 0)

    def test_a_task_outlives_a_kill_9_of_its_agent(self):
        agent = self.agent()
        self.registered()
        task_id = "ct:1765084800000:0:survivor:"
        self.double.give(start(assignment(task_id, "echo started; while [ ! -e go ]; do sleep 0.05; done; echo done")))
        running = wait_until(lambda: self.double.events("running", task_id), 20, what="running")[0]
        self.pids.append(running["pid"])
        agent.stop(signal.SIGKILL)
        self.assertFalse(process_gone(running["pid"]), "the task died with its agent")
        agent.start()
        reg = self.registered(2)
        self.assertEqual(reg["epoch"], 1)
        self.assertEqual([(t["taskId"], t["state"], t["pid"], t["startMs"]) for t in reg["tasks"]],
                         [(task_id, "running", running["pid"], running["startMs"])])
        self.assertEqual(self.double.events("ended", task_id), [])
        with open(os.path.join(agent.data_dir, "work", run_file_name(task_id), "go"), "w"):
            pass
        ended = wait_until(lambda: self.double.events("ended", task_id), 20, what="ended after the restart")[0]
        self.assertEqual((ended["result"]["end"], ended["result"]["exitCode"]), ("exited", 0), ended)
        finals = {p["stream"]: p["body"] for p in self.double.of("output") if p["final"]}
        self.assertEqual(finals["stdout"], b"started\ndone\n")
        self.double.give({"type": "release", "taskId": task_id, "outcome": "succeeded"})
        wait_until(lambda: not os.path.exists(agent.journal(task_id)), 20, what="the journal entry removed")

    def test_an_ended_task_is_reported_at_the_next_registration_until_released(self):
        agent = self.agent()
        self.registered()
        task_id = "ct:1765084800000:0:quick:"
        self.double.give(start(assignment(task_id, "while [ ! -e go ]; do sleep 0.05; done; exit 7")))
        running = wait_until(lambda: self.double.events("running", task_id), 20, what="running")[0]
        self.pids.append(running["pid"])
        self.assertEqual(agent.stop(), 0)  # SIGTERM: the task goes on under its executor
        self.assertFalse(process_gone(running["pid"]), "a stop of the agent killed its task")
        with open(os.path.join(agent.data_dir, "work", run_file_name(task_id), "go"), "w"):
            pass
        wait_until(lambda: process_gone(running["pid"]), 20, what="the task ended")
        agent.start()
        reg = self.registered(2)
        self.assertEqual([(t["taskId"], t["state"], t["result"]["end"], t["result"]["exitCode"])
                          for t in reg["tasks"]], [(task_id, "ended", "exited", 7)])
        self.double.give({"type": "release", "taskId": task_id, "outcome": "failed"})
        wait_until(lambda: not os.path.exists(agent.journal(task_id)), 20, what="the journal entry removed")

    def test_a_stale_epoch_is_refused(self):
        self.double.epoch = 5
        agent = self.agent()
        self.registered()
        wait_until(lambda: os.path.exists(os.path.join(agent.data_dir, "epoch")), 10, what="epoch kept")
        task_id = "ct:1765084800000:0:old:"
        self.double.give(start(assignment(task_id, "true", epoch=4)))
        refused = wait_until(lambda: self.double.events("refused", task_id), 20, what="refused")[0]
        self.assertEqual((refused["reason"], refused["permanent"]),
                         ("stale epoch 4: this agent has seen epoch 5", False))
        self.assertFalse(os.path.exists(agent.journal(task_id)))
        with open(os.path.join(agent.data_dir, "epoch")) as f:
            self.assertEqual(f.read().strip(), "5")

    def test_a_start_after_the_lease_expired_is_refused(self):
        agent = self.agent(["--lease", "2"])
        self.registered()
        wait_until(lambda: len(self.double.of("poll")) >= 2, 20, what="polls")
        late = "ct:1765084800000:0:late:"
        with self.double.cond:
            self.double.stall = (3.0, [start(assignment(late, "true"))])
        refused = wait_until(lambda: self.double.events("refused", late), 20, what="refused")[0]
        self.assertTrue(refused["reason"].startswith("lease expired"), refused)
        self.assertFalse(os.path.exists(agent.journal(late)))
        # the next answers renew it
        on_time = "ct:1765084800000:0:ontime:"
        self.double.give(start(assignment(on_time, "true")))
        wait_until(lambda: self.double.events("ended", on_time), 20, what="a start within the lease")

    def test_gnomon_agent_is_its_own_program(self):
        """`gnomon agent` execs gnomon-agent beside gnomon (the same process goes on), which maps no libcurl;
        either name takes --version, --help and --check-config alike; without gnomon-agent, one line and exit 1."""
        agent = self.agent()
        self.registered()
        lean = os.path.join(os.path.dirname(os.path.abspath(BIN)), "gnomon-agent")
        self.assertEqual(os.readlink("/proc/%d/exe" % agent.proc.pid), os.path.realpath(lean))
        with open("/proc/%d/maps" % agent.proc.pid) as f:
            maps = f.read()
        # OpenSSL's libssl and libcrypto are mapped (https:// servers, net/tls.h), libcurl and the server's not
        for lib in ("libcurl", "libsqlite3", "libgvc"):
            self.assertNotIn(lib, maps)

        def run(cmd):
            out = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30,
                                 cwd=self.root)
            self.assertEqual(sanitizer_lines(out.stderr), [], out.stderr)
            return out.returncode, out.stdout, out.stderr
        for args in (["--version"], ["--help"], ["--check-config", "--server", "http://127.0.0.1:1", "--name", "n"]):
            via_gnomon = run([BIN, "agent"] + args)
            self.assertEqual(via_gnomon[0], 0, via_gnomon)
            self.assertEqual(run([lean] + args), via_gnomon)
        self.assertEqual(run([BIN, "agent", "--version"])[1], run([BIN, "--version"])[1])

        alone = os.path.join(self.root, "alone")
        os.mkdir(alone)
        shutil.copy(BIN, alone)
        rc, out, err = run([os.path.join(alone, os.path.basename(BIN)), "agent", "--version"])
        self.assertEqual((rc, out), (1, ""))
        self.assertEqual(len(err.splitlines()), 1, err)
        self.assertIn(os.path.join(alone, "gnomon-agent"), err)


if __name__ == "__main__":
    unittest.main(verbosity=2)
