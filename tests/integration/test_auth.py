"""Access control (issue 16, items 1 to 3; README, "Access"): API tokens with a role each (viewer, operator, admin),
Chronos's Basic credentials (admin), the web UI's session cookie with its cross-site check; 401 without a valid
credential, 403 naming the role a route needs; /ping and the UI's files stay open; with neither a token nor
credentials everything is open as before. The first admin token written with --data-dir; the token commands of the
CLI; a server beyond loopback without access control refuses to start; failed attempts are logged and answered
later and later (without blocking the loop)."""

import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, REQUEST_TIMEOUT, START_TIMEOUT, GnomonTestCase, Server, free_port,  # noqa: E402
                            main, parse_json, sanitizer_lines, sched, wait_until)

V1 = "/v1/scheduler"
JSON = {"Content-Type": "application/json"}


def bearer(token):
    return {"Authorization": "Bearer " + token}


def basic(user, password):
    return {"Authorization": "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()}


def run_gnomon(argv, env=None, cwd=None):
    """Run gnomon with argv; (rc, stdout, stderr)."""
    full_env = {k: v for k, v in os.environ.items() if k not in ("GNOMON_SERVER", "GNOMON_TOKEN")}
    full_env.update(env or {})
    r = subprocess.run([BIN] + argv, input=b"", capture_output=True, env=full_env, timeout=START_TIMEOUT + 10,
                       cwd=cwd)
    err = r.stderr.decode("utf-8", "replace")
    assert sanitizer_lines(err) == [], err
    return r.returncode, r.stdout.decode("utf-8", "replace"), err


class AuthCase(GnomonTestCase):
    server_args = None  # each test starts its own

    def send(self, method, path, body=None, headers=None, srv=None):
        """(status, lower-case headers, parsed JSON or raw body)."""
        srv = srv or self.server
        headers = dict(headers or {})
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers.update(JSON)
        status, hdrs, data = srv.request(method, path, body, headers)
        return status, hdrs, parse_json(data) if data else data

    def admin_server(self, args=()):
        """A server whose first admin token ("root") was written into its store before it started; sets
        self.server and self.root_token."""
        srv = self.new_server(list(args), start=False)
        rc, out, err = run_gnomon(["token", "create", "root", "--role", "admin", "--data-dir", srv.data_dir])
        self.assertEqual(rc, 0, err)
        self.assertIn("not shown again", err)
        self.root_token = out.strip()
        self.assertRegex(self.root_token, r"^[0-9a-f]{64}$")
        srv.start()
        self.server = srv
        return srv

    def make_token(self, name, role):
        status, _, body = self.send("POST", "/api/v1/tokens", {"name": name, "role": role},
                                    bearer(self.root_token))
        self.assertEqual(status, 201, body)
        self.assertEqual((body["name"], body["role"]), (name, role))
        return body["token"]

    def assertStatus(self, got, code, contains=None):
        status, headers, body = got
        self.assertEqual(status, code, body)
        if code == 401:
            self.assertIn("Bearer", headers.get("www-authenticate", ""))
        if contains:
            self.assertIn(contains, body["message"])
        return body


class Off(AuthCase):
    def test_no_token_no_credentials_everything_open(self):
        """Without a token or credentials: no credential needed anywhere (as before), the session says auth is
        off, and the administrators' routes still refuse (they never are open)."""
        self.server = self.new_server()
        self.assertEqual(self.post_job(sched("open-job"))[0], 204)
        self.assertStatus(self.send("GET", V1 + "/jobs"), 200)
        self.assertStatus(self.send("PUT", V1 + "/job/open-job"), 204)
        body = self.assertStatus(self.send("GET", "/api/v1/session"), 200)
        self.assertEqual((body["auth"], body["role"]), (False, "admin"))
        self.assertStatus(self.send("POST", "/api/v1/session", {"token": "x"}), 409)

    def test_refuses_to_listen_open(self):
        """Beyond loopback without access control the server refuses to start, naming --insecure-open; with it,
        or with credentials, it starts."""
        with tempfile.TemporaryDirectory(prefix="gnomon-it-auth-") as tmp:
            rc, out, err = run_gnomon(["server", "--http-address", "0.0.0.0", "--http-port", str(free_port()),
                                       "--data-dir", os.path.join(tmp, "d")])
            self.assertNotEqual(rc, 0)
            self.assertIn("refusing to listen on 0.0.0.0 without access control", err)
            self.assertIn("--insecure-open", err)
        srv = self.new_server(["--http-address", "0.0.0.0", "--insecure-open"])
        self.assertStatus(self.send("GET", V1 + "/jobs", srv=srv), 200)
        srv = self.new_server(["--http-address", "0.0.0.0", "--http-credentials", "ops:pw"])
        self.assertStatus(self.send("GET", V1 + "/jobs", srv=srv), 401)
        self.assertStatus(self.send("GET", V1 + "/jobs", headers=basic("ops", "pw"), srv=srv), 200)


class Tokens(AuthCase):
    def setUp(self):
        super().setUp()
        self.admin_server()
        self.viewer = self.make_token("viewer-1", "viewer")
        self.operator = self.make_token("ops.1", "operator")
        self.assertEqual(self.post_job(sched("j"))[0], 401)

    def post(self, job, token):
        return self.send("POST", V1 + "/iso8601", job, bearer(token))

    def test_each_role_on_each_kind_of_endpoint(self):
        """Reads need viewer, run now / kill / mark success operator, job changes and tokens admin: each role is
        allowed what its role gives and refused (403 naming the role needed) the rest; no credential or a wrong
        one is 401 with WWW-Authenticate; /ping and the UI's files stay open."""
        self.assertStatus(self.post(sched("j"), self.root_token), 204)
        reads = [V1 + "/jobs", V1 + "/job/j", "/api/v1/jobs", "/api/v1/overview", "/metrics", V1 + "/graph/dot"]
        operations = [("PUT", V1 + "/job/j", 204), ("PUT", V1 + "/job/success/j", 200),
                      ("DELETE", V1 + "/task/kill/j", 204)]
        for path in reads:
            with self.subTest(read=path):
                self.assertStatus(self.send("GET", path), 401, "Authorization: missing")
                self.assertStatus(self.send("GET", path, headers=bearer("0" * 64)), 401, "no such token")
                for token in (self.viewer, self.operator, self.root_token):
                    self.assertStatus(self.send("GET", path, headers=bearer(token)), 200)
        for method, path, code in operations:
            with self.subTest(operation=path):
                self.assertStatus(self.send(method, path), 401)
                self.assertStatus(self.send(method, path, headers=bearer(self.viewer)), 403,
                                  "needs the role operator: 'viewer-1' has the role viewer")
                self.assertStatus(self.send(method, path, headers=bearer(self.operator)), code)
                self.assertStatus(self.send(method, path, headers=bearer(self.root_token)), code)
        for token, name, role in ((self.viewer, "viewer-1", "viewer"), (self.operator, "ops.1", "operator")):
            with self.subTest(admin_for=role):
                self.assertStatus(self.post(sched("k"), token), 403,
                                  "needs the role admin: '%s' has the role %s" % (name, role))
                self.assertStatus(self.send("DELETE", V1 + "/job/j", headers=bearer(token)), 403, "role admin")
                self.assertStatus(self.send("GET", "/api/v1/tokens", headers=bearer(token)), 403, "role admin")
                self.assertStatus(self.send("POST", "/api/v1/tokens", {"name": "x", "role": "admin"},
                                            bearer(token)), 403, "role admin")
        self.assertStatus(self.send("DELETE", V1 + "/job/j", headers=bearer(self.root_token)), 204)
        status, _, body = self.server.request("GET", "/ping")
        self.assertEqual((status, body), (200, b"pong\n"))
        self.assertEqual(self.server.request("GET", "/")[0], 302)
        self.assertEqual(self.server.request("GET", "/ui/")[0], 200)
        self.assertEqual(self.server.request("GET", "/ui/js/api.js")[0], 200)

    def test_operator_enables_and_disables(self):
        """An operator may post a job back as it is but for `disabled` (how Chronos clients and the UI enable and
        disable); any other change of it, or a new job, needs admin. A viewer may do neither."""
        self.assertStatus(self.post(sched("t", command="echo 1"), self.root_token), 204)
        status, _, job = self.send("GET", V1 + "/job/t", headers=bearer(self.operator))
        self.assertEqual(status, 200)
        job["disabled"] = True
        self.assertStatus(self.post(job, self.viewer), 403, "needs the role operator")
        self.assertStatus(self.post(job, self.operator), 204)
        self.assertTrue(self.send("GET", V1 + "/job/t", headers=bearer(self.viewer))[2]["disabled"])
        job["disabled"] = False
        self.assertStatus(self.post(job, self.operator), 204)
        self.assertFalse(self.send("GET", V1 + "/job/t", headers=bearer(self.viewer))[2]["disabled"])
        job["command"] = "echo 2"
        self.assertStatus(self.post(job, self.operator), 403, "needs the role admin: 'ops.1' has the role operator")
        self.assertEqual(self.send("GET", V1 + "/job/t", headers=bearer(self.viewer))[2]["command"], "echo 1")

    def test_tokens_listed_without_secrets_and_revoked(self):
        """GET /api/v1/tokens lists names, roles, created and last used, never a secret or its hash; a name is
        taken once (409), a bad name or role is 400 naming the field; a revoked token is refused at once."""
        self.assertStatus(self.send("GET", V1 + "/jobs", headers=bearer(self.viewer)), 200)
        status, _, raw = self.server.request("GET", "/api/v1/tokens", headers=bearer(self.root_token))
        self.assertEqual(status, 200)
        listed = {t["name"]: t for t in parse_json(raw)["tokens"]}
        self.assertEqual({n: t["role"] for n, t in listed.items()},
                         {"root": "admin", "viewer-1": "viewer", "ops.1": "operator"})
        self.assertIsNotNone(listed["viewer-1"]["lastUsed"])
        self.assertIsNone(listed["ops.1"]["lastUsed"])
        for secret in (self.viewer, self.operator, self.root_token):
            self.assertNotIn(secret.encode(), raw)
        self.assertNotIn(b"hash", raw)
        self.assertStatus(self.send("POST", "/api/v1/tokens", {"name": "ops.1", "role": "viewer"},
                                    bearer(self.root_token)), 409, "name:")
        self.assertStatus(self.send("POST", "/api/v1/tokens", {"name": "a b", "role": "viewer"},
                                    bearer(self.root_token)), 400, "name:")
        self.assertStatus(self.send("POST", "/api/v1/tokens", {"name": "ab", "role": "god"},
                                    bearer(self.root_token)), 400, "role:")
        self.assertStatus(self.send("DELETE", "/api/v1/tokens/ops.1", headers=bearer(self.root_token)), 204)
        self.assertStatus(self.send("DELETE", "/api/v1/tokens/ops.1", headers=bearer(self.root_token)), 404)
        self.assertStatus(self.send("PUT", V1 + "/job/j", headers=bearer(self.operator)), 401, "no such token")

    def test_tokens_survive_a_restart(self):
        """Tokens are durable: after a restart the same secrets work."""
        self.server.restart()
        self.assertStatus(self.send("GET", V1 + "/jobs", headers=bearer(self.viewer)), 200)
        self.assertStatus(self.send("GET", V1 + "/jobs"), 401)

    def test_failed_attempts_logged_and_slowed_down(self):
        """A wrong token is logged with the address; from the second failure on the answer comes later (a timer,
        not a sleep: the server answers others meanwhile)."""
        def timed(headers):
            t0 = time.monotonic()
            status = self.server.request("GET", V1 + "/jobs", headers=headers)[0]
            return status, time.monotonic() - t0

        first = timed(bearer("1" * 64))
        self.assertEqual(first[0], 401)
        result = {}
        thread = threading.Thread(target=lambda: result.update(second=timed(bearer("2" * 64))))
        thread.start()
        wait_until(lambda: "failure 2 of this address" in self.server.current_log(), 10, what="second failure")
        t0 = time.monotonic()
        self.assertEqual(self.server.request("GET", "/ping")[0], 200)
        ping = time.monotonic() - t0
        thread.join(REQUEST_TIMEOUT)
        second = result["second"]
        self.assertEqual(second[0], 401)
        self.assertGreater(second[1], 0.4)  # AUTH_DELAY_FIRST_MS is 500
        self.assertGreater(second[1], first[1])
        self.assertLess(ping, second[1])
        self.assertRegex(self.server.current_log(), r"auth: refused GET /v1/scheduler/jobs from 127\.0\.0\.1:\d+ "
                                                    r"\(failure 1 of this address")


class Basic(AuthCase):
    def test_basic_credentials_act_as_admin(self):
        """--http-credentials (and --http-credentials-file) turn access control on; the right ones are admin,
        wrong ones 401 offering Basic too; tokens work beside them."""
        with tempfile.TemporaryDirectory(prefix="gnomon-it-auth-") as tmp:
            path = os.path.join(tmp, "creds")
            with open(path, "w") as f:
                f.write("chronos:s3cret:with:colons\n")
            for args, user, password in ((["--http-credentials", "admin:pw"], "admin", "pw"),
                                         (["--http-credentials-file", path], "chronos", "s3cret:with:colons")):
                with self.subTest(args=args):
                    self.server = self.new_server(args)
                    status, headers, body = self.send("GET", V1 + "/jobs")
                    self.assertEqual(status, 401)
                    self.assertIn('Basic realm="gnomon"', headers["www-authenticate"])
                    self.assertStatus(self.send("GET", V1 + "/jobs", headers=basic(user, password + "x")), 401,
                                      "wrong user or password")
                    self.assertStatus(self.send("POST", V1 + "/iso8601", sched("b"), basic(user, password)), 204)
                    self.assertStatus(self.send("DELETE", V1 + "/job/b", headers=basic(user, password)), 204)
                    status, _, body = self.send("POST", "/api/v1/tokens", {"name": "t", "role": "viewer"},
                                                basic(user, password))
                    self.assertEqual(status, 201, body)
                    self.assertStatus(self.send("GET", V1 + "/jobs", headers=bearer(body["token"])), 200)
                    session = self.assertStatus(self.send("GET", "/api/v1/session", headers=basic(user, password)),
                                                200)
                    self.assertEqual((session["name"], session["role"], session["via"]), (user, "admin", "basic"))


class Session(AuthCase):
    def login(self, credential_body=None, headers=None):
        status, hdrs, body = self.send("POST", "/api/v1/session", credential_body, headers)
        self.assertEqual(status, 201, body)
        cookie = hdrs["set-cookie"]
        self.assertIn("HttpOnly", cookie)
        self.assertIn("SameSite=Strict", cookie)
        self.assertNotIn("Secure", cookie)  # plain HTTP
        return {"Cookie": cookie.split(";")[0]}, body

    def test_cookie_session_and_cross_site_check(self):
        """POST /api/v1/session with a token sets the cookie; GET says who and which role; a change made with
        the cookie needs X-Gnomon-CSRF and a same-site origin; DELETE logs out."""
        self.admin_server(["--http-credentials", "ui:pw"])
        viewer = self.make_token("v", "viewer")
        cookie, who = self.login({"token": viewer})
        self.assertEqual((who["name"], who["role"], who["via"]), ("v", "viewer", "token"))
        body = self.assertStatus(self.send("GET", "/api/v1/session", headers=cookie), 200)
        self.assertEqual((body["name"], body["role"], body["via"]), ("v", "viewer", "session"))
        self.assertStatus(self.send("GET", V1 + "/jobs", headers=cookie), 200)
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("s"), dict(cookie, **{"X-Gnomon-CSRF": "1"})),
                          403, "needs the role admin")

        admin, _ = self.login(headers=basic("ui", "pw"))
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("s"), admin), 403, "X-Gnomon-CSRF: missing")
        evil = dict(admin, **{"X-Gnomon-CSRF": "1", "Origin": "http://evil.example"})
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("s"), evil), 403, "Origin:")
        site = dict(admin, **{"X-Gnomon-CSRF": "1", "Sec-Fetch-Site": "cross-site"})
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("s"), site), 403, "Sec-Fetch-Site:")
        ok = dict(admin, **{"X-Gnomon-CSRF": "1", "Origin": "http://127.0.0.1:%d" % self.server.port,
                            "Sec-Fetch-Site": "same-origin"})
        self.assertStatus(self.send("POST", V1 + "/iso8601", sched("s"), ok), 204)

        self.assertStatus(self.send("DELETE", "/api/v1/tokens/v", headers=basic("ui", "pw")), 204)
        self.assertStatus(self.send("GET", V1 + "/jobs", headers=cookie), 401, "was revoked")
        self.assertStatus(self.send("GET", V1 + "/jobs", headers=cookie), 401, "unknown or expired")

        self.assertStatus(self.send("DELETE", "/api/v1/session", headers=admin), 204)
        self.assertStatus(self.send("GET", V1 + "/jobs", headers=admin), 401, "session is unknown or expired")
        self.assertStatus(self.send("GET", V1 + "/jobs", headers={"Cookie": "gnomon_session=" + "0" * 64}), 401)
        self.assertStatus(self.send("POST", "/api/v1/session", {"token": "0" * 64}), 401, "no such token")


class AgentTokens(AuthCase):
    def test_agents_with_tokens_of_their_own(self):
        """An agent's own token (role agent) gets it in beside the shared --agent-token-file, runs its tasks, and
        opens nothing else; revoked, the agent is refused from its next request on."""
        from test_agents import Agent  # noqa: E402 - test_agents imports this module's harness, not the reverse
        scratch = tempfile.mkdtemp(prefix="gnomon-agent-tokens-")
        self.addCleanup(shutil.rmtree, scratch, True)
        shared = os.path.join(scratch, "shared")
        with open(shared, "w") as f:
            f.write("s" * 40 + "\n")
        self.admin_server(["--local-agent=false", "--agent-token-file", shared])
        own = os.path.join(scratch, "own")
        token = self.make_token("a1", "agent")
        with open(own, "w") as f:
            f.write(token + "\n")
        agent = Agent(self.server, "a1", token_file=own).start()
        self.addCleanup(agent.close)

        def agents():
            status, _, body = self.send("GET", "/api/v1/agents", headers=bearer(self.root_token))
            self.assertEqual(status, 200, body)
            return {a["name"]: a["state"] for a in body}
        wait_until(lambda: agents().get("a1") == "up", 20, what="the agent with its own token up")
        self.assertEqual(self.send("POST", V1 + "/iso8601", sched("on-a1", "echo ran",
                                                                     "R1/2000-01-01T00:00:00Z/PT1S"),
                                   bearer(self.root_token))[0], 204)
        self.assertEqual(self.send("PUT", V1 + "/job/on-a1", headers=bearer(self.root_token))[0], 204)

        def ended():
            status, _, body = self.send("GET", "/api/v1/jobs/on-a1/runs", headers=bearer(self.root_token))
            return [r for r in body["runs"] if r["status"] == "succeeded"] if status == 200 else []
        wait_until(ended, 20, what="the job run by the agent")

        # an agent's token opens nothing but the agents' protocol, and no session
        self.assertStatus(self.send("GET", V1 + "/jobs", headers=bearer(token)), 403, "has the role agent")
        self.assertStatus(self.send("POST", "/api/v1/session", {"token": token}), 403, "opens no session")
        # a viewer's token is not an agent's
        viewer = self.make_token("v1", "viewer")
        self.assertStatus(self.send("POST", "/api/v1/agent/register", {"version": 1}, bearer(viewer)), 401,
                          "not an agent's token")
        # revoked: refused from the agent's next request on
        self.assertEqual(self.send("DELETE", "/api/v1/tokens/a1", headers=bearer(self.root_token))[0], 204)
        self.assertStatus(self.send("POST", "/api/v1/agent/register", {"version": 1}, bearer(token)), 401)
        wait_until(lambda: "401" in agent.log(), 20, what="the revoked agent refused")


class Cli(AuthCase):
    def test_token_commands(self):
        """gnomon token create/list/revoke through the API with --token or GNOMON_TOKEN; without one the CLI
        says what the server said and exits 1; --data-dir refuses a store a running server holds."""
        self.admin_server()
        url = ["--server", self.server.url]
        rc, out, err = run_gnomon(["token", "list"] + url)
        self.assertEqual((rc, out), (1, ""))
        self.assertIn("gnomon: Authorization: missing", err)
        rc, out, err = run_gnomon(["token", "create", "ci", "--role", "operator"] + url,
                                  env={"GNOMON_TOKEN": self.root_token})
        self.assertEqual(rc, 0, err)
        ci = out.strip()
        self.assertStatus(self.send("PUT", V1 + "/job/none", headers=bearer(ci)), 404)
        rc, out, err = run_gnomon(["token", "list", "--token", self.root_token] + url)
        self.assertEqual(rc, 0, err)
        self.assertRegex(out, r"(?m)^NAME +ROLE +CREATED +LAST USED$")
        self.assertRegex(out, r"(?m)^ci +operator ")
        self.assertNotIn(ci, out)
        rc, out, err = run_gnomon(["--token", ci, "job", "list"] + url)
        self.assertEqual(rc, 0, err)
        rc, out, err = run_gnomon(["token", "revoke", "ci", "--token", self.root_token] + url)
        self.assertEqual(rc, 0, err)
        rc, out, err = run_gnomon(["--token", ci, "job", "list"] + url)
        self.assertEqual(rc, 1)
        self.assertIn("no such token", err)
        rc, out, err = run_gnomon(["token", "create", "x", "--role", "admin", "--data-dir", self.server.data_dir])
        self.assertEqual(rc, 1)
        self.assertIn("in use by another gnomon server", err)
        rc, out, err = run_gnomon(["token", "create", "x", "--role", "king", "--data-dir", self.server.data_dir])
        self.assertEqual(rc, 2)
        self.assertIn("--role: 'king' is not a role", err)


if __name__ == "__main__":
    main()
