"""Long backlogs of slots are handled in bounded work: a job whose start is far behind now fires at once, and
the slots it missed while the server was down are counted in one skipped record per reason, however many there
are (issue 10, point 7). Periods shorter than a second are refused at the API; jobs stored with one before that
still run."""

import json
import os
import re
import sqlite3
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, now_ms, sched, wait_until  # noqa: E402
from gnomon_harness import iso_ms as iso, parse_iso_ms as parse_iso  # noqa: E402

DAY_MS = 86400 * 1000
SLOTS_RE = re.compile(r"^(\d+) slots from (\S+) to (\S+) missed: more than epsilon PT60S late")


class Backlog(GnomonTestCase):
    # The sub-second jobs write hundreds of records a second: keep them all, so the first one stays readable.
    server_args = ("--history-max-runs", "0")

    def runs(self, name):
        status, body = self.server.json("GET", "/api/v1/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def store_schedules(self, schedules):
        """Rewrite stored jobs' schedules while the server is stopped, as an older gnomon (or a long downtime)
        would have left them."""
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gnomon.db"))
        with db:
            for name, schedule in schedules.items():
                job = json.loads(db.execute("SELECT json FROM jobs WHERE name = ?", (name,)).fetchone()[0])
                job["schedule"] = schedule
                db.execute("UPDATE jobs SET json = ? WHERE name = ?", (json.dumps(job), name))
        db.close()

    def first_success(self, name, timeout=10):
        """Wait (at most timeout, counted from now) for a successful run of the job among its newest runs."""
        return wait_until(lambda: [r for r in self.runs(name) if r["status"] == "succeeded"], timeout,
                          interval=0.05, what="a successful run of %s" % name)

    def missed_record(self, name, start):
        """The skipped record of the slots missed from start on: its task id is that of the first of them."""
        path = "/api/v1/runs/" + urllib.parse.quote("ct:%d:0:%s:" % (start, name), safe="")
        status, body = wait_until(lambda: (lambda sb: sb if sb[0] == 200 else None)(self.server.json("GET", path)),
                                  10, interval=0.05, what="the missed slots of %s" % name)
        self.assertEqual(body["status"], "skipped", body)
        return body

    def check_backlog(self, record, start, period_ms, restarted):
        """The record counts exactly the slots from start to its last, all more than epsilon before the
        restart."""
        n, first, last = SLOTS_RE.match(record["reason"]).groups()
        first, last = parse_iso(first), parse_iso(last)
        self.assertEqual(first, start, record)
        self.assertEqual(parse_iso(record["due"]), start, record)
        self.assertEqual(int(n), (last - first) // period_ms + 1, record)
        self.assertEqual((last - first) % period_ms, 0, record)
        self.assertLess(last, restarted - 60000 + 5000, record)
        self.assertGreater(last, restarted - 60000 - 30000, record)
        # The same as fields (issue 11): the first and last due time and the number of slots.
        self.assertEqual((parse_iso(record["skippedFrom"]), parse_iso(record["skippedTo"]), record["skippedSlots"]),
                         (first, last, int(n)), record)
        return int(n)

    def test_periods_under_a_second_are_refused(self):
        for schedule in ["R/2026-01-01T00:00:00Z/PT0.001S", "R/%s/PT0.01S" % iso(now_ms() - 700 * DAY_MS),
                         "R5/2030-01-01T00:00:00Z/PT0.999S"]:
            with self.subTest(schedule=schedule):
                status, body = self.post_job(sched("fast", schedule=schedule))
                self.assertBadRequest(status, body, prefix="schedule: ",
                                      contains=("'%s'" % schedule, "shorter than one second", "PT1S"))
        for schedule in ["R/2030-01-01T00:00:00Z/PT1S", "R/2030-01-01T00:00:00Z/PT1.5S",
                         "R5/2030-01-01T00:00:00Z/PT0S"]:
            with self.subTest(schedule=schedule):
                self.add_job(sched("ok", schedule=schedule))
        self.assertEqual(self.job_names(), ["ok"])

    def test_a_new_job_with_a_start_700_days_back_fires_at_once(self):
        """Posted now, its earlier slots were never missed (the job did not exist): it runs its latest slot."""
        posted = now_ms()
        self.add_job(sched("old", schedule="R/%s/PT1S" % iso(posted - 700 * DAY_MS)))
        runs = wait_until(lambda: [r for r in self.runs("old") if r["status"] == "succeeded"], 10,
                          interval=0.05, what="the first run of old")
        self.assertLess(parse_iso(runs[-1]["start"]) - posted, 5000, runs[-1])
        self.assertNotIn("could not record", self.server.log())

    def test_stored_jobs_with_long_backlogs_fire_at_once_and_count_them(self):
        """The issue's two schedules (3e10 and 6e9 overdue slots) and a PT1S job 700 days behind (60 million):
        each fires within seconds of the start-up, with its missed slots counted exactly in one record."""
        for name in ["ms", "cs", "s"]:
            self.add_job(sched(name, "true", schedule="R/2030-01-01T00:00:00Z/PT1S"))
        self.server.stop()
        before = now_ms()
        ms_start = parse_iso("2026-01-01T00:00:00.000Z")
        if ms_start > before - 2 * DAY_MS:  # a clock before 2026: keep the backlog of months
            ms_start = before - 340 * DAY_MS
        cs_start = (before - 700 * DAY_MS) // 1000 * 1000
        s_start = cs_start
        self.store_schedules({"ms": "R/%s/PT0.001S" % iso(ms_start), "cs": "R/%s/PT0.01S" % iso(cs_start),
                              "s": "R/%s/PT1S" % iso(s_start)})
        self.server.start()
        restarted = now_ms()
        for name in ["ms", "cs", "s"]:
            self.first_success(name)
        for name, start, period, at_least in [("ms", ms_start, 1, 10 ** 9), ("cs", cs_start, 10, 6 * 10 ** 9),
                                              ("s", s_start, 1000, 60 * 10 ** 6)]:
            with self.subTest(job=name):
                self.assertGreater(self.check_backlog(self.missed_record(name, start), start, period, restarted),
                                   at_least)
        log = self.server.current_log()
        self.assertNotIn("could not record its due slot", log)
        self.assertIn("job 'ms': its period is shorter than one second", log)
        # The stored schedules moved past now in one step.
        for name in ["ms", "cs", "s"]:
            self.assertGreater(parse_iso(self.get_job(name)["schedule"].split("/")[1]), restarted)


if __name__ == "__main__":
    main()
