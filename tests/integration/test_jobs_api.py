"""The Chronos job API: create/replace, read back, list, search, summary, delete and re-parenting, both URL
prefixes, and the HTTP conventions (CORS, OPTIONS, 405, 404)."""

import datetime
import os
import re
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, default_job, dep, full_job, main, parse_json, sched  # noqa: E402

V1 = "/v1/scheduler"


class CreateAndReadBack(GnomonTestCase):

    def test_full_job_round_trips_field_by_field(self):
        job = full_job()
        status, body = self.post_job(job)
        self.assertEqual(status, 204)
        self.assertIsNone(body)
        self.assertSameJson(self.get_job(job["name"]), job)

    def test_create_answers_204_with_empty_body(self):
        status, headers, body = self.server.request("POST", V1 + "/iso8601", sched("a"))
        self.assertEqual(status, 204)
        self.assertEqual(body, b"")
        status, headers, body = self.server.request("POST", V1 + "/dependency", dep("b", ["a"]))
        self.assertEqual(status, 204)
        self.assertEqual(body, b"")

    def test_minimal_job_gets_every_default(self):
        self.add_job(sched("minimal", "echo hi"))
        self.assertSameJson(self.get_job("minimal"), default_job("minimal", "echo hi"))

    def test_numbers_are_normalised(self):
        self.add_job(sched("strings", cpus="0.5", mem="256", disk=1024))
        got = self.get_job("strings")
        self.assertSameJson([got["cpus"], got["mem"], got["disk"]], [0.5, 256.0, 1024.0])
        self.add_job(sched("zeros", cpus=0, mem=0, disk=0))
        got = self.get_job("zeros")
        self.assertSameJson([got["cpus"], got["mem"], got["disk"]], [0.1, 128.0, 256.0])

    def test_fetch_extract_defaults_to_true(self):
        self.add_job(sched("fetcher", fetch=[{"uri": "https://example.com/x.tgz"}]))
        self.assertSameJson(self.get_job("fetcher")["fetch"],
                            [{"uri": "https://example.com/x.tgz", "executable": False, "cache": False,
                              "extract": True}])

    def test_parents_key_makes_a_dependent_job(self):
        self.add_job(sched("root"))
        # Both parents and schedule: parents wins, even when posted to /iso8601.
        self.add_job(dep("child", ["root"], schedule="R/2030-01-01T00:00:00Z/PT1H"), kind="iso8601")
        got = self.get_job("child")
        expected = default_job("child")
        del expected["schedule"], expected["scheduleTimeZone"]
        keys = list(expected)
        keys.insert(keys.index("epsilon"), "parents")
        expected["parents"] = ["root"]
        expected = {k: expected[k] for k in keys}
        self.assertSameJson(got, expected)

    def test_job_without_schedule_runs_once_now(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        # Disabled, so the scheduler leaves the schedule as the server filled it in (a run would rewrite it).
        self.add_job({"name": "once", "command": "true", "disabled": True})
        after = datetime.datetime.now(datetime.timezone.utc)
        got = self.get_job("once")
        self.assertNotIn("parents", got)
        m = re.fullmatch(r"R1/(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?)(Z|[+-]00:00)/PT24H", got["schedule"])
        self.assertTrue(m, got["schedule"])
        start = datetime.datetime.fromisoformat(m.group(1)).replace(tzinfo=datetime.timezone.utc)
        self.assertLessEqual(before - datetime.timedelta(seconds=2), start)
        self.assertLessEqual(start, after + datetime.timedelta(seconds=2))

    def test_replace_updates_the_job(self):
        self.add_job(sched("r", "echo 1", owner="a@example.com"))
        self.add_job(sched("r", "echo 2", schedule="R/2031-01-01T00:00:00Z/PT1H"))
        self.assertSameJson(self.get_job("r"), default_job("r", "echo 2", "R/2031-01-01T00:00:00Z/PT1H"))

    def test_scheduled_job_replaced_by_dependent_and_back(self):
        self.add_job(sched("p"))
        self.add_job(sched("q"))
        self.add_job(dep("q", ["p"]))
        got = self.get_job("q")
        self.assertEqual(got["parents"], ["p"])
        self.assertNotIn("schedule", got)
        self.add_job(sched("q", schedule="R/2032-01-01T00:00:00Z/P1W"))
        got = self.get_job("q")
        self.assertNotIn("parents", got)
        self.assertEqual(got["schedule"], "R/2032-01-01T00:00:00Z/P1W")
        status, _, csv = self.server.request("GET", V1 + "/graph/csv")
        self.assertNotIn("link,", csv.decode())

    def test_unknown_fields_are_ignored(self):
        self.add_job(sched("u", frobnicate=42, nested={"x": [1, 2]}))
        self.assertSameJson(self.get_job("u"), default_job("u"))

    def test_unknown_job_is_404(self):
        status, body = self.server.json("GET", V1 + "/job/nope")
        self.assertError(status, body, 404)
        self.assertSameJson(body, {"status": "Not Found", "message": "Job 'nope' not found"})


class Listing(GnomonTestCase):

    def test_empty_list(self):
        status, headers, body = self.server.request("GET", V1 + "/jobs")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        self.assertEqual(self.list_jobs(), [])

    def test_creation_order_kept_across_replacement(self):
        for n in ["zeta", "alpha", "mid", "beta"]:
            self.add_job(sched(n))
        self.add_job(sched("alpha", "echo replaced"))
        self.assertEqual(self.job_names(), ["zeta", "alpha", "mid", "beta"])
        jobs = self.list_jobs()
        self.assertEqual(jobs[1]["command"], "echo replaced")
        self.assertSameJson(jobs[0], default_job("zeta"))

    def test_deleted_then_recreated_job_goes_last(self):
        for n in ["a", "b", "c"]:
            self.add_job(sched(n))
        self.assertEqual(self.server.json("DELETE", V1 + "/job/a")[0], 204)
        self.add_job(sched("a", "echo again"))
        self.assertEqual(self.job_names(), ["b", "c", "a"])

    def test_uris_and_fetch_are_mirrored_in_the_list(self):
        self.add_job(sched("with-uris", uris=["https://example.com/u1", "https://example.com/u2"]))
        self.add_job(sched("with-fetch", fetch=[{"uri": "https://example.com/f1", "cache": True}]))
        by_name = {j["name"]: j for j in self.list_jobs()}
        self.assertSameJson(by_name["with-uris"]["uris"], ["https://example.com/u1", "https://example.com/u2"])
        self.assertSameJson(by_name["with-uris"]["fetch"], [
            {"uri": "https://example.com/u1", "executable": False, "cache": False, "extract": True},
            {"uri": "https://example.com/u2", "executable": False, "cache": False, "extract": True}])
        self.assertSameJson(by_name["with-fetch"]["fetch"], [
            {"uri": "https://example.com/f1", "executable": False, "cache": True, "extract": True}])
        self.assertSameJson(by_name["with-fetch"]["uris"], ["https://example.com/f1"])

    def test_full_job_in_list(self):
        job = full_job()
        self.add_job(job)
        expected = dict(job)
        expected["uris"] = ["https://example.com/a.tgz"]
        self.assertSameJson(self.list_jobs(), [expected])


class Search(GnomonTestCase):

    def setUp(self):
        super().setUp()
        self.add_job(sched("alpha-build", "make all"))
        self.add_job(sched("beta-deploy", "deploy.sh ALPHA"))
        self.add_job(sched("Gamma", "echo gamma"))

    def search(self, query):
        status, body = self.server.json("GET", V1 + "/jobs/search" + query)
        self.assertEqual(status, 200, body)
        self.assertIsInstance(body, list)
        return [j["name"] for j in body]

    def test_search_rules(self):
        cases = [
            ("?name=ALPHA", ["alpha-build"]),
            ("?name=gamma", ["Gamma"]),
            ("?command=alpha", ["beta-deploy"]),
            ("?name=a&command=echo", ["Gamma"]),
            ("?name=a&command=ECHO", ["Gamma"]),
            # Chronos's rule: an absent name or command matches everything, so `any` only widens a failed match.
            ("?any=gamma", ["alpha-build", "beta-deploy", "Gamma"]),
            ("?name=zzz&any=GAMMA", ["Gamma"]),
            ("?name=zzz&any=alpha", ["alpha-build", "beta-deploy"]),
            ("?name=zzz&any=make", ["alpha-build"]),
            ("?command=zzz&any=deploy", ["beta-deploy"]),
            ("?name=zzz", []),
            ("?name=build&command=deploy", []),
            ("?name=build&command=deploy&any=deploy", ["beta-deploy"]),
            ("", ["alpha-build", "beta-deploy", "Gamma"]),
            ("?name=", ["alpha-build", "beta-deploy", "Gamma"]),
        ]
        for query, expected in cases:
            with self.subTest(query=query):
                self.assertEqual(self.search(query), expected)

    def test_search_returns_whole_jobs(self):
        status, body = self.server.json("GET", V1 + "/jobs/search?name=alpha-build")
        self.assertEqual(status, 200)
        self.assertSameJson(body, [default_job("alpha-build", "make all")])

    def test_limit_and_offset(self):
        names = ["j%02d" % i for i in range(12)]
        for n in names:
            self.add_job(sched(n))
        cases = [
            ("?name=j", names[:10]),
            ("?name=j&limit=3&offset=2", names[2:5]),
            ("?name=j&offset=11", names[11:]),
            ("?name=j&offset=20", []),
            ("?name=j&limit=100", names),
            ("?limit=2", ["alpha-build", "beta-deploy"]),
        ]
        for query, expected in cases:
            with self.subTest(query=query):
                self.assertEqual(self.search(query), expected)

    def test_bad_limit_or_offset_is_400(self):
        for query in ["?limit=-1", "?limit=abc", "?offset=-1", "?offset=abc", "?limit=1x"]:
            with self.subTest(query=query):
                status, body = self.server.json("GET", V1 + "/jobs/search" + query)
                self.assertBadRequest(status, body)


class Summary(GnomonTestCase):

    def test_summary_shape_and_status(self):
        self.add_job(sched("a", schedule="R/2030-01-01T00:00:00Z/PT1H"))
        self.add_job(dep("b", ["a"]))
        self.add_job(sched("ok", lastSuccess="2020-01-02T00:00:00.000Z", lastError="2020-01-01T00:00:00.000Z"))
        self.add_job(sched("bad", lastSuccess="2020-01-01T00:00:00.000Z", lastError="2020-01-02T00:00:00.000Z"))
        self.add_job(sched("tie", lastSuccess="2020-01-01T00:00:00.000Z", lastError="2020-01-01T00:00:00.000Z"))
        self.add_job(sched("only-ok", lastSuccess="2020-01-01T00:00:00.000Z"))
        self.add_job(sched("only-bad", lastError="2020-01-01T00:00:00.000Z", disabled=True))
        self.add_job(dep("c", ["a", "ok"]))
        s = "R/2030-01-01T00:00:00Z/P1D"

        def row(name, status, schedule, parents, disabled=False):
            return {"name": name, "status": status, "state": "idle", "schedule": schedule, "parents": parents,
                    "disabled": disabled}
        expected = {"jobs": [
            row("a", "fresh", "R/2030-01-01T00:00:00Z/PT1H", []),
            row("b", "fresh", "", ["a"]),
            row("ok", "success", s, []),
            row("bad", "failure", s, []),
            row("tie", "failure", s, []),
            row("only-ok", "success", s, []),
            row("only-bad", "failure", s, [], True),
            row("c", "fresh", "", None),
        ]}
        status, body = self.server.json("GET", V1 + "/jobs/summary")
        self.assertEqual(status, 200, body)
        # Parents form a set: compare c's sorted, then the rest exactly.
        c = body["jobs"][-1]
        self.assertEqual(sorted(c["parents"]), ["a", "ok"])
        expected["jobs"][-1]["parents"] = c["parents"]
        self.assertSameJson(body, expected)

    def test_empty_summary(self):
        status, body = self.server.json("GET", V1 + "/jobs/summary")
        self.assertEqual(status, 200)
        self.assertSameJson(body, {"jobs": []})


class DeleteAndReparent(GnomonTestCase):

    def delete(self, name, code=204):
        status, headers, body = self.server.request("DELETE", V1 + "/job/" + name)
        self.assertEqual(status, code, body)
        if code == 204:
            self.assertEqual(body, b"")
        return status

    def test_delete(self):
        self.add_job(sched("a"))
        self.add_job(sched("b"))
        self.delete("a")
        self.assertEqual(self.job_names(), ["b"])
        status, body = self.server.json("GET", V1 + "/job/a")
        self.assertSameJson(body, {"status": "Not Found", "message": "Job 'a' not found"})
        self.assertEqual(status, 404)

    def test_delete_unknown_is_404(self):
        status, body = self.server.json("DELETE", V1 + "/job/ghost")
        self.assertError(status, body, 404)
        self.assertSameJson(body, {"status": "Not Found", "message": "Job 'ghost' not found"})

    def test_deleting_dependent_job_gives_its_parents_to_children(self):
        self.add_job(sched("A"))
        self.add_job(dep("B", ["A"]))
        self.add_job(dep("C", ["B"]))
        self.delete("B")
        self.assertEqual(self.get_job("C")["parents"], ["A"])
        self.assertEqual(self.job_names(), ["A", "C"])

    def test_deleting_dependent_job_merges_parents(self):
        self.add_job(sched("A"))
        self.add_job(sched("X"))
        self.add_job(dep("B", ["A"]))
        self.add_job(dep("C", ["B", "X"]))
        self.delete("B")
        self.assertEqual(sorted(self.get_job("C")["parents"]), ["A", "X"])

    def test_deleting_scheduled_parent_makes_only_child_scheduled(self):
        self.add_job(sched("A", schedule="R/2030-06-01T08:30:00Z/PT2H", scheduleTimeZone="Europe/Paris"))
        self.add_job(dep("B", ["A"], command="echo child", owner="me@example.com"))
        self.delete("A")
        expected = default_job("B", "echo child", "R/2030-06-01T08:30:00Z/PT2H")
        expected["owner"] = "me@example.com"
        expected["scheduleTimeZone"] = "Europe/Paris"
        self.assertSameJson(self.get_job("B"), expected)
        status, body = self.server.json("GET", V1 + "/jobs/summary")
        self.assertEqual(body["jobs"][0]["schedule"], "R/2030-06-01T08:30:00Z/PT2H")
        self.assertEqual(body["jobs"][0]["parents"], [])

    def test_graph_and_summary_follow_reparenting(self):
        self.add_job(sched("A"))
        self.add_job(dep("B", ["A"]))
        self.add_job(dep("C", ["B"]))
        self.add_job(dep("D", ["B", "C"]))
        self.delete("B")
        _, _, csv = self.server.request("GET", V1 + "/graph/csv")
        lines = csv.decode().splitlines()
        self.assertEqual(lines[:3], ["node,A,fresh,idle", "node,C,fresh,idle", "node,D,fresh,idle"])
        self.assertEqual(sorted(lines[3:]), ["link,A,C", "link,A,D", "link,C,D"])
        _, summary = self.server.json("GET", V1 + "/jobs/summary")
        self.assertEqual({j["name"]: sorted(j["parents"]) for j in summary["jobs"]},
                         {"A": [], "C": ["A"], "D": ["A", "C"]})
        self.delete("A")  # scheduled: both of its children take over its schedule (D drops C, as in Chronos)
        self.assertEqual(self.get_job("C")["schedule"], "R/2030-01-01T00:00:00Z/P1D")
        self.assertEqual(self.get_job("D")["schedule"], "R/2030-01-01T00:00:00Z/P1D")
        self.assertNotIn("parents", self.get_job("D"))
        _, _, dot = self.server.request("GET", V1 + "/graph/dot")
        self.assertEqual(dot.decode(), 'digraph G {\n  1 [ label = "C" ];\n  2 [ label = "D" ];\n}\n')

    def test_child_with_another_parent_takes_over_the_deleted_schedule_as_chronos_does(self):
        self.add_job(sched("A", schedule="R/2030-06-01T08:30:00Z/PT2H"))
        self.add_job(sched("X"))
        self.add_job(dep("B", ["A", "X"]))
        self.delete("A")
        got = self.get_job("B")
        self.assertNotIn("parents", got)
        self.assertEqual(got["schedule"], "R/2030-06-01T08:30:00Z/PT2H")
        _, _, csv = self.server.request("GET", V1 + "/graph/csv")
        self.assertNotIn("link,", csv.decode())


class Prefixes(GnomonTestCase):

    def test_chronos2_prefix_serves_the_same_api(self):
        status, _ = self.post_job(sched("old"), prefix="/scheduler")
        self.assertEqual(status, 204)
        status, _ = self.post_job(dep("older", ["old"]), prefix="/scheduler")
        self.assertEqual(status, 204)
        status, body = self.server.json("GET", "/scheduler/jobs")
        self.assertEqual(status, 200)
        self.assertEqual([j["name"] for j in body], ["old", "older"])
        self.assertEqual(body, self.list_jobs())
        status, body = self.server.json("GET", "/scheduler/job/old")
        self.assertEqual(status, 200)
        self.assertSameJson(body, default_job("old"))
        status, body = self.server.json("GET", "/scheduler/jobs/search?name=older")
        self.assertEqual([j["name"] for j in body], ["older"])
        status, body = self.server.json("GET", "/scheduler/jobs/summary")
        self.assertEqual([j["name"] for j in body["jobs"]], ["old", "older"])
        status, _, text = self.server.request("GET", "/scheduler/graph/dot")
        self.assertEqual(status, 200)
        self.assertIn("1 -> 2;", text.decode())
        status, body = self.server.json("DELETE", "/scheduler/job/older")
        self.assertEqual(status, 204)
        self.assertEqual(self.job_names(), ["old"])
        status, body = self.server.json("GET", "/scheduler/job/older")
        self.assertError(status, body, 404)


class Leader(GnomonTestCase):

    def test_leader_is_hostname_and_port(self):
        expected = {"leader": "%s:%d" % (socket.gethostname(), self.server.port)}
        for path in ["/leader", V1 + "/leader", "/scheduler/leader"]:
            with self.subTest(path=path):
                status, body = self.server.json("GET", path)
                self.assertEqual(status, 200, body)
                self.assertSameJson(body, expected)


class HttpConventions(GnomonTestCase):

    def test_ping(self):
        status, headers, body = self.server.request("GET", "/ping")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"pong\n")
        self.assertTrue(headers.get("content-type", "").startswith("text/plain"), headers)

    def test_no_cors_header_without_cors_origins(self):
        """No blanket Access-Control-Allow-Origin: without --cors-origins no other origin may read (see
        test_security.py for what --cors-origins allows)."""
        self.add_job(sched("a"))
        requests = [
            ("GET", "/ping", None), ("GET", "/metrics", None), ("GET", V1 + "/jobs", None),
            ("GET", V1 + "/job/a", None), ("GET", V1 + "/job/none", None), ("POST", V1 + "/iso8601", sched("b")),
            ("POST", V1 + "/iso8601", {"name": "bad name"}), ("DELETE", V1 + "/jobs", None),
            ("OPTIONS", V1 + "/jobs", None), ("GET", "/no/such/path", None), ("GET", V1 + "/graph/dot", None),
            ("GET", "/scheduler/jobs", None), ("DELETE", V1 + "/job/b", None),
        ]
        for method, path, body in requests:
            with self.subTest(method=method, path=path):
                status, headers, _ = self.server.request(method, path, body, {"Origin": "http://other.example"})
                self.assertNotIn("access-control-allow-origin", headers, (status, headers))
                self.assertNotIn("access-control-allow-methods", headers, (status, headers))

    def allow_set(self, headers):
        self.assertIn("allow", headers)
        return {m.strip() for m in headers["allow"].split(",")}

    def test_options_lists_allowed_methods(self):
        cases = [(V1 + "/jobs", {"GET"}), (V1 + "/iso8601", {"POST"}), (V1 + "/dependency", {"POST"}),
                 (V1 + "/job/x", {"GET", "DELETE"}), ("/ping", {"GET"})]
        for path, methods in cases:
            with self.subTest(path=path):
                status, headers, body = self.server.request("OPTIONS", path)
                self.assertEqual(status, 204, body)
                self.assertEqual(body, b"")
                allowed = self.allow_set(headers)
                self.assertTrue(methods <= allowed, allowed)

    def test_wrong_method_is_405_with_allow(self):
        cases = [("DELETE", V1 + "/jobs", {"GET"}), ("GET", V1 + "/iso8601", {"POST"}),
                 ("GET", V1 + "/dependency", {"POST"}), ("POST", V1 + "/jobs/summary", {"GET"}),
                 ("PATCH", V1 + "/job/x", {"GET", "DELETE"}), ("POST", "/ping", {"GET"}),
                 ("PUT", "/scheduler/jobs", {"GET"})]
        for method, path, methods in cases:
            with self.subTest(method=method, path=path):
                status, headers, raw = self.server.request(method, path)
                body = parse_json(raw)
                self.assertError(status, body, 405)
                allowed = self.allow_set(headers)
                self.assertTrue(methods <= allowed, allowed)
                self.assertNotIn(method, allowed)

    def test_unknown_path_is_404_json(self):
        for path in ["/nope", V1 + "/nope", V1 + "/jobs/nope/deeper", "/scheduler", "/v1", V1 + "/job/"]:
            with self.subTest(path=path):
                status, body = self.server.json("GET", path)
                self.assertError(status, body, 404)


if __name__ == "__main__":
    main()
