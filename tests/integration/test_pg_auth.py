"""API tokens in HA on PostgreSQL (issue 16; README, "Access"): tokens are the state's, so every server of a cluster
knows them. Two `gnomon server --zk-hosts ... --state postgres://...` with the same --http-credentials, a real
ZooKeeper (zk_harness.py) and a real PostgreSQL (pg_harness.py; ctest runs this under tests/support/pg_cluster.py).
A token made through the follower (proxied to the leader, which writes it) is soon accepted by the follower too
(its write announces the change, and the follower reads the state again); a revoked one is soon refused there."""

import base64
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, wait_until  # noqa: E402
from pg_harness import new_database, require_pg  # noqa: E402
from zk_harness import addr, close_module_ensemble as tearDownModule, module_ensemble, zk_args  # noqa: E402, F401

ZK_TIMEOUT_MS = 4000
BASIC = {"Authorization": "Basic " + base64.b64encode(b"ops:pw").decode()}
V1 = "/v1/scheduler"


def setUpModule():
    require_pg()
    module_ensemble()


class PgTokens(GnomonTestCase):
    server_args = None

    def send(self, srv, method, path, body=None, headers=None):
        status, _, body = srv.call(method, path, body, headers)
        return status, body

    def test_tokens_shared_by_the_cluster(self):
        db = new_database(self._testMethodName.lower())
        path = "/gnomon-pg-auth/%s" % self._testMethodName
        servers = [self.new_server(zk_args(module_ensemble().hosts, path, ZK_TIMEOUT_MS) +
                                   ["--state", db, "--http-credentials", "ops:pw"]) for _ in range(2)]

        def pair():
            views = [self.send(s, "GET", "/api/v1/cluster", headers=BASIC)[1] for s in servers]
            leading = [s for s, v in zip(servers, views) if v["leading"]]
            if len(leading) != 1 or any(v["leader"] != addr(leading[0]) for v in views):
                return None  # the follower must know whom to proxy to as well
            return leading[0], [s for s in servers if s is not leading[0]][0]
        leader, follower = wait_until(pair, 20, interval=0.05, what="one leader")
        wait_until(lambda: self.send(follower, "GET", "/api/v1/cluster", headers=BASIC)[1]["postgres"]["lastLoad"],
                   20, interval=0.05, what="the follower's first load")

        status, body = self.send(follower, "POST", "/api/v1/tokens", {"name": "ci", "role": "viewer"}, BASIC)
        self.assertEqual(status, 201, body)
        token = {"Authorization": "Bearer " + body["token"]}
        self.assertEqual(self.send(leader, "GET", V1 + "/jobs", headers=token)[0], 200)
        wait_until(lambda: self.send(follower, "GET", V1 + "/jobs", headers=token)[0] == 200, 10, interval=0.05,
                   what="the follower accepting the new token")
        status, body = self.send(follower, "GET", "/api/v1/tokens", headers=BASIC)
        self.assertEqual(sorted(t["name"] for t in body["tokens"]), ["ci"])

        self.assertEqual(self.send(leader, "DELETE", "/api/v1/tokens/ci", headers=BASIC)[0], 204)
        self.assertEqual(self.send(leader, "GET", V1 + "/jobs", headers=token)[0], 401)
        wait_until(lambda: self.send(follower, "GET", V1 + "/jobs", headers=token)[0] == 401, 10, interval=0.05,
                   what="the follower refusing the revoked token")


if __name__ == "__main__":
    main()
