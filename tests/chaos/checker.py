"""The checker: Jepsen's rule, and stricter.

For every job whose add was acknowledged, its due slots (start + k * interval, k < count) up to the read time less
epsilon, duration and 5 s:
- Jepsen's rule: each slot is satisfied by a distinct complete run (a line in an agent's side-effect file, the
  slot's by the due time in its task id) that started within [due, due + epsilon + 5 s]; or the history has a
  `skipped` record covering it and no leader could exist for the window [due, due + epsilon - 3 s] (the 3 s,
  RECOVERY_MS: a new leader's load, its reconciliation and its agents' return before it dispatches): at every look in it either no server said it
  led, or the faults then active left no server with a ZooKeeper majority, PostgreSQL and an agent
  (nemesis.leader_possible). The report says which, and when.
- one allowance: a slot whose run is recorded `lost`, with no side effect, because the agent it was given to was
  stopped (paused, killed) or cut off from every server, or from the server that led then (the samples say
  which; a partition that leaves it a follower is the same case: the leader cannot reach it), by the nemesis
  between its due time and its epsilon, or while no leader could exist in [due, due + epsilon - 3 s] (as for a
  skip), is counted apart ("lost, justified") and not failed: that agent may have started it or not, nobody can
  tell until it is back, and running it elsewhere could run it twice; a job that must not miss such slots has retries.
- a run recorded `lost` (its agent silent past --agent-timeout) whose agent reported later that it exited 0, as
  the history's reason says ("reported later that it exited with status 0 (recorded, not counted)"), is a run the
  history has: its side effect is no mismatch, and its slot is satisfied when the line fits; it counts for no
  fan-in, as gnomon triggers no child on a lost parent. When its retry completed too, the slot has two complete
  runs: that is counted apart ("at least once, justified") when the lost one's agent was stopped or cut off as
  above: it completed while it could tell nobody, and a run whose agent is silent is retried (DESIGN.md's rule 5:
  at least once for a lost run's side effects; the kill lease makes sure a lost run is not still running then).
- stricter: no slot succeeded twice and no two complete runs in one slot's window; every slot has exactly one
  final record in the history (a `skipped` record covering it and no run, or its attempts, all but the last
  `failed` or `lost`, the last final) and none left open; the history matches the side-effect files: each
  succeeded run of a checked job wrote exactly one line with its task id, and each line is a run the history
  has as succeeded.

- no run started on a stale epoch: a run's line carries the epoch of the leader that started it
  (GNOMON_EPOCH); its agent must not have said it had seen a higher one (its log) more than STALE_MARGIN_MS before
  the run started (the margin: the spawn between the agent's decision and the run's first command).

Under clock faults (nemesis.py's clock-skew-server and clock-skew-agent; gnomon's --max-clock-offset):
- a server whose clock is skewed cannot lead (it steps down and resigns its elections): it counts as down for
  leader_possible() while skewed, so a skip is justified only if the others could not lead either;
- a slot whose run started before its due time, within CLOCK_GRACE_MS after a forward skew of the server that led
  then began (what the skewed leader fired before it saw its clock was off: libfaketime's cache of the file, the
  step looked for every 0.1 s), is counted apart ("off-clock, justified"); any other early or late run fails;
- a skewed agent's log is written in its skewed time: the epochs it says it saw within the skew (and the skew's
  size either side) are left out of the stale-epoch check (the side-effect lines are the executors' true time).
- retries: a flaky job's slot (its first attempt always fails) is met by a later attempt, never the first. A retry
  has no epsilon of its own: one that started past the window, but by no more than the time no leader could exist
  since the due time (the looks, as for a skip: a failover between the first attempt and its retry), is counted
  apart ("late retry, justified").
- fan-in: a child's runs follow its parents' completions: going through the parents' complete runs in the order
  they ended, each time both have completed since the last time, the child is due once; its complete runs must be
  those, one each, in order, each started after the completion that made it due and within FAN_IN_MS of it (the
  last one may still be missing when it became due less than FAN_IN_MS before the read).

check() returns a result dict (figures, the failures as sentences, each slot's verdict for the picture).
"""

import collections

from nemesis import leader_possible

FINAL = ("succeeded", "failed", "killed", "lost", "skipped")
FORGIVENESS_MS = 5000
FAN_IN_MS = 20000
LOOK_MS = 250  # the watch's looks at the servers (workload.Watch)
# a new leader's load, its reconciliation and its agents' return before it dispatches: a leader that became
# possible less than this before a slot's epsilon ran out could not have run it
RECOVERY_MS = 3000
STALE_MARGIN_MS = 1000
CLOCK_GRACE_MS = 2500


def skewed_log(faults, agent, t):
    """Whether agent's log line at t (its own clock) may be off the true time by a clock-skew fault."""
    return any(f["kind"] == "clock-skew-agent" and f["target"] == agent and
               f["start"] - abs(f["offset_ms"]) - 2000 <= t <= (f["end"] or t) + abs(f["offset_ms"]) + 2000
               for f in faults)


def check_epochs(effects, agent_epochs, faults=()):
    """Failures: runs started on an epoch lower than one their agent had seen before."""
    failures = []
    for e in effects:
        if "broken" in e or "epoch" not in e:
            continue
        seen = [(t, n) for t, n in agent_epochs.get(e["agent"], [])
                if t < e["start"] - STALE_MARGIN_MS and not skewed_log(faults, e["agent"], t)]
        if seen and max(n for _, n in seen) > e["epoch"]:
            t, n = max(seen, key=lambda x: x[1])
            failures.append("stale epoch: %s started on %s at %d on epoch %d, which had seen epoch %d at %d"
                            % (e["task"], e["agent"], e["start"], e["epoch"], n, t))
    return failures


def due_of(task):
    """The due time in a task id (ct:DUE:ATTEMPT:JOB:...), -1 when it has none."""
    parts = task.split(":")
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() else -1


def attempt_of(task):
    """The attempt in a task id (ct:DUE:ATTEMPT:JOB:...), -1 when it has none."""
    parts = task.split(":")
    return int(parts[2]) if len(parts) > 2 and parts[2].isdigit() else -1


def agent_faulted(faults, agent, lo, hi, samples=()):
    """The first fault active in [lo, hi] that stopped agent, cut it off from every server, or cut it off from the
    server leading then (by the samples in the fault's part of [lo, hi]; its `leader` when none is there), or
    None."""
    for f in faults:
        if f["start"] > hi or (f["end"] is not None and f["end"] < lo):
            continue
        if agent in f["down"]:
            return f
        side = {n: i for i, g in enumerate(f["groups"]) for n in g}
        if agent not in side:
            continue
        if not [n for n in f["groups"][side[agent]] if n.startswith("s")]:
            return f
        a, b = max(lo, f["start"]), hi if f["end"] is None else min(hi, f["end"])
        leaders = {s for t, leading in samples if a <= t <= b for s in leading} or {f.get("leader")}
        if [s for s in leaders if s in side and side[s] != side[agent]]:
            return f
    return None


def early_by_skew(faults, samples, start):
    """The forward clock-skew fault of the server leading at start that began at most CLOCK_GRACE_MS before it,
    or None."""
    for f in faults:
        if f["kind"] != "clock-skew-server" or f["offset_ms"] <= 0 or not 0 <= start - f["start"] <= CLOCK_GRACE_MS:
            continue
        led = [leading for t, leading in samples if f["start"] - 500 <= t <= start]
        if any(f["target"] in leading for leading in led):
            return f
    return None


LATE_SUCCESS = "reported later that it exited with status 0"


def check_fan_in(child, parents, lines_by_job, read_ms, succeeded):
    """(rounds due, child runs matched, failures) of one fan-in (see the module's doc); succeeded: the task ids
    the history has as succeeded (a parent's run recorded lost triggers nothing, whatever it did)."""
    failures, due = [], []
    done = set()
    for e in sorted((e for p in parents for e in lines_by_job.get(p, []) if e["task"] in succeeded),
                    key=lambda e: e["end"]):
        done.add(e["job"])
        if done == set(parents):
            due.append(e["end"])
            done = set()
    runs = sorted(lines_by_job.get(child, []), key=lambda e: e["start"])
    settled = [t for t in due if t < read_ms - FAN_IN_MS]
    if not len(settled) <= len(runs) <= len(due):
        failures.append("fan-in %s: %d complete runs for %d rounds of %s completed (%d of them more than %d s before "
                        "the read)" % (child, len(runs), len(due), " and ".join(parents), len(settled),
                                       FAN_IN_MS // 1000))
    for t, e in zip(due, runs):
        if not t <= e["start"] <= t + FAN_IN_MS:
            failures.append("fan-in %s: run %s started at %d, not within %d s after its parents completed at %d"
                            % (child, e["task"], e["start"], FAN_IN_MS // 1000, t))
    return len(due), min(len(runs), len(due)), failures


def history_rows(cluster):
    rows = cluster.psql("SELECT task_id, job, due_ms, attempt, trigger, status, reason, skipped_from_ms, "
                        "skipped_to_ms, skipped_slots, start_ms, end_ms, agent FROM runs ORDER BY id")
    if rows is None:
        raise RuntimeError("the history cannot be read from PostgreSQL")
    keys = ("task", "job", "due", "attempt", "trigger", "status", "reason", "from", "to", "slots", "start", "end",
            "agent")
    out = []
    for row in rows:
        r = dict(zip(keys, row))
        for k in ("due", "attempt", "from", "to", "slots", "start", "end"):
            r[k] = int(r[k]) if r[k] not in (None, "") else None
        out.append(r)
    return out


def leaderless_ms(faults, samples, lo, hi):
    """How long in [lo, hi] no leader could run anything, by the looks (LOOK_MS apart): nobody led, or whoever led
    was cut off as skip_justified() says."""
    n = 0
    for t, leading in samples:
        if lo <= t <= hi and not (leading and leader_possible(faults, t, leading)[0]):
            n += 1
    return n * LOOK_MS


def skip_justified(faults, samples, lo, hi):
    """(True, why) when no leader could run the slot at any look in [lo, hi]: nobody led, or whoever said it led
    was cut off (from a ZooKeeper majority, PostgreSQL or every agent) by the faults then active; else (False, the
    first look at which a server led and could have run it)."""
    looks = [(t, leading) for t, leading in samples if lo <= t <= hi]
    if not looks:
        return False, "no look at the leader in the window"
    whys = collections.Counter()
    for t, leading in looks:
        possible, why = leader_possible(faults, t, leading)
        if leading and possible:
            return False, "%s led at %d with a ZooKeeper majority, PostgreSQL and an agent in reach" % (leading[0], t)
        whys["no server leading" if not leading else "leader cut off: " + why] += 1
    return True, "; ".join("%s (%d looks)" % (w, n) for w, n in whys.most_common())


def check(jobs, history, effects, faults, samples, read_ms, dags=None, agent_epochs=None):
    """dags: {child: {parents: [a, b]}}, fan-ins whose parents are in jobs; agent_epochs: {agent: [[ms, epoch]]},
    when each agent saw a higher epoch."""
    failures, slots = [], []
    dags = dags or {}
    failures += check_epochs(effects, agent_epochs or {}, faults)
    by_job = collections.defaultdict(list)
    for r in history:
        by_job[r["job"]].append(r)
    lines_by_job = collections.defaultdict(list)
    lines_by_task = collections.defaultdict(list)
    broken = [e for e in effects if "broken" in e]
    for e in effects:
        if "broken" not in e:
            lines_by_job[e["job"]].append(e)
            lines_by_task[e["task"]].append(e)
    counts = collections.Counter()
    skip_reasons = collections.Counter()
    for name, j in sorted(jobs.items()):
        runs = by_job.get(name, [])
        attempts = collections.defaultdict(list)
        skips = collections.Counter()
        for r in runs:
            if r["status"] == "skipped" and r["from"] is not None:
                for due in range(r["from"], r["to"] + 1, j["interval"]):
                    skips[due] += 1
            else:
                attempts[r["due"]].append(r)
        for k in range(j["count"]):
            due = j["start"] + k * j["interval"]
            if due >= read_ms - j["epsilon"] - j["duration"] - FORGIVENESS_MS:
                break
            hi = due + j["epsilon"] + FORGIVENESS_MS
            # a line is its slot's by the due time in its task id (a late retry of an earlier slot may start in
            # this one's window); its slot's lines that started out of the window count as late
            ran = [e for e in lines_by_job[name] if due_of(e["task"]) == due]
            fits = [e for e in ran if due <= e["start"] <= hi]
            mine = sorted(attempts.pop(due, []), key=lambda r: r["attempt"])
            where = "%s slot %d" % (name, due)
            verdict, why = "lost", ""
            lost_late = {r["task"]: r for r in mine if r["status"] == "lost" and LATE_SUCCESS in (r["reason"] or "")
                         and r["agent"] and agent_faulted(faults, r["agent"], due - 1000, r["end"] or read_ms, samples)}
            if len(ran) == 2 and len([e for e in ran if e["task"] in lost_late]) == 1:
                # one completed while its agent was stopped or cut off, which could not tell anyone: recorded lost,
                # retried (at least once, DESIGN.md's rule 5), and its late result recorded on it, counted nowhere
                e = [e for e in ran if e["task"] in lost_late][0]
                verdict, why = "at-least-once", "%s completed while its agent %s could not report it" % (
                    e["task"], lost_late[e["task"]]["agent"])
            elif len(ran) > 1:
                failures.append("%s: %d complete runs: %s" % (where, len(ran), [e["task"] for e in ran]))
                verdict = "duplicated"
            elif ran and not fits:
                why = "%s started %.1f s after its due time" % (ran[0]["task"], (ran[0]["start"] - due) / 1000)
                f = early_by_skew(faults, samples, ran[0]["start"]) if ran[0]["start"] < due else None
                gap = leaderless_ms(faults, samples, due, ran[0]["start"]) if ran[0]["start"] > hi else 0
                if f:
                    verdict, why = "off-clock", "%s (%s %s %+d s)" % (why, f["kind"], f["target"],
                                                                      f["offset_ms"] // 1000)
                elif attempt_of(ran[0]["task"]) > 0 and ran[0]["start"] - gap <= hi:
                    # a retry (no epsilon of its own) late by no more than the time no leader could exist
                    verdict, why = "late-retry", "%s, %.1f s of it with no leader possible" % (why, gap / 1000)
                elif attempt_of(ran[0]["task"]) > 0 and [r for r in mine if r["attempt"] < attempt_of(ran[0]["task"])
                                                       and r["status"] == "lost" and r["agent"] and agent_faulted(
                                                           faults, r["agent"], due - 1000, r["end"] or read_ms,
                                                           samples)]:
                    # the retry of a run lost with its agent: --agent-timeout passed before it could be retried
                    verdict, why = "late-retry", "%s, after an attempt lost with its agent" % why
            elif fits:
                verdict = "satisfied"
                if j.get("flaky") and attempt_of(fits[0]["task"]) == 0:
                    failures.append("%s: met by the first attempt of a flaky job, which exits 3: %s"
                                    % (where, fits[0]["task"]))
            if len([r for r in mine if r["status"] == "succeeded"]) > 1:
                failures.append("%s: succeeded twice: %s" % (where, [r["task"] for r in mine]))
                verdict = "duplicated"
            if [r for r in mine if r["status"] not in FINAL]:
                failures.append("%s: left open: %s" % (where, [(r["task"], r["status"]) for r in mine]))
                verdict, why = "open", "its run is still %s in the history" % mine[-1]["status"]
            if skips[due]:
                if skips[due] > 1 or mine:
                    failures.append("%s: skipped %d times and run %d times" % (where, skips[due], len(mine)))
                if verdict == "lost":
                    ok, why = skip_justified(faults, samples, due, due + j["epsilon"] - RECOVERY_MS)
                    verdict = "skipped" if ok else "skipped-unjustified"
                    if ok:
                        skip_reasons[why.split(" (")[0]] += 1
                    else:
                        failures.append("%s: skipped although a leader could run it: %s" % (where, why))
            elif not mine:
                failures.append("%s: no record at all in the history" % where)
            else:
                for r in mine[:-1]:
                    if r["status"] not in ("failed", "lost"):
                        failures.append("%s: retried after a final outcome: %s" % (where, r))
                if verdict == "lost":
                    why = "; ".join(([why] if why else []) +
                                    ["%s %s %s" % (r["task"], r["status"], r["reason"]) for r in mine])
            if verdict == "lost" and mine and mine[-1]["status"] == "lost" and mine[-1]["agent"]:
                f = agent_faulted(faults, mine[-1]["agent"], due - 1000, due + j["epsilon"], samples)
                if f:
                    verdict = "lost-agent"
                    why = "%s (%s %s)" % (why, f["kind"], f["target"])
            if verdict == "lost" and mine and mine[-1]["status"] == "lost":
                # recorded lost and never run: as a skip, justified when no leader could have run it in its window
                ok, no_leader = skip_justified(faults, samples, due, due + j["epsilon"] - RECOVERY_MS)
                if ok:
                    verdict = "lost-agent"
                    why = "%s (%s)" % (why, no_leader)
            if verdict == "lost":
                failures.append("%s: not satisfied (no complete run started in [due, due + %d s]); history: %s"
                                % (where, hi // 1000 - due // 1000, why or "none"))
            counts[verdict] += 1
            slots.append({"job": name, "due": due, "verdict": verdict, "why": why})
    fan_in = {"rounds": 0, "children": 0}
    succeeded_all = {r["task"] for r in history if r["status"] == "succeeded"}
    for child, d in sorted(dags.items()):
        rounds, matched, fails = check_fan_in(child, d["parents"], lines_by_job, read_ms, succeeded_all)
        fan_in["rounds"] += rounds
        fan_in["children"] += matched
        failures += fails
    # the history against the side-effect files
    names = set(jobs) | set(dags) | {p for d in dags.values() for p in d["parents"]}
    checked = [r for r in history if r["job"] in names]
    succeeded = {r["task"] for r in checked if r["status"] == "succeeded"}
    late = {r["task"] for r in checked if r["status"] == "lost" and LATE_SUCCESS in r["reason"]}
    for task in sorted(succeeded | late):
        n = len(lines_by_task.get(task, []))
        if n != 1:
            failures.append("history: %s succeeded but wrote %d side-effect lines" % (task, n))
    for task, lines in sorted(lines_by_task.items()):
        if task not in succeeded and task not in late:
            failures.append("side effects: %s (%s on %s) is not a succeeded run in the history"
                            % (task, lines[0]["job"], lines[0]["agent"]))
    tasks = collections.Counter(r["task"] for r in history)
    failures += ["history: task id %s recorded %d times" % (t, n) for t, n in tasks.items() if n > 1]
    return {"slots": len(slots), "satisfied": counts["satisfied"], "skipped": counts["skipped"],
            "skipped_reasons": dict(skip_reasons), "skipped_unjustified": counts["skipped-unjustified"],
            "lost": counts["lost"], "lost_agent": counts["lost-agent"], "off_clock": counts["off-clock"],
            "late_retry": counts["late-retry"], "at_least_once": counts["at-least-once"],
            "duplicated": counts["duplicated"],
            "open": counts["open"],
            "fan_in_rounds": fan_in["rounds"], "fan_in_children": fan_in["children"],
            "broken_lines": len(broken), "runs_in_history": len(checked),
            "side_effect_lines": len(effects) - len(broken),
            "failures": failures, "slot_verdicts": slots}


def failover_times(faults, samples):
    """For each fault that hit the leader (killed, paused or cut off): ms from its start to the first look at
    which another server (or, after the heal, any server) led alone; None when none did."""
    out = []
    for f in faults:
        if not f["leader"] or f["target"] != f["leader"]:
            continue
        for t, leading in samples:
            if t > f["start"] and len(leading) == 1 and (leading[0] != f["leader"] or t >= f["end"]):
                out.append({"kind": f["kind"], "leader": f["leader"], "ms": t - f["start"]})
                break
        else:
            out.append({"kind": f["kind"], "leader": f["leader"], "ms": None})
    return out
