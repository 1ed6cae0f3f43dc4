"""What keeps a web page in the operator's browser from driving gnomon (issue 10, points 1 and 2): request bodies
must be application/json (415); a state-changing request a browser marks as cross-site (Origin, Sec-Fetch-Site)
is refused (403) unless --cors-origins lists its origin; CORS headers only for listed origins ("*": reads only);
a server on loopback answers only loopback Host names and --hostname (421, DNS rebinding). Clients that send none
of those fields (curl, chronos-python, scripts) work as before. And a server started as root says so once."""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, START_TIMEOUT, GnomonTestCase, Server, main, parse_json,  # noqa: E402
                            sanitizer_lines, sched, wait_until)

V1 = "/v1/scheduler"
EVIL = "http://evil.example"


def raw_exchange(port, data):
    """Send raw bytes on a fresh connection and read until the server closes it."""
    raw = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        while True:
            part = s.recv(65536)
            if not part:
                return raw
            raw += part


class Guarded(GnomonTestCase):
    def send(self, method, path, body=None, headers=None, srv=None):
        """(status, headers, parsed JSON or raw body); body is sent as given (bytes/str) or as JSON (dict)."""
        srv = srv or self.server
        headers = dict(headers or {})
        if isinstance(body, dict):
            body = json.dumps(body)
            headers.setdefault("Content-Type", "application/json")
        status, hdrs, data = srv.request(method, path, body, headers)
        return status, hdrs, parse_json(data) if data else data

    def assertRefused(self, got, code, field):
        status, headers, body = got
        self.assertEqual(status, code, body)
        self.assertIsInstance(body, dict, body)
        self.assertEqual(list(body), ["status", "message"])
        self.assertTrue(body["message"].startswith(field + ":"), body["message"])
        return body["message"]

    def assertNoJob(self, name, srv=None):
        status, body = (srv or self.server).json("GET", V1 + "/job/" + name)
        self.assertEqual(status, 404, body)

    def own_origin(self, srv=None):
        return "http://127.0.0.1:%d" % (srv or self.server).port


class ContentType(Guarded):
    def test_the_reported_attack_is_refused_and_the_same_job_as_json_runs(self):
        marker = os.path.join(self.server.root, "ran")
        job = sched("x", command="touch %s" % marker, schedule="R1//PT1M")
        # What a page's form or no-cors fetch can send: text/plain, no preflight. Refused before the body is read.
        got = self.send("POST", V1 + "/iso8601", json.dumps(job), {"Content-Type": "text/plain;charset=UTF-8",
                                                                    "Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
        self.assertRefused(got, 403, "Origin")
        got = self.send("POST", V1 + "/iso8601", json.dumps(job), {"Content-Type": "text/plain"})
        self.assertRefused(got, 415, "Content-Type")
        self.assertNoJob("x")
        # The control: the same job as a script sends it is taken and runs, so the refusals above are what
        # kept it from running.
        self.assertEqual(self.send("POST", V1 + "/iso8601", job)[0], 204)
        wait_until(lambda: os.path.exists(marker), 20, what="the accepted job to run")

    def test_bodies_that_are_not_json_get_415(self):
        body = json.dumps(sched("y"))
        for ctype in ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                      "text/json", "application/jsonx", "application/json-patch+json"]:
            for path in [V1 + "/iso8601", V1 + "/dependency", "/scheduler/iso8601", V1 + "/task/ct:1:0:y:"]:
                with self.subTest(ctype=ctype, path=path):
                    method = "PUT" if "/task/" in path else "POST"
                    got = self.send(method, path, body, {"Content-Type": ctype})
                    message = self.assertRefused(got, 415, "Content-Type")
                    self.assertIn("application/json", message)
        self.assertNoJob("y")

    def test_missing_content_type_is_named(self):
        body = json.dumps(sched("z")).encode()
        raw = raw_exchange(self.server.port, b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                           b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body))
        self.assertTrue(raw.startswith(b"HTTP/1.1 415 "), raw)
        self.assertIn(b"Content-Type: missing", raw)

    def test_chunked_body_that_is_not_json_gets_415(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                      b"Transfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n")
            self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 415 "))

    def test_requests_without_a_body_need_no_content_type(self):
        # chronos-python's run, delete and kill, and curl -X PUT -d '' (form type, no body).
        self.add_job(sched("r"))
        self.assertEqual(self.send("PUT", V1 + "/job/r", b"", {})[0], 204)
        self.assertEqual(self.send("PUT", V1 + "/job/r", b"",
                                   {"Content-Type": "application/x-www-form-urlencoded"})[0], 204)
        self.assertEqual(self.send("DELETE", V1 + "/task/kill/r")[0], 204)
        self.assertEqual(self.send("DELETE", V1 + "/job/r")[0], 204)


class CrossSite(Guarded):
    def setUp(self):
        super().setUp()
        self.add_job(sched("j"))

    def test_state_changes_from_another_origin_are_refused(self):
        cases = [
            ("POST", V1 + "/iso8601", sched("new")), ("PUT", V1 + "/iso8601", sched("new")),
            ("POST", V1 + "/dependency", {"name": "new", "command": "true", "parents": ["j"]}),
            ("PUT", V1 + "/job/j", None), ("DELETE", V1 + "/job/j", None), ("DELETE", V1 + "/task/kill/j", None),
            ("PUT", V1 + "/job/success/j", None), ("PATCH", V1 + "/job/j", None), ("DELETE", "/scheduler/job/j", None),
        ]
        for origin in [EVIL, "null", "http://127.0.0.1:1", "https://127.0.0.1:%d" % (self.server.port + 1),
                       "http://localhost:%d" % self.server.port]:
            for method, path, body in cases:
                with self.subTest(origin=origin, method=method, path=path):
                    message = self.assertRefused(self.send(method, path, body, {"Origin": origin}), 403, "Origin")
                    self.assertIn("--cors-origins", message)
        self.assertNoJob("new")
        self.assertEqual(self.get_job("j")["successCount"], 0)
        status, body = self.server.json("GET", "/api/v1/jobs/j/runs")
        self.assertEqual((status, body["runs"]), (200, []), body)

    def test_sec_fetch_site_cross_or_same_site_is_refused_without_origin(self):
        for site in ["cross-site", "same-site", "Cross-Site"]:
            with self.subTest(site=site):
                got = self.send("POST", V1 + "/iso8601", sched("new"), {"Sec-Fetch-Site": site})
                self.assertRefused(got, 403, "Sec-Fetch-Site")
        self.assertNoJob("new")

    def test_own_origin_and_clients_without_browser_fields_may_change(self):
        port = self.server.port
        cases = [
            {},  # curl, chronos-python, scripts
            {"Origin": self.own_origin()},
            {"Origin": self.own_origin(), "Sec-Fetch-Site": "same-origin"},
            {"Sec-Fetch-Site": "same-origin"}, {"Sec-Fetch-Site": "none"},
            {"Origin": "http://localhost:%d" % port, "Host": "localhost:%d" % port},
            {"Origin": "http://LOCALHOST:%d" % port, "Host": "localhost:%d" % port},
        ]
        for i, headers in enumerate(cases):
            with self.subTest(headers=headers):
                status, _, body = self.send("POST", V1 + "/iso8601", sched("ok%d" % i), headers)
                self.assertEqual(status, 204, body)
                self.assertEqual(self.get_job("ok%d" % i)["name"], "ok%d" % i)

    def test_reads_from_another_origin_get_no_cors_headers(self):
        for path in [V1 + "/jobs", V1 + "/job/j", "/api/v1/jobs", "/ping"]:
            with self.subTest(path=path):
                status, headers, _ = self.send("GET", path, None, {"Origin": EVIL, "Sec-Fetch-Site": "cross-site"})
                self.assertEqual(status, 200)
                self.assertNotIn("access-control-allow-origin", headers)

    def test_preflight_from_another_origin_is_refused(self):
        got = self.send("OPTIONS", V1 + "/iso8601", None, {"Origin": EVIL, "Access-Control-Request-Method": "POST",
                                                           "Access-Control-Request-Headers": "content-type"})
        self.assertRefused(got, 403, "Origin")
        self.assertNotIn("access-control-allow-origin", got[1])
        self.assertNotIn("access-control-allow-methods", got[1])
        # A plain OPTIONS (no preflight) still lists the methods.
        status, headers, _ = self.send("OPTIONS", V1 + "/iso8601")
        self.assertEqual(status, 204)
        self.assertIn("POST", headers["allow"])
        self.assertNotIn("access-control-allow-methods", headers)


class CorsOrigins(Guarded):
    server_args = ["--cors-origins", " http://app.example:8080 ,https://ops.example:443"]

    def test_listed_origins_may_change_and_read(self):
        for i, origin in enumerate(["http://app.example:8080", "https://ops.example"]):
            with self.subTest(origin=origin):
                status, headers, body = self.send("POST", V1 + "/iso8601", sched("c%d" % i),
                                                  {"Origin": origin, "Sec-Fetch-Site": "cross-site"})
                self.assertEqual(status, 204, body)
                self.assertEqual(headers.get("access-control-allow-origin"), origin)
                self.assertEqual(headers.get("vary"), "Origin")
                status, headers, body = self.send("GET", V1 + "/job/c%d" % i, None, {"Origin": origin})
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("access-control-allow-origin"), origin)

    def test_listed_origin_still_needs_json(self):
        got = self.send("POST", V1 + "/iso8601", json.dumps(sched("t")), {"Origin": "http://app.example:8080",
                                                                           "Content-Type": "text/plain"})
        self.assertRefused(got, 415, "Content-Type")
        self.assertEqual(got[1].get("access-control-allow-origin"), "http://app.example:8080")  # it can read why

    def test_other_origins_are_still_refused(self):
        for origin in [EVIL, "http://app.example", "http://app.example:8081", "https://app.example:8080",
                       "http://ops.example"]:
            with self.subTest(origin=origin):
                got = self.send("POST", V1 + "/iso8601", sched("o"), {"Origin": origin})
                self.assertRefused(got, 403, "Origin")
                self.assertNotIn("access-control-allow-origin", got[1])
        self.assertNoJob("o")

    def test_preflight_of_a_listed_origin(self):
        status, headers, body = self.send("OPTIONS", V1 + "/job/x", None, {
            "Origin": "http://app.example:8080", "Access-Control-Request-Method": "DELETE",
            "Access-Control-Request-Headers": "content-type"})
        self.assertEqual(status, 204, body)
        self.assertEqual(headers["access-control-allow-origin"], "http://app.example:8080")
        self.assertEqual({m.strip() for m in headers["access-control-allow-methods"].split(",")},
                         {"GET", "DELETE", "PUT"})
        self.assertEqual(headers["access-control-allow-headers"].lower(), "content-type")
        self.assertEqual(headers["access-control-max-age"], "600")
        self.assertEqual(headers["vary"], "Origin")


class CorsStar(Guarded):
    server_args = ["--cors-origins", "*"]

    def test_any_origin_may_read(self):
        self.add_job(sched("s"))
        for path in [V1 + "/jobs", V1 + "/job/s", "/api/v1/jobs"]:
            with self.subTest(path=path):
                status, headers, _ = self.send("GET", path, None, {"Origin": EVIL})
                self.assertEqual(status, 200)
                self.assertEqual(headers.get("access-control-allow-origin"), "*")

    def test_no_origin_may_change(self):
        self.add_job(sched("s"))
        for method, path, body in [("POST", V1 + "/iso8601", sched("n")), ("DELETE", V1 + "/job/s", None),
                                   ("PUT", V1 + "/job/s", None)]:
            with self.subTest(method=method):
                got = self.send(method, path, body, {"Origin": EVIL})
                self.assertRefused(got, 403, "Origin")
                self.assertNotIn("access-control-allow-origin", got[1])
        self.assertNoJob("n")
        got = self.send("OPTIONS", V1 + "/iso8601", None, {"Origin": EVIL, "Access-Control-Request-Method": "POST"})
        self.assertIn("lets any origin read, not change", self.assertRefused(got, 403, "Access-Control-Request-Method"))
        status, headers, _ = self.send("OPTIONS", V1 + "/jobs", None, {"Origin": EVIL,
                                                                       "Access-Control-Request-Method": "GET"})
        self.assertEqual(status, 204)
        self.assertEqual(headers["access-control-allow-origin"], "*")
        self.assertEqual(headers["access-control-allow-methods"], "GET, HEAD")

    def test_star_with_a_listed_origin(self):
        srv = self.new_server(["--cors-origins", "*,http://app.example"])
        status, headers, body = self.send("POST", V1 + "/iso8601", sched("a"), {"Origin": "http://app.example"},
                                          srv=srv)
        self.assertEqual(status, 204, body)
        self.assertRefused(self.send("POST", V1 + "/iso8601", sched("b"), {"Origin": EVIL}, srv=srv), 403, "Origin")


class HostNames(Guarded):
    def host_request(self, host, method="GET", path="/ping", srv=None):
        raw = raw_exchange((srv or self.server).port, ("%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"
                                                       "Content-Length: 0\r\n\r\n" % (method, path, host)).encode())
        head, _, body = raw.partition(b"\r\n\r\n")
        return int(head.split()[1]), body

    def test_loopback_names_are_answered(self):
        port = self.server.port
        for host in ["localhost", "localhost:%d" % port, "LOCALHOST:%d" % port, "localhost.", "127.0.0.1",
                     "127.0.0.1:%d" % port, "127.1.2.3:%d" % port, "[::1]", "[::1]:%d" % port,
                     "[0:0:0:0:0:0:0:1]:%d" % port, "[::ffff:127.0.0.1]", "gnomon.localhost:%d" % port]:
            with self.subTest(host=host):
                self.assertEqual(self.host_request(host), (200, b"pong\n"))

    def test_other_names_get_421(self):
        port = self.server.port
        for host in ["evil.example", "evil.example:%d" % port, "127.0.0.1.evil.example", "localhost.evil.example",
                     "127.0.0.1.nip.io:%d" % port, "[::2]:%d" % port, "10.0.0.1", "0.0.0.0:%d" % port,
                     "localhost:abc", "[::1]x"]:
            for method, path in [("GET", "/ping"), ("GET", V1 + "/jobs"), ("GET", "/ui/"), ("POST", V1 + "/iso8601")]:
                with self.subTest(host=host, method=method, path=path):
                    status, body = self.host_request(host, method, path)
                    self.assertEqual(status, 421, body)
                    message = json.loads(body)["message"]
                    self.assertTrue(message.startswith("Host:"), message)

    def test_hostname_option_is_a_name_of_the_server(self):
        srv = self.new_server(hostname="Gnomon-Test.Example")
        for host in ["gnomon-test.example", "GNOMON-TEST.EXAMPLE:%d" % srv.port, "gnomon-test.example."]:
            with self.subTest(host=host):
                self.assertEqual(self.host_request(host, srv=srv), (200, b"pong\n"))
        self.assertEqual(self.host_request("other.example", srv=srv)[0], 421)

    def test_absolute_form_authority_is_the_host(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"GET http://evil.example/ping HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 421 "))

    def test_http10_without_host_is_answered(self):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(b"GET /ping HTTP/1.0\r\n\r\n")
            raw = b""
            while not raw.endswith(b"pong\n"):
                part = s.recv(65536)
                self.assertTrue(part, raw)
                raw += part
        self.assertTrue(raw.startswith(b"HTTP/1.1 200 "))


class CorsOriginsOption(GnomonTestCase):
    server_args = None

    def run_server(self, args, env=None):
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("GNOMON_") or k == "GNOMON_BIN"}
        full_env.update(env or {})
        scratch = tempfile.mkdtemp(prefix="gnomon-it-sec-")
        self.addCleanup(shutil.rmtree, scratch, True)
        r = subprocess.run([BIN, "server", "--data-dir", os.path.join(scratch, "d")] + args, cwd=scratch,
                           env=full_env, capture_output=True, timeout=START_TIMEOUT)
        err = r.stderr.decode()
        self.assertEqual(sanitizer_lines(err), [], err)
        return r.returncode, r.stdout.decode(), err

    def test_bad_origins_exit_2_naming_them(self):
        for value in ["http://app.example/", "app.example", "null", "ftp://app.example", "http://app.example:0",
                      "http://app.example:99999", "http://", "http://a b", "http://app.example/path",
                      "http://user@app.example", "*,https://ok.example,bad"]:
            with self.subTest(value=value):
                rc, _, err = self.run_server(["--cors-origins", value, "--check-config"])
                self.assertEqual(rc, 2, err)
                lines = [ln for ln in err.splitlines() if ln.strip()]
                self.assertEqual(len(lines), 1, err)
                self.assertIn("--cors-origins:", lines[0])
                self.assertIn("is not an origin", lines[0])

    def test_help_and_check_config(self):
        rc, out, _ = self.run_server(["--help"])
        self.assertEqual(rc, 0)
        self.assertIn("--cors-origins", out)
        rc, out, err = self.run_server(["--check-config", "--cors-origins", "https://a.example,*"])
        self.assertEqual(rc, 0, err)
        self.assertIn("cors-origins = https://a.example,*", out)

    def test_environment_and_config_file(self):
        root = tempfile.mkdtemp(prefix="gnomon-it-sec-")
        self.addCleanup(shutil.rmtree, root, True)
        conf = os.path.join(root, "gnomon.conf")
        with open(conf, "w") as f:
            f.write("cors-origins = http://file.example\n")
        for kw, origin in [({"env": {"GNOMON_CORS_ORIGINS": "http://env.example"}}, "http://env.example"),
                           ({"args": ["--config", conf]}, "http://file.example")]:
            with self.subTest(origin=origin):
                srv = self.new_server(kw.get("args", ()), env=kw.get("env"))
                body = json.dumps(sched("e"))
                status, headers, _ = srv.request("POST", V1 + "/iso8601", body, {"Origin": origin})
                self.assertEqual(status, 204)
                self.assertEqual(headers.get("access-control-allow-origin"), origin)
                status, _, _ = srv.request("POST", V1 + "/iso8601", body, {"Origin": EVIL})
                self.assertEqual(status, 403)


ROOT_LINE = re.compile(r"warn +running as root: ")


class UnprivilegedServer(Server):
    """The server run as nobody (only possible when the tests run as root)."""

    def command(self):
        return ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"] + super().command()

    def start(self):
        os.chmod(self.root, 0o711)
        os.makedirs(self.data_dir, exist_ok=True)
        os.chown(self.data_dir, 65534, 65534)
        return super().start()


class RootWarning(GnomonTestCase):
    server_args = None

    def root_lines(self, srv):
        return [ln for ln in srv.log().splitlines() if ROOT_LINE.search(ln)]

    def test_root_says_so_once(self):
        if os.geteuid() != 0:
            self.skipTest("not running as root: the warning cannot be seen (test_no_warning_when_not_root covers "
                          "its absence)")
        lines = self.root_lines(self.new_server())
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("jobs without a runAsUser run as root", lines[0])
        lines = self.root_lines(self.new_server(["--user", "nobody"]))
        self.assertEqual(len(lines), 1, lines)
        self.assertIn("run as 'nobody' (--user)", lines[0])

    def test_no_warning_when_not_root(self):
        if os.geteuid() == 0:
            if shutil.which("setpriv") is None:
                self.skipTest("running as root without setpriv: no way to start the server as another user")
            srv = UnprivilegedServer()
            self._servers.append(srv)
            self.addCleanup(srv.close)
        else:
            srv = self.new_server()
        status, _, _ = srv.request("GET", "/ping")
        self.assertEqual(status, 200)
        self.assertEqual(self.root_lines(srv), [])
        self.assertIn("listening on", srv.log())


if __name__ == "__main__":
    main()
