#!/usr/bin/env python3
"""The fault suite's checker on made-up histories (no cluster, no root): each rule it enforces is broken once."""

import os
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from checker import check, failover_times  # noqa: E402
from nemesis import leader_possible  # noqa: E402

T0 = 1_000_000_000_000
JOB = {"start": T0, "interval": 20000, "count": 3, "epsilon": 8000, "duration": 1000, "server": "s1"}
READ = T0 + 3 * 20000 + 20000  # every slot due
EVERYONE = [(T0 + i * 250, ["s1"]) for i in range(400)]
NOBODY = [(T0 + i * 250, []) for i in range(400)]


def run(k, attempt=0, status="succeeded", task=None):
    return {"task": task or "ct:%d:%d:w0:" % (T0 + k * 20000, attempt), "job": "w0", "due": T0 + k * 20000,
            "attempt": attempt, "trigger": "schedule", "status": status, "reason": "", "from": None, "to": None,
            "slots": None, "start": None, "end": None, "agent": "a1"}


def line(k, delay=500, task=None):
    return {"job": "w0", "task": task or "ct:%d:0:w0:" % (T0 + k * 20000), "start": T0 + k * 20000 + delay,
            "end": T0 + k * 20000 + delay + 1000, "agent": "a1"}


def skipped(k):
    r = run(k, status="skipped", task="ct:skip%d" % k)
    r.update({"from": T0 + k * 20000, "to": T0 + k * 20000, "slots": 1})
    return r


class Checker(unittest.TestCase):
    def verdicts(self, history, effects, samples=EVERYONE, faults=()):
        res = check({"w0": JOB}, history, effects, list(faults), samples, READ)
        return [s["verdict"] for s in res["slot_verdicts"]], res["failures"]

    def test_every_slot_once(self):
        self.assertEqual(self.verdicts([run(k) for k in range(3)], [line(k) for k in range(3)]),
                         (["satisfied"] * 3, []))

    def test_started_after_the_window_is_lost(self):
        v, failures = self.verdicts([run(k) for k in range(3)], [line(0), line(1, delay=13001), line(2)])
        self.assertEqual(v, ["satisfied", "lost", "satisfied"])
        self.assertIn("w0 slot %d: not satisfied" % (T0 + 20000), failures[0])

    def test_succeeded_twice(self):
        history = [run(0), run(1), run(1, attempt=1), run(2)]
        effects = [line(0), line(1), line(1, delay=700, task=history[2]["task"]), line(2)]
        v, failures = self.verdicts(history, effects)
        self.assertEqual(v, ["satisfied", "duplicated", "satisfied"])
        self.assertTrue([f for f in failures if "succeeded twice" in f], failures)

    def test_a_late_retry_is_its_own_slots_not_the_next(self):
        late = run(0, attempt=1)
        history = [run(0, status="failed"), late, run(1), run(2)]
        effects = [line(0, delay=21000, task=late["task"]), line(1), line(2)]  # in slot 1's window
        v, failures = self.verdicts(history, effects)
        self.assertEqual(v, ["lost", "satisfied", "satisfied"])
        self.assertIn("started 21.0 s after its due time", failures[0])

    def test_two_complete_runs_of_one_slot(self):
        history = [run(0), run(1, status="lost"), run(1, attempt=1), run(2)]
        history[1]["reason"] = "its agent a1 (vm) stopped answering; its agent a1 reported later that it exited " \
                               "with status 0 (recorded, not counted)"
        effects = [line(0), line(1), line(1, delay=3000, task=history[2]["task"]), line(2)]
        v, failures = self.verdicts(history, effects)
        self.assertEqual(v, ["satisfied", "duplicated", "satisfied"])
        self.assertIn("2 complete runs", failures[0])

    def test_left_open(self):
        v, failures = self.verdicts([run(0), run(1, status="running"), run(2)], [line(0), line(1), line(2)])
        self.assertEqual(v, ["satisfied", "open", "satisfied"])
        self.assertIn("w0 slot %d: left open" % (T0 + 20000), failures[0])

    def test_side_effect_without_history(self):
        _, failures = self.verdicts([run(0), run(1)], [line(0), line(1), line(2)])
        self.assertIn("side effects: ct:%d:0:w0: (w0 on a1) is not a succeeded run in the history" % (T0 + 40000),
                      failures)
        self.assertIn("w0 slot %d: no record at all in the history" % (T0 + 40000), failures)

    def test_skip_with_a_leader_in_reach_is_a_failure(self):
        v, failures = self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)])
        self.assertEqual(v, ["satisfied", "skipped-unjustified", "satisfied"])
        self.assertIn("skipped although a leader could run it", failures[0])

    def test_skip_without_a_leader_is_allowed(self):
        self.assertEqual(self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)], samples=NOBODY),
                         (["satisfied", "skipped", "satisfied"], []))

    def test_skip_while_the_faults_leave_no_quorum(self):
        fault = {"kind": "partition-halves", "target": "", "start": T0, "end": T0 + 60000, "leader": "s1",
                 "groups": [["zk1", "s1", "a1", "pg"], ["zk2", "zk3", "s2", "s3", "a2", "a3"]], "down": ["s2", "s3"]}
        v, failures = self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)], faults=[fault])
        self.assertEqual((v[1], failures), ("skipped", []))

    def test_skip_while_the_leader_is_cut_off(self):
        fault = {"kind": "partition-leader", "target": "s1", "start": T0, "end": T0 + 60000, "leader": "s1",
                 "groups": [["s1"], ["zk1", "zk2", "zk3", "s2", "s3", "a1", "a2", "a3", "pg"]], "down": []}
        v, failures = self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)], faults=[fault])
        self.assertEqual((v[1], failures), ("skipped", []))
        later = [(t, ["s2"] if t >= T0 + 20000 + 3000 else leading) for t, leading in EVERYONE]
        v, failures = self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)], samples=later, faults=[fault])
        self.assertEqual(v[1], "skipped-unjustified")
        self.assertIn("s2 led at %d" % (T0 + 23000), failures[0])

    def test_skip_while_postgres_is_down(self):
        fault = {"kind": "kill-pg", "target": "pg", "start": T0, "end": T0 + 60000, "leader": "s1", "groups": [],
                 "down": ["pg"]}
        v, failures = self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)], faults=[fault])
        self.assertEqual((v[1], failures), ("skipped", []))

    def test_a_bridge_leaves_a_majority_through_the_node_both_halves_reach(self):
        fault = {"kind": "partition-bridge", "target": "", "start": T0, "end": T0 + 60000, "leader": "s1",
                 "groups": [["s1", "zk1", "a1", "pg", "s3"], ["s2", "zk3", "a2", "a3"]], "down": []}
        v, failures = self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)], faults=[fault])
        self.assertEqual(v[1], "skipped-unjustified")
        self.assertIn("skipped although a leader could run it", failures[0])
        self.assertEqual(leader_possible([fault], T0 + 1000, ["s2"]),
                         (False, "s2 cut off from PostgreSQL"))

    def test_a_flaky_job_is_met_by_its_retry(self):
        flaky = dict(JOB, flaky=True)
        history = [run(0), run(0, 1, task="ct:%d:1:w0:" % T0), run(1, 0, "failed"), run(1, 1), run(2, 0, "failed"),
                   run(2, 1)]
        history[0]["status"] = "failed"
        effects = [line(0, task="ct:%d:1:w0:" % T0), line(1, task="ct:%d:1:w0:" % (T0 + 20000)),
                   line(2, task="ct:%d:1:w0:" % (T0 + 40000))]
        res = check({"w0": flaky}, history, effects, [], EVERYONE, READ)
        self.assertEqual(res["failures"], [])
        res = check({"w0": flaky}, [run(0), run(1), run(2)], [line(k) for k in range(3)], [], EVERYONE, READ)
        self.assertIn("met by the first attempt of a flaky job", res["failures"][0])

    def test_a_retry_late_by_a_leaderless_time_is_counted_apart(self):
        retry = "ct:%d:1:w0:" % T0  # the retry of a first attempt that failed
        history = [dict(run(0), status="failed"), run(0, 1, task=retry), run(1), run(2)]
        effects = [line(0, 15000, task=retry), line(1), line(2)]  # 15 s late: the window is epsilon 8 + 5 s
        gap = [(t, [] if T0 + 1000 <= t < T0 + 4000 else ["s1"]) for t, _ in EVERYONE]  # 3 s without a leader
        for what, samples, task, verdict in (
                ("no leaderless time", EVERYONE, retry, "lost"),
                ("3 s without a leader: 12 s late", gap, retry, "late-retry"),
                ("a first attempt gets no allowance", gap, "ct:%d:0:w0:" % T0, "lost")):
            with self.subTest(what):
                h = [dict(r, task=task) if r["task"] == retry else r for r in history]
                res = check({"w0": JOB}, h, [dict(effects[0], task=task)] + effects[1:], [], samples, READ)
                self.assertEqual(res["slot_verdicts"][0]["verdict"], verdict, res["failures"])
                self.assertEqual(bool(res["failures"]), verdict == "lost", res["failures"])

    def test_a_lost_run_that_completed_and_its_retry(self):
        lost = dict(run(1, status="lost"), reason="its agent a1 (vm) stopped answering (silent for 10 s); its agent a1 "
                    "reported later that it exited with status 0 (recorded, not counted)", end=T0 + 31000)
        retry = run(1, 1, task="ct:%d:1:w0:" % (T0 + 20000))
        effects = [line(0), line(1), line(1, 12000, task=retry["task"]), line(2)]
        pause = {"kind": "pause-agent", "target": "a1", "start": T0 + 20600, "end": T0 + 33000, "leader": "s1",
                 "groups": [], "down": ["a1"]}
        v, failures = self.verdicts([run(0), lost, retry, run(2)], effects, faults=[pause])
        self.assertEqual((v, failures), (["satisfied", "at-least-once", "satisfied"], []))
        # its agent was not stopped or cut off: two complete runs
        v, failures = self.verdicts([run(0), lost, retry, run(2)], effects)
        self.assertEqual(v[1], "duplicated")
        self.assertIn("2 complete runs", failures[0])
        # the retry of a run lost with its paused agent may start after the window
        late = [line(0), line(1, 15000, task=retry["task"]), line(2)]
        lost_quiet = dict(lost, reason="its agent a1 (vm) stopped answering (silent for 10 s)")
        v, failures = self.verdicts([run(0), lost_quiet, retry, run(2)], late, faults=[pause])
        self.assertEqual((v, failures), (["satisfied", "late-retry", "satisfied"], []))
        v, failures = self.verdicts([run(0), lost_quiet, retry, run(2)], late)
        self.assertEqual(v[1], "lost")

    def fan_in(self, child_starts, parent_ends=((1000, 1500), (21000, 20500))):
        """Two parents' complete runs (their ends per round) and the child's runs (their starts)."""
        effects = []
        for k, ends in enumerate(parent_ends):
            for job, end in zip(("pa", "pb"), ends):
                if end is not None:
                    effects.append({"job": job, "task": "ct:%d:0:%s:" % (T0 + k * 20000, job), "start": T0 + end - 500,
                                    "end": T0 + end, "agent": "a1"})
        for i, start in enumerate(child_starts):
            effects.append({"job": "pc", "task": "ct:dep%d:0:pc:" % i, "start": T0 + start, "end": T0 + start + 10,
                            "agent": "a2"})
        history = [{"task": e["task"], "job": e["job"], "due": 0, "attempt": 0, "trigger": "", "status": "succeeded",
                    "reason": "", "from": None, "to": None, "slots": None, "start": None, "end": None, "agent": "a1"}
                   for e in effects]
        res = check({}, history, effects, [], EVERYONE, READ, {"pc": {"parents": ["pa", "pb"]}})
        return res["fan_in_rounds"], res["fan_in_children"], res["failures"]

    def test_fan_in_once_per_round_after_both_parents(self):
        self.assertEqual(self.fan_in([1600, 21100]), (2, 2, []))

    def test_fan_in_missing_extra_or_early_children(self):
        self.assertIn("1 complete runs for 2 rounds", self.fan_in([1600])[2][0])
        self.assertIn("3 complete runs for 2 rounds", self.fan_in([1600, 21100, 21200])[2][0])
        self.assertIn("not within 20 s after its parents completed", self.fan_in([1200, 21100])[2][0])

    def test_fan_in_waits_for_both_parents_across_rounds(self):
        # round 0: pb did not complete; round 1: both did: one child, after pb's run of round 1
        self.assertEqual(self.fan_in([20600], parent_ends=((1000, None), (21000, 20500))), (1, 1, []))

    def test_a_run_on_an_epoch_its_agent_had_seen_pass_is_stale(self):
        effects = [dict(line(k), epoch=3) for k in range(3)]
        seen = {"a1": [[T0 - 5000, 2], [T0 + 20000, 3]]}
        res = check({"w0": JOB}, [run(k) for k in range(3)], effects, [], EVERYONE, READ, None, seen)
        self.assertEqual(res["failures"], [])
        seen["a1"].append([T0 + 30000, 4])  # epoch 4 seen 10.5 s before slot 2's run started on epoch 3
        res = check({"w0": JOB}, [run(k) for k in range(3)], effects, [], EVERYONE, READ, None, seen)
        self.assertEqual(len(res["failures"]), 1, res["failures"])
        self.assertIn("stale epoch: ct:%d:0:w0: started on a1" % (T0 + 40000), res["failures"][0])
        seen["a1"][-1][0] = T0 + 40000  # seen as the run started: within the margin
        self.assertEqual(check({"w0": JOB}, [run(k) for k in range(3)], effects, [], EVERYONE, READ, None,
                               seen)["failures"], [])

    def test_a_run_lost_with_its_paused_agent_is_counted_apart(self):
        lost = run(1, status="lost")
        lost["reason"] = "its agent a1 (vm) stopped answering (silent for 10 s)"
        pause = {"kind": "pause-agent", "target": "a1", "start": T0 + 19000, "end": T0 + 31000, "leader": "s1",
                 "groups": [], "down": ["a1"]}
        v, failures = self.verdicts([run(0), lost, run(2)], [line(0), line(2)], faults=[pause])
        self.assertEqual((v, failures), (["satisfied", "lost-agent", "satisfied"], []))
        elsewhere = dict(pause, target="a2", down=["a2"])
        v, failures = self.verdicts([run(0), lost, run(2)], [line(0), line(2)], faults=[elsewhere])
        self.assertEqual(v[1], "lost")
        self.assertIn("not satisfied", failures[0])
        cut = dict(pause, kind="partition-agent", down=[], groups=[["a1"], ["s1", "s2", "s3", "pg", "zk1"]])
        self.assertEqual(self.verdicts([run(0), lost, run(2)], [line(0), line(2)], faults=[cut])[0][1], "lost-agent")
        # recorded lost while no leader could have run it
        self.assertEqual(self.verdicts([run(0), lost, run(2)], [line(0), line(2)], samples=NOBODY),
                         (["satisfied", "lost-agent", "satisfied"], []))

    def test_a_run_lost_with_its_agent_cut_off_from_the_leader_is_counted_apart(self):
        lost = run(1, status="lost")
        lost["reason"] = "its agent a1 (vm) stopped answering (silent for 10 s)"
        halves = {"kind": "partition-halves", "target": "", "start": T0 + 19000, "end": T0 + 27000, "leader": "s1",
                  "groups": [["s1", "zk1", "a2"], ["a1", "s2", "s3", "zk2", "zk3", "pg"]], "down": []}
        s2_leads = [(t, ["s2"]) for t, _ in EVERYONE]
        s2_later = [(t, ["s1"] if t < T0 + 19000 else ["s2"]) for t, _ in EVERYONE]
        s1_then_s2 = [(t, ["s1"] if t < T0 + 22000 else ["s2"]) for t, _ in EVERYONE]
        # (it ends inside the window's part where a leader must be possible: the last RECOVERY_MS are not)
        bridge = dict(halves, kind="partition-bridge", groups=[["s1", "zk1"], ["s2", "s3", "zk2", "zk3", "pg"]],
                      end=T0 + 24000)
        outside = dict(halves, start=T0 + 30000, end=T0 + 35000)
        for name, fault, samples, verdict in (
                ("a1 with a follower, the leader s1 on the other side", halves, EVERYONE, "lost-agent"),
                ("a1 with the leader s2", halves, s2_leads, "lost"),
                ("s1 led before the fault, s2 (a1's side) throughout it", halves, s2_later, "lost"),
                ("s1 led for part of the fault", halves, s1_then_s2, "lost-agent"),
                ("no look in the fault: the leader it hit", halves, [], "lost-agent"),
                ("a1 the bridge, reaching both sides", bridge, EVERYONE, "lost"),
                ("the partition after the window", outside, EVERYONE, "lost")):
            v, failures = self.verdicts([run(0), lost, run(2)], [line(0), line(2)], samples=samples, faults=[fault])
            self.assertEqual(v[1], verdict, name)
            self.assertEqual(bool(failures), verdict == "lost", (name, failures))

    def test_a_run_fired_early_by_a_leader_whose_clock_jumped(self):
        skew = {"kind": "clock-skew-server", "target": "s1", "start": T0 + 19000, "end": T0 + 27000, "leader": "s1",
                "groups": [], "down": ["s1"], "offset_ms": 30000}
        early = line(2, delay=-20000)  # slot 2 (due T0 + 40 s) fired at T0 + 20 s, 1 s after the jump
        s2_led = [(t, ["s2"]) for t, _ in EVERYONE]
        for name, fault, samples, verdict in (
                ("forward, the leader, within the grace", skew, EVERYONE, "off-clock"),
                ("backwards", dict(skew, offset_ms=-30000), EVERYONE, "lost"),
                ("another server skewed", dict(skew, target="s2", down=["s2"]), EVERYONE, "lost"),
                ("s1 skewed while s2 led", skew, s2_led, "lost"),
                ("past the grace", dict(skew, start=T0 + 17000), EVERYONE, "lost")):
            v, failures = self.verdicts([run(0), run(1), run(2)], [line(0), line(1), early], samples=samples,
                                        faults=[fault])
            self.assertEqual(v[2], verdict, name)
            self.assertEqual(bool(failures), verdict == "lost", (name, failures))

    def test_a_skewed_server_cannot_lead_for_a_skip(self):
        skew = {"kind": "clock-skew-server", "target": "s1", "start": T0, "end": T0 + 60000, "leader": "s1",
                "groups": [], "down": ["s1"], "offset_ms": -30000}
        others_down = {"kind": "kill-server", "target": "s2", "start": T0, "end": T0 + 60000, "leader": "s1",
                       "groups": [], "down": ["s2", "s3"]}
        v, failures = self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)], faults=[skew, others_down])
        self.assertEqual((v[1], failures), ("skipped", []))
        v, failures = self.verdicts([run(0), skipped(1), run(2)], [line(0), line(2)], faults=[others_down])
        self.assertEqual(v[1], "skipped-unjustified")

    def test_a_skewed_agents_log_times_are_not_held_against_it(self):
        effects = [dict(line(k), epoch=3) for k in range(3)]
        seen = {"a1": [[T0 - 5000, 2], [T0 + 20000, 3], [T0 + 10000, 4]]}  # epoch 4 "seen" 30 s early: skewed
        skew = {"kind": "clock-skew-agent", "target": "a1", "start": T0 + 35000, "end": T0 + 42000, "leader": "s1",
                "groups": [], "down": [], "offset_ms": -30000}
        res = check({"w0": JOB}, [run(k) for k in range(3)], effects, [skew], EVERYONE, READ, None, seen)
        self.assertEqual(res["failures"], [])
        res = check({"w0": JOB}, [run(k) for k in range(3)], effects, [], EVERYONE, READ, None, seen)
        self.assertIn("stale epoch", res["failures"][0])

    def test_a_late_success_of_a_lost_run_is_in_the_history(self):
        lost = run(1, status="lost")
        lost["reason"] = ("its agent a1 (vm) stopped answering (silent for 10 s); its agent a1 reported later that it "
                          "exited with status 0 (recorded, not counted)")
        self.assertEqual(self.verdicts([run(0), lost, run(2)], [line(k) for k in range(3)]),
                         (["satisfied"] * 3, []))
        lost["reason"] = "its agent a1 (vm) stopped answering (silent for 10 s)"
        self.assertIn("is not a succeeded run in the history",
                      self.verdicts([run(0), lost, run(2)], [line(k) for k in range(3)])[1][0])

    def test_failover_time(self):
        fault = {"kind": "pause-leader", "target": "s1", "leader": "s1", "start": T0, "end": T0 + 8000}
        samples = [(T0 + 100, []), (T0 + 4100, ["s2"])]
        self.assertEqual(failover_times([fault], samples), [{"kind": "pause-leader", "leader": "s1", "ms": 4100}])


if __name__ == "__main__":
    unittest.main()
