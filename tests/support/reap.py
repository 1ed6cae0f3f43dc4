#!/usr/bin/env python3
"""Run a test so that nothing it starts outlives it: reap.py COMMAND [ARG...], exiting with COMMAND's status.

A test starts daemons that leave their parent on purpose: the executor zygote and the executors (setsid, so that a
server's restart loses no task), HA's local agent (forked twice), PostgreSQL (pg_ctl), ZooKeeper. Should one be
left running when its test ends (a test that failed before its cleanup, a kill, a cleanup that lost a race), it
goes on holding what it inherited: the test's standard error, which is ctest's pipe. ctest then waits for that
pipe to close, past the test's end and past its TIMEOUT (whose kill finds only the processes still descended from
the test), and the whole suite hangs until CI gives up on it.

So this script makes itself the child subreaper of everything the test starts (prctl PR_SET_CHILD_SUBREAPER: an
orphan of the test becomes this script's child instead of init's, whatever it did to leave its parent), runs the
command, and when the command ends kills every process still descended from it with SIGKILL, naming each on
standard error; a kill of this script (SIGTERM, SIGINT, SIGHUP) ends the command and the rest the same way. A
SIGKILL of this script (what ctest sends at a TIMEOUT) leaves them its children still, where ctest's kill of the
test's process tree finds them.

The command's status is kept: a process left running is reported, not made a failure of its test (the suite's
guard is against hanging, not against a cleanup that lost a race by a millisecond)."""
import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36


def set_subreaper():
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        err = ctypes.get_errno()
        sys.stderr.write(f"reap: prctl(PR_SET_CHILD_SUBREAPER): {os.strerror(err)}\n")


def parents():
    """pid -> parent pid, of every process in /proc."""
    out = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # gone meanwhile
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after its last ')'
        fields = stat[stat.rfind(b")") + 2:].split()
        if len(fields) > 1:
            out[int(name)] = int(fields[1])
    return out


def descendants(root):
    ppid = parents()
    children = {}
    for pid, parent in ppid.items():
        children.setdefault(parent, []).append(pid)
    found, todo = [], list(children.get(root, []))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, []))
    return found


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip() or "?"
    except OSError:
        return "?"


def reap_zombies():
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def kill_all(label):
    """SIGKILL every descendant (again, until none is left: one may fork while the others die), naming them."""
    named = set()
    for _ in range(100):
        reap_zombies()
        left = [pid for pid in descendants(os.getpid()) if pid not in (os.getpid(),)]
        # a zombie already dead only waits to be reaped: not worth naming
        alive = []
        for pid in left:
            try:
                with open(f"/proc/{pid}/stat", "rb") as f:
                    stat = f.read()
                if stat[stat.rfind(b")") + 2:stat.rfind(b")") + 3] == b"Z":
                    continue
            except OSError:
                continue
            alive.append(pid)
        if not alive:
            return
        for pid in alive:
            if pid not in named:
                named.add(pid)
                sys.stderr.write(f"reap: {label}: killed {pid} {cmdline(pid)}\n")
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            pass
    sys.stderr.write("reap: processes still appearing after 100 rounds of kills\n")


class Deadline(Exception):
    """The command did not end within GRACE seconds of a signal passed on to it."""


GRACE = 10


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    set_subreaper()
    try:
        child = os.posix_spawnp(sys.argv[1], sys.argv[1:], os.environ)
    except OSError as e:
        sys.stderr.write(f"reap: cannot run {sys.argv[1]}: {e.strerror}\n")
        sys.exit(127)
    got = []

    def interrupted(signum, frame):
        # the command first, so that its own cleanup runs (pg_cluster.py stops its server); the rest after it ended
        # or GRACE seconds later
        if not got:
            got.append(signum)
            signal.alarm(GRACE)
        try:
            os.kill(child, signum)
        except ProcessLookupError:
            pass

    def on_alarm(signum, frame):
        raise Deadline()

    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(s, interrupted)
    signal.signal(signal.SIGALRM, on_alarm)
    rc = 1
    try:
        # every child, the command and the orphans it left behind as they end: an orphan's zombie is reaped at
        # once, as init would (a test that waits for a process to be gone must not find its zombie)
        while True:
            pid, status = os.wait()
            if pid == child:
                rc = os.waitstatus_to_exitcode(status)
                break
    except Deadline:
        pass
    signal.alarm(0)
    kill_all("interrupted" if got else "left running after the test")
    if got:
        sys.exit(128 + got[0])
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
