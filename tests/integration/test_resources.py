"""Enforced resources (issue 14, items 4 to 6): every shell task runs in a cgroup of its own, with its job's `mem` a
hard memory limit, its `cpus` a CPU quota and --task-pids-max a pids limit, on the embedded agent and on a
`gnomon agent` alike. Real cgroups, no mocks: a memory hog killed at its limit ("out of memory"), a CPU-bound job
held to its quota, a bounded fork bomb stopped, a process that escaped its group with setsid killed with its run,
the resource use recorded and returned by the API, the cgroup removed after the run, and no cgroup at all with
--enforce-resources=false. Skipped (with the reason the server gives) where the host has no writable cgroups."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, process_gone, read_text, sched, wait_until  # noqa: E402
from test_agents import Agent  # noqa: E402

V1 = "/v1/scheduler"
API = "/api/v1"
FINAL = ("succeeded", "failed", "killed", "lost", "skipped")
MIB = 1 << 20
# a python3 that writes n MiB (every page touched), then reports it
HOG = "python3 -c 'import sys; b = bytearray(b\"x\") * (%d << 20); print(len(b) >> 20, \"MiB\")'"


def session_of(pid):
    """The session id of a process (field 6 of /proc/PID/stat), None when it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return int(f.read().rsplit(")", 1)[1].split()[3])
    except (FileNotFoundError, ProcessLookupError):
        return None


def fnv1a(text):
    h = 1469598103934665603
    for b in text.encode():
        h = ((h ^ b) * 1099511628211) & (2**64 - 1)
    return h


def gnomon_cgroup_dir(pid, controller="memory"):
    """The gnomon directory of process pid's cgroups in a v1 controller (what cgroup.c computes)."""
    with open("/proc/%d/cgroup" % pid) as f:
        for line in f:
            _, ctls, path = line.rstrip("\n").split(":", 2)
            if controller in ctls.split(","):
                return "/sys/fs/cgroup/%s%s/gnomon" % (controller, path.rstrip("/"))
    return None


class ResourcesBase(GnomonTestCase):
    """Runs jobs on the fleet and reads their runs back; subclasses say where they run."""

    server_args = ("--failure-retry", "100")
    agent_args = None  # None: the embedded agent; else a `gnomon agent` with these extra flags

    def setUp(self):
        super().setUp()
        self.agent = None
        if self.agent_args is not None:
            self.agent = ResourceAgent(self.server, "res-agent", self.agent_args).start()
            self.addCleanup(self.agent.close)
        self.me = wait_until(self.my_agent, 20, what="the agent to register")
        cg = self.me.get("cgroups")
        self.assertIsNotNone(cg, self.me)
        if not cg["enforced"] and cg["reason"] != "--enforce-resources=false":
            self.skipTest("this host has no writable cgroups: %s" % cg["reason"])

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if getattr(self, "agent", None) is not None and len(result.failures) + len(result.errors) > before:
            sys.stderr.write("\n===== agent (tail) =====\n%s\n" % self.agent.log()[-4000:])
        return out

    def my_agent(self):
        status, body = self.server.json("GET", API + "/agents")
        self.assertEqual(status, 200, body)
        want = "res-agent" if self.agent is not None else None
        for a in body:
            if (want is None and a["embedded"]) or (want and a["name"] == want and a["state"] == "up"):
                return a
        return None

    def run_now(self, job):
        self.add_job(job)
        status, _, body = self.server.request("PUT", V1 + "/job/" + job["name"])
        self.assertEqual(status, 204, body)

    def runs(self, name):
        status, body = self.server.json("GET", API + "/jobs/%s/runs?limit=10" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def wait_run(self, name, pred, what, timeout=30):
        return wait_until(lambda: [r for r in self.runs(name) if pred(r)], timeout, what=what)[0]

    def wait_final(self, name, timeout=30):
        run = self.wait_run(name, lambda r: r["status"] in FINAL, "a final run of %s" % name, timeout)
        status, one = self.server.json("GET", API + "/runs/" + run["taskId"])
        self.assertEqual(status, 200, one)
        return one

    def log(self, run, stream="stdout"):
        status, _, data = self.server.request("GET", API + "/runs/%s/log?stream=%s" % (run["taskId"], stream))
        self.assertEqual(status, 200, data)
        return data.decode("utf-8", "replace")

    def agent_pid(self):
        return self.agent.proc.pid if self.agent is not None else self.server.proc.pid

    def agent_cgroup(self):
        """The agent's cgroup directory in the memory hierarchy: gnomon/agent-<FNV-1a of its data dir>."""
        data_dir = self.agent.data_dir if self.agent is not None else self.server.data_dir
        return os.path.join(gnomon_cgroup_dir(self.agent_pid()), "agent-%016x" % fnv1a(os.path.realpath(data_dir)))

    def task_cgroup(self, run):
        """The run's cgroup directory in the memory hierarchy (the task id sanitised as cgroup.c does, with its
        hash when that changed it)."""
        task_id = run["taskId"]
        name = "".join(c if c.isalnum() or c in "._-" else "_" for c in task_id)
        if name != task_id:
            name += "-%016x" % fnv1a(task_id)
        return os.path.join(self.agent_cgroup(), name)


class ResourceAgent(Agent):
    def __init__(self, server, name, extra):
        super().__init__(server, name, cpus=2, mem=4096)
        self.extra = list(extra)

    def command(self):
        return super().command() + self.extra


class Enforced:
    """The proofs, for whichever agent the class runs them on."""

    def test_cgroups_are_shown_in_the_agents_api(self):
        cg = self.me["cgroups"]
        self.assertTrue(cg["enforced"], cg)
        self.assertIn(cg["version"], ("v1", "v2"))
        self.assertIn(cg["layout"], ("v1", "v2", "hybrid"))
        self.assertIsNone(cg["reason"])

    def test_memory_hog_is_killed_at_its_limit(self):
        self.run_now(sched("hog", HOG % 200, mem=64, cpus=1))
        run = self.wait_final("hog")
        self.assertEqual(run["status"], "failed", run)
        self.assertTrue(run["reason"].startswith("out of memory: limit 64 MiB"), run["reason"])
        self.assertNotIn("200 MiB", self.log(run))
        self.assertLessEqual(run["peakMemoryBytes"], 64 * MIB, run)

    def test_cpu_bound_job_is_held_to_its_quota(self):
        # two busy loops for 3 s: unlimited they would use up to 2 CPUs; held to 0.2 CPU they use 0.2 s a second
        self.run_now(sched("busy", "timeout 3 sh -c 'while :; do :; done & while :; do :; done'; true", cpus=0.2))
        run = self.wait_final("busy")
        self.assertEqual(run["status"], "succeeded", run)
        cpu = run["cpuUserSeconds"] + run["cpuSystemSeconds"]
        wall = run["durationMs"] / 1000.0
        self.assertGreater(wall, 2.5, run)
        self.assertGreater(cpu, 0.1 * wall, run)  # it did run
        self.assertLess(cpu, 0.35 * wall, run)    # but not past 0.2 CPU (with room for the period's rounding)

    def test_fork_bomb_is_stopped_by_the_pids_limit(self):
        bomb = "i=0; while [ $i -lt 100 ]; do sleep 5 & i=$((i+1)); done; wait"
        self.run_now(sched("bomb", bomb, cpus=1))
        run = self.wait_final("bomb", timeout=40)
        self.assertIn(run["status"], ("failed", "succeeded"), run)
        self.assertRegex(self.log(run, "stderr").lower(), "fork", run)

    def test_process_that_escaped_with_setsid_dies_with_its_run(self):
        pidfile = os.path.join(self.server.root, "escaped.pid")
        self.run_now(sched("escape", "setsid sleep 300 & echo $! > %s; sleep 300" % pidfile, cpus=1))
        self.wait_run("escape", lambda r: r["status"] == "running", "escape running")
        pid = int(wait_until(lambda: read_text(pidfile), 10, what="the escaped pid"))
        # setsid made it the leader of a session (and a process group) of its own: out of its run's group
        wait_until(lambda: session_of(pid) == pid, 10, what="process %d in a session of its own" % pid)
        status, _, body = self.server.request("DELETE", V1 + "/task/kill/escape")
        self.assertEqual(status, 204, body)
        run = self.wait_final("escape")
        self.assertEqual(run["status"], "killed", run)
        wait_until(lambda: process_gone(pid), 10, what="the escaped process %d to die" % pid)

    def test_resource_use_is_recorded_and_returned(self):
        cmd = "timeout 1 sh -c 'while :; do :; done'; " + HOG % 50
        self.run_now(sched("use", cmd, mem=256, cpus=1))
        run = self.wait_run("use", lambda r: r["status"] == "running", "use running")
        cgdir = self.task_cgroup(run)
        self.assertTrue(os.path.isdir(cgdir), cgdir)
        with open(os.path.join(cgdir, "memory.limit_in_bytes")) as f:
            self.assertEqual(int(f.read()), 256 * MIB)
        run = self.wait_final("use")
        self.assertEqual(run["status"], "succeeded", run)
        self.assertIn("50 MiB", self.log(run))
        self.assertGreater(run["cpuUserSeconds"], 0.05, run)  # 1 s of a busy loop, on a machine that may be busy
        self.assertGreaterEqual(run["cpuSystemSeconds"], 0, run)
        self.assertGreaterEqual(run["peakMemoryBytes"], 50 * MIB, run)
        self.assertLess(run["peakMemoryBytes"], 256 * MIB, run)
        listed = self.runs("use")[0]
        for key in ("cpuUserSeconds", "cpuSystemSeconds", "peakMemoryBytes"):
            self.assertEqual(listed[key], run[key], key)
        self.assertFalse(os.path.exists(cgdir), "the cgroup outlived its run")


class RemoteAgentRestart(ResourcesBase):
    server_args = ("--local-agent=false", "--failure-retry", "100")
    agent_args = ()

    def test_a_restarted_agent_finds_its_task_whose_executor_cleans_the_cgroup(self):
        """The executor outlives the agent: the task goes on in its cgroup, its end (with what it used) reaches the
        restarted agent, and its cgroup is removed; an empty cgroup left by an executor that died is swept at
        the agent's start."""
        ready = os.path.join(self.server.root, "ready")
        self.run_now(sched("long", "%s; touch %s; sleep 2" % (HOG % 30, ready), mem=128, cpus=1))
        run = self.wait_run("long", lambda r: r["status"] == "running", "long running")
        wait_until(lambda: os.path.exists(ready), 20, what="the task to allocate")
        cgdir = self.task_cgroup(run)
        stale = os.path.join(self.agent_cgroup(), "ct_1_0_stale_")
        os.mkdir(stale)
        self.agent.kill9()
        self.assertTrue(os.path.isdir(cgdir), "the task's cgroup went with its agent")
        self.agent.start()
        run = self.wait_final("long")
        self.assertEqual(run["status"], "succeeded", run)
        self.assertGreaterEqual(run["peakMemoryBytes"], 30 * MIB, run)
        self.assertGreater(run["cpuUserSeconds"], 0, run)
        wait_until(lambda: not os.path.exists(cgdir), 10, what="the task's cgroup to go")
        self.assertFalse(os.path.exists(stale), "the stale cgroup was not swept")
        self.assertIn("removed 1 cgroups of runs whose executor had died", self.agent.log())


class EmbeddedAgent(Enforced, ResourcesBase):
    server_args = ("--failure-retry", "100", "--task-pids-max", "20")


class RemoteAgent(Enforced, ResourcesBase):
    server_args = ("--local-agent=false", "--failure-retry", "100")
    agent_args = ("--task-pids-max", "20")


class NotEnforced(ResourcesBase):
    server_args = ("--failure-retry", "100", "--enforce-resources=false")

    def test_no_cgroup_and_no_limit(self):
        cg = self.me["cgroups"]
        self.assertEqual((cg["enforced"], cg["version"], cg["reason"]), (False, None, "--enforce-resources=false"))
        agent_log = self.agent.log() if self.agent is not None else self.server.log()
        self.assertIn("not enforced (--enforce-resources=false)", agent_log)
        self.run_now(sched("free", "sleep 1; " + HOG % 100, mem=32))
        run = self.wait_run("free", lambda r: r["status"] == "running", "free running")
        self.assertFalse(os.path.exists(self.task_cgroup(run)))
        run = self.wait_final("free")
        self.assertEqual(run["status"], "succeeded", run)
        self.assertGreaterEqual(run["peakMemoryBytes"], 100 * MIB, run)  # the leader's max RSS


class NotEnforcedOnAnAgent(NotEnforced):
    server_args = ("--local-agent=false", "--failure-retry", "100")
    agent_args = ("--enforce-resources=false",)


if __name__ == "__main__":
    main()
