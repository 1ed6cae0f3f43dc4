#!/usr/bin/env python3
"""A whole HA gnomon on loopback, for trying it out (issue 13, item 10; `make cluster`): a three-node ZooKeeper
ensemble (tests/integration/zk_harness.py), a throwaway PostgreSQL (tests/support/pg_cluster.py), three
`gnomon server --zk-hosts ... --state postgres://...` and two `gnomon agent --server ...` (the servers run no
embedded agent: the agents run the jobs). It prints each server's web UI address and which one leads (again
whenever that changes), and runs until Ctrl-C (SIGINT) or SIGTERM, which stop everything: each process runs in a
process group of its own and is ended with it, also when a start fails. ZooKeeper's and PostgreSQL's files go
with them; the servers' and agents' data dirs and logs stay under the directory printed at start.

Usage: scripts/cluster.py [--bin build/gnomon] [--port 4400 (the first server's; 0: any free ports)] [--dir DIR]
"""
import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))
import pg_cluster  # noqa: E402
from gnomon_harness import free_port  # noqa: E402
from zk_harness import Ensemble, require_zookeeper  # noqa: E402

SERVERS, AGENTS = 3, 2


def say(msg):
    print(msg, flush=True)


def port_free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False


def cluster_view(port):
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        c.request("GET", "/api/v1/cluster")
        r = c.getresponse()
        body = r.read()
        c.close()
        return json.loads(body) if r.status == 200 else None
    except (OSError, ValueError, http.client.HTTPException):
        return None


class Proc:
    """A gnomon process in a process group of its own, its output in DIR/NAME.log."""

    def __init__(self, name, argv, top):
        self.name = name
        self.log = os.path.join(top, name + ".log")
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                         start_new_session=True)

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        """SIGTERM its group; SIGKILL after 10 s."""
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(wait)
            except subprocess.TimeoutExpired:
                continue
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # what its tasks left in its group
        except ProcessLookupError:
            pass


def start(args, top, procs):
    """Start everything (appended to procs as it starts); returns the servers' (name, port) and the ensemble."""
    say(f"data: {top} (each server's and agent's data dir and log)")
    say("starting ZooKeeper (three nodes) ...")
    ens = Ensemble(3)
    procs.append(ens)
    say(f"zookeeper: {ens.hosts} (files in {ens.root})")
    say("starting PostgreSQL ...")
    pg = pg_cluster.Cluster()
    procs.append(pg)
    url = pg.createdb("gnomon_cluster")
    say(f"postgresql: {url} (files in {pg.top})")
    if args.port:
        ports = [args.port + i for i in range(SERVERS)]
        taken = [p for p in ports if not port_free(p)]
        if taken:
            raise SystemExit(f"cluster: port {taken[0]} is taken: give another first port with PORT=N (make) or "
                             "--port N")
    else:
        ports = [free_port() for _ in range(SERVERS)]
    servers = []
    for i, port in enumerate(ports, 1):
        name = f"server-{i}"
        # no local agent: an HA server's would outlive it by design (server_agent.h), and this script's Ctrl-C must
        # leave nothing running; the two agents below run the tasks
        procs.append(Proc(name, [args.bin, "server", "--http-port", str(port), "--data-dir",
                                 os.path.join(top, name), "--zk-hosts", ens.hosts, "--zk-path", "/gnomon",
                                 "--state", url, "--local-agent=false"], top))
        servers.append((name, port))
    urls = ",".join(f"http://127.0.0.1:{p}" for _, p in servers)
    for i in range(1, AGENTS + 1):
        name = f"agent-{i}"
        procs.append(Proc(name, [args.bin, "agent", "--server", urls, "--data-dir", os.path.join(top, name),
                                 "--name", name], top))
    return servers


def leader(servers):
    for name, port in servers:
        view = cluster_view(port)
        if view and view.get("leading"):
            return name
    return None


def watch(servers, procs, shown=None, once=False):
    """Print the leader whenever it changes from shown; a process that exits ends the watch (and the cluster).
    With once: returns the first leader printed."""
    deadline = time.monotonic() + 60
    while True:
        for p in procs:
            if isinstance(p, Proc) and not p.alive():
                raise SystemExit(f"cluster: {p.name} exited with status {p.proc.returncode}; its log: {p.log}")
        now = leader(servers)
        if now != shown and (now or shown):
            say(f"leader: {now} (http://127.0.0.1:{dict(servers)[now]}/)" if now else "leader: none (an election)")
            shown = now
            if once:
                return now
        if shown is None and time.monotonic() > deadline:
            raise SystemExit("cluster: no server leads after 60 s; see the logs under the data directory")
        time.sleep(0.5)


def main():
    ap = argparse.ArgumentParser(description="A three-server HA gnomon on loopback; Ctrl-C stops it.")
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "gnomon"))
    ap.add_argument("--port", type=int, default=4400, help="the first server's port (0: any free ports)")
    ap.add_argument("--dir", help="where the servers' and agents' data go (default: a new temporary directory)")
    args = ap.parse_args()
    if not os.access(args.bin, os.X_OK):
        raise SystemExit(f"cluster: {args.bin}: not an executable (make build)")
    require_zookeeper()
    top = os.path.abspath(args.dir) if args.dir else tempfile.mkdtemp(prefix="gnomon-cluster-")
    os.makedirs(top, exist_ok=True)

    def stop_signal(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop_signal)
    procs = []
    try:
        servers = start(args, top, procs)
        for name, port in servers:
            say(f"{name}: web UI http://127.0.0.1:{port}/ (API the same address)")
        say(f"agents: {', '.join(f'agent-{i}' for i in range(1, AGENTS + 1))}")
        shown = watch(servers, procs, once=True)
        say("running; Ctrl-C stops everything")
        watch(servers, procs, shown)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a second Ctrl-C does not cut the cleanup short
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        say("stopping ...")
        for p in reversed(procs):
            if isinstance(p, Proc):
                p.stop()
            else:
                p.close()
        say(f"stopped; the data and logs are in {top}")


if __name__ == "__main__":
    main()
