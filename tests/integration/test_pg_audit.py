"""The audit trail on PostgreSQL (issue 16, item 5; README, "Audit"). One `gnomon server --state postgres://...`:
changes recorded with their actor, in the database (the audit table), kept across a restart. A cluster (ZooKeeper
and PostgreSQL, two servers): a change sent to the follower, which proxies it to the leader, is recorded once, with
the original caller as actor and the original client's address (the test's client connects from 127.0.0.5: the
follower sees that address, the leader only the follower's); the audit is read through either server."""

import base64
import http.client
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import REQUEST_TIMEOUT, GnomonTestCase, main, parse_json, sched, wait_until  # noqa: E402
from pg_harness import RunChecks, new_database, query, require_pg  # noqa: E402
from zk_harness import addr, close_module_ensemble as tearDownModule, module_ensemble, zk_args  # noqa: E402, F401

ZK_TIMEOUT_MS = 4000
BASIC = {"Authorization": "Basic " + base64.b64encode(b"ops:pw").decode()}
V1 = "/v1/scheduler"
CLIENT_IP = "127.0.0.5"


def setUpModule():
    require_pg()


def send(srv, method, path, body=None, headers=None, source=None):
    """(status, parsed body), from source (an address of this machine) when given."""
    headers = dict(headers or {})
    if body is not None:
        body = json.dumps(body)
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=REQUEST_TIMEOUT,
                                      source_address=(source, 0) if source else None)
    try:
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, parse_json(data) if data else data
    finally:
        conn.close()


class PgAudit(GnomonTestCase, RunChecks):
    server_args = None

    def audit(self, srv, query_string=""):
        status, body = send(srv, "GET", "/api/v1/audit" + query_string, headers=BASIC)
        self.assertEqual(status, 200, body)
        return body["entries"]

    def test_standalone(self):
        db = new_database(self._testMethodName.lower())
        srv = self.new_server(["--state", db, "--http-credentials", "ops:pw"])
        wait_until(lambda: self.cluster_as(srv)["leading"], 10, interval=0.02, what="leading")
        self.assertEqual(send(srv, "POST", V1 + "/iso8601", sched("a"), BASIC)[0], 204)
        self.assertEqual(send(srv, "POST", V1 + "/iso8601", sched("a", command="echo 2"), BASIC)[0], 204)
        self.assertEqual(send(srv, "POST", V1 + "/iso8601", sched("bad", schedule="nope"), BASIC)[0], 400)
        self.assertEqual(send(srv, "DELETE", V1 + "/job/a", None, BASIC)[0], 204)
        got = self.audit(srv)
        self.assertEqual([(e["action"], e["job"], e["actor"], e["actorKind"], e["address"]) for e in got], [
            ("job.delete", "a", "ops", "basic", "127.0.0.1"),
            ("job.update", "a", "ops", "basic", "127.0.0.1"),
            ("job.create", "a", "ops", "basic", "127.0.0.1")])
        self.assertEqual((got[1]["before"]["command"], got[1]["after"]["command"]), ("true", "echo 2"))
        self.assertEqual([r[0] for r in query(db, "SELECT action FROM audit ORDER BY id")],
                         ["job.create", "job.update", "job.delete"])
        srv.restart()
        wait_until(lambda: self.cluster_as(srv)["leading"], 10, interval=0.02, what="leading again")
        self.assertEqual(self.audit(srv), got)

    def cluster_as(self, srv):
        status, body = send(srv, "GET", "/api/v1/cluster", headers=BASIC)
        self.assertEqual(status, 200, body)
        return body

    def test_cluster_change_through_the_follower(self):
        module_ensemble()
        db = new_database(self._testMethodName.lower())
        path = "/gnomon-pg-audit/%s" % self._testMethodName
        servers = [self.new_server(zk_args(module_ensemble().hosts, path, ZK_TIMEOUT_MS) +
                                   ["--state", db, "--http-credentials", "ops:pw"]) for _ in range(2)]

        def pair():
            views = [self.cluster_as(s) for s in servers]
            leading = [s for s, v in zip(servers, views) if v["leading"]]
            if len(leading) != 1 or any(v["leader"] != addr(leading[0]) for v in views):
                return None
            return leading[0], [s for s in servers if s is not leading[0]][0]
        leader, follower = wait_until(pair, 20, interval=0.05, what="one leader")
        status, body = send(follower, "POST", "/api/v1/tokens", {"name": "deployer", "role": "admin"}, BASIC,
                            source=CLIENT_IP)
        self.assertEqual(status, 201, body)
        token = {"Authorization": "Bearer " + body["token"]}
        wait_until(lambda: send(follower, "GET", V1 + "/jobs", headers=token)[0] == 200, 10, interval=0.05,
                   what="the follower accepting the new token")
        # a forged X-Forwarded-For from the client is not what is recorded: the follower appends what it saw
        status, body = send(follower, "POST", V1 + "/iso8601", sched("f"),
                            dict(token, **{"X-Forwarded-For": "203.0.113.9"}), source=CLIENT_IP)
        self.assertEqual(status, 204, body)
        rows = query(db, "SELECT action, job, actor, actor_kind, address FROM audit ORDER BY id")
        self.assertEqual(rows, [("token.create", None, "ops", "basic", CLIENT_IP),
                                ("job.create", "f", "deployer", "token", CLIENT_IP)])
        for srv in (leader, follower):
            self.assertEqual([(e["action"], e["actor"], e["address"]) for e in self.audit(srv)],
                             [("job.create", "deployer", CLIENT_IP), ("token.create", "ops", CLIENT_IP)])


if __name__ == "__main__":
    main()
