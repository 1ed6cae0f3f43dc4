"""Dependency graph exports (DOT, CSV), job and percentile statistics, and the /metrics registry."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, main, parse_json, sched  # noqa: E402

V1 = "/v1/scheduler"
PERCENTILES = ["99thPercentile", "98thPercentile", "95thPercentile", "75thPercentile", "median", "mean"]


class Graph(GnomonTestCase):

    def text(self, path):
        status, headers, body = self.server.request("GET", path)
        self.assertEqual(status, 200, body)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain"), headers)
        return body.decode()

    def test_dot_empty(self):
        self.assertEqual(self.text(V1 + "/graph/dot"), "digraph G {\n}\n")

    def test_dot_chain(self):
        self.add_job(sched("a"))
        self.add_job(dep("b", ["a"]))
        self.assertEqual(self.text(V1 + "/graph/dot"),
                         'digraph G {\n  1 [ label = "a" ];\n  2 [ label = "b" ];\n  1 -> 2;\n}\n')
        self.assertEqual(self.text("/scheduler/graph/dot"), self.text(V1 + "/graph/dot"))

    def test_dot_diamond_and_lone_job(self):
        self.add_job(sched("top"))
        self.add_job(sched("lone"))
        self.add_job(dep("left", ["top"]))
        self.add_job(dep("right", ["top"]))
        self.add_job(dep("bottom", ["left", "right"]))
        lines = self.text(V1 + "/graph/dot").split("\n")
        self.assertEqual(lines[:6], ["digraph G {", '  1 [ label = "top" ];', '  2 [ label = "lone" ];',
                                     '  3 [ label = "left" ];', '  4 [ label = "right" ];',
                                     '  5 [ label = "bottom" ];'])
        self.assertEqual(sorted(lines[6:10]), ["  1 -> 3;", "  1 -> 4;", "  3 -> 5;", "  4 -> 5;"])
        self.assertEqual(lines[10:], ["}", ""])

    def test_dot_after_delete_renumbers(self):
        self.add_job(sched("a"))
        self.add_job(sched("x"))
        self.add_job(dep("b", ["x"]))
        status, _ = self.server.json("DELETE", V1 + "/job/a")
        self.assertEqual(status, 204)
        self.assertEqual(self.text(V1 + "/graph/dot"),
                         'digraph G {\n  1 [ label = "x" ];\n  2 [ label = "b" ];\n  1 -> 2;\n}\n')

    def test_csv(self):
        self.add_job(sched("a"))
        self.add_job(sched("ok", lastSuccess="2020-01-02T00:00:00.000Z", lastError="2020-01-01T00:00:00.000Z"))
        self.add_job(sched("bad", lastSuccess="2020-01-01T00:00:00.000Z", lastError="2020-01-02T00:00:00.000Z"))
        self.add_job(dep("b", ["a"]))
        self.add_job(dep("c", ["b", "ok"]))
        lines = self.text(V1 + "/graph/csv").splitlines()
        self.assertEqual(lines[:5], ["node,a,fresh,idle", "node,ok,success,idle", "node,bad,failure,idle",
                                     "node,b,fresh,idle", "node,c,fresh,idle"])
        self.assertEqual(sorted(lines[5:]), ["link,a,b", "link,b,c", "link,ok,c"])

    def test_csv_empty(self):
        self.assertEqual(self.text(V1 + "/graph/csv").strip(), "")


class Stats(GnomonTestCase):

    def test_job_stat_for_a_job_never_run(self):
        self.add_job(sched("a"))
        for prefix in [V1, "/scheduler"]:
            with self.subTest(prefix=prefix):
                status, body = self.server.json("GET", prefix + "/job/stat/a")
                self.assertEqual(status, 200, body)
                self.assertSameJson(body, {
                    "histogram": {"75thPercentile": 0.0, "95thPercentile": 0.0, "98thPercentile": 0.0,
                                  "99thPercentile": 0.0, "median": 0.0, "mean": 0.0, "count": 0},
                    "taskStatHistory": []})

    def test_job_stat_unknown_job(self):
        status, body = self.server.json("GET", V1 + "/job/stat/ghost")
        self.assertError(status, body, 404)
        self.assertEqual(body["message"], "Job 'ghost' not found")

    def test_percentiles(self):
        self.add_job(sched("a"))
        for p in PERCENTILES:
            for prefix in [V1, "/scheduler"]:
                with self.subTest(percentile=p, prefix=prefix):
                    status, body = self.server.json("GET", "%s/stats/%s" % (prefix, p))
                    self.assertEqual(status, 200, body)
                    self.assertSameJson(body, [])

    def test_unknown_percentile(self):
        for p in ["50thPercentile", "max", "99thpercentile", "x" * 300]:
            with self.subTest(percentile=p):
                status, body = self.server.json("GET", V1 + "/stats/" + p)
                self.assertBadRequest(status, body)


class Metrics(GnomonTestCase):

    def metrics(self):
        status, headers, raw = self.server.request("GET", "/metrics")
        self.assertEqual(status, 200, raw)
        self.assertTrue(headers.get("content-type", "").startswith("application/json"), headers)
        body = parse_json(raw)
        self.assertIsInstance(body, dict, raw[:200])
        return body

    def test_shape(self):
        body = self.metrics()
        self.assertEqual(list(body.keys()), ["version", "gauges", "counters", "histograms", "meters", "timers"])
        for key in ["gauges", "counters", "histograms", "meters", "timers"]:
            self.assertIsInstance(body[key], dict, key)

    def test_endpoint_timers_count_calls(self):
        for _ in range(3):
            self.list_jobs()
        self.add_job(sched("a"))
        timers = self.metrics()["timers"]
        self.assertIn("api.jobs.list", timers)
        t = timers["api.jobs.list"]
        self.assertEqual(t["count"], 3)
        for key in ["count", "p99", "m1_rate", "duration_units"]:
            self.assertIn(key, t)
        self.assertEqual(t["duration_units"], "seconds")
        self.assertGreaterEqual(t["p99"], 0)
        self.list_jobs()
        self.assertEqual(self.metrics()["timers"]["api.jobs.list"]["count"], 4)


if __name__ == "__main__":
    main()
