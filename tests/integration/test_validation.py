"""Bad input: every rejected job gets 400 with a message naming the field, nothing is half-created, the server
never answers 500 nor crashes; accepted edge cases; body size limit (413)."""

import json
import os
import socket
import sys
import time
from urllib.parse import quote

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, main, parse_json, sched  # noqa: E402

V1 = "/v1/scheduler"

# (case, endpoint, body, message prefix, substrings the message must contain). The job must not exist after.
REJECTED = [
    ("name with space", "iso8601", sched("a b"), "name:", ["a b"]),
    ("name with colon", "iso8601", sched("x:y"), "name:", ["x:y"]),
    ("empty name", "iso8601", sched(""), "name:", []),
    ("missing name", "iso8601", {"command": "true", "schedule": "R/2030-01-01T00:00:00Z/P1D"}, "name:", []),
    ("non-string name", "iso8601", sched(123), "name:", []),
    ("non-ASCII name", "iso8601", sched("caf\u00e9"), "name:", []),
    ("name with slash", "iso8601", sched("a/b"), "name:", []),
    ("unparsable schedule", "iso8601", sched("s1", schedule="FOO"), "schedule:", ["FOO"]),
    ("no period", "iso8601", sched("s2", schedule="R/2008-03-01T13:00:00Z"), "schedule:", []),
    ("no period with zone", "iso8601", sched("s3", schedule="R/2008-03-01T13:00:00Z", scheduleTimeZone="PST"),
     "schedule:", []),
    ("start before 1970", "iso8601", sched("s4", schedule="R/1960-01-01T00:00:00Z/P1D"), "schedule:", []),
    ("infinite zero period", "iso8601", sched("s5", schedule="R//P"), "schedule:", []),
    ("negative repeat", "iso8601", sched("s6", schedule="R-1/2030-01-01T00:00:00Z/P1D"), "schedule:", []),
    ("bad period", "iso8601", sched("s7", schedule="R/2030-01-01T00:00:00Z/P1X"), "schedule:", []),
    ("bad start", "iso8601", sched("s8", schedule="R/2030-13-45T00:00:00Z/P1D"), "schedule:", []),
    ("empty schedule", "iso8601", sched("s9", schedule=""), "schedule:", []),
    ("cron minute 61", "iso8601", sched("c1", schedule="61 * * * *"), "schedule:", []),
    ("cron 4 fields", "iso8601", sched("c2", schedule="* * * *"), "schedule:", []),
    ("cron bad day", "iso8601", sched("c3", schedule="0 13 * * FUNDAY"), "schedule:", []),
    ("cron bad macro", "iso8601", sched("c4", schedule="@fortnightly"), "schedule:", []),
    ("unknown zone", "iso8601", sched("z1", scheduleTimeZone="Mars/Olympus"), "scheduleTimeZone:",
     ["Mars/Olympus"]),
    ("empty parents", "dependency", dep("d1", []), "parents:", []),
    ("dependency without parents", "dependency", {"name": "d2", "command": "true"}, "parents:", []),
    ("unknown parent", "dependency", dep("d3", ["nope"]), "parents:", ["nope"]),
    ("one unknown parent among known", "dependency", dep("d4", ["base", "ghost"]), "parents:", ["ghost"]),
    ("own parent", "dependency", dep("selfish", ["selfish"]), "parents:", ["selfish"]),
    ("uris and fetch", "iso8601", sched("both", uris=["http://e/x"], fetch=[{"uri": "http://e/y"}]), None,
     ["Tried to add both uri (deprecated) and fetch parameters on both"]),
    ("string retries", "iso8601", sched("t1", retries="abc"), "retries:", []),
    ("string cpus", "iso8601", sched("t2", cpus="lots"), "cpus:", []),
    ("object command", "iso8601", sched("t3", command={"x": 1}), "command:", []),
    ("string arguments", "iso8601", sched("t4", arguments="-v"), "arguments:", []),
    ("string schedule type", "iso8601", sched("t5", schedule=42), "schedule:", []),
]

# Schedules and zones that must be accepted (and read back unchanged).
ACCEPTED = [
    ("R1//P", ""), ("R1//P1D", ""), ("R0/2030-01-01T00:00:00Z/P1D", ""), ("R5/2008-03-01T13:00:00Z/P1D", ""),
    ("R/2008-03-01T13:00:00Z/P1D", "PST"), ("R/2008-03-01T13:00:00Z/P1D", "BST"),
    ("R/2008-03-01T13:00:00Z/P1D", "Europe/Paris"), ("R/2008-03-01T13:00:00-04:00/P1D", "PST"),
    ("R/2008-03-01/P1D", "PST"), ("R/2030-01-01T00:00:00.250Z/PT1.5S", ""), ("R/2030-01-01T00:00:00Z/P1W", ""),
    ("R/2030-01-01T00:00:00Z/P1Y2M3DT4H5M6S", ""), ("R1/2030-01-01T00:00:00Z/PT0S", "America/New_York"),
    ("*/5 * * * *", ""), ("@hourly", ""), ("@daily", "Europe/Paris"), ("0 13 * * MON-FRI", ""),
    ("0 0 1 1 *", "UTC"),
]


class Rejected(GnomonTestCase):

    def setUp(self):
        super().setUp()
        self.add_job(sched("base"))

    def test_rejected_jobs(self):
        for case, kind, job, prefix, contains in REJECTED:
            with self.subTest(case=case):
                status, body = self.post_job(job, kind)
                self.assertBadRequest(status, body, prefix, contains)
                name = job.get("name")
                if isinstance(name, str) and name:
                    status, _ = self.server.json("GET", V1 + "/job/" + quote(name, safe=""))
                    self.assertEqual(status, 404, "rejected job %r was stored" % name)
        self.assertEqual(self.job_names(), ["base"])

    def test_rejected_jobs_on_chronos2_prefix(self):
        status, body = self.post_job(sched("bad", schedule="FOO"), prefix="/scheduler")
        self.assertBadRequest(status, body, "schedule:")

    def test_bad_update_leaves_the_job_unchanged(self):
        before = self.get_job("base")
        for job in [sched("base", schedule="FOO"), sched("base", scheduleTimeZone="Mars/Olympus"),
                    sched("base", retries="abc"), dep("base", ["nope"])]:
            with self.subTest(job=job):
                status, body = self.post_job(job)
                self.assertEqual(status, 400, body)
        self.assertEqual(self.get_job("base"), before)

    def test_update_creating_a_cycle(self):
        self.add_job(sched("A"))
        self.add_job(dep("B", ["A"]))
        status, body = self.post_job(dep("A", ["B"]))
        self.assertBadRequest(status, body, "parents:", ["A", "B"])
        self.assertNotIn("parents", self.get_job("A"))
        self.assertEqual(self.get_job("B")["parents"], ["A"])

    def test_longer_cycle(self):
        self.add_job(sched("A"))
        self.add_job(dep("B", ["A"]))
        self.add_job(dep("C", ["B"]))
        status, body = self.post_job(dep("A", ["C"]))
        self.assertBadRequest(status, body, "parents:", ["A", "B", "C"])
        status, _, dot = self.server.request("GET", V1 + "/graph/dot")
        self.assertNotIn("3 -> 1", dot.decode())

    def test_uris_and_fetch_on_update_are_rejected_too_or_accepted_cleanly(self):
        # Chronos only checks on create; whatever gnomon does, it must be 204 or a 400 naming the job.
        self.add_job(sched("u", uris=["http://e/x"]))
        status, body = self.post_job(sched("u", uris=["http://e/x"], fetch=[{"uri": "http://e/y"}]))
        self.assertIn(status, (204, 400), body)
        self.assertTrue(self.server.ping())

    def test_malformed_json(self):
        raw_cases = [
            b'{"name": "x",',
            b'{"name": "x" "command": "y"}',
            b'{"name": "x", "command": "y",}',
            b"{'name': 'x'}",
            b'{"name": "x"}\n{"name": "y"}',
            b"\xff\xfe{}",
            b'{"name": "caf\xe9"}',
        ]
        for raw in raw_cases:
            with self.subTest(raw=raw):
                status, _, data = self.server.request("POST", V1 + "/iso8601", raw)
                body = parse_json(data)
                self.assertBadRequest(status, body)
        status, _, data = self.server.request("POST", V1 + "/iso8601", b'{"name": "x",\n  "command": }')
        self.assertBadRequest(status, parse_json(data), None, ["line", "column"])
        self.assertIn("line 2", parse_json(data)["message"])

    def test_body_not_an_object(self):
        for raw in [b"[]", b'[{"name": "x", "schedule": "R//P1D"}]', b'"job"', b"null", b"42", b"true", b"",
                    b"   "]:
            with self.subTest(raw=raw):
                for kind in ["iso8601", "dependency"]:
                    status, _, data = self.server.request("POST", V1 + "/" + kind, raw)
                    self.assertBadRequest(status, parse_json(data))
        self.assertEqual(self.job_names(), ["base"])

    def test_hostile_inputs_never_crash(self):
        deep = 100000
        cases = [
            b"[" * deep + b"]" * deep,
            b'{"a":' * deep + b"1" + b"}" * deep,
            json.dumps(sched("deep", arguments=[[[[[["x"]]]]]])).encode(),
            json.dumps(sched("n1", retries=10 ** 30)).encode(),
            json.dumps(sched("n2", retries=-5)).encode(),
            json.dumps(sched("n3", cpus=-1)).encode(),
            json.dumps(sched("n4", maxCompletionTime=1.5)).encode(),
            b'{"name": "n5", "command": "true", "schedule": "R//P1D", "cpus": 1e999}',
            json.dumps(sched("nul\u0000byte")).encode(),
            json.dumps(sched("nulcmd", "echo \u0000 hi")).encode(),
            json.dumps(sched("x" * 20000)).encode(),
            json.dumps({"name": "nulls", "command": None, "schedule": None, "parents": None}).encode(),
            json.dumps({"name": "nulls2", "command": "true", "schedule": "R//P1D", "owner": None,
                        "fetch": None, "container": None, "environmentVariables": None}).encode(),
            json.dumps(sched("badfetch", fetch=["just a string"])).encode(),
            json.dumps(sched("badenv", environmentVariables=[{"name": 1}])).encode(),
            json.dumps(sched("badcons", constraints=[["a"]])).encode(),
            json.dumps(sched("badcons2", constraints=[["a", "NOPE", "b"]])).encode(),
            json.dumps(sched("badcont", container={"image": 5})).encode(),
            json.dumps(sched("badcont2", container={"type": "PODMAN", "image": "x"})).encode(),
            json.dumps(sched("badvol", container={"image": "x", "volumes": [{"mode": "XX"}]})).encode(),
            json.dumps(sched("longsched", schedule="R" + "9" * 400 + "/2030-01-01T00:00:00Z/P1D")).encode(),
            json.dumps(sched("longper", schedule="R/2030-01-01T00:00:00Z/P" + "9" * 400 + "D")).encode(),
            json.dumps(sched("bigyear", schedule="R/99999-01-01T00:00:00Z/P1D")).encode(),
            json.dumps(sched("tzlong", scheduleTimeZone="A" * 5000)).encode(),
            json.dumps(sched("tzpath", scheduleTimeZone="../../../../etc/passwd")).encode(),
            json.dumps(dep("manyparents", ["base"] * 5000)).encode(),
            json.dumps(sched("cronbig", schedule="0-59/0 * * * *")).encode(),
            json.dumps(sched("cronrev", schedule="59-0 * * * *")).encode(),
            json.dumps(sched("epsbad", epsilon="soon")).encode(),
        ]
        for raw in cases:
            with self.subTest(raw=raw[:60]):
                status, _, data = self.server.request("POST", V1 + "/iso8601", raw)
                self.assertIn(status, (204, 400), data[:300])
                if status == 400:
                    self.assertBadRequest(status, parse_json(data))
                self.assertTrue(self.server.ping(), "server stopped answering")
        # Whatever was accepted is listed as valid JSON and can be read back.
        for job in self.list_jobs():
            with self.subTest(name=job["name"][:40]):
                status, got = self.server.json("GET", V1 + "/job/" + quote(job["name"], safe=""))
                self.assertEqual(status, 200)
                self.assertEqual(got["name"], job["name"])

    def test_garbage_http_requests_never_crash(self):
        raw_requests = [
            b"GARBAGE\r\n\r\n",
            b"GET / HTTP/9.9\r\n\r\n",
            b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -5\r\n\r\n",
            b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 10\r\n\r\n{}",
            b"GET /" + b"a" * 100000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            b"GET /v1/scheduler/job/%ZZ%00 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\nZZ\r\n",
        ]
        for raw in raw_requests:
            with self.subTest(raw=raw[:50]):
                # A truncated body leaves the server waiting for the rest: do not wait for it long.
                with socket.create_connection(("127.0.0.1", self.server.port), timeout=1) as s:
                    try:
                        s.sendall(raw)
                        s.shutdown(socket.SHUT_WR)
                        s.recv(65536)
                    except OSError:
                        pass
                self.assertTrue(self.server.ping(), "server stopped answering")

    def test_url_encoded_names(self):
        status, body = self.server.json("GET", V1 + "/job/no%20such")
        self.assertError(status, body, 404)
        self.assertEqual(body["message"], "Job 'no such' not found")
        status, body = self.server.json("GET", V1 + "/job/b%61se")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["name"], "base")


class Accepted(GnomonTestCase):

    def test_accepted_schedules_and_zones(self):
        for i, (schedule, tz) in enumerate(ACCEPTED):
            with self.subTest(schedule=schedule, tz=tz):
                name = "ok%d" % i
                # Disabled: a schedule whose start has passed would otherwise run and be rewritten.
                status, body = self.post_job(sched(name, schedule=schedule, scheduleTimeZone=tz, disabled=True))
                self.assertEqual(status, 204, body)
                got = self.get_job(name)
                self.assertEqual((got["schedule"], got["scheduleTimeZone"]), (schedule, tz))

    def test_accepted_names(self):
        for name in ["a", "A_b-c.d", "x" * 200, "0", "a.b.c", "-", "_"]:
            with self.subTest(name=name):
                status, body = self.post_job(sched(name))
                self.assertEqual(status, 204, body)
                self.assertEqual(self.get_job(name)["name"], name)

    def test_dependency_on_several_parents(self):
        self.add_job(sched("p1"))
        self.add_job(sched("p2"))
        self.add_job(dep("child", ["p1", "p2", "p1"]))
        self.assertEqual(sorted(self.get_job("child")["parents"]), ["p1", "p2"])

    def test_iso8601_endpoint_takes_content_type_variants(self):
        for ctype in ["application/json", "application/json; charset=utf-8", "Application/JSON;charset=UTF-8",
                      "application/json ; charset=utf-8"]:
            with self.subTest(ctype=ctype):
                status, _, data = self.server.request("POST", V1 + "/iso8601", json.dumps(sched("ct")),
                                                      {"Content-Type": ctype})
                self.assertEqual(status, 204, data)


class BodySize(GnomonTestCase):
    server_args = ["--max-body-size", "64K"]
    limit = 64 * 1024

    def raw_post(self, body):
        """POST with a raw socket, so a server that answers before reading everything is still heard."""
        head = ("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\nConnection: close\r\n\r\n" % len(body)).encode()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=20) as s:
            try:
                s.sendall(head + body)
            except OSError:
                pass
            chunks = []
            while True:
                try:
                    chunk = s.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                chunks.append(chunk)
        resp = b"".join(chunks)
        head, _, payload = resp.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 "), resp[:200])
        return int(head.split()[1]), parse_json(payload)

    def chunked_post(self, body, chunk=16384, expect=False):
        """POST body with Transfer-Encoding: chunked (no Content-Length, so the server only finds out the size
        while reading); returns (status, JSON body, seconds until the answer was complete)."""
        head = ("POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                "Transfer-Encoding: chunked\r\n%s\r\n" % ("Expect: 100-continue\r\n" if expect else "")).encode()
        data = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + chunk]), body[i:i + chunk])
                        for i in range(0, len(body), chunk)) + b"0\r\n\r\n"
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(head)
            if expect:
                self.assertTrue(s.recv(65536).startswith(b"HTTP/1.1 100"))
            s.sendall(data)
            resp = b""
            while b"\r\n\r\n" not in resp or len(resp.partition(b"\r\n\r\n")[2]) < self.content_length(resp):
                part = s.recv(65536)
                if not part:
                    break
                resp += part
        elapsed = time.monotonic() - start
        head, _, payload = resp.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.1 "), resp[:200])
        return int(head.split()[1]), parse_json(payload) if payload else None, elapsed

    @staticmethod
    def content_length(resp):
        for line in resp.partition(b"\r\n\r\n")[0].split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                return int(value)
        return 0

    def padded(self, size):
        """A valid job whose JSON is exactly size bytes (padded with an unknown field, which is ignored)."""
        raw = json.dumps(sched("big", pad=""))
        raw = raw.replace('"pad": ""', '"pad": "%s"' % ("x" * (size - len(raw))))
        self.assertEqual(len(raw), size)
        return raw.encode()

    def test_body_over_limit_is_413(self):
        for size in [self.limit + 1, self.limit + 4096]:
            with self.subTest(size=size):
                status, body = self.raw_post(self.padded(size))
                self.assertError(status, body, 413)
                status, _ = self.server.json("GET", V1 + "/job/big")
                self.assertEqual(status, 404)

    def test_body_at_limit_is_accepted(self):
        status, body = self.raw_post(self.padded(self.limit))
        self.assertEqual(status, 204, body)
        self.assertEqual(self.get_job("big")["name"], "big")

    def test_way_over_limit(self):
        status, body = self.raw_post(b"{" + b" " * (4 * 1024 * 1024) + b"}")
        self.assertError(status, body, 413)

    def test_chunked_body_over_limit_is_413(self):
        for size, expect in [(self.limit + 1, False), (self.limit + 4096, True), (4 * 1024 * 1024, True)]:
            with self.subTest(size=size, expect=expect):
                status, body, elapsed = self.chunked_post(self.padded(size), expect=expect)
                self.assertError(status, body, 413, contains="over the limit of %d bytes" % self.limit)
                self.assertLess(elapsed, 5)
                status, _ = self.server.json("GET", V1 + "/job/big")
                self.assertEqual(status, 404)
        self.assertNotIn("could not queue", self.server.log())

    def test_chunked_body_within_limit_is_accepted(self):
        for size in [200, self.limit]:
            with self.subTest(size=size):
                status, body, _ = self.chunked_post(self.padded(size), chunk=1000)
                self.assertEqual(status, 204, body)
                self.assertEqual(self.get_job("big")["name"], "big")

    def test_endless_chunked_body_is_cut_off(self):
        """Past what the server is willing to read and drop, it closes the connection rather than read on."""
        piece = b"%x\r\n%s\r\n" % (65536, b" " * 65536)
        head = (b"POST /v1/scheduler/iso8601 HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n{")
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=10) as s:
            s.sendall(head)
            with self.assertRaises(OSError):
                for _ in range(100000):  # 6 GiB: far more than the server reads
                    s.sendall(piece)
        self.assertLess(time.monotonic() - start, 30)
        self.assertTrue(self.server.ping(), "server stopped answering")


class DefaultBodySize(BodySize):
    server_args = ()
    limit = 1024 * 1024


if __name__ == "__main__":
    main()
