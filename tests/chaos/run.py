#!/usr/bin/env python3
"""The fault suite (issue 15), as root: tests/chaos/run.py [--duration S] [--out DIR] [--seed N] [--bin GNOMON]
[--faults KIND,KIND];
tests/chaos/run.py --check DIR checks and reports again what the run in DIR gathered.

Makes a namespace a node (netns.py), starts the cluster in them (cluster.py), enters its own node `ctl`, then for
--duration seconds adds jobs (workload.py) while the nemesis (nemesis.py) starts and heals faults of every kind
(--faults: of those kinds only) in turn; heals everything, lets the last runs end, reads the history from
PostgreSQL and the side-effect files from the agents, checks them (checker.py) and reports (report.py): the
summary table on stdout, and in DIR (default ./chaos/UTC-TIME): chaos.log (what the suite did, when),
summary.json, timeline.svg, data.json (what the checker read) and every node's log (nodes/NODE.log). Exit 0 when
the checker passes, 1 when it does not (DIR and the nodes' data are kept and printed), 77 when this machine
cannot run it (not root, no namespaces, no iptables, no ZooKeeper).
"""

import argparse
import glob
import json
import os
import random
import shutil
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from checker import check, failover_times, history_rows  # noqa: E402
from cluster import CONTROL, NODES, Cluster, wait  # noqa: E402
from nemesis import KINDS, Nemesis, now_ms  # noqa: E402
from report import summary, table, write  # noqa: E402
from workload import Jobs, Watch  # noqa: E402
from zk_harness import JAVA, ZK_JAR  # noqa: E402

SKIP = 77
OPEN = ("queued", "waiting", "starting", "running")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--duration", type=int, default=150, help="seconds of faults and jobs (default 150)")
    ap.add_argument("--out", default=os.path.join("chaos", time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())))
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--bin", default=os.environ.get("GNOMON_BIN", "build/gnomon"))
    ap.add_argument("--check", metavar="DIR", help="only check and report again what the run in DIR gathered")
    ap.add_argument("--faults", default=",".join(KINDS), metavar="KIND,KIND",
                    help="the kinds of fault the nemesis makes, in turn (default: all: %s)" % ",".join(KINDS))
    args = ap.parse_args()
    kinds = [k for k in args.faults.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        ap.error("--faults: unknown kind %s (kinds: %s)" % (",".join(unknown) or "(none)", ",".join(KINDS)))
    if args.check:
        with open(os.path.join(args.check, "data.json")) as f:
            data = json.load(f)
        return 0 if check_and_report(data, args.check, print) else 1
    why = netns.available()
    if not why and not (os.path.exists(ZK_JAR) and os.access(JAVA, os.X_OK)):
        why = "no ZooKeeper (scripts/install-deps.sh test installs it)"
    if why:
        print("chaos: skipped: %s" % why)
        return SKIP
    binary = os.path.abspath(args.bin)
    os.makedirs(args.out, exist_ok=True)
    out = os.path.abspath(args.out)
    logf = open(os.path.join(out, "chaos.log"), "a")

    def log(msg):
        line = "%s %s" % (time.strftime("%H:%M:%S", time.gmtime()) + ".%03d" % (now_ms() % 1000), msg)
        print(line, flush=True)
        logf.write(line + "\n")
        logf.flush()
    rng = random.Random(args.seed)
    log("chaos: seed %d, %d s of faults (%s), gnomon %s, out %s" % (args.seed, args.duration, ",".join(kinds), binary,
                                                                     out))
    top = tempfile.mkdtemp(prefix="gch-nodes-")  # PostgreSQL's user must reach it
    net = netns.Net(NODES)
    net.enter(CONTROL)
    cluster = Cluster(net, top, binary)
    ok = False
    try:
        cluster.setup()
        log("cluster up: leader %s, agents %s" % (cluster.leader(), ", ".join(cluster.agents_up())))
        ok = run(cluster, rng, args.duration, log, out, kinds)
    finally:
        cluster.close()
        net.close()
        os.makedirs(os.path.join(out, "nodes"), exist_ok=True)
        for path in glob.glob(os.path.join(top, "*.log")):
            shutil.copy(path, os.path.join(out, "nodes"))
        if ok:
            shutil.rmtree(top, ignore_errors=True)
            log("chaos: PASS; report in %s" % out)
        else:
            log("chaos: FAIL; report and logs in %s, the nodes' data in %s" % (out, top))
    return 0 if ok else 1


def run(cluster, rng, duration, log, out, kinds):
    t0 = now_ms()
    until = t0 + duration * 1000
    watch = Watch(cluster)
    watch.start()
    jobs = Jobs(cluster, log, rng)
    stop = threading.Event()
    adder = threading.Thread(target=jobs.run, args=(until, stop), daemon=True)
    adder.start()
    nemesis = Nemesis(cluster, log, rng)
    try:
        nemesis.run(until, kinds)
    finally:
        stop.set()
        for f in nemesis.faults:
            if f["end"] is None:
                try:
                    nemesis.heal(f)
                except (OSError, RuntimeError) as e:  # stopped by a signal, say: the fault goes with the namespaces
                    log("could not heal %s: %s" % (f["kind"], e))
    adder.join()
    settle = max([j["epsilon"] + j["duration"] for j in jobs.jobs.values()] or [0]) + 8000
    log("faults over; %d jobs added (%d adds failed); %.0f s for the last runs" % (len(jobs.jobs),
                                                                                  len(jobs.failed_adds),
                                                                                  settle / 1000))
    time.sleep(settle / 1000)
    read_ms = now_ms()

    def still_open():
        rows = cluster.psql("SELECT count(*) FROM runs WHERE status IN ('%s') AND due_ms < %d"
                            % ("','".join(OPEN), read_ms))
        return rows is not None and rows[0][0] == "0"
    try:
        wait(still_open, 60, "every run due before the read ended")
    except AssertionError as e:
        log("%s (the checker reports the open ones)" % e)
    history = history_rows(cluster)
    watch.stop.set()
    watch.join()
    data = {"jobs": jobs.jobs, "dags": jobs.dags, "history": history, "effects": jobs.effects(),
            "agent_epochs": jobs.agent_epochs(),
            "faults": nemesis.faults,
            "samples": watch.samples, "read_ms": read_ms, "t0": t0, "t1": now_ms(), "duration_s": duration,
            "failed_adds": jobs.failed_adds}
    with open(os.path.join(out, "data.json"), "w") as f:
        json.dump(data, f)
    return check_and_report(data, out, log)


def check_and_report(data, out, log):
    """The checker and the report on what a run gathered (DIR/data.json: `run.py --check DIR` does it again)."""
    samples = [(t, leading) for t, leading in data["samples"]]
    result = check(data["jobs"], data["history"], data["effects"], data["faults"], samples, data["read_ms"],
                   data.get("dags"), data.get("agent_epochs"))
    failovers = failover_times(data["faults"], samples)
    s = summary(result, data["faults"], failovers, {"duration_s": data["duration_s"],
                                                    "failed_adds": data["failed_adds"], "failovers": failovers,
                                                    "samples": samples})
    write(out, s, result, data["faults"], samples, data["t0"], data["t1"])
    log("summary\n" + table(s))
    for line in result["failures"]:
        log("FAILED: " + line)
    return s["ok"]

if __name__ == "__main__":
    sys.exit(main())
