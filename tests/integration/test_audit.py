"""The audit trail (issue 16, item 5; README, "Audit"): every change (a job's put, delete, enable, disable, run now,
kill, mark success; tokens made and revoked) is recorded in the change's own transaction with who made it (a
token's name, the Basic user, a session's, or "anonymous" with auth off), from where, when, and before and after;
a refused change records nothing; GET /api/v1/audit filters by job and time and pages; retention removes old
entries; a restart keeps them."""

import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, now_ms, parse_iso_ms, sched, wait_until  # noqa: E402
from test_auth import AuthCase, basic, bearer  # noqa: E402

V1 = "/v1/scheduler"
AUDIT = "/api/v1/audit"
DAY_MS = 86400 * 1000


def entries(case, query="", headers=None, srv=None):
    status, _, body = case.send("GET", AUDIT + query, headers=headers, srv=srv)
    case.assertEqual(status, 200, body)
    return body


class Audit(AuthCase):
    def audit(self, query=""):
        return entries(self, query, bearer(self.root_token))["entries"]

    def test_each_change_with_its_actor(self):
        """Job put (create, update, disable, enable), run now, mark success, kill, delete, a bulk put and tokens:
        each recorded once with the actor's name and kind, the client's address, the action and before/after."""
        self.admin_server(["--http-credentials", "ui:pw"])
        ops = self.make_token("ops", "operator")
        t0 = now_ms()
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("a"), bearer(self.root_token)), 204)
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("a", command="echo 2"), basic("ui", "pw")), 204)
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("a", command="echo 2", disabled=True),
                                    bearer(self.root_token)), 204)
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("a", command="echo 2"), bearer(self.root_token)),
                          204)
        self.assertStatus(self.send("PUT", V1 + "/job/a?arguments=x", None, bearer(ops)), 204)
        self.assertStatus(self.send("PUT", V1 + "/job/success/a", None, bearer(ops)), 200)
        self.assertStatus(self.send("DELETE", V1 + "/task/kill/a", None, bearer(ops)), 204)
        self.assertStatus(self.send("POST", "/api/v1/jobs", [sched("b")], bearer(self.root_token)), 200)
        self.assertStatus(self.send("DELETE", V1 + "/job/b", None, bearer(self.root_token)), 204)
        got = list(reversed(self.audit()))
        self.assertEqual([(e["action"], e["job"], e["actor"], e["actorKind"]) for e in got], [
            ("token.create", None, "root", "token"),
            ("job.create", "a", "root", "token"),
            ("job.update", "a", "ui", "basic"),
            ("job.disable", "a", "root", "token"),
            ("job.enable", "a", "root", "token"),
            ("job.run", "a", "ops", "token"),
            ("job.success", "a", "ops", "token"),
            ("job.kill", "a", "ops", "token"),
            ("job.create", "b", "root", "token"),
            ("job.delete", "b", "root", "token"),
        ])
        for e in got:
            self.assertEqual(e["address"], "127.0.0.1", e)
            self.assertLessEqual(t0 - 1000, parse_iso_ms(e["time"]))
        token, create, update = got[0], got[1], got[2]
        self.assertEqual((token["before"], token["after"]), (None, {"name": "ops", "role": "operator"}))
        self.assertIsNone(create["before"])
        self.assertEqual(create["after"]["command"], "true")
        self.assertEqual((update["before"]["command"], update["after"]["command"]), ("true", "echo 2"))
        self.assertEqual((got[3]["after"]["disabled"], got[4]["after"].get("disabled", False)), (True, False))
        self.assertEqual(got[5]["after"]["arguments"], "x")
        self.assertIn(":a:", got[5]["after"]["taskId"])
        self.assertIn("marked successful", got[6]["after"]["taskId"])
        self.assertIsInstance(got[7]["before"]["taskIds"], list)
        self.assertEqual((got[9]["before"]["name"], got[9]["after"]), ("b", None))
        # a token's revocation: its name and role, never a secret or a hash
        self.assertStatus(self.send("DELETE", "/api/v1/tokens/ops", None, bearer(self.root_token)), 204)
        revoked = self.audit("?limit=1")[0]
        self.assertEqual((revoked["action"], revoked["before"], revoked["after"]),
                         ("token.revoke", {"name": "ops", "role": "operator"}, None))
        self.assertNotIn(ops, str(self.audit()))

    def test_session_and_refusals(self):
        """A change through the UI's session is the session's (its token's name); a change refused (a bad job, a
        role too small, a job unknown) records nothing; the listing needs the admin role."""
        self.admin_server()
        viewer = self.make_token("v", "viewer")
        status, hdrs, body = self.send("POST", "/api/v1/session", {"token": self.root_token})
        self.assertEqual(status, 201, body)
        cookie = {"Cookie": hdrs["set-cookie"].split(";")[0], "X-Gnomon-CSRF": "1"}
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("s"), cookie), 204)
        n = len(self.audit())
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("bad", schedule="nope"),
                                    bearer(self.root_token)), 400)
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("s", command="x"), bearer(viewer)), 403)
        self.assertStatus(self.send("DELETE", V1 + "/job/nope", None, bearer(self.root_token)), 404)
        self.assertStatus(self.send("PUT", V1 + "/job/nope", None, bearer(self.root_token)), 404)
        got = self.audit()
        self.assertEqual(len(got), n)
        self.assertEqual((got[0]["action"], got[0]["actor"], got[0]["actorKind"]), ("job.create", "root", "session"))
        self.assertStatus(self.send("GET", AUDIT, None, bearer(viewer)), 403)
        self.assertStatus(self.send("GET", AUDIT), 401)

    def test_filters_paging_and_restart(self):
        """job= and since= filter, limit and before page newest first; a bad since is refused naming it; a
        restart keeps the entries."""
        self.admin_server()
        for i in range(5):
            self.assertStatus(self.send("POST", V1 + "/iso8601", sched("p%d" % (i % 2), command="echo %d" % i),
                                        bearer(self.root_token)), 204)
        p0 = self.audit("?job=p0")
        self.assertEqual([e["after"]["command"] for e in p0], ["echo 4", "echo 2", "echo 0"])
        cut = p0[1]["time"]
        since = self.audit("?since=" + cut)
        self.assertTrue(all(parse_iso_ms(e["time"]) >= parse_iso_ms(cut) for e in since))
        self.assertIn("echo 2", [e["after"]["command"] for e in since if e["job"]])
        self.assertNotIn("echo 0", [e["after"]["command"] for e in since if e["job"]])
        self.assertEqual(self.audit("?since=2000-01-01"), self.audit())
        self.assertEqual(self.audit("?since=2999-01-01T00:00:00%2B02:00"), [])
        pages, before = [], ""
        while True:
            body = entries(self, "?limit=2" + before, bearer(self.root_token))
            pages.append(body["entries"])
            if body["next"] is None:
                break
            before = "&before=" + body["next"]
        self.assertEqual([len(p) for p in pages], [2, 2, 1])
        self.assertEqual([e for p in pages for e in p], self.audit())
        for bad in ("yesterday", "2026-13-01", "2026-02-30T00:00:00Z", "2026-01-01T25:00"):
            status, _, body = self.send("GET", AUDIT + "?since=" + bad, None, bearer(self.root_token))
            self.assertEqual(status, 400, body)
            self.assertTrue(body["message"].startswith("since:"), body)
        status, _, body = self.send("GET", AUDIT + "?before=x", None, bearer(self.root_token))
        self.assertEqual(status, 400, body)
        kept = self.audit()
        self.server.restart()
        self.assertEqual(self.audit(), kept)

    def test_retention(self):
        """--audit-retention-days: an entry older than that goes at the next round of retention (--prune-interval,
        in ms); one within it stays."""
        srv = self.admin_server(["--prune-interval", "100"])
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("r"), bearer(self.root_token)), 204)
        srv.stop()
        db = sqlite3.connect(os.path.join(srv.data_dir, "gnomon.db"))
        with db:
            db.execute("INSERT INTO audit(time_ms, actor, actor_kind, address, action, job) "
                       "VALUES (?, 'old', 'token', '10.0.0.9', 'job.delete', 'gone')", (now_ms() - 91 * DAY_MS,))
            db.execute("INSERT INTO audit(time_ms, actor, actor_kind, address, action, job) "
                       "VALUES (?, 'recent', 'token', '10.0.0.9', 'job.delete', 'kept')", (now_ms() - 89 * DAY_MS,))
        db.close()
        srv.start()
        wait_until(lambda: "gone" not in [e["job"] for e in self.audit()], 10, interval=0.05,
                   what="the old entry to be pruned")
        self.assertEqual([e["job"] for e in self.audit()], ["kept", "r"])


class AuthOff(GnomonTestCase):
    def test_anonymous(self):
        """With auth off the actor is "anonymous", and the listing is open as every route is."""
        self.add_job(sched("x"))
        status, body = self.server.json("GET", AUDIT)
        self.assertEqual(status, 200, body)
        self.assertEqual([(e["actor"], e["actorKind"], e["address"], e["action"], e["job"]) for e in body["entries"]],
                         [("anonymous", "anonymous", "127.0.0.1", "job.create", "x")])
        self.assertIsNone(body["next"])
        # a run's arguments that are not UTF-8 are recorded all the same (U+FFFD for the bad bytes)
        status, body = self.server.json("PUT", V1 + "/job/x?arguments=a%FF")
        self.assertEqual(status, 204, body)
        status, body = self.server.json("GET", AUDIT + "?limit=1")
        self.assertEqual((body["entries"][0]["action"], body["entries"][0]["after"]["arguments"]),
                         ("job.run", "a\ufffd"))


if __name__ == "__main__":
    main()
