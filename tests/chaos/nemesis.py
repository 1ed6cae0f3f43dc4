"""The faults, each started and healed by the nemesis and logged with its times (ms since the epoch).

Kinds of this slice:
- partition-halves: the nodes (the suite's own `ctl` aside) split at random into two halves, each dropping what
  comes from the other (iptables DROP inside their namespaces, as Jepsen does);
- partition-leader: the leading server cut off from every other node;
- partition-agent: one agent cut off from every other node;
- partition-bridge: Jepsen's bridge: two halves that do not reach each other and one node that reaches both, so
  that two majorities overlap in it;
- lossy-links: half the nodes drop a tenth of what comes to them, at random (iptables' statistic match), and
  where the kernel has tc netem, everything they send waits 100 ms +- 50 ms more;
- kill-server, kill-agent, kill-zk: kill -9 of one such node (a server: the leader one time in two), started
  again at the heal; kill-pg: PostgreSQL's immediate shutdown (a crash: recovery at the next start), started
  again at the heal;
- pause-leader: SIGSTOP of the leading server for longer than the ZooKeeper session timeout, then SIGCONT;
  pause-agent: the same of an agent (its tasks' executors go on) for longer than its lease and the servers'
  --agent-timeout;
- disk-full: one agent's data directory (a tmpfs of its own, cluster.py) filled to its last block by one file
  (fallocate), removed at the heal: the agent cannot journal a start and refuses it, and the leader passes it
  over for a while (README, "Agents"), so its runs go to the others;
- clock-skew-server: a server's wall clock (the leader one time in two) moved SKEW_S seconds forwards or
  backwards (libfaketime, cluster.py), and back at the heal: it steps down (--max-clock-offset) and another
  leads; listed in `down` while skewed, as a server that cannot lead;
- clock-skew-agent: the same of an agent's wall clock (its lease and timers are monotonic; its log's times
  move, which the checker allows for).

A fault is a dict: kind, target, start, end (ms), groups (a partition's sides) and down (the nodes it stopped),
which the checker reads to say whether a leader could exist at a given time (leader_possible()).
"""

import random
import time

from cluster import AGENT_TIMEOUT_S, AGENTS, CONTROL, NODES, PG, SERVERS, ZK, ZK_TIMEOUT_MS

KINDS = ("partition-halves", "partition-leader", "partition-agent", "partition-bridge", "lossy-links", "kill-server",
         "kill-agent", "kill-zk", "kill-pg", "pause-leader", "pause-agent", "disk-full", "clock-skew-server",
         "clock-skew-agent")
LOSS = 0.1
SKEW_S = 30


def now_ms():
    return int(time.time() * 1000)


class Nemesis:
    def __init__(self, cluster, log, rng):
        self.c, self.log, self.rng = cluster, log, rng
        self.faults = []

    def start(self, kind):
        """Start a fault of kind; returns it (None when it cannot be made now: no leader to hit)."""
        c, net = self.c, self.c.net
        f = {"kind": kind, "target": "", "groups": [], "down": [], "start": None, "end": None, "leader": c.leader()}
        if kind == "partition-halves":
            nodes = [n for n in NODES if n != CONTROL]
            self.rng.shuffle(nodes)
            half = len(nodes) // 2
            f["groups"] = [sorted(nodes[:half]), sorted(nodes[half:])]
            f["target"] = " | ".join(",".join(g) for g in f["groups"])
            f["start"] = now_ms()
            net.partition(f["groups"])
        elif kind == "partition-agent":
            agent = self.rng.choice(AGENTS)
            f["target"] = agent
            f["groups"] = [[agent], [n for n in NODES if n not in (agent, CONTROL)]]
            f["start"] = now_ms()
            net.partition(f["groups"])
        elif kind == "partition-bridge":
            nodes = [n for n in NODES if n != CONTROL]
            self.rng.shuffle(nodes)
            bridge, rest = nodes[0], nodes[1:]
            half = len(rest) // 2
            f["groups"] = [sorted(rest[:half]), sorted(rest[half:])]
            f["target"] = "%s | %s | %s" % (",".join(f["groups"][0]), bridge, ",".join(f["groups"][1]))
            f["start"] = now_ms()
            net.partition(f["groups"])  # the bridge is in neither group: it keeps talking to both
        elif kind == "lossy-links":
            nodes = [n for n in NODES if n != CONTROL]
            self.rng.shuffle(nodes)
            lossy = sorted(nodes[:len(nodes) // 2])
            f["target"] = ",".join(lossy)
            f["start"] = now_ms()
            net.lossy(lossy, LOSS)
            if net.can_delay():
                net.delay(lossy, 100, 50)
        elif kind == "pause-agent":
            agent = self.rng.choice([a for a in AGENTS if c.running(a)])
            f["target"], f["down"] = agent, [agent]
            f["start"] = now_ms()
            c.pause(agent)
        elif kind == "disk-full":
            agent = self.rng.choice(AGENTS)
            f["target"] = agent
            f["start"] = now_ms()
            c.fill(agent)
        elif kind in ("clock-skew-server", "clock-skew-agent"):
            if not c.can_skew():
                return None
            pool = SERVERS if kind == "clock-skew-server" else AGENTS
            target = self.rng.choice(pool)
            if kind == "clock-skew-server" and self.rng.random() < 0.5:
                target = f["leader"] or target
            f["target"] = target
            f["offset_ms"] = self.rng.choice((1, -1)) * SKEW_S * 1000
            if kind == "clock-skew-server":
                f["down"] = [target]
            f["start"] = now_ms()
            c.skew(target, f["offset_ms"] // 1000)
        elif kind in ("partition-leader", "pause-leader"):
            leader = f["leader"]
            if not leader:
                return None
            f["target"] = leader
            f["start"] = now_ms()
            if kind == "partition-leader":
                f["groups"] = [[leader], [n for n in NODES if n not in (leader, CONTROL)]]
                net.partition(f["groups"])
            else:
                f["down"] = [leader]
                c.pause(leader)
        else:
            pool = {"kill-server": SERVERS, "kill-agent": AGENTS, "kill-zk": ZK, "kill-pg": (PG,)}[kind]
            live = [n for n in pool if c.running(n)]
            target = self.rng.choice(live)
            if kind == "kill-server" and self.rng.random() < 0.5:
                target = f["leader"] or target
            f["target"], f["down"] = target, [target]
            f["start"] = now_ms()
            c.kill(target)
        self.log("fault %s start: %s%s" % (kind, f["target"],
                                          " %+d s" % (f["offset_ms"] // 1000) if "offset_ms" in f else ""))
        self.faults.append(f)
        return f

    def heal(self, f):
        c = self.c
        if f["kind"].startswith("partition") or f["kind"] == "lossy-links":
            c.net.heal()
        elif f["kind"] in ("pause-leader", "pause-agent"):
            c.resume(f["target"])
        elif f["kind"] == "disk-full":
            c.empty(f["target"])
        elif f["kind"].startswith("clock-skew"):
            c.skew(f["target"], 0)
        else:
            c.start(f["target"])
        f["end"] = now_ms()
        self.log("fault %s healed after %.1f s: %s" % (f["kind"], (f["end"] - f["start"]) / 1000, f["target"]))

    def hold(self, kind):
        """How long a fault of kind lasts (s): a pause outlasts the session timeout."""
        if kind == "pause-leader":
            return 2 * ZK_TIMEOUT_MS / 1000
        if kind == "pause-agent":
            return AGENT_TIMEOUT_S + 2
        return self.rng.uniform(5, 9)

    def run(self, until_ms, kinds=KINDS, quiet_s=6):
        """Faults of each of kinds in turn (the order shuffled each round), each held, healed, then quiet_s of
        calm, until until_ms."""
        while True:
            kinds = list(kinds)
            self.rng.shuffle(kinds)
            for kind in kinds:
                if now_ms() + (self.hold(kind) + quiet_s) * 1000 > until_ms:
                    return
                f = self.start(kind)
                if f:
                    time.sleep(self.hold(kind))
                    self.heal(f)
                time.sleep(quiet_s)


def leader_possible(faults, t, servers=SERVERS):
    """(True, "") when at time t one of servers could lead and run tasks: up, reaching a majority of the ZooKeeper
    nodes, PostgreSQL and an agent under the faults then active; else (False, why)."""
    active = [f for f in faults if f["start"] <= t and (f["end"] is None or t < f["end"])]
    down = {n for f in active for n in f["down"]}
    side = {}
    for f in active:
        for i, g in enumerate(f["groups"]):
            for n in g:
                side[n] = i

    def linked(a, b):
        return a not in side or b not in side or side[a] == side[b]
    why = []
    for s in servers:
        if s in down:
            why.append("%s down" % s)
            continue
        zk = [z for z in ZK if z not in down and linked(s, z)]
        if len(zk) * 2 <= len(ZK) or not all(linked(a, b) for a in zk for b in zk):
            why.append("%s without a ZooKeeper majority" % s)
        elif PG in down or not linked(s, PG):
            why.append("%s cut off from PostgreSQL" % s)
        elif not [a for a in AGENTS if a not in down and linked(s, a)]:
            why.append("%s cut off from every agent" % s)
        else:
            return True, ""
    return False, "; ".join(why)
