"""Dependency graph exports (DOT, CSV), job and percentile statistics, and the /metrics registry."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, main, parse_json, sched, wait_until  # noqa: E402

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

    def test_percentiles_of_a_job_never_run(self):
        """Chronos lists every job of its graph, with 0.0 for one without runs (its histogram is empty)."""
        self.add_job(sched("a"))
        for p in PERCENTILES:
            for prefix in [V1, "/scheduler"]:
                with self.subTest(percentile=p, prefix=prefix):
                    status, body = self.server.json("GET", "%s/stats/%s" % (prefix, p))
                    self.assertEqual(status, 200, body)
                    self.assertSameJson(body, [{"jobNameLabel": "a", "time": 0.0}])

    def test_percentiles_without_jobs(self):
        status, body = self.server.json("GET", V1 + "/stats/median")
        self.assertEqual(status, 200, body)
        self.assertSameJson(body, [])

    def test_percentiles_list_every_job_of_a_large_set(self):
        """The answer is streamed in chunks of 1,024 jobs: 2,100 jobs, every one listed once, newest first."""
        names = ["j%04d" % i for i in range(2100)]
        for name in names:
            self.add_job(sched(name))
        status, body = self.server.json("GET", V1 + "/stats/99thPercentile")
        self.assertEqual(status, 200)
        self.assertEqual([x["jobNameLabel"] for x in body], names[::-1])

    def test_chronos_python_stats_scenario(self):
        """chronos-python's itest "Gathering job stats for job": a trivial R0 job, then its job stat, each
        percentile, the median and the mean, compared whole."""
        self.add_job({"command": "echo 1", "name": "myjob", "owner": "", "disabled": False,
                      "schedule": "R0/2014-01-01T00:00:00Z/PT60M"})
        status, body = self.server.json("GET", V1 + "/job/stat/myjob")
        self.assertEqual(status, 200, body)
        self.assertEqual(body, {"histogram": {"median": 0.0, "98thPercentile": 0.0, "75thPercentile": 0.0,
                                              "95thPercentile": 0.0, "99thPercentile": 0.0, "count": 0,
                                              "mean": 0.0},
                                "taskStatHistory": []})
        for p in PERCENTILES:
            with self.subTest(percentile=p):
                status, body = self.server.json("GET", V1 + "/stats/" + p)
                self.assertEqual(status, 200, body)
                self.assertSameJson(body, [{"jobNameLabel": "myjob", "time": 0.0}])

    def test_percentiles_order_slowest_first_then_newest_first(self):
        """Chronos sorts (stably, in the jobs' order) by time and reverses: equal times list the newest job
        first."""
        for name, command in [("slow", "sleep 0.6"), ("b", "true"), ("fast", "sleep 0.1"), ("c", "true")]:
            self.add_job(sched(name, command))
        for name in ["slow", "fast"]:
            self.server.request("PUT", V1 + "/job/" + name)
        wait_until(lambda: all(self.server.json("GET", V1 + "/job/stat/" + n)[1]["histogram"]["count"] == 1
                               for n in ["slow", "fast"]), 20, interval=0.05, what="a run of slow and fast")
        for p in PERCENTILES:
            with self.subTest(percentile=p):
                status, body = self.server.json("GET", V1 + "/stats/" + p)
                self.assertEqual(status, 200, body)
                self.assertEqual([x["jobNameLabel"] for x in body], ["slow", "fast", "c", "b"], body)
                self.assertEqual([x["time"] for x in body][2:], [0.0, 0.0], body)
                self.assertTrue(0.6 <= body[0]["time"] < 30 and 0.1 <= body[1]["time"] < body[0]["time"], body)
        self.server.request("DELETE", V1 + "/job/b")
        self.assertEqual([x["jobNameLabel"] for x in self.server.json("GET", V1 + "/stats/mean")[1]],
                         ["slow", "fast", "c"])

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
