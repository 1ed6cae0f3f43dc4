#!/usr/bin/env python3
"""Run ctest so that a stall says what stalled: ctest_guard.py [--limit S] [--slow S] -- ctest ARG...

`make test` runs each of its ctest runs through this script, which passes ctest's output through line by line and
keeps the tests it has started and not yet finished (its "Start N: name" and "N/M Test #N: name ..." lines):

- a test that has run for --slow seconds (default 300), and every --slow seconds after, is named on a line of its
  own with the processes under ctest at that moment (pid, age, state, what it waits in, command line): a CI log cut
  at its end still shows what was running;
- past --limit seconds (default: none) the run is stopped: the same report, then every process under ctest is
  killed (SIGKILL) and the script exits 124. A CI that gives the whole of `make test` 90 minutes then fails with
  that report, instead of being stopped from outside with no word of which test held it.

This script is the child subreaper of everything ctest starts (reap.py: an orphan becomes its child, whatever it
did to leave its parent), so the processes it reports and kills are all of them. Exits with ctest's status."""
import argparse
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from reap import cmdline, descendants, kill_all, set_subreaper  # noqa: E402

START = re.compile(r"^\s*Start\s+(\d+): (\S+)")
END = re.compile(r"^\s*\d+/\d+ Test\s+#(\d+): (\S+)")


def process_lines(root):
    """One line per process under root: pid, parent, seconds alive, state, kernel wait channel, command line."""
    hz = os.sysconf("SC_CLK_TCK")
    with open("/proc/uptime") as f:
        uptime = float(f.read().split()[0])
    lines = []
    for pid in sorted(descendants(root)):
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{pid}/wchan") as f:
                wchan = f.read().strip() or "-"
        except OSError:
            continue
        fields = stat[stat.rfind(b")") + 2:].split()
        state, ppid, started = fields[0].decode(), int(fields[1]), int(fields[19]) / hz
        lines.append(f"  {pid:>7} {ppid:>7} {uptime - started:>7.0f}s {state} {wchan:<24.24} {cmdline(pid)[:160]}")
    return lines


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=0, help="seconds before the run is stopped (0: never)")
    ap.add_argument("--slow", type=float, default=300, help="seconds after which a running test is reported")
    ap.add_argument("command", nargs=argparse.REMAINDER)
    args = ap.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        ap.error("no command")
    set_subreaper()
    t0 = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, bufsize=0)
    running = {}  # test number -> [name, monotonic start, monotonic of its last report]
    lock = threading.Lock()
    out = sys.stdout.buffer

    def say(text):
        with lock:
            out.write(text.encode(errors="replace"))
            out.flush()

    def report(why):
        now = time.monotonic()
        with lock:
            tests = sorted(running.values(), key=lambda t: t[1])
        lines = [f"ctest-guard: {why} ({now - t0:.0f} s into the run); tests running:"]
        lines += [f"  {name}: {now - started:.0f} s" for name, started, _ in tests] or ["  none"]
        lines.append("ctest-guard: processes under ctest:  pid  parent  age  state  waiting in  command")
        lines += process_lines(os.getpid())
        say("\n".join(lines) + "\n")

    stopped = threading.Event()

    def watch():
        while not stopped.wait(10):
            now = time.monotonic()
            if args.limit and now - t0 > args.limit:
                report(f"past the limit of {args.limit:.0f} s: stopping")
                stopped.set()
                for pid in descendants(os.getpid()):
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
                return
            slow = []
            with lock:
                for t in running.values():
                    if now - t[2] >= args.slow:
                        t[2] = now
                        slow.append(t[0])
            if slow:
                report("slow: " + ", ".join(slow))

    def read():
        for raw in iter(proc.stdout.readline, b""):
            line = raw.decode(errors="replace")
            m = START.match(line)
            if m:
                with lock:
                    now = time.monotonic()
                    running[m.group(1)] = [m.group(2), now, now]
            else:
                m = END.match(line)
                if m:
                    with lock:
                        running.pop(m.group(1), None)
            say_raw(raw)

    def say_raw(raw):
        with lock:
            out.write(raw)
            out.flush()

    threading.Thread(target=watch, daemon=True).start()
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    # ctest's end, not its pipe's: a daemon one of its tests left would hold the pipe open for as long as it lives
    rc = proc.wait()
    reader.join(5)
    limited = stopped.is_set()
    stopped.set()
    # what ctest left behind (its tests' daemons) goes with it, as reap.py does for each test
    sys.stdout.flush()
    kill_all("left running after ctest")
    reader.join(5)
    if limited:
        say(f"ctest-guard: the tests ran past {args.limit:.0f} s and were stopped\n")
        sys.exit(124)
    sys.exit(rc if rc >= 0 else 128 - rc)


if __name__ == "__main__":
    main()
