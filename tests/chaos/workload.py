"""Jepsen's Chronos workload and the suite's eyes on the leader.

Jobs `R<n>/<start>/PT<i>S` with an epsilon, each added through the Chronos API (`POST /scheduler/iso8601`) of a
random server, one every few seconds while the faults go on, starting 5 s after they are added and living at most
JOB_LIFE_S (150 s: the load of a long run stays that of a short one). As in Jepsen, a run's command sleeps 0 to
2 s and appends one line to a file on its agent (DATA_DIR/chaos-effects, two levels above the run's working
directory DATA_DIR/work/NAME, a link to a file outside the agent's small data disk): job name, task id, start and
end (ms) and GNOMON_EPOCH (the epoch of the leader that started it); the interval is 1 + duration + epsilon + 5
+ 0..4 s, so that the windows of one job's slots never overlap. Only jobs whose add was answered 2xx are checked
(an add that failed or timed out may or may not have made its job).

A quarter of the jobs are flaky: their first attempt exits 3 (CHRONOS_JOB_RUN_ATTEMPT 0) and they have 2
retries, so each slot is met by its retry. Every fifth add is a fan-in instead: two parents `d<n>a`, `d<n>b` (jobs
as above, checked as above, on one schedule) and a child `d<n>c` added through `POST /scheduler/dependency`, whose
command appends its line too; the checker wants one child run per round in which both parents completed.

Watch polls every server's `GET /api/v1/cluster` every 0.25 s and keeps (time, [servers saying they lead]).
"""

import calendar
import os
import re
import threading
import time

from cluster import AGENTS, EFFECTS, SERVERS, http
from nemesis import now_ms

JOB_LIFE_S = 150
EPOCH_SEEN = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{3})Z \w+ +(?:gnomon agent .*\(id \w+, epoch "
                        r"(\d+),|epoch (\d+) seen)")


class Jobs:
    def __init__(self, cluster, log, rng):
        self.c, self.log, self.rng = cluster, log, rng
        self.jobs = {}  # name -> {start, interval, count, epsilon, duration, server, flaky}
        self.dags = {}  # child -> {parents: [a, b], server}
        self.failed_adds = []

    def post(self, name, path, job, what):
        """Add job through a random server; True when the add was acknowledged."""
        server = self.rng.choice(SERVERS)
        status, body = http(self.c.url(server) + path, "POST", job, timeout=20)
        if status is not None and 200 <= status < 300:
            self.log("job %s added through %s: %s" % (name, server, what))
            return server
        self.failed_adds.append({"job": name, "server": server, "status": status, "answer": str(body)[:200]})
        self.log("job %s not added through %s: %s %s" % (name, server, status, str(body)[:200]))
        return None

    @staticmethod
    def command(duration, flaky=False):
        line = ('s=$(date +%%s%%3N); sleep %d; echo "$CHRONOS_JOB_NAME $GNOMON_TASK_ID $s $(date +%%s%%3N) '
                '$GNOMON_EPOCH" >> ../../%s' % (duration, EFFECTS))
        return ('[ "$CHRONOS_JOB_RUN_ATTEMPT" -ge 1 ] || exit 3; ' + line) if flaky else line

    def add(self, k, until_ms, names=None, timing=None):
        """A scheduled job w<k> (or each of names, on one schedule); returns the timing used and the names added."""
        if timing is None:
            duration = self.rng.randint(0, 2)
            epsilon = self.rng.randint(6, 12)
            interval = 1 + duration + epsilon + 5 + self.rng.randint(0, 4)
            start = (now_ms() // 1000 + 5) * 1000
            # each job lives at most JOB_LIFE_S, so that a long run's load stays what a short one's is (jobs are
            # added all along; a 30-minute run with jobs living to its end piled up hundreds of them on 2 cores)
            count = max(1, min(until_ms - start, JOB_LIFE_S * 1000) // (interval * 1000))
            timing = (duration, epsilon, interval, start, count)
        duration, epsilon, interval, start, count = timing
        added = []
        for name in names or ["w%d" % k]:
            flaky = names is None and self.rng.random() < 0.25
            job = {"name": name, "command": self.command(duration, flaky), "shell": True,
                   "epsilon": "PT%dS" % epsilon,
                   "schedule": "R%d/%s/PT%dS" % (count, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(start / 1000)),
                                                   interval),
                   "cpus": 0.1, "mem": 16, "disk": 1, "retries": 2 if flaky else 0}
            server = self.post(name, "/scheduler/iso8601", job, "%s, epsilon %d s%s" % (
                job["schedule"], epsilon, ", flaky (2 retries)" if flaky else ""))
            if server:
                self.jobs[name] = {"start": start, "interval": interval * 1000, "count": count,
                                   "epsilon": epsilon * 1000, "duration": duration * 1000, "server": server,
                                   "flaky": flaky}
                added.append(name)
        return timing, added

    def add_dag(self, k, until_ms):
        """Two parents on one schedule, then their child."""
        parents = ["d%da" % k, "d%db" % k]
        _, added = self.add(k, until_ms, names=parents)
        if added != parents:
            return
        child = "d%dc" % k
        job = {"name": child, "command": self.command(0), "shell": True, "parents": parents, "cpus": 0.1, "mem": 16,
               "disk": 1}
        server = self.post(child, "/scheduler/dependency", job, "after %s and %s" % tuple(parents))
        if server:
            self.dags[child] = {"parents": parents, "server": server}

    def run(self, until_ms, stop, every_s=4):
        k = len(self.jobs) + len(self.failed_adds)
        while now_ms() < until_ms - 30000 and not stop.is_set():
            if k % 5 == 2:
                self.add_dag(k, until_ms)
            else:
                self.add(k, until_ms)
            k += 1
            stop.wait(self.rng.uniform(every_s / 2, every_s * 1.5))

    def agent_epochs(self):
        """{agent: [[ms, epoch], ...]}: when each agent said it had seen a higher epoch (its log: at its start,
        the one its data dir kept; then each "epoch N seen")."""
        out = {}
        for a in AGENTS:
            seen = out.setdefault(a, [])
            try:
                with open(self.c.log(a)) as f:
                    for line in f:
                        m = EPOCH_SEEN.match(line)
                        if m:
                            t = calendar.timegm(time.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S"))
                            seen.append([t * 1000 + int(m.group(2)), int(m.group(3) or m.group(4))])
            except FileNotFoundError:
                pass
        return out

    def effects(self):
        """Every line the runs appended on every agent: [{job, task, start, end, epoch, agent}] (a line cut short by
        a kill is kept as {"broken": line})."""
        out = []
        for a in AGENTS:
            path = self.c.effects_path(a)
            if not os.path.exists(path):
                continue
            with open(path) as f:
                for line in f:
                    w = line.split()
                    if len(w) == 5 and all(x.isdigit() for x in w[2:]):
                        out.append({"job": w[0], "task": w[1], "start": int(w[2]), "end": int(w[3]),
                                    "epoch": int(w[4]), "agent": a})
                    else:
                        out.append({"broken": line.rstrip("\n"), "agent": a})
        return out


class Watch(threading.Thread):
    def __init__(self, cluster):
        super().__init__(daemon=True)
        self.c = cluster
        self.samples = []  # (ms, [leading servers])
        self.stop = threading.Event()

    def run(self):
        while not self.stop.is_set():
            t = now_ms()
            views = {}
            threads = [threading.Thread(target=lambda s=s: views.__setitem__(s, self.c.cluster_view(s, 0.5)))
                       for s in SERVERS]
            for th in threads:
                th.start()
            for th in threads:
                th.join()
            self.samples.append((t, sorted(s for s, v in views.items() if v and v.get("leading"))))
            self.stop.wait(max(0.0, 0.25 - (now_ms() - t) / 1000))

