"""Jobs run on many machines (issue 12): one real server and three real `gnomon agent` processes on loopback, each
with its own data dir, attributes and resources. Placement by resources and constraints, a run that fits nowhere
waiting with its reason, drain, output followed through the server, the agent's id in the task's environment and
its name in the run record; kill -9 of an agent mid-run (lost after --agent-timeout, retried on another agent,
nothing completes twice; the lost run's late result is recorded on it and counts for nothing), kill -9 and restart
of an agent (its running task is found again and recorded once),
kill -9 and restart of the server (the task goes on, its end is recorded after the restart, once), an agent
with a wrong token refused (401), a stale epoch refused."""

import os
import signal
import subprocess
import sys
import tempfile
import shutil
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, GnomonTestCase, _die_with_parent, iso_ms, main, now_ms, parse_iso_ms,  # noqa: E402
                            process_gone, sanitizer_lines, sched, wait_until)

V1 = "/v1/scheduler"
API = "/api/v1"
FINAL = ("succeeded", "failed", "killed", "lost", "skipped")
TOKEN = "agents-secret-0123456789"


def read(path):
    try:
        with open(path) as f:
            return f.read().strip()
    except FileNotFoundError:
        return ""


class Agent:
    """A `gnomon agent` process with its own data dir."""

    def __init__(self, server, name, attrs=(), cpus=2, mem=1024, disk=10240, lease=20, token_file=None, root=None,
                 extra=()):
        self.server, self.name, self.attrs, self.extra = server, name, attrs, tuple(extra)
        self.cpus, self.mem, self.disk, self.lease, self.token_file = cpus, mem, disk, lease, token_file
        self.root = root or tempfile.mkdtemp(prefix="gnomon-agent-")
        self.data_dir = os.path.join(self.root, "data")
        self.proc = None
        self.logs = []

    def command(self):
        cmd = [BIN, "agent", "--server", "http://127.0.0.1:%d" % self.server.port, "--data-dir", self.data_dir,
               "--name", self.name, "--cpus", str(self.cpus), "--mem", str(self.mem), "--disk", str(self.disk),
               "--lease", str(self.lease), "--log-level", "debug"]
        for kv in self.attrs:
            cmd += ["--attribute", kv]
        if self.token_file:
            cmd += ["--agent-token-file", self.token_file]
        return cmd + list(self.extra)

    def start(self):
        path = os.path.join(self.root, "agent-%d.log" % (len(self.logs) + 1))
        self.logs.append(path)
        with open(path, "wb") as logf:
            self.proc = subprocess.Popen(self.command(), stdin=subprocess.DEVNULL, stdout=logf, stderr=logf,
                                         cwd=self.root, preexec_fn=_die_with_parent)
        return self

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()
        self.proc = None

    def stop(self):
        if self.proc is None:
            return 0
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.proc = None
        return rc

    def log(self):
        return "".join(read(p) + "\n" for p in self.logs)

    def close(self):
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


class AgentsBase(GnomonTestCase):
    server_args = ("--local-agent=false", "--failure-retry", "100", "--agent-timeout", "4")

    def setUp(self):
        super().setUp()
        self.agents = []

    def run(self, result=None):
        result = result if result is not None else self.defaultTestResult()
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for a in getattr(self, "agents", []):
                sys.stderr.write("\n===== agent %s (tail) =====\n%s\n" % (a.name, a.log()[-4000:]))
        return out

    def agent(self, name, **kw):
        a = Agent(self.server, name, **kw).start()
        self.agents.append(a)
        self.addCleanup(a.close)
        return a

    def check_agent_logs(self):
        for a in self.agents:
            bad = sanitizer_lines(a.log())
            self.assertFalse(bad, "sanitizer report in agent %s's log:\n%s" % (a.name, "\n".join(bad)))

    def fleet(self, srv=None):
        status, body = (srv or self.server).json("GET", API + "/agents")
        self.assertEqual(status, 200, body)
        return {a["name"]: a for a in body}

    def wait_agents(self, names, state="up", srv=None):
        return wait_until(lambda: all(self.fleet(srv).get(n, {}).get("state") == state for n in names)
                          and self.fleet(srv), 20, what="agents %s %s" % (names, state))

    def runs(self, name, srv=None):
        status, body = (srv or self.server).json("GET", API + "/jobs/%s/runs?limit=100" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def run_now(self, job, srv=None):
        srv = srv or self.server
        self.add_job(job, srv=srv)
        status, _, body = srv.request("PUT", V1 + "/job/" + job["name"])
        self.assertEqual(status, 204, body)

    def wait_run(self, name, pred, what, timeout=20, srv=None):
        return wait_until(lambda: [r for r in self.runs(name, srv) if pred(r)], timeout, what=what)[0]

    def wait_final(self, name, timeout=20, srv=None):
        return self.wait_run(name, lambda r: r["status"] in FINAL, "a final run of %s" % name, timeout, srv)


class Placement(AgentsBase):
    def setUp(self):
        super().setUp()
        self.a1 = self.agent("a1", attrs=("rack=a",), cpus=1, mem=512)
        self.a2 = self.agent("a2", attrs=("rack=b",), cpus=2, mem=1024)
        self.a3 = self.agent("a3", attrs=("rack=b", "gpu=yes"), cpus=4, mem=2048)
        self.wait_agents(["a1", "a2", "a3"])

    def test_fleet_view(self):
        fleet = self.fleet()
        self.assertEqual(sorted(fleet), ["a1", "a2", "a3"], "the embedded agent is off")
        a3 = fleet["a3"]
        # with the runtime's attributes where podman or docker is there (test_containers)
        self.assertEqual({k: v for k, v in a3["attributes"].items() if not k.startswith("container.")},
                         {"rack": "b", "gpu": "yes"})
        self.assertEqual(a3["resources"], {"cpus": 4.0, "mem": 2048.0, "disk": 10240.0})
        self.assertEqual(a3["running"], 0)
        self.assertEqual(len(a3["id"]), 32)
        status, one = self.server.json("GET", API + "/agents/" + a3["id"])
        self.assertEqual((status, one["name"]), (200, "a3"))
        status, body = self.server.json("GET", API + "/agents/nope")
        self.assertEqual(status, 404, body)
        self.check_agent_logs()

    def test_resources_constraints_environment_and_output(self):
        fleet = self.fleet()
        # 3 cpus: only a3 has them
        self.run_now(sched("big", "echo agent=$GNOMON_AGENT; echo oops >&2", cpus=3))
        run = self.wait_final("big")
        self.assertEqual((run["status"], run["agent"]), ("succeeded", "a3"), run)
        status, _, log = self.server.request("GET", API + "/runs/%s/log?stream=stdout" % run["taskId"])
        self.assertEqual(status, 200)
        self.assertIn(b"agent=" + fleet["a3"]["id"].encode(), log)
        status, _, err = self.server.request("GET", API + "/runs/%s/log?stream=stderr" % run["taskId"])
        self.assertIn(b"oops", err)
        # rack EQUALS a: only a1
        self.run_now(sched("rack-a", "true", constraints=[["rack", "EQUALS", "a"]]))
        self.assertEqual(self.wait_final("rack-a")["agent"], "a1")
        # gpu LIKE y.s on a rack UNLIKE a: a3
        self.run_now(sched("gpu", "true", constraints=[["gpu", "LIKE", "y.s"], ["rack", "UNLIKE", "a"]]))
        self.assertEqual(self.wait_final("gpu")["agent"], "a3")
        # a synthetic hostname attribute that no agent has
        self.run_now(sched("nohost", "true", constraints=[["hostname", "EQUALS", "no-such-host"]]))
        run = self.wait_run("nohost", lambda r: r["status"] == "waiting", "nohost waiting")
        self.assertEqual(run["reason"], "no agent matches hostname EQUALS no-such-host")
        self.check_agent_logs()

    def test_run_as_user_on_an_agent_in_the_data_dir_it_made(self):
        if os.geteuid() != 0:
            self.skipTest("runAsUser needs a root agent")
        # a1 made its data dir itself (it did not exist); only mkdtemp's 0700 above it is the test's to open
        os.chmod(self.a1.root, 0o711)
        self.run_now(sched("who", "id -un", runAsUser="nobody", constraints=[["rack", "EQUALS", "a"]]))
        run = self.wait_final("who")
        self.assertEqual((run["status"], run["agent"]), ("succeeded", "a1"), run)
        status, _, log = self.server.request("GET", API + "/runs/%s/log?stream=stdout" % run["taskId"])
        self.assertEqual((status, log), (200, b"nobody\n"))
        self.check_agent_logs()

    def test_a_run_that_fits_nowhere_waits_with_its_reason(self):
        self.run_now(sched("huge", "true", cpus=8))
        run = self.wait_run("huge", lambda r: r["status"] == "waiting", "huge waiting")
        self.assertTrue(run["reason"].startswith("no agent has 8 cpus free (most free: 4 on a3"), run)
        self.assertEqual(run["agent"], "")
        status, job = self.server.json("GET", API + "/jobs/huge")
        self.assertEqual(status, 200, job)
        # a kill ends it at once: no agent ever had it
        status, _, body = self.server.request("DELETE", V1 + "/task/kill/huge")
        self.assertEqual(status, 204, body)
        run = self.wait_final("huge")
        self.assertEqual(run["status"], "killed", run)

    def test_drain(self):
        a3 = self.fleet()["a3"]["id"]
        status, body = self.server.json("POST", API + "/agents/%s/drain" % a3)
        self.assertEqual((status, body["state"]), (200, "draining"), body)
        self.run_now(sched("big", "true", cpus=3))
        run = self.wait_run("big", lambda r: r["status"] == "waiting", "big waiting")
        self.assertIn("1 draining", run["reason"])
        status, body = self.server.json("POST", API + "/agents/a3/undrain")
        self.assertEqual((status, body["state"]), (200, "up"), body)
        run = self.wait_final("big")
        self.assertEqual((run["status"], run["agent"]), ("succeeded", "a3"), run)

    def test_output_is_followed_live_through_the_server(self):
        go = os.path.join(self.server.root, "go")
        self.run_now(sched("chatty", "echo first line; while [ ! -e %s ]; do sleep 0.05; done; echo last line" % go))
        run = self.wait_run("chatty", lambda r: r["status"] == "running", "chatty running")
        wait_until(lambda: b"first line" in self.server.request(
            "GET", API + "/runs/%s/log?stream=stdout" % run["taskId"])[2], 20, what="the first line, live")
        with open(go, "w"):
            pass
        run = self.wait_final("chatty")
        status, _, log = self.server.request("GET", API + "/runs/%s/log?stream=stdout" % run["taskId"])
        self.assertEqual(log, b"first line\nlast line\n")


class Failures(AgentsBase):
    def setUp(self):
        super().setUp()
        self.a1 = self.agent("a1", attrs=("rack=x",), lease=2)
        self.a2 = self.agent("a2", attrs=("rack=x",), lease=2)
        self.wait_agents(["a1", "a2"])

    def waiting_job(self, name, retries=0):
        """A job that writes its pid to a file and waits for a go file; returns (pidfile, go)."""
        pidfile, go = (os.path.join(self.server.root, "%s-%s" % (w, name)) for w in ("pid", "go"))
        cmd = "echo $$ >> %s; while [ ! -e %s ]; do sleep 0.05; done; echo done" % (pidfile, go)
        self.run_now(sched(name, cmd, retries=retries))
        run = self.wait_run(name, lambda r: r["status"] == "running" and read(pidfile), "%s running" % name)
        return run, pidfile, go

    def agent_named(self, name):
        return [a for a in self.agents if a.name == name][0]

    def test_kill9_of_an_agent_mid_run_loses_the_run_and_retries_it_elsewhere(self):
        run, pidfile, go = self.waiting_job("job", retries=1)
        first = self.agent_named(run["agent"])
        other = [a for a in self.agents if a is not first][0]
        first.kill9()
        lost = self.wait_run("job", lambda r: r["status"] == "lost", "the run lost", timeout=20)
        self.assertIn("its agent %s" % first.name, lost["reason"])
        # its executor killed the first task when the agent's lease lapsed (--agent-timeout 4 s less 1 s), before
        # the server called it lost: the retry cannot run beside it (without the lease it ran on, and completed too)
        pids = [int(p) for p in read(pidfile).split()]
        self.assertTrue(process_gone(pids[0]), "the task of the dead agent still ran when its run was called lost")
        retry = self.wait_run("job", lambda r: r["attempt"] == 1 and r["status"] == "running", "the retry running")
        self.assertEqual(retry["agent"], other.name)
        self.assertEqual(self.fleet()[first.name]["state"], "lost")
        with open(go, "w"):
            pass
        self.wait_run("job", lambda r: r["attempt"] == 1 and r["status"] == "succeeded", "the retry succeeded")
        # when the agent comes back with the first task's result, that is recorded on the lost run
        first.start()
        self.wait_agents([first.name])
        late = self.wait_run("job", lambda r: "reported later" in r["reason"], "the late result recorded")
        self.assertEqual(late["status"], "lost", late)
        self.assertIn("its agent %s reported later that it ended without a status (killed by its executor: its "
                      "agent's lease lapsed" % first.name, late["reason"])
        runs = self.runs("job")
        self.assertEqual(sorted(r["status"] for r in runs), ["lost", "succeeded"], runs)
        status, job = self.server.json("GET", V1 + "/job/job")
        self.assertEqual((status, job["successCount"]), (200, 1), job)
        self.check_agent_logs()

    def test_kill9_and_restart_of_an_agent_finds_its_running_task(self):
        run, pidfile, go = self.waiting_job("job")
        a = self.agent_named(run["agent"])
        a.kill9()
        self.assertFalse(process_gone(int(read(pidfile))), "the agent's death killed its task")
        a.start()
        with open(go, "w"):
            pass
        done = self.wait_final("job")
        self.assertEqual((done["status"], done["taskId"], done["agent"]), ("succeeded", run["taskId"], a.name), done)
        self.assertEqual(len(self.runs("job")), 1)
        status, _, log = self.server.request("GET", API + "/runs/%s/log?stream=stdout" % run["taskId"])
        self.assertEqual(log, b"done\n")
        self.check_agent_logs()

    def test_kill9_and_restart_of_the_server_keeps_the_task(self):
        run, pidfile, go = self.waiting_job("job")
        self.server.kill9()
        with open(go, "w"):
            pass
        wait_until(lambda: process_gone(int(read(pidfile))), 20, what="the task ended while the server was down")
        self.server.start()
        done = self.wait_final("job", timeout=30)
        self.assertEqual((done["status"], done["agent"]), ("succeeded", run["agent"]), done)
        self.assertEqual(len(self.runs("job")), 1)
        self.check_agent_logs()


    def test_a_run_its_agent_never_took_runs_after_a_server_restart(self):
        # both agents frozen: the run is given to one that cannot take it, then the server dies
        for a in self.agents:
            os.kill(a.proc.pid, signal.SIGSTOP)
        self.addCleanup(lambda: [os.kill(a.proc.pid, signal.SIGCONT) for a in self.agents if a.proc])
        self.run_now(sched("job", "echo ran"))
        given = self.wait_run("job", lambda r: r["status"] == "starting" and r.get("agent"), "the run given to an agent")
        self.server.kill9()
        time.sleep(3)  # the fault lasts past the agents' 2 s lease: thawed, they refuse the start they were sent
        self.server.start()
        for a in self.agents:
            os.kill(a.proc.pid, signal.SIGCONT)
        done = self.wait_final("job", timeout=40)
        # its agent came back to the restarted server without it, under the new epoch: it never started and cannot
        # start any more, so the run is started again rather than recorded lost
        self.assertEqual((done["status"], done["taskId"]), ("succeeded", given["taskId"]), done)
        self.assertEqual(len(self.runs("job")), 1)
        self.assertIn("never started (its agent %s answered without it): queued again" % given["agent"],
                      self.server.log())
        self.check_agent_logs()


    def test_other_jobs_run_while_a_restarted_server_waits_for_an_agent(self):
        """A restarted (or newly elected) server waits up to --agent-timeout for the agents of its open runs before it
        calls them lost; the jobs without an open run must not wait with them: their slots due meanwhile run (they
        were all skipped past their epsilon, in every failover of the chaos suite that left an agent out of reach)."""
        run, _, _ = self.waiting_job("long")
        frozen = self.agent_named(run["agent"])
        other = [a for a in self.agents if a is not frozen][0]
        start = now_ms() + 2000
        self.add_job(sched("tick", "echo tick", "R100/%s/PT1S" % iso_ms(start), epsilon="PT1S"))
        self.wait_run("tick", lambda r: r["status"] == "succeeded", "a tick before the restart")
        os.kill(frozen.proc.pid, signal.SIGSTOP)
        self.addCleanup(lambda: frozen.proc and os.kill(frozen.proc.pid, signal.SIGCONT))
        self.server.kill9()
        self.server.start()
        restarted = now_ms()
        lost = self.wait_run("long", lambda r: r["status"] == "lost", "the long run lost", timeout=30)
        ticks = [r for r in self.runs("tick") if r["status"] == "succeeded" and parse_iso_ms(r["due"]) >= restarted]
        self.assertTrue(ticks, "no tick ran after the restart")
        first = min(ticks, key=lambda r: parse_iso_ms(r["start"]))
        # the reconciliation waited --agent-timeout (4 s) for the frozen agent; ticks ran on the other meanwhile
        self.assertLess(parse_iso_ms(first["start"]), parse_iso_ms(lost["end"]) - 1000, (first, lost))
        self.assertEqual(first["agent"], other.name)
        os.kill(frozen.proc.pid, signal.SIGCONT)
        self.check_agent_logs()

class Security(AgentsBase):
    def test_a_wrong_token_is_refused(self):
        root = tempfile.mkdtemp(prefix="gnomon-tokens-")
        self.addCleanup(shutil.rmtree, root, True)
        good, bad = os.path.join(root, "good"), os.path.join(root, "bad")
        with open(good, "w") as f:
            f.write(TOKEN + "\n")
        with open(bad, "w") as f:
            f.write("not-" + TOKEN + "\n")
        srv = self.new_server(("--local-agent=false", "--agent-token-file", good))
        self.server = srv
        self.agent("right", token_file=good)
        wrong = self.agent("wrong", token_file=bad)
        self.wait_agents(["right"], srv=srv)
        wait_until(lambda: "401" in wrong.log() or "token" in wrong.log(), 20, what="the wrong token refused")
        self.assertNotIn("wrong", self.fleet(srv))
        status, _, body = srv.request("POST", API + "/agent/register", body=b'{"version": 1}',
                                      headers={"Content-Type": "application/json"})
        self.assertEqual(status, 401, body)

    def test_a_stale_epoch_is_refused(self):
        a = self.agent("a1", lease=20)
        self.wait_agents(["a1"])
        # the server's epoch rises with each start; the agent remembers the highest it saw
        for _ in range(2):
            self.server.restart()
            self.wait_agents(["a1"])
        # a new server with a fresh store (epoch 1) on the same port: its assignments are stale for this agent
        port = self.server.port
        self.server.stop()
        fresh = self.new_server(("--local-agent=false",), port=port)
        self.server = fresh
        self.wait_agents(["a1"])
        self.run_now(sched("job", "true"))
        run = self.wait_run("job", lambda r: r["status"] == "waiting" and "stale epoch" in r["reason"],
                            "the assignment refused")
        self.assertRegex(run["reason"], "^agent a1 refused (it|a task)")
        self.assertIn("stale epoch", a.log())


if __name__ == "__main__":
    main()
