"""Access control across the leader proxy (issue 16; README, "Access"): two `gnomon server --zk-hosts ...` with the
same --http-credentials against a real ZooKeeper ensemble (zk_harness.py). The server that receives a request checks
its caller; a follower passes the request on with its Authorization, and the leader checks it again (no server
trusts the hop marker): Basic credentials work through the follower, none or wrong ones are refused by the follower
without reaching the leader, and a session opened on the follower (its cookie is the follower's) is passed on with
the credential it was opened with, so the leader checks that one."""

import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, sched, wait_until  # noqa: E402
from zk_harness import (addr, close_module_ensemble as tearDownModule, module_ensemble as ensemble,  # noqa: E402, F401
                       zk_args)

V1 = "/v1/scheduler"
ZK_TIMEOUT_MS = 4000
BASIC = {"Authorization": "Basic " + base64.b64encode(b"ops:pw").decode()}


class ProxiedAuth(GnomonTestCase):
    server_args = None

    def send(self, srv, method, path, body=None, headers=None):
        return srv.call(method, path, body, headers)

    def roles(self, servers):
        views = [self.send(s, "GET", "/api/v1/cluster", headers=BASIC)[2] for s in servers]
        leaders = [s for s, v in zip(servers, views) if v["role"] == "leader"]
        if len(leaders) != 1 or any(v["leader"] != addr(leaders[0]) for v in views):
            return None
        return leaders[0], [s for s in servers if s is not leaders[0]][0]

    def test_credentials_checked_on_each_server(self):
        e = ensemble()
        servers = [self.new_server(zk_args(e.hosts, "/gnomon-auth/%s" % self._testMethodName, ZK_TIMEOUT_MS) +
                                   ["--http-credentials", "ops:pw"]) for _ in range(2)]
        leader, follower = wait_until(lambda: self.roles(servers), 30, interval=0.05, what="a leader")

        status, _, body = self.send(follower, "POST", V1 + "/iso8601", sched("through"))
        self.assertEqual(status, 401, body)
        status, _, body = self.send(follower, "POST", V1 + "/iso8601", sched("through"),
                                    {"Authorization": "Basic " + base64.b64encode(b"ops:nope").decode()})
        self.assertEqual(status, 401, body)
        self.assertEqual(self.send(leader, "GET", V1 + "/job/through", headers=BASIC)[0], 404)
        # the hop marker proves nothing: the leader checks a proxied request as any other
        status, _, body = self.send(leader, "POST", V1 + "/iso8601", sched("hop"),
                                    {"X-Gnomon-Proxied-By": addr(follower)})
        self.assertEqual(status, 401, body)

        status, _, body = self.send(follower, "POST", V1 + "/iso8601", sched("through"), BASIC)
        self.assertEqual(status, 204, body)
        self.assertEqual(self.send(leader, "GET", V1 + "/job/through", headers=BASIC)[0], 200)

        status, hdrs, who = self.send(follower, "POST", "/api/v1/session", None, BASIC)
        self.assertEqual(status, 201, who)
        cookie = {"Cookie": hdrs["set-cookie"].split(";")[0], "X-Gnomon-CSRF": "1"}
        status, _, body = self.send(follower, "POST", V1 + "/iso8601", sched("by-cookie"), cookie)
        self.assertEqual(status, 204, body)
        self.assertEqual(self.send(leader, "GET", V1 + "/job/by-cookie", headers=BASIC)[0], 200)
        # the follower's cookie means nothing to the leader: sessions are the memory of the server that opened them
        status, _, body = self.send(leader, "GET", V1 + "/jobs", headers=cookie)
        self.assertEqual(status, 401, body)


if __name__ == "__main__":
    main()
