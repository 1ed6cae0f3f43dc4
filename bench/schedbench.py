"""Shared helpers of the scheduler benchmarks (bench/lateness, bench/throughput, bench/scale); not a benchmark.

A Bench owns one temporary directory, the gnomon servers started in it and the reference program compiled into
it (bench/spawnref.c); closing it (also on Ctrl-C, SIGTERM or an error) stops the servers and removes the
directory.
"""
import datetime
import http.client
import json
import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.dirname(os.path.abspath(__file__))


def progress(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def now_ms():
    return time.time_ns() // 1_000_000


def iso(ms):
    """UTC ISO 8601 with milliseconds, as gnomon and Chronos write it."""
    d = datetime.datetime.fromtimestamp(ms // 1000, datetime.timezone.utc)
    return d.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


def pct(values, p):
    """Nearest-rank percentile of a sorted list (the same rule as spawnref.c)."""
    if not values:
        return float("nan")
    i = min(len(values) - 1, max(0, int(p * len(values) + 0.999999) - 1))
    return values[i]


def dist(values):
    v = sorted(values)
    return {"n": len(v), "p50": pct(v, 0.50), "p99": pct(v, 0.99), "max": v[-1] if v else float("nan")}


def ms_ratio(late_ms, ref_us):
    """gnomon's whole-ms lateness L (really L to L+1 ms) over the reference's microseconds, as a range."""
    if ref_us <= 0:
        return "n/a (reference 0)"
    return f"{late_ms * 1000 / ref_us:.1f}-{(late_ms + 1) * 1000 / ref_us:.1f}x"


def fmt_counts(d):
    return ", ".join(f"{k} {v:,}" for k, v in sorted(d.items(), key=lambda kv: -kv[1])) or "none"


def ping(port, timeout=5):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        c.request("GET", "/ping")
        ok = c.getresponse().read().startswith(b"pong")
        c.close()
        return ok
    except OSError:
        return False


class Server:
    def __init__(self, bench, name, extra):
        self.bench = bench
        self.data = os.path.join(bench.tmp, name)
        self.port = free_port()
        self.extra = list(extra)
        self.log_path = os.path.join(bench.tmp, name + ".log")
        self.proc = None

    def start(self, timeout=300):
        """Start the server; returns the seconds from the process's start until /ping answers."""
        log = open(self.log_path, "a")
        t0 = time.monotonic()
        self.proc = subprocess.Popen([self.bench.binary, "server", "--http-port", str(self.port), "--data-dir",
                                      self.data, "--log-level", "warn"] + self.extra, stderr=log,
                                     stdout=subprocess.DEVNULL, start_new_session=True)
        log.close()
        while time.monotonic() < t0 + timeout:
            if ping(self.port):
                return time.monotonic() - t0
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited with status {self.proc.returncode}; log:\n{self.log_tail()}")
            time.sleep(0.005)
        raise SystemExit("server did not answer /ping")

    def stop(self, timeout=120):
        """SIGTERM and wait; returns the seconds the server took to exit."""
        if self.proc is None or self.proc.poll() is not None:
            return 0.0
        t0 = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            progress(f"server did not stop within {timeout} s of SIGTERM: killing it")
            self.proc.kill()
            self.proc.wait()
        rc = self.proc.returncode
        if rc != 0:
            progress(f"server exited with status {rc}")
        return time.monotonic() - t0

    def kill(self):
        """Cleanup: SIGTERM, and SIGKILL to its process group if it is not gone within 10 s (or on Ctrl-C)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
            return
        except (subprocess.TimeoutExpired, KeyboardInterrupt):
            pass
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # its own session: the server (tasks have their own groups)
        except ProcessLookupError:
            pass
        self.proc.wait()

    def rss_mib(self):
        return rss_mib(self.proc.pid)

    def probe_ping(self, every=1.0):
        """Time GET /ping every `every` seconds on a thread until the returned stop() is called; stop() returns
        the latencies in ms (a /ping that got no answer within 120 s counts as 120,000 ms)."""
        halt, lat = threading.Event(), []

        def loop():
            while not halt.is_set():
                t0 = time.monotonic()
                ok = ping(self.port, timeout=120)
                lat.append((time.monotonic() - t0) * 1000 if ok else 120000.0)
                halt.wait(every)

        th = threading.Thread(target=loop, daemon=True)
        th.start()

        def stop():
            halt.set()
            th.join(130)
            return lat
        return stop

    def log_tail(self, n=20):
        try:
            with open(self.log_path) as f:
                return "".join(f.readlines()[-n:])
        except OSError:
            return ""

    def log_lines(self):
        try:
            with open(self.log_path) as f:
                return f.readlines()
        except OSError:
            return []

    def db(self, readonly=True):
        path = os.path.join(self.data, "gnomon.db")
        if readonly:
            return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
        return sqlite3.connect(path, timeout=30)

    def load(self, make_job, n, clients=4, report_every=0):
        """POST jobs 0..n-1 (make_job(i) gives each) over `clients` keep-alive connections; returns seconds."""
        errors, done = [], [0]
        lock = threading.Lock()
        per = (n + clients - 1) // clients

        def worker(first, last):
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            hdr = {"Content-Type": "application/json"}
            for i in range(first, last):
                c.request("POST", "/v1/scheduler/iso8601", json.dumps(make_job(i)), hdr)
                r = c.getresponse()
                body = r.read()
                if r.status != 204:
                    errors.append((i, r.status, body[:200]))
                    if len(errors) > 10:
                        return
                if (i - first) % 1000 == 999:
                    with lock:
                        done[0] += 1000
            c.close()

        threads = [threading.Thread(target=worker, args=(k * per, min(n, (k + 1) * per)), daemon=True)
                   for k in range(clients)]
        t0 = time.monotonic()
        for t in threads:
            t.start()
        last = 0
        while any(t.is_alive() for t in threads):
            for t in threads:
                t.join(1)
            if report_every and done[0] - last >= report_every:
                last = done[0]
                el = time.monotonic() - t0
                progress(f"loaded {done[0]:,} of {n:,} jobs ({done[0] / el:,.0f}/s)")
        if errors:
            raise SystemExit(f"{len(errors)} POSTs failed, first: {errors[:3]}")
        return time.monotonic() - t0


class Bench:
    def __init__(self, binary):
        if not os.access(binary, os.X_OK):
            raise SystemExit(f"{binary}: not an executable (build it, or give --bin)")
        self.binary = os.path.abspath(binary)
        self.tmp = tempfile.mkdtemp(prefix="gnomon-bench-")
        self.servers = []
        self.ref = None
        self._old_term = signal.signal(signal.SIGTERM, self._on_term)

    @staticmethod
    def _on_term(signum, frame):
        raise SystemExit(128 + signum)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for s in self.servers:
            s.kill()
        if os.environ.get("GNOMON_BENCH_KEEP"):
            progress(f"GNOMON_BENCH_KEEP is set: {self.tmp} is left for inspection")
        else:
            shutil.rmtree(self.tmp, ignore_errors=True)
        signal.signal(signal.SIGTERM, self._old_term)
        return False

    def server(self, name, *extra):
        s = Server(self, name, extra)
        self.servers.append(s)
        return s

    def compile(self, source, *flags):
        """Compile bench/SOURCE (cc -O2, then flags: libraries, -I) into the temporary directory; returns the
        program's path."""
        cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
        if not cc:
            raise SystemExit(f"no C compiler (cc) to build bench/{source}")
        prog = os.path.join(self.tmp, os.path.splitext(source)[0])
        subprocess.run([cc, "-O2", "-o", prog, os.path.join(HERE, source)] + list(flags), check=True)
        return prog

    def spawnref(self, *args):
        """Run the reference program (compiled on first use) and return its JSON answer."""
        if self.ref is None:
            self.ref = self.compile("spawnref.c")
        return run_json(self.ref, *args)


def run_json(prog, *args):
    """Run a program that prints one JSON object, and return it."""
    out = subprocess.run([prog] + [str(a) for a in args], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def wait_until_ms(t_ms):
    while True:
        d = t_ms - now_ms()
        if d <= 0:
            return
        time.sleep(min(d / 1000.0, 1.0))
