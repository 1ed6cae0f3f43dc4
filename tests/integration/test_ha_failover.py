"""Issue 13, item 11's proof: the real things on loopback (a three-node ZooKeeper ensemble, a throwaway PostgreSQL,
three `gnomon server --zk-hosts ... --state postgres://...` and two `gnomon agent --server URL,URL,URL`), and
faults under load: two jobs due every second (one on the agents, one wherever placement puts it: the servers'
local agents too, each a `gnomon agent` process of its own) and a fan-in DAG (two parents every 3 s, a child of both).

- kill -9 of the leader again and again (GNOMON_FAILOVERS times, 5 by default), the killed server started again,
  each time while a task runs on an agent: a new leader within the session timeout and a bit, the task's end
  reported to it (not lost);
- one ZooKeeper node stopped (one that does not serve the leader's session): nothing changes, not even a role
  change; the ZooKeeper ensemble's leader restarted: one gnomon server leads again;
- PostgreSQL stopped and started again at once: the cluster recovers by itself;
- the leader paused (SIGSTOP) past its session timeout: the others elect a new leader, whose tasks the agents run
  while the old one sleeps; resumed, the old one steps down, its writes are refused and no agent starts a task
  of its epoch any more.

After each, with the history read from PostgreSQL itself (psql): every slot of each ticker up to a cut-off has
exactly one final record (a run, or a `skipped` record covering it, per the epsilon rule), no slot succeeded
twice, no slot is left open; the DAG's child ran once for each round, never twice with one parent's run; task ids
are unique, and no agent started one task id twice. Per-failover times go to stderr."""

import collections
import os
import re
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, iso_ms, main, now_ms, dep, sched, sanitizer_lines, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, query, require_pg, start_server, stop_server  # noqa: E402
from test_agents import Agent  # noqa: E402
from zk_harness import close_module_ensemble, module_ensemble  # noqa: E402

ZK_TIMEOUT_MS = 4000
FAILOVERS = int(os.environ.get("GNOMON_FAILOVERS", "5"))
OPEN = ("queued", "waiting", "starting", "running")
FINAL = ("succeeded", "failed", "killed", "lost", "skipped")
TICKERS = ("tick-agents", "tick-any")
STARTED_RE = re.compile(r"task (ct:\S+) started \(pid \d+\), assigned in epoch (\d+)")


def setUpModule():
    require_pg()
    module_ensemble(3)


def tearDownModule():
    close_module_ensemble()


class FleetAgent(Agent):
    """A `gnomon agent` given every server (`--server URL,URL,URL`, in the order given)."""

    def __init__(self, servers, name, **kw):
        super().__init__(servers[0], name, **kw)
        self.servers = list(servers)

    def command(self):
        cmd = super().command()
        cmd[cmd.index("--server") + 1] = ",".join(s.url for s in self.servers)
        return cmd

    def close(self):
        """Stop it and remove its directory, keeping its log for the report of a failed test."""
        self.stop()
        self.final_log = Agent.log(self)
        super().close()

    def log(self):
        return getattr(self, "final_log", None) or Agent.log(self)

    def log_tail(self, chars=6000):
        return "(agent %s)\n%s" % (self.name, self.log()[-chars:])

    def started(self):
        """[(task id, epoch)] of every task this agent started, from its log."""
        return [(m.group(1), int(m.group(2))) for m in STARTED_RE.finditer(self.log())]


def due_of(task_id):
    return int(task_id.split(":")[1])


class Failover(GnomonTestCase, RunChecks):
    server_args = None

    # --- the cluster ------------------------------------------------------------------------------------

    def start_cluster(self, leader_first=False):
        """Three servers, two agents (each given every server; with leader_first the first agent's list starts
        with the leader, the second's with a follower), and the jobs. Returns (servers, leader)."""
        self.db = new_database("failover_" + self._testMethodName.lower())
        path = "/gnomon-failover/%s" % self._testMethodName
        args = ["--zk-hosts", module_ensemble().hosts, "--zk-path", path, "--zk-timeout", str(ZK_TIMEOUT_MS),
                "--state", self.db, "--agent-timeout", "10", "--failure-retry", "500"]
        servers = [self.new_server(args) for _ in range(3)]
        leader = self.wait_leader(servers, 20)
        followers = [s for s in servers if s is not leader]
        self.agents = []
        for i in (1, 2):
            order = [leader] + followers if (leader_first and i == 1) else followers + [leader]
            a = FleetAgent(order, "agent-%d" % i, attrs=("pool=agents",), cpus=4, mem=4096, lease=6)
            self.addCleanup(a.close)
            self.agents.append(a)
            self._servers.append(a)  # its log too is printed when the test fails
            a.start()
        self.wait_agents(leader)
        # the first slot a little ahead, on a whole second
        self.start_ms = (now_ms() // 1000 + 2) * 1000
        every_second = "R/%s/PT1S" % iso_ms(self.start_ms)
        self.add_job(sched("tick-agents", "sleep 0.5", every_second, constraints=[["pool", "EQUALS", "agents"]]),
                     srv=leader)
        self.add_job(sched("tick-any", "true", every_second), srv=leader)
        for parent in ("dag-a", "dag-b"):
            self.add_job(sched(parent, "true", "R/%s/PT3S" % iso_ms(self.start_ms)), srv=leader)
        self.add_job(dep("dag-c", ["dag-a", "dag-b"], "true"), srv=leader)
        wait_until(lambda: self.count_succeeded("tick-agents") >= 2 and self.count_succeeded("dag-c") >= 1, 20,
                   interval=0.1, what="the tickers and the DAG running")
        return servers, leader

    def fleet(self, srv):
        status, body = srv.json("GET", "/api/v1/agents")
        self.assertEqual(status, 200, body)
        return body

    def wait_agents(self, leader, timeout=20):
        wait_until(lambda: {"agent-1", "agent-2"} <= {a["name"] for a in self.fleet(leader) if a["state"] == "up"},
                   timeout, interval=0.05, what="both agents registered with %s" % leader.url)

    def leader_of(self, servers):
        leading = []
        for s in servers:
            if not s.alive():
                continue
            status, body = s.json("GET", "/api/v1/cluster")
            if status == 200 and body["leading"]:
                leading.append(s)
        return leading[0] if len(leading) == 1 else None

    def wait_leader(self, servers, timeout):
        return wait_until(lambda: self.leader_of(servers), timeout, interval=0.05, what="one leader")

    # --- the history, read from PostgreSQL --------------------------------------------------------------

    def pg_runs(self, job):
        rows = query(self.db, "SELECT task_id, due_ms, attempt, trigger, status, reason, skipped_from_ms, "
                              "skipped_to_ms, skipped_slots, parents, agent, end_ms FROM runs WHERE job = '%s' ORDER BY id" % job)
        keys = ("taskId", "due", "attempt", "trigger", "status", "reason", "from", "to", "slots", "parents", "agent",
                "end")
        out = []
        for row in rows:
            r = dict(zip(keys, row))
            for k in ("due", "attempt", "from", "to", "slots", "end"):
                r[k] = int(r[k]) if r[k] is not None else None
            out.append(r)
        return out

    def count_succeeded(self, job):
        return int(query(self.db, "SELECT count(*) FROM runs WHERE job = '%s' AND status = 'succeeded'" % job)[0][0])

    def wait_progress(self, job, n=2, timeout=30, after_ms=None):
        """Wait for n more successes of job (of slots due after after_ms, when given)."""
        after_ms = now_ms() if after_ms is None else after_ms

        def done():
            return len([r for r in self.pg_runs(job) if r["status"] == "succeeded" and r["due"] >= after_ms]) >= n
        wait_until(done, timeout, interval=0.1, what="%d runs of %s due after %s" % (n, job, iso_ms(after_ms)))

    def check_history(self, what):
        """With a cut-off a little behind now: wait until no run of a slot up to it is open, then check each
        ticker's slots, the DAG's rounds and the agents' starts. Returns the number of slots checked."""
        cutoff = now_ms() - 1500

        def still_open():
            return [r for job in TICKERS + ("dag-a", "dag-b", "dag-c") for r in self.pg_runs(job)
                    if r["status"] in OPEN and r["due"] <= cutoff]
        try:
            wait_until(lambda: not still_open(), 30, interval=0.2, what="every run due before the cut-off ended")
        except AssertionError as e:
            raise AssertionError("%s; still open: %r" % (e, still_open())) from None
        slots = 0
        for job in TICKERS:
            slots += self.check_slots(job, 1000, cutoff)
        self.check_slots("dag-a", 3000, cutoff)
        self.check_slots("dag-b", 3000, cutoff)
        rounds = self.check_rounds(cutoff)
        self.check_agents_started_once()
        lost = ["%s %s: %s" % (r["taskId"], r["status"], r["reason"]) for job in TICKERS + ("dag-a", "dag-b", "dag-c")
                for r in self.pg_runs(job) if r["status"] in ("failed", "lost", "killed")]
        sys.stderr.write("\n%s: %d slots of the tickers checked, %d rounds of the DAG, all once; records failed, "
                         "lost or killed (retried or not): %s\n" % (what, slots, rounds, "; ".join(lost) or "none"))
        return slots

    def check_slots(self, job, period_ms, cutoff):
        """Every slot from the first up to cutoff: exactly one final record, either one `skipped` record covering
        it and no run, or its attempts, all but the last failed or lost, the last final; never two successes."""
        runs = self.pg_runs(job)
        self.assertEqual(len({r["taskId"] for r in runs}), len(runs), "%s: task ids repeated" % job)
        by_slot = collections.defaultdict(list)
        skips = collections.Counter()
        for r in runs:
            if r["status"] == "skipped" and r["from"] is not None:
                covered = list(range(r["from"], r["to"] + 1, period_ms))
                self.assertEqual(len(covered), r["slots"], "%s: a skipped record's count: %r" % (job, r))
                for due in covered:
                    skips[due] += 1
            else:
                self.assertIn(r["trigger"], ("schedule", "retry"), "%s: %r" % (job, r))
                by_slot[r["due"]].append(r)
        checked = 0
        for due in range(self.start_ms, cutoff + 1, period_ms):
            attempts = sorted(by_slot.pop(due, []), key=lambda r: r["attempt"])
            where = "%s: the slot due %s (%s; skipped records covering it: %d)" % (job, iso_ms(due), attempts,
                                                                                   skips[due])
            self.assertEqual([r for r in attempts if r["status"] not in FINAL], [], where + ": left open")
            self.assertLessEqual(len([r for r in attempts if r["status"] == "succeeded"]), 1,
                                 where + ": succeeded twice")
            if skips[due]:
                self.assertEqual((skips[due], attempts), (1, []), where + ": skipped and run, or skipped twice")
            else:
                self.assertTrue(attempts, where + ": no record at all")
                self.assertEqual([r["attempt"] for r in attempts], list(range(len(attempts))), where)
                for r in attempts[:-1]:
                    self.assertIn(r["status"], ("failed", "lost"), where + ": retried after a final outcome")
                if attempts[-1]["status"] != "succeeded":
                    self.assertTrue(attempts[-1]["reason"], where + ": a failure without a reason")
            checked += 1
        self.assertEqual([d for d in by_slot if d < self.start_ms or (d - self.start_ms) % period_ms],
                         [], "%s: runs of slots that are not slots" % job)
        return checked

    def check_rounds(self, cutoff):
        """The DAG's child: each of its runs triggered by one success of each parent, ended before it; never two
        runs with one parent's run; and no parent's success left out but one that a later success of the same
        parent replaced in its round (one parent succeeding twice before the other counts once), or one after the
        child's last run (a round still open). Returns the number of rounds."""
        every = self.pg_runs("dag-c")  # one read: the jobs go on meanwhile
        child = [r for r in every if r["attempt"] == 0]
        ok = {p: {r["taskId"]: r for r in self.pg_runs(p) if r["status"] == "succeeded"} for p in ("dag-a", "dag-b")}
        used = collections.Counter()
        for r in child:
            self.assertEqual(r["trigger"], "dependency", r)
            ids = r["parents"].split(",")
            self.assertEqual([i.split(":")[3] for i in ids], ["dag-a", "dag-b"], r)
            for p, i in zip(("dag-a", "dag-b"), ids):
                self.assertIn(i, ok[p], "the child ran after a parent's run that did not succeed: %r" % r)
                self.assertLessEqual(ok[p][i]["end"], r["due"] + 2000, r)  # (the agent's clock, the leader's)
                used[i] += 1
        self.assertEqual([i for i, n in used.items() if n > 1], [], "the child ran twice with one parent's run")
        for r in every:
            self.assertIn(r["status"], FINAL + OPEN, r)
        done = collections.Counter(r["parents"] for r in every if r["status"] == "succeeded")
        self.assertEqual([p for p, n in done.items() if n > 1], [], "the child succeeded twice in a round")
        last = max((r["due"] for r in child), default=0)
        for p, successes in ok.items():
            k = ("dag-a", "dag-b").index(p)
            for i, s in successes.items():
                if i in used or s["end"] >= last:
                    continue
                # the child's next run took a later success of this parent
                nxt = min((r for r in child if r["due"] >= s["end"]), key=lambda r: r["due"])
                taken = ok[p][nxt["parents"].split(",")[k]]
                self.assertGreaterEqual(taken["end"], s["end"], "%s's success %s is in no round (the child's next "
                                        "run, %r, took an earlier one)" % (p, i, nxt))
        return len([r for r in child if r["due"] <= cutoff])

    def check_agents_started_once(self):
        started = collections.Counter(t for a in self.agents for t, _ in a.started())
        self.assertEqual([t for t, n in started.items() if n > 1], [], "a task started twice on the agents")
        for a in self.agents:
            self.assertEqual(sanitizer_lines(a.log()), [], "sanitizer report in %s's log" % a.name)

    # --- the tests ----------------------------------------------------------------------------------------

    def test_leader_killed_again_and_again(self):
        servers, leader = self.start_cluster()
        times, back, in_flight = [], [], []
        for i in range(FAILOVERS):
            epoch = self.cluster(leader)["epoch"]
            # a task of the agents' ticker running (on an agent) as the leader dies
            run = wait_until(lambda: [r for r in self.runs(leader, "tick-agents") if r["status"] == "running"], 10,
                             interval=0.02, what="a task running on an agent")[0]
            t0 = time.monotonic()
            killed_at = now_ms()
            leader.kill9()
            others = [s for s in servers if s is not leader]
            new = self.wait_leader(others, ZK_TIMEOUT_MS / 1000 + 15)
            times.append(time.monotonic() - t0)
            self.assertGreater(self.cluster(new)["epoch"], epoch)
            self.wait_agents(new)
            back.append(time.monotonic() - t0)
            sys.stderr.write("\nfailover %d: kill -9 of the leader to a new one leading: %.2f s (session timeout "
                             "%.1f s), to both agents registered with it: %.2f s; %s ran on %s meanwhile\n"
                             % (i + 1, times[-1], ZK_TIMEOUT_MS / 1000, back[-1], run["taskId"], run["agent"]))
            in_flight.append(run)
            leader.start()  # the same data dir and port: a follower now
            leader = new
            for job in TICKERS:
                self.wait_progress(job, 2, after_ms=killed_at)
        # the tasks that ran on an agent while their leader died: their ends reached the next leader
        for run in in_flight:
            [rec] = [r for r in self.pg_runs("tick-agents") if r["taskId"] == run["taskId"]]
            self.assertEqual(rec["status"], "succeeded", "a task running on %s as its leader died: %r"
                             % (run["agent"], rec))
        self.assertIsNone(self.leader_of([s for s in servers if s is not leader]), "a second leader")
        self.check_history("%d failovers" % FAILOVERS)
        sys.stderr.write("failovers (kill -9 to a new leader): %s s; max %.2f s; to the agents registered with "
                         "it: max %.2f s\n" % (", ".join("%.2f" % t for t in times), max(times), max(back)))

    def test_zookeeper_node_loss_and_leader_restart(self):
        servers, leader = self.start_cluster()
        zk = module_ensemble()
        view = self.cluster(leader)
        # a ZooKeeper follower that does not serve the leader's session: stopped, no role changes, the same
        # leader and epoch (a follower whose session moves to another node knows no leader until it is connected
        # again: README, "No leader")
        serving = zk.serving(view["zookeeper"]["sessionId"])
        zk_leader = zk.leader_index()
        [victim] = [i for i in range(3) if i not in (serving, zk_leader)][:1]
        before = [self.cluster(s) for s in servers]
        blind = {}
        zk.stop(victim)
        try:
            stopped_at = now_ms()
            deadline = time.monotonic() + ZK_TIMEOUT_MS / 1000 + 1
            while time.monotonic() < deadline:
                for s, b in zip(servers, before):
                    v = self.cluster(s)
                    self.assertEqual((v["leading"], v["epoch"], v["lastRoleChange"]),
                                     (b["leading"], b["epoch"], b["lastRoleChange"]),
                                     "a ZooKeeper node stopped changed %s's role" % s.url)
                    self.assertIn(v["leader"], (b["leader"], None) if s is not leader else (b["leader"],), s.url)
                    if v["leader"] is None:
                        seen = time.monotonic()
                        blind.setdefault(s.url, [seen, seen])[1] = seen
                time.sleep(0.1)
            wait_until(lambda: all(self.cluster(s)["leader"] == view["leader"] for s in servers), 10,
                       what="every server knows the leader")
            self.wait_progress("tick-agents", 2, after_ms=stopped_at)
        finally:
            zk.start(victim)
        zk.wait_quorum()
        sys.stderr.write("\nZooKeeper node %d stopped: no role changed; followers that knew no leader for a while "
                         "(their session moving): %s\n" % (victim + 1, ", ".join("%s %.1f s" % (u, t[1] - t[0])
                                                                               for u, t in blind.items()) or "none"))
        # the ensemble's leader restarted: its sessions move, one gnomon server leads, with an epoch no lower
        zk_leader = zk.leader_index()
        epoch = self.cluster(leader)["epoch"]
        t0 = time.monotonic()
        zk.stop(zk_leader)
        try:
            restarted_at = now_ms()
            zk.start(zk_leader)
            zk.wait_quorum()
        finally:
            if not zk.running(zk_leader):
                zk.start(zk_leader)
        now = self.wait_leader(servers, ZK_TIMEOUT_MS / 1000 + 20)
        after = self.cluster(now)
        self.assertGreaterEqual(after["epoch"], epoch)
        sys.stderr.write("\nthe ZooKeeper leader (node %d) restarted: %s leads (it led before: %s), epoch %d -> %d, "
                         "after %.2f s; its last role change: %s\n"
                         % (zk_leader + 1, now.url, now is leader, epoch, after["epoch"], time.monotonic() - t0,
                            after["lastRoleChange"]))
        for job in TICKERS:
            self.wait_progress(job, 2, after_ms=restarted_at)
        self.check_history("ZooKeeper node loss and leader restart")

    def test_postgres_restarted(self):
        servers, leader = self.start_cluster()
        stop_server()
        try:
            stopped_at = now_ms()
        finally:
            start_server()
        t0 = time.monotonic()
        for job in TICKERS:
            self.wait_progress(job, 2, timeout=40, after_ms=stopped_at)
        now = self.wait_leader(servers, 10)
        sys.stderr.write("\nPostgreSQL restarted: the tickers ran again after %.2f s; %s leads (it led before: %s)\n"
                         % (time.monotonic() - t0, now.url, now is leader))
        self.check_history("PostgreSQL restarted")

    def test_paused_leader_cannot_write_or_assign(self):
        """Agent 1 polls the leader itself first, agent 2 a follower: while the leader sleeps, another one is
        elected and assigns to both agents; woken, the old one steps down, its writes refused, and no agent starts
        anything of its epoch afterwards."""
        servers, old = self.start_cluster(leader_first=True)
        old_epoch = self.cluster(old)["epoch"]
        others = [s for s in servers if s is not old]
        stopped_at = now_ms()
        old.proc.send_signal(signal.SIGSTOP)
        try:
            new = self.wait_leader(others, ZK_TIMEOUT_MS / 1000 + 15)
            new_epoch = self.cluster(new)["epoch"]
            self.assertGreater(new_epoch, old_epoch)
            elected_at = now_ms()
            # the new leader runs the agents' ticker while the old one still sleeps
            self.wait_progress("tick-agents", 2, after_ms=elected_at)
            sys.stderr.write("\nthe leader paused: another leads after %.2f s, the agents ran two of its tasks "
                             "%.2f s later\n" % ((elected_at - stopped_at) / 1000, (now_ms() - elected_at) / 1000))
        finally:
            old.proc.send_signal(signal.SIGCONT)
        resumed_at = now_ms()
        view = wait_until(lambda: (lambda v: v if not v["leading"] and v["lastRoleChange"]["what"] == "stepped down"
                                   else None)(self.cluster(old)), 10, interval=0.05, what="the old leader stepped down")
        sys.stderr.write("\nthe paused leader, woken: %s (its write fenced: %s); epochs %d -> %d\n"
                         % (view["lastRoleChange"]["why"], view["postgres"]["fenced"], old_epoch, new_epoch))
        for job in TICKERS:
            self.wait_progress(job, 2, after_ms=resumed_at)
        self.assertIs(self.leader_of(servers), new)
        # no agent started a task of the old epoch for a slot due since the pause
        stale = [(a.name, t, e) for a in self.agents for t, e in a.started() if e <= old_epoch and
                 due_of(t) >= stopped_at]
        self.assertEqual(stale, [], "tasks the paused leader assigned")
        late = [(a.name, t, e) for a in self.agents for t, e in a.started() if due_of(t) >= elected_at + 1000 and
                e < new_epoch]
        self.assertEqual(late, [], "tasks due after the takeover started with an older epoch")
        self.check_history("a leader paused past its session timeout")

    def test_leader_again_after_following_waits_for_the_agents(self):
        """A leader paused past its session timeout follows once woken, longer than the agent timeout, while its
        agents serve the new leader; elected again, it must hear their runs from them, not take its own stale view
        for their state. It used to record the run it had placed "lost" at once (its sweep had called the silent
        agent lost while it only followed), and the retry ran the slot a second time (found by tests/chaos)."""
        servers, old = self.start_cluster(leader_first=True)
        self.add_job(sched("long", "sleep 40", "R1/%s/PT1S" % iso_ms(now_ms()),
                           constraints=[["pool", "EQUALS", "agents"]]), srv=old)
        run = wait_until(lambda: [r for r in self.runs(old, "long") if r["status"] == "running"], 20, interval=0.05,
                         what="the long run on an agent")[0]
        others = [s for s in servers if s is not old]
        old.proc.send_signal(signal.SIGSTOP)
        try:
            new = self.wait_leader(others, ZK_TIMEOUT_MS / 1000 + 15)
            self.wait_agents(new)
        finally:
            old.proc.send_signal(signal.SIGCONT)
        wait_until(lambda: (lambda v: not v["leading"] and v["lastRoleChange"]["what"] == "stepped down")(
            self.cluster(old)), 10, interval=0.05, what="the old leader stepped down")
        # the scenario's condition, not a hope: the old leader follows for longer than the agent timeout (10 s),
        # its agents silent to it all the while (they poll the new leader)
        time.sleep(12)
        for s in others:
            s.kill9()
        wait_until(lambda: self.leader_of([old]) is old, ZK_TIMEOUT_MS / 1000 + 15, interval=0.05,
                   what="the old leader elected again")
        [rec] = [r for r in self.pg_runs("long") if r["taskId"] == run["taskId"]]
        self.assertIn(rec["status"], OPEN + ("succeeded",), "the run was given up at the election: %r" % rec)
        wait_until(lambda: [r for r in self.pg_runs("long") if r["status"] not in OPEN], 45, interval=0.2,
                   what="the long run ended")
        runs = self.pg_runs("long")
        self.assertEqual([(r["taskId"], r["status"]) for r in runs], [(run["taskId"], "succeeded")],
                         "the one slot: one run, succeeded on its agent")
        self.check_agents_started_once()

    def test_stopped_while_its_epoch_is_recorded(self):
        """A server elected while PostgreSQL is out of reach and stopped before the commit of its epoch completed
        exits 0, cleanly (the commit's end, as the stop closed the connection, came to the freed role: SIGSEGV)."""
        db = new_database("failover_" + self._testMethodName.lower())
        args = ["--zk-hosts", module_ensemble().hosts, "--zk-path", "/gnomon-failover/%s" % self._testMethodName,
                "--zk-timeout", str(ZK_TIMEOUT_MS), "--state", db]
        servers = [self.new_server(args) for _ in range(2)]
        leader = self.wait_leader(servers, 20)
        [other] = [s for s in servers if s is not leader]
        stop_server()
        try:
            leader.stop()  # its session closed: the other is elected at once, and cannot record its epoch yet
            wait_until(lambda: "zookeeper: elected the leader" in other.current_log(), 10, interval=0.02,
                       what="the other server elected")
            other.stop()  # exit status 0, no sanitizer report
        finally:
            start_server()


if __name__ == "__main__":
    main()
