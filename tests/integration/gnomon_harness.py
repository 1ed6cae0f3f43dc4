"""Start the real gnomon binary on a free loopback port with a fresh data dir, and talk HTTP to it.

Used by every tests/integration/test_*.py. The binary is $GNOMON_BIN (set by ctest). Each Server owns a
temporary directory holding its data dir and one stderr log per start; stop() ends the process (SIGTERM,
then SIGKILL) and checks that a graceful stop exited 0 and that no sanitizer report was printed.
"""

import datetime
import hashlib
import http.client
import json as jsonlib
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "support"))
from free_port import free_port  # noqa: E402,F401 - the tests import it from here

BIN = os.environ.get("GNOMON_BIN", "")
START_TIMEOUT = float(os.environ.get("GNOMON_TEST_START_TIMEOUT", "20"))
REQUEST_TIMEOUT = float(os.environ.get("GNOMON_TEST_REQUEST_TIMEOUT", "20"))
STOP_TIMEOUT = 10.0
SANITIZER_RE = re.compile(r"ERROR: (Address|Leak|Memory|Thread)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer")
BIND_FAIL_RE = re.compile(r"address already in use|EADDRINUSE|cannot (bind|listen)", re.I)


def require_binary():
    if not BIN or not os.access(BIN, os.X_OK):
        sys.stderr.write("GNOMON_BIN is not set to an executable gnomon binary (got %r)\n" % BIN)
        sys.exit(2)


def _die_with_parent():
    """In the child before exec: get SIGKILL if the test process dies, so no server outlives a killed test."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort (not Linux, no libc)
        pass


def wait_until(predicate, timeout, interval=0.02, what="condition"):
    """Poll predicate() until it returns a truthy value or the deadline passes; return that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.1f s waiting for %s" % (timeout, what))
        time.sleep(interval)


def run_file_name(task_id):
    """The name of a run's files in the data dir (logs/NAME.stdout, work/NAME), as src/history/run_name.c makes it
    from the task id: its first 48 bytes with every byte outside [A-Za-z0-9._-] turned into '_' (and a leading '.'
    or '-' too), '-', then the first 128 bits of its SHA-256 in hex."""
    raw = task_id.encode()
    prefix = bytes(c if chr(c) in _NAME_SAFE else ord("_") for c in raw[:48]).decode()
    if prefix[:1] in (".", "-"):
        prefix = "_" + prefix[1:]
    digest = hashlib.sha256(raw).hexdigest()[:32]
    return prefix + "-" + digest if prefix else digest


def read_text(path):
    """A small file's text without surrounding white space, "" when it does not exist."""
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


def process_gone(pid):
    """True when pid no longer runs (it does not exist or is a zombie nobody reaped yet)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except (FileNotFoundError, ProcessLookupError):
        return True


def local_agent_pid(data_dir):
    """The pid of the local agent an HA server started (DATA_DIR/agent/agent.lock holds it), or None when none
    runs."""
    try:
        with open(os.path.join(data_dir, "agent", "agent.lock")) as f:
            pid = int(f.read().split()[0])
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmdline = f.read().split(b"\0")
    except (OSError, ValueError, IndexError):
        return None
    if os.path.join(data_dir, "agent").encode() not in cmdline or process_gone(pid):
        return None
    return pid


def stop_local_agent(data_dir, timeout=10):
    """Stop the local agent of an HA server (it outlives its server by design): SIGTERM, SIGKILL after timeout."""
    pid = local_agent_pid(data_dir)
    if pid is None:
        return
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while not process_gone(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    if not process_gone(pid):
        os.kill(pid, signal.SIGKILL)


def kill_executor(data_dir, task_id):
    """kill -9 the executor of a running task (its journal, work/NAME.pid, names it): its task goes on, but nobody
    will learn how it ends. Returns the executor's pid."""
    with open(os.path.join(data_dir, "work", run_file_name(task_id) + ".pid")) as f:
        pid = int(f.read().split()[0])
    os.kill(pid, signal.SIGKILL)
    return pid


_NAME_SAFE = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-")


def now_ms():
    return int(time.time() * 1000)


def iso_ms(ms):
    """UTC epoch ms as ISO 8601 with millis (2026-01-01T00:00:00.000Z)."""
    dt = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def parse_iso_ms(text):
    """The inverse of iso_ms."""
    return int(datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
               .replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def sanitizer_lines(text):
    return [line for line in text.splitlines() if SANITIZER_RE.search(line)]


def http_request(host, port, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT, context=None):
    """One HTTP request on a fresh connection: (status, {lower-case header: value}, body bytes); HTTPS with an
    ssl.SSLContext."""
    if isinstance(body, str):
        body = body.encode()
    if context is not None:
        conn = http.client.HTTPSConnection(host, port, timeout=timeout, context=context)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        conn.request(method, path, body=body, headers=dict(headers or {}))
        resp = conn.getresponse()
        data = resp.read()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        return resp.status, hdrs, data
    finally:
        conn.close()


class ServerError(Exception):
    pass


class Server:
    """A gnomon server process. Use as a context manager, or call start()/close()."""

    def __init__(self, args=(), env=None, port=None, start=True, hostname=None, host="127.0.0.1", context=None):
        require_binary()
        self.host = host
        self.context = context  # an ssl.SSLContext: the server speaks HTTPS (--tls-cert)
        self.root = tempfile.mkdtemp(prefix="gnomon-it-")
        self.data_dir = os.path.join(self.root, "data")
        self.extra_args = list(args)
        self.extra_env = dict(env or {})
        self.hostname = hostname
        self.port = port
        self.fixed_port = port is not None
        self.proc = None
        self.starts = 0
        self.log_paths = []
        self.final_log = None
        self.closed = False
        if start:
            try:
                self.start()
            except BaseException:
                self.close(check=False)
                raise

    # --- process control -------------------------------------------------------------------------------

    def command(self):
        cmd = [BIN, "server", "--http-port", str(self.port), "--data-dir", self.data_dir, "--log-level", "debug"]
        if self.hostname:
            cmd += ["--hostname", self.hostname]
        return cmd + self.extra_args

    def start(self):
        """Start (or start again, same data dir and port) and wait until GET /ping answers pong."""
        assert self.proc is None, "server already running"
        # The first start of a server without a fixed port retries on another port if a race took it; a
        # restart keeps its port (clients know it) and retries it a few times.
        pick = self.starts == 0 and not self.fixed_port
        attempts = 5
        for attempt in range(attempts):
            if self.port is None or (pick and attempt > 0):
                self.port = free_port()
            if self._spawn_and_wait():
                self.starts += 1
                return self
        raise ServerError("server did not start after %d attempts\n%s" % (attempts, self.log_tail()))

    def _spawn_and_wait(self):
        """True once /ping answers; False if the process exited because the port was taken."""
        log_path = os.path.join(self.root, "server-%d.log" % (len(self.log_paths) + 1))
        self.log_paths.append(log_path)
        env = dict(os.environ)
        env.update(self.extra_env)
        with open(log_path, "wb") as logf:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                         env=env, cwd=self.root, preexec_fn=_die_with_parent)
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.proc = None
                text = self._read(log_path)
                self._check_sanitizers(text)
                if BIND_FAIL_RE.search(text):
                    time.sleep(0.1)
                    return False
                raise ServerError("server exited with status %d during start-up\n%s" % (rc, text[-4000:]))
            try:
                status, _, body = http_request(self.host, self.port, "GET", "/ping", timeout=2,
                                               context=self.context)
                if status == 200 and body.strip() == b"pong":
                    return True
            except (OSError, http.client.HTTPException):
                pass
            time.sleep(0.02)
        self._terminate(check=False)
        raise ServerError("server did not answer /ping within %.0f s\n%s" % (START_TIMEOUT, self.log_tail()))

    def stop(self, check=True):
        """Graceful stop: SIGTERM, SIGKILL after a few seconds. With check, assert exit 0 and a clean log."""
        self._terminate(check=check)

    def _terminate(self, check):
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is not None:
            if check:
                raise AssertionError("server had already exited (status %d) before it was stopped\n%s"
                                     % (proc.returncode, self.log_tail()))
        else:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                if check:
                    raise AssertionError("server ignored SIGTERM for %.0f s\n%s" % (STOP_TIMEOUT, self.log_tail()))
        text = self._read(self.log_paths[-1])
        if check:
            self._check_sanitizers(text)
            if proc.returncode != 0:
                raise AssertionError("server exited with status %d after SIGTERM\n%s"
                                     % (proc.returncode, text[-4000:]))

    def restart(self):
        self.stop()
        return self.start()

    def kill9(self):
        """SIGKILL the server (no chance to clean up); the sanitizer log is still checked."""
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is not None:
            raise AssertionError("server had already exited (status %d) before SIGKILL\n%s"
                                 % (proc.returncode, self.log_tail()))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        self._check_sanitizers(self._read(self.log_paths[-1]))

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def close(self, check=True):
        """Stop the process if running and remove the temporary directory (keeps the log in final_log)."""
        if self.closed:
            return
        try:
            self._terminate(check=check)
        finally:
            stop_local_agent(self.data_dir)
            agent_log = self._read(os.path.join(self.data_dir, "agent.log"))
            self.final_log = self.log()
            self.closed = True
            shutil.rmtree(self.root, ignore_errors=True)
        if check and sanitizer_lines(agent_log):
            raise AssertionError("sanitizer report in the local agent's log:\n%s" % agent_log[-6000:])

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close(check=exc_type is None)
        return False

    def _check_sanitizers(self, text):
        bad = sanitizer_lines(text)
        if bad:
            raise AssertionError("sanitizer report in server log:\n%s\n%s" % ("\n".join(bad), text[-6000:]))

    # --- logs --------------------------------------------------------------------------------------------

    @staticmethod
    def _read(path):
        try:
            with open(path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def log(self):
        """Text of every start's stderr, oldest first."""
        if self.final_log is not None:
            return self.final_log
        parts = []
        for i, p in enumerate(self.log_paths):
            parts.append("----- server start %d (%s) -----\n" % (i + 1, os.path.basename(p)) + self._read(p))
        agent = self._read(os.path.join(self.data_dir, "agent.log"))
        if agent:  # an HA server's local agent (server_agent.h)
            parts.append("----- its local agent (agent.log) -----\n" + agent)
        return "".join(parts)

    def current_log(self):
        return self._read(self.log_paths[-1]) if self.log_paths else ""

    def log_tail(self, chars=6000):
        return self.log()[-chars:]

    # --- HTTP --------------------------------------------------------------------------------------------

    @property
    def url(self):
        return "%s://%s:%d" % ("https" if self.context else "http", self.host, self.port)

    def request(self, method, path, body=None, headers=None, timeout=REQUEST_TIMEOUT):
        """(status, {lower-case header: value}, body bytes). A dict/list body is sent as JSON."""
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = jsonlib.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        elif body is not None:
            headers.setdefault("Content-Type", "application/json")
        return http_request(self.host, self.port, method, path, body, headers, timeout, context=self.context)

    def call(self, method, path, body=None, headers=None):
        """(status, {lower-case header: value}, the body parsed as JSON, or as it came when it is empty or not JSON),
        with headers of the caller's (credentials); a dict/list body is sent as JSON."""
        status, hdrs, data = self.request(method, path, body, headers)
        return status, hdrs, parse_json(data) if data else data

    def json(self, method, path, body=None):
        """(status, parsed JSON body or None when the body is empty or not JSON)."""
        status, _, data = self.request(method, path, body)
        return status, parse_json(data)

    def ping(self):
        try:
            status, _, body = self.request("GET", "/ping", timeout=5)
            return status == 200 and body == b"pong\n"
        except (OSError, http.client.HTTPException):
            return False


def parse_json(data):
    if not data:
        return None
    try:
        return jsonlib.loads(data)
    except ValueError:
        return None


class GnomonTestCase(unittest.TestCase):
    """Base class: self.server is a fresh server per test (unless server_args is None); on failure the logs of
    every server the test started are printed."""

    server_args = ()

    def setUp(self):
        self._servers = []
        if self.server_args is not None:
            self.server = self.new_server(self.server_args)

    def new_server(self, args=(), **kw):
        srv = Server(args, **kw)
        self._servers.append(srv)
        self.addCleanup(srv.close)
        return srv

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        seen = (len(result.failures), len(result.errors))
        self._servers = []
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            # the failure first (what a truncated CI excerpt shows), then the logs that explain it
            for _, trace in result.failures[seen[0]:] + result.errors[seen[1]:]:
                sys.stderr.write("\n===== %s failed: =====\n%s\n" % (self.id(), trace.strip()[-3000:]))
            for i, srv in enumerate(getattr(self, "_servers", [])):
                sys.stderr.write("\n===== %s: log of server %d (tail) =====\n%s\n"
                                 % (self.id(), i + 1, srv.log_tail()))
        return out

    # --- helpers --------------------------------------------------------------------------------------

    def post_job(self, job, kind=None, srv=None, prefix="/v1/scheduler"):
        """POST a job; kind defaults to dependency when it has parents. Returns (status, parsed body)."""
        srv = srv or self.server
        if kind is None:
            kind = "dependency" if isinstance(job, dict) and "parents" in job else "iso8601"
        return srv.json("POST", "%s/%s" % (prefix, kind), job)

    def add_job(self, job, kind=None, srv=None):
        status, body = self.post_job(job, kind, srv)
        self.assertEqual(status, 204, "POST %r: %r" % (job, body))
        return job

    def get_job(self, name, srv=None):
        status, body = (srv or self.server).json("GET", "/v1/scheduler/job/" + name)
        self.assertEqual(status, 200, body)
        return body

    def list_jobs(self, srv=None):
        status, body = (srv or self.server).json("GET", "/v1/scheduler/jobs")
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body, list)
        return body

    def job_names(self, srv=None):
        return [j["name"] for j in self.list_jobs(srv)]

    def assertError(self, status, body, code=400, prefix=None, contains=(), srv=None):
        """The JSON error shape with this status code, a message starting with prefix and containing each
        of contains; the server must still answer /ping afterwards."""
        self.assertEqual(status, code, body)
        self.assertIsInstance(body, dict, "error body is not a JSON object")
        self.assertEqual(list(body.keys()), ["status", "message"], body)
        expected = {400: ("Bad Request",), 404: ("Not Found",), 405: ("Method Not Allowed",),
                    413: ("Payload Too Large", "Request Entity Too Large")}.get(code)
        if expected:
            self.assertIn(body["status"], expected, body)
        self.assertIsInstance(body["message"], str)
        self.assertTrue(body["message"], "empty error message")
        if prefix is not None:
            self.assertTrue(body["message"].startswith(prefix),
                            "message %r does not start with %r" % (body["message"], prefix))
        if isinstance(contains, str):
            contains = (contains,)
        for part in contains:
            self.assertIn(part, body["message"])
        self.assertTrue((srv or self.server).ping(), "server stopped answering /ping after an error")

    def assertSameJson(self, got, expected, path="$"):
        """Deep equality that also checks key order and JSON types (True is not 1, 128 is not 128.0)."""
        if isinstance(expected, dict):
            self.assertIsInstance(got, dict, "%s: %r" % (path, got))
            self.assertEqual(list(got.keys()), list(expected.keys()), "%s: keys or their order differ" % path)
            for k in expected:
                self.assertSameJson(got[k], expected[k], "%s.%s" % (path, k))
        elif isinstance(expected, list):
            self.assertIsInstance(got, list, "%s: %r" % (path, got))
            self.assertEqual(len(got), len(expected), "%s: %r != %r" % (path, got, expected))
            for i, (g, e) in enumerate(zip(got, expected)):
                self.assertSameJson(g, e, "%s[%d]" % (path, i))
        else:
            self.assertIs(type(got), type(expected), "%s: %r is not of the type of %r" % (path, got, expected))
            self.assertEqual(got, expected, path)

    def assertBadRequest(self, status, body, prefix=None, contains=(), srv=None):
        self.assertError(status, body, 400, prefix, contains, srv)


def sched(name, command="true", schedule="R/2030-01-01T00:00:00Z/P1D", **fields):
    job = {"name": name, "command": command, "schedule": schedule}
    job.update(fields)
    return job


def dep(name, parents, command="true", **fields):
    job = {"name": name, "command": command, "parents": list(parents)}
    job.update(fields)
    return job


# Every field of the job JSON, in the order gnomon serializes it (Chronos 3.x order, then epsilon and async),
# with non-default values: posting it and reading it back must give exactly this.
def full_job(name="full-job.1"):
    return {
        "name": name,
        "command": "echo hello",
        "shell": False,
        "executor": "",
        "executorFlags": "",
        "taskInfoData": "",
        "retries": 5,
        "owner": "ops@example.com, dev@example.com",
        "ownerName": "Ops Team",
        "description": "a job with every field set",
        "successCount": 3,
        "errorCount": 1,
        "lastSuccess": "2014-03-08T16:57:17.507Z",
        "lastError": "2014-03-07T10:00:00.000Z",
        "cpus": 0.5,
        "disk": 512.0,
        "mem": 64.0,
        "disabled": True,
        "softError": True,
        "dataProcessingJobType": True,
        "errorsSinceLastSuccess": 0,
        "fetch": [{"uri": "https://example.com/a.tgz", "executable": True, "cache": True, "extract": False,
                   "output_file": "b.tgz"}],
        "uris": [],
        "environmentVariables": [{"name": "FOO", "value": "bar baz"}],
        "arguments": ["-a", "1"],
        "highPriority": True,
        "runAsUser": "nobody",
        "concurrent": True,
        "maxCompletionTime": 3600,
        "container": {"type": "DOCKER", "image": "busybox:latest", "network": "BRIDGE", "networkInfos": [],
                      "volumes": [{"hostPath": "/tmp", "containerPath": "/data", "mode": "RO"}],
                      "forcePullImage": True, "parameters": [{"key": "memory", "value": "1g"}]},
        "constraints": [["hostname", "EQUALS", "node1"]],
        "schedule": "R5/2030-03-01T13:00:00Z/P1D",
        "scheduleTimeZone": "Europe/Paris",
        "epsilon": "PT30S",
        "async": True,
        "retryDelay": "PT30S",
        "retryBackoff": 2.0,
        "notifyOn": "always",
    }


# What GET returns for {"name", "command", "schedule"} alone: every default filled in.
def default_job(name, command="true", schedule="R/2030-01-01T00:00:00Z/P1D"):
    return {
        "name": name, "command": command, "shell": True, "executor": "", "executorFlags": "", "taskInfoData": "",
        "retries": 2, "owner": "", "ownerName": "", "description": "", "successCount": 0, "errorCount": 0,
        "lastSuccess": "", "lastError": "", "cpus": 0.1, "disk": 256.0, "mem": 128.0, "disabled": False,
        "softError": False, "dataProcessingJobType": False, "errorsSinceLastSuccess": 0, "fetch": [], "uris": [],
        "environmentVariables": [], "arguments": [], "highPriority": False, "runAsUser": pwd.getpwuid(os.geteuid()).pw_name,
        "concurrent": False, "maxCompletionTime": 0, "constraints": [], "schedule": schedule,
        "scheduleTimeZone": "", "epsilon": "PT60S", "async": False, "retryDelay": "", "retryBackoff": 1.0,
        "notifyOn": "failure",
    }


def main():
    require_binary()
    unittest.main(verbosity=2)
