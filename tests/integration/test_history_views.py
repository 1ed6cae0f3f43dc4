"""The API behind the web UI's history views (issue 17): GET /api/v1/timeline (runs of the filtered jobs over a
window, the coming fires), the job listing's strip=N, a failed run's stderrLast, the overview's failuresByJob."""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, iso_ms, main, now_ms, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"
NEVER = "R/2030-01-01T00:00:00Z/PT1H"
HOUR = 3600 * 1000


class HistoryViews(GnomonTestCase):
    def run_and_wait(self, name, runs):
        self.assertEqual(self.server.call("PUT", V1 + "/job/" + name)[0], 204)
        wait_until(lambda: len(self.ended(name)) >= runs, 30, what="%d runs of %s" % (runs, name))

    def ended(self, name):
        status, body = self.server.json("GET", "/api/v1/jobs/%s/runs?limit=100" % name)
        self.assertEqual(status, 200, body)
        return [r for r in body["runs"] if r["end"]]

    def test_failed_runs_say_why_everywhere(self):
        self.add_job(sched("bad", "echo fine; printf 'first\\nsecond line  \\n\\n' >&2; exit 4", schedule=NEVER,
                           retries=1, retryDelay="PT0S"))
        self.add_job(sched("good", "echo hi >&2", schedule=NEVER))
        self.run_and_wait("bad", 2)
        self.run_and_wait("good", 1)
        runs = self.ended("bad")
        self.assertEqual([r["stderrLast"] for r in runs], ["second line", "second line"])
        self.assertNotIn("stderrLast", self.ended("good")[0], "only a failed, lost or killed run says it")
        status, one = self.server.json("GET", "/api/v1/runs/" + runs[0]["taskId"])
        self.assertEqual(one["stderrLast"], "second line")
        status, body = self.server.json("GET", "/api/v1/jobs?strip=5&sort=name")
        self.assertEqual(status, 200, body)
        jobs = {j["name"]: j for j in body["jobs"]}
        self.assertEqual([r["status"] for r in jobs["bad"]["recent"]], ["failed", "failed"])
        self.assertEqual([r["attempt"] for r in jobs["bad"]["recent"]], [1, 0])
        self.assertEqual(jobs["bad"]["recent"][0]["stderrLast"], "second line")
        self.assertEqual(jobs["bad"]["recent"][0]["reason"], "exited with status 4")
        self.assertEqual((jobs["bad"]["tries"], jobs["good"]["tries"]), (2, 3))
        self.assertEqual(set(jobs["good"]["recent"][0]), {"taskId", "job", "status", "attempt", "due", "start", "end",
                                                          "durationMs", "exitCode"})
        self.assertNotIn("recent", self.server.json("GET", "/api/v1/jobs")[1]["jobs"][0], "strip=0: no runs")
        # the overview: one entry per job with its count (two tries of one slot), its last failure and its tries
        self.run_and_wait("bad", 4)
        status, body = self.server.json("GET", "/api/v1/overview")
        self.assertEqual([(f["job"], f["count"], f["tries"]) for f in body["failuresByJob"]], [("bad", 4, 2)])
        self.assertEqual(body["failuresByJob"][0]["last"]["taskId"], body["recentFailures"][0]["taskId"])
        self.assertEqual(body["failuresByJob"][0]["last"]["stderrLast"], "second line")

    def test_timeline_window_filters_and_fires(self):
        # schedules that cannot fire during the test (from 2030, or on 29 February), windows at fixed times
        self.add_job(sched("etl-a", "true", schedule=NEVER, owner="data@example.com"))
        self.add_job(sched("etl-b", "exit 1", schedule=NEVER, retries=0, owner="data@example.com"))
        self.add_job(sched("web", "true", schedule="R/2030-01-01T00:00:00Z/PT1H", owner="web@example.com"))
        self.add_job(sched("web-half", "true", schedule="R/2030-01-01T00:20:00Z/PT30M", owner="web@example.com"))
        self.add_job(sched("web-three", "true", schedule="R3/2030-01-01T01:10:00Z/PT1H", owner="web@example.com"))
        self.add_job(sched("leap", "true", schedule="0 0 29 2 *", owner="ops@example.com"))
        self.run_and_wait("etl-a", 1)
        self.run_and_wait("etl-b", 1)
        status, body = self.server.json("GET", "/api/v1/timeline")
        self.assertEqual(status, 200, body)
        self.assertEqual(sorted(r["job"] for r in body["runs"]), ["etl-a", "etl-b"])
        self.assertEqual(body["fires"], [], "the default window ends now")
        self.assertFalse(body["truncated"])
        status, body = self.server.json("GET", "/api/v1/timeline?owner=data&q=etl-b")
        self.assertEqual([r["status"] for r in body["runs"]], ["failed"])
        # a window before the runs holds none of them; one ahead holds the coming fires of the jobs matched,
        # soonest first across the jobs
        past = "/api/v1/timeline?from=%s&to=%s" % (iso_ms(now_ms() - 3 * HOUR), iso_ms(now_ms() - 2 * HOUR))
        self.assertEqual(self.server.json("GET", past)[1]["runs"], [])
        ahead = "/api/v1/timeline?from=2030-01-01T00:30:00Z&to=2030-01-01T03:30:00Z&owner=web"
        status, body = self.server.json("GET", ahead)
        self.assertEqual(status, 200, body)
        self.assertEqual([(f["at"][11:16], f["job"]) for f in body["fires"]], [
            ("00:50", "web-half"), ("01:00", "web"), ("01:10", "web-three"), ("01:20", "web-half"),
            ("01:50", "web-half"), ("02:00", "web"), ("02:10", "web-three"), ("02:20", "web-half"),
            ("02:50", "web-half"), ("03:00", "web"), ("03:10", "web-three"), ("03:20", "web-half")])
        self.assertEqual((body["runs"], body["truncated"]), ([], False))
        # fires: the first in time, in all, said so
        status, body = self.server.json("GET", ahead + "&fires=4")
        self.assertEqual([f["at"][11:16] for f in body["fires"]], ["00:50", "01:00", "01:10", "01:20"])
        self.assertTrue(body["truncated"])
        status, body = self.server.json("GET", ahead.replace("03:30", "03:20") + "&fires=12")
        self.assertEqual((len(body["fires"]), body["truncated"]), (12, False), "12 fires when 12 are asked for")
        status, body = self.server.json("GET", "/api/v1/timeline?from=2028-02-28T12:00:00Z&to=2028-03-01T12:00:00Z")
        self.assertEqual(body["fires"], [{"job": "leap", "at": "2028-02-29T00:00:00.000Z"}])
        # a window from now: the engine's next slots, merged (starts an hour ahead: none fires during the test)
        soon = (now_ms() // HOUR + 1) * HOUR
        self.add_job(sched("soon", "true", schedule="R/%s/PT1H" % iso_ms(soon), owner="soon@example.com"))
        self.add_job(sched("soon-half", "true", schedule="R/%s/PT1H" % iso_ms(soon + HOUR // 2),
                           owner="soon@example.com"))
        status, body = self.server.json("GET", "/api/v1/timeline?owner=soon&to=" + iso_ms(soon + 2 * HOUR))
        self.assertEqual([(f["job"], f["at"]) for f in body["fires"]], [
            ("soon", iso_ms(soon)), ("soon-half", iso_ms(soon + HOUR // 2)), ("soon", iso_ms(soon + HOUR)),
            ("soon-half", iso_ms(soon + 3 * HOUR // 2)), ("soon", iso_ms(soon + 2 * HOUR))])
        # limit: the first runs only, said so
        status, body = self.server.json("GET", "/api/v1/timeline?limit=1")
        self.assertEqual((len(body["runs"]), body["truncated"]), (1, True))
        status, body = self.server.json("GET", "/api/v1/timeline?limit=0&q=web&from=2030-01-01T00:30:00Z&"
                                        "to=2030-01-01T01:30:00Z")
        self.assertEqual((body["runs"], [f["job"] for f in body["fires"]]), ([], ["web-half", "web", "web-three",
                                                                                 "web-half"]))

    def test_timeline_bad_parameters_name_the_parameter(self):
        for query, word in [("from=yesterday", "from"), ("to=2026-13-01", "to"), ("limit=-1", "limit"),
                            ("fires=9999", "fires"), ("limit=20001", "limit"), ("state=asleep", "state"), ("result=maybe", "result"),
                            ("from=2026-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", "to"),
                            ("from=2026-01-01T00:00:00Z&to=2026-03-01T00:00:00Z", "to")]:
            status, body = self.server.json("GET", "/api/v1/timeline?" + query)
            self.assertError(status, body, 400, prefix=word + ":")
        status, body = self.server.json("GET", "/api/v1/jobs?strip=51")
        self.assertError(status, body, 400, prefix="strip:")


if __name__ == "__main__":
    main()
