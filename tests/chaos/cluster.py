"""The cluster under test, a namespace a node (netns.py): three ZooKeeper nodes (Debian's zookeeper package, as
tests/integration/zk_harness.py runs it), one PostgreSQL, three `gnomon server` on both and three `gnomon agent`.

Every node has its own address and listens on it (ZooKeeper on 2181/2888/3888, PostgreSQL on 5432, gnomon on
4400); the servers are given `--http-address` their address, which is also what they advertise as the leader
(`--advertise-address` defaults to it with `--zk-hosts`), and `--insecure-open` (the suite's network has nobody
else on it); the agents, reaching the servers from other namespaces, present the shared `--agent-token-file`.
Each process's log is DIR/NODE.log. start(node) and kill(node) (SIGKILL; PostgreSQL's an immediate shutdown, as
a crash) work on any node; pause(node)/resume(node) send SIGSTOP/SIGCONT.

Each agent's data directory DIR/AGENT-data is a tmpfs of its own (AGENT_DISK bytes), so that the nemesis can fill
it (fill(agent), empty(agent)); the runs' side-effect file in it (DATA_DIR/chaos-effects) is a link to
DIR/AGENT.effects, on the real disk, which a full data directory does not stop. close() copies each agent's data
directory to DIR/AGENT-data.kept (the fill left out) and unmounts it; netns.cleanup_leftovers() unmounts what a
crashed run left.

Servers and agents run under libfaketime (LD_PRELOAD; where it is installed) with a FAKETIME_TIMESTAMP_FILE of
their own, DIR/NODE.faketime, "+0" until skew(node, seconds) rewrites it (read again every FAKETIME_CACHE_S; the
monotonic clock is left alone, FAKETIME_DONT_FAKE_MONOTONIC). Runs' commands do not see it: gnomon builds their
environment from scratch, and its executors start with an empty one, so the side-effect lines keep the true time.
"""

import json
import os
import pwd
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, os.path.join(HERE, "..", "support"))
from pg_cluster import as_server_user, pg_bin  # noqa: E402
from zk_harness import JAVA, SLF4J_SIMPLE, ZK_JAR, require_zookeeper  # noqa: E402

ZK = ("zk1", "zk2", "zk3")
SERVERS = ("s1", "s2", "s3")
AGENTS = ("a1", "a2", "a3")
PG = "pg"
CONTROL = "ctl"  # the suite's own node: it adds jobs, watches the leader, reads the history
NODES = ZK + (PG,) + SERVERS + AGENTS + (CONTROL,)
ZK_TIMEOUT_MS = 4000
AGENT_TIMEOUT_S = 10  # the servers' --agent-timeout
AGENT_LEASE_S = 6
HTTP_PORT = 4400
AGENT_DISK = 64 << 20
FILL = "chaos-fill"
FAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"
FAKETIME_CACHE_S = 1
EFFECTS = "chaos-effects"
TOKEN = "chaos-suite-agent-token-0123456789"


def http(url, method="GET", body=None, timeout=2.0):
    """(status, parsed JSON or text); (None, error) when nothing answered."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            status, raw = r.status, r.read()
    except urllib.error.HTTPError as e:
        status, raw = e.code, e.read()
    except (OSError, ValueError) as e:
        return None, str(e)
    try:
        return status, json.loads(raw or b"null")
    except ValueError:
        return status, raw.decode("utf-8", "replace")


class Cluster:
    def __init__(self, net, top, binary):
        self.net, self.top, self.bin = net, top, binary
        self.procs = {}
        self.mounts = []  # the agents' data directories
        self.db = "postgresql://gnomon@%s:5432/gnomon" % net.addr[PG]
        os.chmod(top, 0o755)
        self.token_file = os.path.join(top, "agent-token")
        with open(self.token_file, "w") as f:
            f.write(TOKEN + "\n")

    def log(self, node):
        return os.path.join(self.top, node + ".log")

    def url(self, server):
        return "http://%s:%d" % (self.net.addr[server], HTTP_PORT)

    # --- starting -------------------------------------------------------------------------------------

    def setup(self):
        """Every node started, in order; returns once ZooKeeper has a quorum, one server leads and every agent
        is up."""
        require_zookeeper()
        self.setup_pg()
        for z in ZK:
            self.setup_zk(z)
            self.start(z)
        self.start(PG)
        wait(lambda: self.psql("SELECT 1", database="postgres") == [["1"]], 30, "PostgreSQL accepting connections")
        self.psql_admin("CREATE DATABASE gnomon")
        wait(self.zk_quorum, 60, "a ZooKeeper quorum")
        for s in SERVERS:
            self.start(s)
        wait(self.leader, 60, "one gnomon server leading")
        for a in AGENTS:
            self.setup_disk(a)
            self.start(a)
        wait(lambda: len(self.agents_up()) == len(AGENTS), 60, "every agent up")

    def setup_disk(self, agent):
        d = os.path.join(self.top, agent + "-data")
        os.makedirs(d)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%d,mode=0755" % AGENT_DISK, "gch-" + agent, d],
                       check=True, capture_output=True)
        self.mounts.append(d)
        os.symlink(self.effects_path(agent), os.path.join(d, EFFECTS))

    def effects_path(self, agent):
        return os.path.join(self.top, agent + ".effects")

    def fill(self, agent):
        """Every free block of agent's data directory taken by one file; the bytes it took."""
        d = os.path.join(self.top, agent + "-data")
        st = os.statvfs(d)
        fd = os.open(os.path.join(d, FILL), os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            os.posix_fallocate(fd, 0, st.f_bavail * st.f_frsize)
        finally:
            os.close(fd)
        return st.f_bavail * st.f_frsize

    def empty(self, agent):
        os.unlink(os.path.join(self.top, agent + "-data", FILL))

    def setup_zk(self, z):
        d = os.path.join(self.top, z)
        os.makedirs(os.path.join(d, "data"), exist_ok=True)
        with open(os.path.join(d, "data", "myid"), "w") as f:
            f.write("%d\n" % (ZK.index(z) + 1))
        servers = "".join("server.%d=%s:2888:3888\n" % (i + 1, self.net.addr[n]) for i, n in enumerate(ZK))
        with open(os.path.join(d, "zoo.cfg"), "w") as f:
            f.write("tickTime=500\ninitLimit=10\nsyncLimit=4\nmaxSessionTimeout=60000\ndataDir=%s\n"
                    "clientPort=2181\nclientPortAddress=%s\nadmin.enableServer=false\n"
                    "4lw.commands.whitelist=srvr,ruok,mntr,cons\nautopurge.purgeInterval=0\n%s"
                    % (os.path.join(d, "data"), self.net.addr[z], servers))

    def setup_pg(self):
        d = os.path.join(self.top, "pg")
        os.makedirs(os.path.join(d, "sock"))
        pw = pwd.getpwnam("postgres")
        for p in (d, os.path.join(d, "sock")):
            os.chown(p, pw.pw_uid, pw.pw_gid)
        subprocess.run(as_server_user([os.path.join(pg_bin(), "initdb"), "-D", os.path.join(d, "data"), "-U",
                                       "gnomon", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]),
                       check=True, stdout=subprocess.DEVNULL)
        hba = "host all all %s.0/24 trust\n" % self.net.addr[PG].rsplit(".", 1)[0]
        subprocess.run(as_server_user(["sh", "-c", "cat >> %s" % os.path.join(d, "data", "pg_hba.conf")]),
                       input=hba.encode(), check=True)

    def command(self, node):
        if node in ZK:
            d = os.path.join(self.top, node)
            return [JAVA, "-Xmx128m", "-Xms16m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xss512k",
                    "-XX:-UsePerfData", "-Djava.net.preferIPv4Stack=true", "-Dzookeeper.log.dir=" + d,
                    "-Dorg.slf4j.simpleLogger.showDateTime=true", "-cp", ZK_JAR + ":" + SLF4J_SIMPLE,
                    "org.apache.zookeeper.server.quorum.QuorumPeerMain", os.path.join(d, "zoo.cfg")]
        if node == PG:
            d = os.path.join(self.top, "pg")
            return [os.path.join(pg_bin(), "postgres"), "-D", os.path.join(d, "data"), "-c",
                    "listen_addresses=" + self.net.addr[PG], "-c", "port=5432", "-c",
                    "unix_socket_directories=" + os.path.join(d, "sock"), "-c", "fsync=off", "-c",
                    "full_page_writes=off", "-c", "max_connections=60", "-c", "shared_buffers=16MB"]
        d = os.path.join(self.top, node + "-data")
        if node in SERVERS:
            return [self.bin, "server", "--http-address", self.net.addr[node], "--http-port", str(HTTP_PORT),
                    "--insecure-open", "--data-dir", d, "--zk-hosts",
                    ",".join("%s:2181" % self.net.addr[z] for z in ZK), "--zk-path", "/gnomon-chaos",
                    "--zk-timeout", str(ZK_TIMEOUT_MS), "--state", self.db, "--local-agent=false",
                    "--agent-token-file", self.token_file, "--agent-timeout", str(AGENT_TIMEOUT_S),
                    "--failure-retry", "1000", "--log-level", "debug"]
        return [self.bin, "agent", "--server", ",".join(self.url(s) for s in SERVERS), "--data-dir", d,
                "--name", node, "--agent-token-file", self.token_file, "--cpus", "4", "--mem", "4096",
                "--disk", "10240", "--lease", str(AGENT_LEASE_S), "--log-level", "debug"]

    def start(self, node):
        assert not self.running(node), node
        self.procs[node] = self.net.spawn(node, self.command(node), self.log(node), env=self.env(node),
                                          user="postgres" if node == PG else None)

    def can_skew(self):
        return os.path.exists(FAKETIME)

    def faketime(self, node):
        return os.path.join(self.top, node + ".faketime")

    def env(self, node):
        """A server's or an agent's environment: libfaketime on its own file (None: inherit, for the others)."""
        if node not in SERVERS + AGENTS or not self.can_skew():
            return None
        if not os.path.exists(self.faketime(node)):
            self.skew(node, 0)
        return dict(os.environ, LD_PRELOAD=FAKETIME, FAKETIME_TIMESTAMP_FILE=self.faketime(node),
                    FAKETIME_CACHE_DURATION=str(FAKETIME_CACHE_S), FAKETIME_DONT_FAKE_MONOTONIC="1",
                    FAKETIME_DISABLE_SHM="1",
                    ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "") + ":verify_asan_link_order=0")

    def skew(self, node, seconds):
        """node's wall clock seconds off the true one from now on (within FAKETIME_CACHE_S)."""
        path = self.faketime(node)
        with open(path + ".new", "w") as f:
            f.write("%+d\n" % seconds)
        os.replace(path + ".new", path)

    def running(self, node):
        p = self.procs.get(node)
        return p is not None and p.poll() is None

    def kill(self, node):
        p = self.procs.pop(node)
        if node == PG:
            # the postmaster (runuser's child): an immediate shutdown, which ends its backends too and leaves a
            # crash recovery for the next start (a SIGKILL would leave the backends holding its shared memory)
            with open(os.path.join(self.top, "pg", "data", "postmaster.pid")) as f:
                os.kill(int(f.readline()), signal.SIGQUIT)
        else:
            os.kill(p.pid, signal.SIGKILL)  # `ip netns exec` execs: the pid is the node's process
        p.wait()

    def pause(self, node):
        os.kill(self.procs[node].pid, signal.SIGSTOP)

    def resume(self, node):
        os.kill(self.procs[node].pid, signal.SIGCONT)

    # --- looking at it --------------------------------------------------------------------------------

    def zk_mode(self, z):
        try:
            with socket.create_connection((self.net.addr[z], 2181), timeout=1) as s:
                s.sendall(b"srvr")
                data = s.makefile("rb").read().decode("utf-8", "replace")
        except OSError:
            return None
        for line in data.splitlines():
            if line.startswith("Mode: "):
                return line[6:].strip()
        return None

    def zk_quorum(self):
        modes = [self.zk_mode(z) for z in ZK]
        return modes.count("leader") == 1 and modes.count("follower") == len(ZK) - 1

    def cluster_view(self, server, timeout=0.5):
        status, body = http(self.url(server) + "/api/v1/cluster", timeout=timeout)
        return body if status == 200 and isinstance(body, dict) else None

    def leader(self):
        """The one server that says it leads, or None."""
        leading = [s for s in SERVERS if self.running(s) and (self.cluster_view(s) or {}).get("leading")]
        return leading[0] if len(leading) == 1 else None

    def agents_up(self):
        leader = self.leader()
        if not leader:
            return []
        status, body = http(self.url(leader) + "/api/v1/agents")
        return [a["name"] for a in body if a.get("state") == "up"] if status == 200 else []

    def psql(self, sql, database="gnomon"):
        """The rows of one query as lists of strings, or None when PostgreSQL does not answer."""
        p = subprocess.run([os.path.join(pg_bin(), "psql"), "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1",
                            "-c", sql, "postgresql://gnomon@%s:5432/%s?connect_timeout=2" %
                            (self.net.addr[PG], database)], capture_output=True, text=True)
        return [line.split("\t") for line in p.stdout.splitlines()] if p.returncode == 0 else None

    def psql_admin(self, sql):
        if self.psql(sql, database="postgres") is None:
            raise RuntimeError("psql failed: " + sql)

    def close(self):
        for node in list(self.procs):
            p = self.procs.pop(node)
            if p.poll() is None:
                try:
                    os.kill(p.pid, signal.SIGCONT)
                    os.kill(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        for d in self.mounts:
            subprocess.run(["cp", "-a", d, d + ".kept"], capture_output=True)
            try:
                os.unlink(os.path.join(d + ".kept", FILL))
            except FileNotFoundError:
                pass
            subprocess.run(["umount", "-l", d], check=False, capture_output=True)
        self.mounts = []


def wait(cond, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() >= deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(interval)
