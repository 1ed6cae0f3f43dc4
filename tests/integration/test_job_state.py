"""A job's state leaves its definition: the counters (successCount, errorCount, lastSuccess, lastError,
errorsSinceLastSuccess, disabled when the engine disabled it) and an ISO schedule moved on by its firings live in
the job's state; the stored definition is written only when a client changes it. The Chronos JSON still shows
them all, across restarts."""

import json
import os
import sqlite3
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, iso_ms, main, now_ms, sched, wait_until  # noqa: E402

V1 = "/v1/scheduler"


class JobState(GnomonTestCase):
    def stored(self, name):
        """The job's stored definition and its state row (None when it has none), read from the database."""
        db = sqlite3.connect("file:%s?mode=ro" % os.path.join(self.server.data_dir, "gnomon.db"), uri=True)
        try:
            db.execute("PRAGMA busy_timeout = 5000")
            (definition,) = db.execute("SELECT json FROM jobs WHERE name = ?", (name,)).fetchone()
            db.row_factory = sqlite3.Row
            row = db.execute("SELECT * FROM job_state WHERE name = ?", (name,)).fetchone()
            return json.loads(definition), (dict(row) if row else None)
        finally:
            db.close()

    def run_now(self, name):
        status, body = self.server.json("PUT", V1 + "/job/" + name)
        self.assertEqual(status, 204, body)

    def test_counters_live_in_the_state_not_the_definition(self):
        self.add_job(sched("ok", "true"))
        self.add_job(sched("bad", "false", retries=0))
        definition, row = self.stored("ok")
        self.assertNotIn("successCount", definition)
        self.assertIsNone(row and row["success_count"], "a new job posted without counters has no outcome yet")

        for _ in range(2):
            self.run_now("ok")
        self.run_now("bad")
        wait_until(lambda: self.get_job("ok")["successCount"] == 2 and self.get_job("bad")["errorCount"] == 1, 30,
                   what="two successes and a failure")
        ok, bad = self.get_job("ok"), self.get_job("bad")
        self.assertEqual(ok["errorsSinceLastSuccess"], 0)
        self.assertNotEqual(ok["lastSuccess"], "")
        self.assertEqual((bad["errorsSinceLastSuccess"], bad["lastSuccess"]), (1, ""))

        # The runs' ends wrote the state, never the definition.
        self.assertEqual(self.stored("ok")[0], definition)
        _, row = self.stored("ok")
        self.assertEqual((row["success_count"], row["error_count"]), (2, 0))
        _, row = self.stored("bad")
        self.assertEqual((row["success_count"], row["error_count"], row["errors_since_last_success"]), (0, 1, 1))
        self.assertIsNone(row["last_success_ms"])

        # A restart shows the same counters.
        self.server.restart()
        for name, job in (("ok", ok), ("bad", bad)):
            again = self.get_job(name)
            for field in ("successCount", "errorCount", "errorsSinceLastSuccess", "lastSuccess", "lastError"):
                self.assertEqual(again[field], job[field], "%s.%s" % (name, field))

    def test_counters_posted_by_a_client_are_kept(self):
        # Chronos clients post back what they read: the counters they send are the job's.
        self.add_job(sched("posted", successCount=7, errorCount=3, lastError="2024-01-02T03:04:05.000Z"))
        _, row = self.stored("posted")
        self.assertEqual((row["success_count"], row["error_count"]), (7, 3))
        self.server.restart()
        job = self.get_job("posted")
        self.assertEqual((job["successCount"], job["errorCount"], job["lastError"]),
                         (7, 3, "2024-01-02T03:04:05.000Z"))
        # Replacing the job replaces them.
        self.add_job(sched("posted", successCount=0))
        self.server.restart()
        self.assertEqual((self.get_job("posted")["successCount"], self.get_job("posted")["errorCount"]), (0, 0))

    def test_moved_schedule_is_state_and_a_client_write_resets_it(self):
        # Two slots a second apart, the first already due: each firing moves the schedule on.
        start = now_ms() - 500
        posted = "R2/%s/PT1S" % iso_ms(start)
        self.add_job(sched("iso", "true", schedule=posted, epsilon="PT30S"))
        definition, _ = self.stored("iso")
        wait_until(lambda: self.get_job("iso")["successCount"] == 2, 30, what="both slots run")
        shown = self.get_job("iso")
        self.assertTrue(shown["schedule"].startswith("R0/"), shown["schedule"])
        self.assertTrue(shown["disabled"], "a finite schedule that ran out disables its job")

        stored_definition, row = self.stored("iso")
        self.assertEqual(stored_definition, definition, "firings do not rewrite the definition")
        self.assertEqual(stored_definition["schedule"], posted)
        self.assertEqual(row["schedule"], shown["schedule"])
        self.assertEqual(row["disabled"], 1)

        self.server.restart()
        again = self.get_job("iso")
        self.assertEqual((again["schedule"], again["disabled"], again["successCount"]),
                         (shown["schedule"], True, 2))

        # A client's write is the job's schedule again.
        later = "R1/2030-01-01T00:00:00Z/P1D"
        self.add_job(sched("iso", "true", schedule=later))
        _, row = self.stored("iso")
        self.assertIsNone(row["schedule"])
        self.server.restart()
        again = self.get_job("iso")
        self.assertEqual((again["schedule"], again["disabled"]), (later, False))


if __name__ == "__main__":
    main()
