"""Network namespaces for the fault suite: one a node, all on one bridge, nothing in the host's namespace.

Net(names) makes a namespace `gch-hub` holding a bridge `br0`, and for each node a namespace `gch-NAME` joined to
the bridge by a veth pair (`v-NAME` on the bridge, `eth0` in the node) with the address 10.77.0.X/24 and its
loopback up. The bridge lives in a namespace of its own, so no packet ever reaches the host's interfaces or its
firewall; partitions are iptables DROP rules inside the nodes' namespaces, gone with them.

spawn() runs a command inside a node's namespace (`ip netns exec`), in a process group of its own, killed when this
process dies (PR_SET_PDEATHSIG). enter() moves this process into a namespace (setns), so that the suite talks to the
cluster from a node of its own. close() kills every process left in the namespaces (`ip netns pids`) and deletes
them (the veth pairs and the bridge go with them); it runs at exit and on SIGINT/SIGTERM/SIGHUP, and
cleanup_leftovers() does the same for a run that crashed before (whatever carries the prefix).
"""

import atexit
import ctypes
import fcntl
import os
import signal
import subprocess
import sys
import time

PREFIX = "gch-"
HUB = PREFIX + "hub"
LOCK = "/run/lock/gnomon-chaos.lock"  # one suite at a time: the names are fixed
SUBNET = "10.77.0."
CLONE_NEWNET = 0x40000000


def sh(*argv, check=True, ns=None):
    """Run argv (inside namespace ns when given); its stdout. A failure raises with its stderr."""
    if ns:
        argv = ("ip", "netns", "exec", ns) + argv
    p = subprocess.run(argv, capture_output=True, text=True)
    if check and p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    return p.stdout


def namespaces():
    return [line.split()[0] for line in sh("ip", "netns", "list").splitlines() if line.strip()]


def kill_all_in(ns):
    """SIGKILL every process in namespace ns but this one (which may have entered it), until none is left (or
    5 s)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        pids = [int(p) for p in sh("ip", "netns", "pids", ns, check=False).split() if int(p) != os.getpid()]
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        time.sleep(0.05)


def cleanup_leftovers():
    """Remove every namespace named with PREFIX (and its processes) and unmount the agents' data disks (tmpfs
    named PREFIX + agent): what a crashed run left."""
    for ns in namespaces():
        if ns.startswith(PREFIX):
            kill_all_in(ns)
            sh("ip", "netns", "del", ns, check=False)
    with open("/proc/self/mounts") as f:
        mounts = [line.split() for line in f]
    for m in mounts:
        if m[0].startswith(PREFIX) and m[2] == "tmpfs":
            sh("umount", "-l", m[1].replace("\\040", " "), check=False)


def available():
    """None when namespaces can be made here, else why not."""
    if os.geteuid() != 0:
        return "not root"
    for tool in ("ip", "iptables"):
        if subprocess.run(["sh", "-c", "command -v " + tool], capture_output=True).returncode:
            return "no %s (scripts/install-deps.sh test installs iproute2 and iptables)" % tool
    probe = PREFIX + "probe"
    try:
        sh("ip", "netns", "add", probe)
        sh("iptables", "-L", "INPUT", "-n", ns=probe)
    except RuntimeError as e:
        return str(e)
    finally:
        sh("ip", "netns", "del", probe, check=False)
    return None


def _die_with_parent():
    os.setsid()
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Net:
    def __init__(self, names):
        """names: the nodes, each given the next address from 10.77.0.10 on. Waits for any other suite on this
        machine to end first (LOCK), then removes what a crashed one left."""
        self.lock = open(LOCK, "w")
        fcntl.flock(self.lock, fcntl.LOCK_EX)
        cleanup_leftovers()
        self.closed = False
        self.addr = {}
        atexit.register(self.close)
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        sh("ip", "netns", "add", HUB)
        sh("ip", "-n", HUB, "link", "add", "br0", "type", "bridge")
        sh("ip", "-n", HUB, "link", "set", "br0", "up")
        for i, name in enumerate(names):
            self.add(name, SUBNET + str(10 + i))

    def _on_signal(self, signum, frame):
        # unwinds the suite (its finally blocks stop the cluster and call close()); atexit closes if they did not
        raise SystemExit(128 + signum)

    def ns(self, name):
        return PREFIX + name

    def add(self, name, address):
        ns = self.ns(name)
        assert len("v-" + name) <= 15, name
        sh("ip", "netns", "add", ns)
        sh("ip", "-n", HUB, "link", "add", "v-" + name, "type", "veth", "peer", "name", "eth0", "netns", ns)
        sh("ip", "-n", HUB, "link", "set", "v-" + name, "master", "br0", "up")
        sh("ip", "-n", ns, "addr", "add", address + "/24", "dev", "eth0")
        sh("ip", "-n", ns, "link", "set", "eth0", "up")
        sh("ip", "-n", ns, "link", "set", "lo", "up")
        self.addr[name] = address

    def spawn(self, name, argv, log_path, env=None, user=None):
        """argv started in node name's namespace (as user when given), stdout and stderr appended to log_path."""
        cmd = ["ip", "netns", "exec", self.ns(name)]
        if user:
            cmd += ["runuser", "-u", user, "--"]
        with open(log_path, "ab") as log:
            return subprocess.Popen(cmd + list(argv), stdin=subprocess.DEVNULL, stdout=log, stderr=log, env=env,
                                    preexec_fn=_die_with_parent)

    def enter(self, name):
        """Move this process (every thread it starts afterwards) into node name's namespace."""
        fd = os.open("/run/netns/" + self.ns(name), os.O_RDONLY)
        try:
            if ctypes.CDLL(None, use_errno=True).setns(fd, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns " + name)
        finally:
            os.close(fd)

    # --- partitions: Jepsen's iptables DROP of what comes from the other side ---------------------------

    def drop_from(self, name, sources):
        for src in sources:
            sh("iptables", "-A", "INPUT", "-s", self.addr[src], "-j", "DROP", ns=self.ns(name))

    def partition(self, groups):
        """Each node drops what comes from the nodes of the other groups (the nodes named in none keep talking
        to everyone)."""
        for g in groups:
            others = [n for h in groups if h is not g for n in h]
            for name in g:
                self.drop_from(name, others)

    def lossy(self, names, probability):
        """Each of names drops what comes to it at random, with probability (iptables' statistic match: this
        machine's kernel has no netem; where it has, delay() adds latency too)."""
        for name in names:
            sh("iptables", "-A", "INPUT", "-m", "statistic", "--mode", "random", "--probability", str(probability),
               "-j", "DROP", ns=self.ns(name))

    def can_delay(self):
        """Whether tc netem works here (a probe on the hub's loopback)."""
        if not hasattr(self, "_netem"):
            ok = subprocess.run(["ip", "netns", "exec", HUB, "tc", "qdisc", "add", "dev", "lo", "root", "netem",
                                 "delay", "1ms"], capture_output=True).returncode == 0
            sh("tc", "qdisc", "del", "dev", "lo", "root", check=False, ns=HUB)
            self._netem = ok
        return self._netem

    def delay(self, names, ms, jitter_ms):
        for name in names:
            sh("tc", "qdisc", "add", "dev", "eth0", "root", "netem", "delay", "%dms" % ms, "%dms" % jitter_ms,
               ns=self.ns(name))

    def heal(self):
        for name in self.addr:
            sh("iptables", "-F", "INPUT", ns=self.ns(name))
            if getattr(self, "_netem", False):
                sh("tc", "qdisc", "del", "dev", "eth0", "root", check=False, ns=self.ns(name))

    def close(self):
        if self.closed:
            return
        self.closed = True
        for name in list(self.addr) + ["hub"]:
            kill_all_in(self.ns(name))
        for name in list(self.addr):
            sh("ip", "netns", "del", self.ns(name), check=False)
        sh("ip", "netns", "del", HUB, check=False)


def _reach(net, frm, to, port=7000):
    """Whether node frm opens a TCP connection to node to's port within a second."""
    code = ("import socket,sys\ntry: socket.create_connection((%r, %d), timeout=1).close()\n"
            "except OSError: sys.exit(1)" % (net.addr[to], port))
    return subprocess.run(
        ["ip", "netns", "exec", net.ns(frm), "python3", "-c", code], capture_output=True).returncode == 0


if __name__ == "__main__":
    # A self-check: a connects to b, a partition stops it, heal restores it, nothing is left behind.
    import tempfile
    why = available()
    if why:
        print("netns: skipped: " + why)
        sys.exit(77)
    net = Net(["a", "b"])
    log = tempfile.NamedTemporaryFile(prefix="gch-selfcheck-")
    listener = net.spawn("b", ["python3", "-c", "import socket,time\ns=socket.create_server(('0.0.0.0',7000))\n"
                                                "while True: s.accept()[0].close()"], log.name)
    deadline = time.monotonic() + 5
    while not _reach(net, "a", "b"):
        assert time.monotonic() < deadline, "a never reached b"
    net.partition([["a"], ["b"]])
    assert not _reach(net, "a", "b"), "the partition let a through"
    net.heal()
    assert _reach(net, "a", "b"), "healed, a does not reach b"
    net.close()
    assert listener.wait(5) is not None
    assert not [n for n in namespaces() if n.startswith(PREFIX)], namespaces()
    print("netns: ok")
