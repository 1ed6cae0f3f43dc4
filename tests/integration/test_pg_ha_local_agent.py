"""The local agent in a cluster (server_agent.h, README "High availability"): with --zk-hosts each server's local
agent is a `gnomon agent` process of its own, started detached, so that a kill -9 of the leader leaves the tasks it
runs to it, and their ends reach the next leader. On loopback, with a real ZooKeeper ensemble and PostgreSQL:

- three servers; a task pinned to the leader's local agent (its attribute server=ADDRESS) runs, the leader is
  killed -9 and not started again: the new leader records that run succeeded, with its output, and it is the
  job's only run record (not recorded lost, not retried);
- an agent given the leader's URL alone learns the cluster's servers at its registration (DATA_DIR/servers):
  the leader killed, it reaches the new leader through another instance, and started again with the same one
  dead URL, through the servers it keeps;
- a server started again finds its local agent running (its lock held) and starts no other, and one killed is
  started again;
- --stop-tasks-on-exit: the server's stop stops its local agent, whose task is killed."""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, local_agent_pid, main, process_gone, sched, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, query, require_pg  # noqa: E402
from test_agents import Agent, read  # noqa: E402
from zk_harness import close_module_ensemble, module_ensemble  # noqa: E402

ZK_TIMEOUT_MS = 4000
V1 = "/v1/scheduler"


def setUpModule():
    require_pg()
    module_ensemble(3)


def tearDownModule():
    close_module_ensemble()


class LocalAgent(GnomonTestCase, RunChecks):
    server_args = None

    def start_cluster(self, n=3):
        self.db = new_database("local_agent_" + self._testMethodName.lower())
        args = ["--zk-hosts", module_ensemble().hosts, "--zk-path", "/gnomon-local-agent/%s" % self._testMethodName,
                "--zk-timeout", str(ZK_TIMEOUT_MS), "--state", self.db, "--agent-timeout", "10",
                "--failure-retry", "500"]
        servers = [self.new_server(args) for _ in range(n)]
        leader = self.wait_leader(servers, 20)
        # every server's local agent up, named HOSTNAME:PORT, with its server's address as an attribute
        wait_until(lambda: {self.address(s) for s in servers} <= {a["attributes"].get("server") for a in
                   self.fleet(leader) if a["state"] == "up"}, 30, interval=0.05, what="the local agents up")
        return servers, leader

    def address(self, srv):
        return "127.0.0.1:%d" % srv.port

    def fleet(self, srv):
        status, body = srv.json("GET", "/api/v1/agents")
        self.assertEqual(status, 200, body)
        return body

    def leader_of(self, servers):
        leading = [s for s in servers if s.alive() and self.cluster(s)["leading"]]
        return leading[0] if len(leading) == 1 else None

    def wait_leader(self, servers, timeout):
        return wait_until(lambda: self.leader_of(servers), timeout, interval=0.05, what="one leader")

    @staticmethod
    def learned(data_dir):
        try:
            with open(os.path.join(data_dir, "servers")) as f:
                return sorted(f.read().split())
        except FileNotFoundError:
            return None

    def pg_runs(self, job):
        return query(self.db, "SELECT task_id, status, agent FROM runs WHERE job = '%s' ORDER BY id" % job)

    def test_leader_killed_with_its_local_agent_running_a_task(self):
        servers, leader = self.start_cluster()
        followers = [s for s in servers if s is not leader]
        local_name = [a["name"] for a in self.fleet(leader) if a["attributes"].get("server") ==
                      self.address(leader)][0]
        self.assertEqual(local_name.rsplit(":", 1)[1], str(leader.port))
        # a remote agent told of the leader alone
        remote = Agent(leader, "remote-1", attrs=("pool=remote",), lease=6)
        self.addCleanup(remote.close)
        remote.start()
        wait_until(lambda: "remote-1" in {a["name"] for a in self.fleet(leader) if a["state"] == "up"}, 20,
                   interval=0.05, what="the remote agent registered")
        # both learned the cluster's servers (at their registration, and again with each poll's answer)
        urls = sorted(s.url for s in servers)
        for data_dir in (remote.data_dir, os.path.join(leader.data_dir, "agent")):
            wait_until(lambda: self.learned(data_dir) == urls, 20, interval=0.05,
                       what="the servers learned in %s" % data_dir)

        # a task on the leader's local agent, then the leader killed while it runs (and not started again)
        self.add_job(sched("pinned", "sleep 2; echo done", constraints=[["server", "EQUALS", self.address(leader)]]),
                     srv=leader)
        self.assertEqual(leader.request("PUT", V1 + "/job/pinned")[0], 204)
        run = wait_until(lambda: [r for r in self.runs(leader, "pinned") if r["status"] == "running"], 20,
                         interval=0.05, what="the pinned task running")[0]
        self.assertEqual(run["agent"], local_name)
        agent_pid = local_agent_pid(leader.data_dir)
        self.assertIsNotNone(agent_pid)
        leader.kill9()
        new = self.wait_leader(followers, ZK_TIMEOUT_MS / 1000 + 20)

        # the new leader records the run succeeded, its only record: nothing was lost, nothing ran again
        wait_until(lambda: [r for r in self.pg_runs("pinned") if r[1] not in ("queued", "waiting", "starting",
                   "running")], 40, interval=0.1, what="the pinned run ended")
        self.assertEqual(self.pg_runs("pinned"), [(run["taskId"], "succeeded", local_name)])
        status, _, body = new.request("GET", "/api/v1/runs/%s/log" % run["taskId"])
        self.assertEqual(status, 200)
        self.assertIn(b"done\n", body)
        self.assertEqual(local_agent_pid(leader.data_dir), agent_pid, "the local agent outlived its server")

        # the remote agent, whose one server is dead, reached the new leader through a learned one
        wait_until(lambda: "remote-1" in {a["name"] for a in self.fleet(new) if a["state"] == "up"}, 30,
                   interval=0.1, what="the remote agent registered with the new leader")
        self.add_job(sched("on-remote", "echo remote-ran", constraints=[["pool", "EQUALS", "remote"]]), srv=new)
        self.assertEqual(new.request("PUT", V1 + "/job/on-remote")[0], 204)
        wait_until(lambda: self.succeeded(new, "on-remote"), 20, interval=0.1, what="a task on the remote agent")
        # started again, still told of the dead server alone: through the servers it keeps
        remote.stop()
        remote.start()
        wait_until(lambda: "registered with http://" in read(remote.logs[-1]), 30, interval=0.1,
                   what="the restarted remote agent registered")
        self.assertNotIn("registered with %s " % leader.url, read(remote.logs[-1]))
        self.assertIn("2 servers learned from the cluster before", read(remote.logs[-1]))

    def register(self, srv, name):
        """The protocol's first request, by hand (from loopback: no token needed); its answer."""
        status, body = srv.json("POST", "/api/v1/agent/register", {
            "version": 1, "id": "5f0c3a1e9b7d4e2a8c6b1d0e3f2a4b5c", "name": name, "hostname": "host-1",
            "agentVersion": "0.1.0", "attributes": {}, "resources": {"cpus": 1, "mem": 256, "disk": 256},
            "epoch": 0, "tasks": []})
        self.assertEqual(status, 200, body)
        return body

    def test_restarted_server_keeps_its_local_agent(self):
        servers, leader = self.start_cluster(n=2)
        follower = [s for s in servers if s is not leader][0]
        # the registration's answer lists the instances, the leader first (through the follower too)
        self.assertEqual(self.register(follower, "by-hand")["servers"], [leader.url, follower.url])
        with self.new_server(["--local-agent=false"]) as standalone:
            self.assertNotIn("servers", self.register(standalone, "by-hand"))
        pid = local_agent_pid(follower.data_dir)
        self.assertIsNotNone(pid)
        follower.restart()
        wait_until(lambda: "local agent:" in follower.current_log(), 10, interval=0.05, what="the local agent line")
        self.assertEqual(local_agent_pid(follower.data_dir), pid)
        self.assertNotIn("local agent: started", follower.current_log())
        # gone: started again
        os.kill(pid, 9)
        wait_until(lambda: local_agent_pid(follower.data_dir) not in (None, pid), 20, interval=0.1,
                   what="the local agent started again")

    def test_stop_tasks_on_exit_stops_the_local_agent(self):
        """--stop-tasks-on-exit: the server's stop stops its local agent too, which kills its task."""
        srv = self.new_server(["--zk-hosts", module_ensemble().hosts, "--zk-path", "/gnomon-local-agent/stop",
                               "--zk-timeout", str(ZK_TIMEOUT_MS), "--stop-tasks-on-exit"])
        self.wait_leader([srv], 20)
        wait_until(lambda: [a for a in self.fleet(srv) if a["state"] == "up"], 20, interval=0.05,
                   what="the local agent up")
        self.add_job(sched("long", "sleep 600"), srv=srv)
        self.assertEqual(srv.request("PUT", V1 + "/job/long")[0], 204)
        run = wait_until(lambda: [r for r in self.runs(srv, "long") if r["status"] == "running"], 20,
                         interval=0.05, what="the task running")[0]
        pid = local_agent_pid(srv.data_dir)
        self.assertIsNotNone(pid)
        agent_log = os.path.join(srv.data_dir, "agent.log")
        started = wait_until(lambda: re.search(r"task %s started \(pid (\d+)\)" % re.escape(run["taskId"]),
                                               read(agent_log)), 10, interval=0.05, what="the start in its log")
        srv.stop()
        wait_until(lambda: process_gone(pid), 15, interval=0.05, what="the local agent stopped")
        self.assertIn("its running tasks are killed", read(agent_log))
        wait_until(lambda: process_gone(int(started.group(1))), 15, interval=0.05, what="its task killed")


if __name__ == "__main__":
    main()
