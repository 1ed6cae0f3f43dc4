"""TLS in a cluster (issue 16, item 4): two `gnomon server --zk-hosts ... --tls-cert ...` against a real ZooKeeper
ensemble (zk_harness.py), with --tls-ca and --tls-client-ca. A change sent to the follower is proxied to the
leader over https:// (verified with --tls-ca); an agent with a client certificate registers with the follower
and runs a task, its traffic passed on to the leader, which requires a client certificate of the proxy too (the
follower's own); the agents are told https:// URLs of the instances. Each server's local agent reaches it over
https://."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_tls  # noqa: E402
from gnomon_harness import GnomonTestCase, main, sched, wait_until  # noqa: E402
from test_tls import TlsAgent, context, pki, tls_args  # noqa: E402
from zk_harness import (addr, close_module_ensemble, module_ensemble as ensemble,  # noqa: E402
                        zk_args)

V1 = "/v1/scheduler"


def setUpModule():
    test_tls.setUpModule()
    # the servers' certificates serve as the proxy's client certificates too
    test_tls.make_cert("member", "ca", "DNS:localhost,IP:127.0.0.1", 3001, usage="serverAuth,clientAuth")


def tearDownModule():
    close_module_ensemble()
    test_tls.tearDownModule()


class TlsCluster(GnomonTestCase):
    server_args = None

    def start_servers(self, path, *extra):
        args = ["--tls-ca", pki("ca.pem"), "--tls-client-ca", pki("ca.pem"), "--agent-timeout", "6"] + list(extra)
        return [self.new_server(zk_args(ensemble().hosts, path, 4000) + tls_args("member") + args,
                                context=context()) for _ in range(2)]

    def test_local_agents_over_https(self):
        """Each server's local agent (a gnomon-agent process in a cluster) reaches it over https:// by its
        advertised address, with --tls-ca and the server's certificate as its client certificate."""
        servers = self.start_servers("/gnomon-tls/local")

        def local_agents_up():
            for s in servers:
                status, body = s.json("GET", "/api/v1/agents")
                if status == 200 and len([a for a in body if a["state"] == "up"]) == 2:
                    return body
            return None

        wait_until(local_agents_up, 30, interval=0.1, what="both local agents up with the leader")

    def test_follower_proxies_over_https(self):
        servers = self.start_servers("/gnomon-tls/proxy", "--local-agent=false")

        def roles():
            views = [s.json("GET", "/api/v1/cluster")[1] for s in servers]
            leaders = [s for s, v in zip(servers, views) if v["role"] == "leader"]
            if len(leaders) != 1 or any(v["leader"] != addr(leaders[0]) for v in views):
                return None
            return leaders[0], [s for s in servers if s is not leaders[0]][0]

        leader, follower = wait_until(roles, 30, interval=0.05, what="one leader named by both")
        status, body = self.post_job(sched("via-follower"), srv=follower)
        self.assertEqual(status, 204, body)
        self.assertIn("via-follower", self.job_names(leader))

        agent = TlsAgent(follower, "tls-via-follower", attrs=("via=follower",),
                         tls=["--tls-ca", pki("ca.pem"), "--tls-cert", pki("agent.pem"), "--tls-key",
                              pki("agent.key")])
        self.addCleanup(agent.close)
        agent.start()
        wait_until(lambda: [a for a in leader.json("GET", "/api/v1/agents")[1]
                            if a["name"] == "tls-via-follower" and a["state"] == "up"], 30, interval=0.1,
                   what="the agent registered through the follower, seen by the leader")
        self.add_job(sched("tls-agent-job", "echo ran-over-tls", constraints=[["via", "EQUALS", "follower"]]),
                     srv=follower)
        self.assertEqual(follower.request("PUT", V1 + "/job/tls-agent-job")[0], 204)

        def ended():
            runs = leader.json("GET", "/api/v1/jobs/tls-agent-job/runs?limit=10")[1]["runs"]
            return [r for r in runs if r["status"] in ("succeeded", "failed", "lost")]

        run = wait_until(ended, 30, interval=0.1, what="the agent's run ended")[0]
        self.assertEqual((run["status"], run["agent"]), ("succeeded", "tls-via-follower"), run)
        with open(os.path.join(agent.data_dir, "servers")) as f:
            learned = f.read().split()
        self.assertIn("https://%s" % addr(leader), learned)
        self.assertEqual(agent.stop(), 0, agent.log()[-3000:])


if __name__ == "__main__":
    main()
