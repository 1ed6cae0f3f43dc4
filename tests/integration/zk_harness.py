"""A real ZooKeeper ensemble on loopback for the HA tests (Debian's `zookeeper` package: its jars, run with
`java -cp`, no systemd, no /etc/zookeeper).

Ensemble(n) picks free ports, writes each node's zoo.cfg and myid in a temporary directory of its own, starts
every node as `java ... QuorumPeerMain zoo.cfg` in a process group of its own (small heap, serial GC, C1 only:
they start in a second or two), and wait_quorum() polls each node's `srvr` four-letter word until one leads and
the others follow. A node can be stopped, killed (SIGKILL) and started again. close() kills every process group
and removes the directory; it also runs at exit and when the test process dies (PR_SET_PDEATHSIG), so no JVM
outlives a failed test.
"""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

from gnomon_harness import free_port

ZK_JAR = "/usr/share/java/zookeeper.jar"  # its manifest's Class-Path names the other jars
SLF4J_SIMPLE = "/usr/share/java/slf4j-simple.jar"
JAVA = shutil.which("java") or "/usr/bin/java"
TICK_MS = 500  # sessions may last 2 to 20 ticks: 1 s to 10 s (maxSessionTimeout raised to 60 s below)


def require_zookeeper():
    """Exit 2 with what to install when Debian's zookeeper package is not there."""
    if not os.path.exists(ZK_JAR) or not os.access(JAVA, os.X_OK):
        sys.stderr.write("the HA tests need a real ZooKeeper: apt-get install --no-install-recommends zookeeper "
                         "(scripts/install-deps.sh test installs it)\n")
        sys.exit(2)


def _die_with_parent():
    """In the child: a process group of its own (close() kills the JVM's whole group) and SIGKILL when the test
    process dies."""
    os.setsid()
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001 - best effort
        pass


def four_letter(port, word, timeout=1.0):
    """A four-letter word's answer ("" when the node does not answer)."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(word.encode())
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                data += chunk
            return data.decode("utf-8", "replace")
    except OSError:
        return ""


def node_mode(port):
    """"leader", "follower", "standalone", or None when the node does not serve (down, or no quorum)."""
    for line in four_letter(port, "srvr").splitlines():
        if line.startswith("Mode: "):
            return line[6:].strip()
    return None


class Ensemble:
    def __init__(self, n=3, start=True):
        require_zookeeper()
        self.n = n
        self.root = tempfile.mkdtemp(prefix="gnomon-zk-")
        self.client_ports = [free_port() for _ in range(n)]
        self.peer_ports = [(free_port(), free_port()) for _ in range(n)]
        self.procs = [None] * n
        self.closed = False
        servers = "".join("server.%d=127.0.0.1:%d:%d\n" % (i + 1, q, e) for i, (q, e) in enumerate(self.peer_ports))
        for i in range(n):
            d = self.node_dir(i)
            os.makedirs(os.path.join(d, "data"))
            with open(os.path.join(d, "data", "myid"), "w") as f:
                f.write("%d\n" % (i + 1))
            with open(os.path.join(d, "zoo.cfg"), "w") as f:
                f.write("tickTime=%d\ninitLimit=10\nsyncLimit=4\nmaxSessionTimeout=60000\n"
                        "dataDir=%s\nclientPort=%d\nclientPortAddress=127.0.0.1\n"
                        "admin.enableServer=false\n4lw.commands.whitelist=srvr,ruok,mntr,cons\n"
                        "autopurge.purgeInterval=0\n%s"
                        % (TICK_MS, os.path.join(d, "data"), self.client_ports[i], servers))
        atexit.register(self.close)
        if start:
            try:
                for i in range(n):
                    self.start(i)
                self.wait_quorum()
            except BaseException:
                self.close()
                raise

    def node_dir(self, i):
        return os.path.join(self.root, "node%d" % (i + 1))

    @property
    def hosts(self):
        """The connect string: "127.0.0.1:p1,127.0.0.1:p2,127.0.0.1:p3"."""
        return ",".join("127.0.0.1:%d" % p for p in self.client_ports)

    def start(self, i):
        assert self.procs[i] is None or self.procs[i].poll() is not None, "node %d runs" % (i + 1)
        d = self.node_dir(i)
        cmd = [JAVA, "-Xmx128m", "-Xms16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
               "-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true", "-Dzookeeper.log.dir=" + d,
               "-Dorg.slf4j.simpleLogger.showDateTime=true", "-cp", ZK_JAR + ":" + SLF4J_SIMPLE,
               "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(d, "zoo.cfg")]
        log = open(os.path.join(d, "zookeeper.log"), "ab")
        try:
            self.procs[i] = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log, cwd=d,
                                             preexec_fn=_die_with_parent)
        finally:
            log.close()

    def _end(self, i, sig):
        proc, self.procs[i] = self.procs[i], None
        if proc is None or proc.poll() is not None:
            return
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            pass
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop(self, i):
        """SIGTERM node i and wait for it to exit."""
        self._end(i, signal.SIGTERM)

    def kill(self, i):
        """SIGKILL node i."""
        self._end(i, signal.SIGKILL)

    def running(self, i):
        return self.procs[i] is not None and self.procs[i].poll() is None

    def modes(self):
        return [node_mode(p) if self.running(i) else None for i, p in enumerate(self.client_ports)]

    def wait_quorum(self, timeout=60):
        """Wait until every running node serves, one of them the leader; returns the modes."""
        deadline = time.monotonic() + timeout
        while True:
            modes = self.modes()
            up = [m for i, m in enumerate(modes) if self.running(i)]
            if up and all(up) and up.count("leader") == 1 and len(up) * 2 > self.n:
                return modes
            for i in range(self.n):
                if self.procs[i] is not None and self.procs[i].poll() is not None:
                    raise AssertionError("ZooKeeper node %d exited with status %d\n%s"
                                         % (i + 1, self.procs[i].returncode, self.log_tail(i)))
            if time.monotonic() >= deadline:
                raise AssertionError("no ZooKeeper quorum after %.0f s (modes %r)\n%s"
                                     % (timeout, modes, "\n".join(self.log_tail(i) for i in range(self.n))))
            time.sleep(0.1)

    def serving(self, session_id):
        """The index of the node a client's session ("0x..." as gnomon shows it) is connected to, or None."""
        for i, port in enumerate(self.client_ports):
            if self.running(i) and ("sid=%s," % session_id) in four_letter(port, "cons"):
                return i
        return None

    def leader_index(self):
        modes = self.modes()
        return modes.index("leader") if "leader" in modes else None

    def log_tail(self, i, chars=3000):
        try:
            with open(os.path.join(self.node_dir(i), "zookeeper.log"), "rb") as f:
                return "--- ZooKeeper node %d ---\n" % (i + 1) + f.read().decode("utf-8", "replace")[-chars:]
        except OSError:
            return ""

    def close(self):
        if self.closed:
            return
        self.closed = True
        for i in range(self.n):
            self.kill(i)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False


_MODULE_ENSEMBLE = None


def module_ensemble(n=3):
    """The test module's ensemble, started at its first use (exit 2 without ZooKeeper); its tearDownModule calls
    close_module_ensemble()."""
    global _MODULE_ENSEMBLE
    if _MODULE_ENSEMBLE is None:
        require_zookeeper()
        _MODULE_ENSEMBLE = Ensemble(n)
    return _MODULE_ENSEMBLE


def close_module_ensemble():
    """Also a test module's tearDownModule: `from zk_harness import close_module_ensemble as tearDownModule`."""
    global _MODULE_ENSEMBLE
    if _MODULE_ENSEMBLE:
        _MODULE_ENSEMBLE.close()
    _MODULE_ENSEMBLE = None


def addr(srv):
    """A test server's address as the cluster names it (its ZooKeeper node, /api/v1/cluster, X-Gnomon-Leader)."""
    return "127.0.0.1:%d" % srv.port


def zk_args(hosts, path, timeout_ms):
    """The server options that put it in the cluster at path of the ensemble at hosts."""
    return ["--zk-hosts", hosts, "--zk-path", path, "--zk-timeout", str(timeout_ms)]


def serve(n):
    """The command line's `serve N`: an ensemble of N nodes for a test in another language (the browser tests).
    Prints {"hosts": "127.0.0.1:p1,..."} once it has a quorum, then takes one command a line on stdin, each
    answered by a JSON line: "kill I" (SIGKILL node I), "start I" (and wait for the quorum). The ensemble is
    closed at stdin's end, on SIGTERM, and when this process dies (the nodes die with it)."""
    import json
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with Ensemble(n) as e:
        print(json.dumps({"hosts": e.hosts}), flush=True)
        for line in sys.stdin:
            words = line.split()
            if len(words) == 2 and words[0] in ("kill", "start") and words[1].isdigit() and int(words[1]) < n:
                i = int(words[1])
                if words[0] == "kill":
                    e.kill(i)
                else:
                    e.start(i)
                    e.wait_quorum()
                print(json.dumps({words[0]: i}), flush=True)
            else:
                print(json.dumps({"error": "expected 'kill I' or 'start I', got %r" % line.strip()}), flush=True)


if __name__ == "__main__":
    if len(sys.argv) != 3 or sys.argv[1] != "serve" or not sys.argv[2].isdigit():
        sys.stderr.write("usage: zk_harness.py serve N\n")
        sys.exit(2)
    require_zookeeper()
    serve(int(sys.argv[2]))
