"""Existing data survives the upgrade: a data dir written by release 9f56547 (tests/fixtures/upgrade/release-9f56547,
made by tests/fixtures/upgrade/make_fixture.py, whose docstring lists what it holds) opens with this binary and
keeps its jobs, ISO anchors, cron progress, dependency round, open runs, history and run output; a second stop
and start changes nothing.

What the release answered is in the fixture's expected.json. A field is compared exactly unless a rule below
says why it may change on opening. The fixture is time-independent: its schedules are exhausted, disabled or
have no slot before the year 2200, but for the cron job whose next slot came minutes after the fixture was made
(test_cron_progress says what is asserted about it)."""

import datetime
import json
import os
import pwd
import shutil
import sqlite3
import sys
import urllib.parse
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, iso_ms, main, now_ms, parse_iso_ms, wait_until  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fixtures", "upgrade", "release-9f56547")
with open(os.path.join(FIXTURE, "expected.json"), encoding="utf-8") as _f:
    EXPECTED = json.load(_f)
V1 = "/v1/scheduler"
API = "/api/v1"
OPEN = ("queued", "waiting", "starting", "running")
MADE_AT = parse_iso_ms(EXPECTED["fixture"]["made_at"])
CRON = EXPECTED["cron"]
ROUND = EXPECTED["round"]
RUNNING, QUEUED = EXPECTED["open_runs"]["running"], EXPECTED["open_runs"]["queued"]


def q(task_id):
    return urllib.parse.quote(task_id, safe="")


def may_run_as(user):
    """Can a server run by this test run a job as user? (Only root runs jobs as another account.)"""
    return os.geteuid() == 0 or pwd.getpwuid(os.geteuid()).pw_name == user


class Upgrade(GnomonTestCase):
    server_args = None
    # History retention removes finished runs older than --history-max-age (30 days by default), which the
    # fixture's are soon after it was made: that is retention at work, not the upgrade losing them, so it is off.
    ARGS = ["--history-max-age", "0"]

    # --- helpers --------------------------------------------------------------------------------------------

    def open_fixture(self):
        """A server started on a copy of the fixture's data dir, once the runs it found open have ended."""
        srv = self.new_server(self.ARGS, start=False)
        shutil.copytree(os.path.join(FIXTURE, "data"), srv.data_dir)
        db = sqlite3.connect("file:%s?immutable=1" % os.path.join(srv.data_dir, "gnomon.db"), uri=True)
        schema = db.execute("PRAGMA user_version").fetchone()[0]
        db.close()
        self.assertEqual(schema, EXPECTED["fixture"]["schema_version"],
                         "the fixture's data dir is no longer the one the release wrote: make it again with "
                         "make_fixture.py and the release's binary (see its README.md)")
        srv.start()
        wait_until(lambda: all(r["status"] not in OPEN for r in self.runs(srv, "open-runs")), 30,
                   interval=0.1, what="the open runs of the fixture to end")
        return srv

    def call(self, srv, method, path, expect=200):
        status, body = srv.json(method, path)
        self.assertEqual(status, expect, "%s %s: %r" % (method, path, body))
        return body

    def runs(self, srv, name):
        return self.call(srv, "GET", "%s/jobs/%s/runs?limit=1000" % (API, name))["runs"]

    def log(self, srv, task_id, stream):
        status, _, data = srv.request("GET", "%s/runs/%s/log?stream=%s" % (API, q(task_id), stream))
        self.assertEqual(status, 200, "log of %s: %r" % (task_id, data))
        return data.decode("utf-8")

    def answers(self, srv):
        """Everything a user reads about the jobs: the job list, every job's runs, next fires and run output."""
        jobs = self.call(srv, "GET", V1 + "/jobs")
        out = {"jobs": jobs, "runs": {}, "next": {}, "logs": {}}
        for job in jobs:
            name = job["name"]
            out["runs"][name] = self.runs(srv, name)
            out["next"][name] = self.call(srv, "GET", "%s/jobs/%s/next?count=3" % (API, name))
            for r in out["runs"][name]:
                if r["status"] not in OPEN + ("skipped",):
                    out["logs"][r["taskId"]] = [self.log(srv, r["taskId"], s) for s in ("stdout", "stderr")]
        return out

    def expected_open_outcomes(self):
        """What became of the open runs at opening: the one the release left running has no process any more
        (the release killed it when it stopped) and is recorded lost; the queued one runs, which fails at once
        when this test's account may not run jobs as the fixture's."""
        queued = "succeeded" if may_run_as(EXPECTED["fixture"]["user"]) else "failed"
        return {RUNNING: "lost", QUEUED: queued}

    # --- the tests ----------------------------------------------------------------------------------------

    def test_jobs_survive(self):
        """GET /v1/scheduler/jobs answers what the release answered, in the same order, key for key. One rule:
        `open-runs` gets the counters of its two open runs' ends (a lost run is a failure, as in the release)."""
        srv = self.open_fixture()
        jobs = self.call(srv, "GET", V1 + "/jobs")
        self.assertEqual([j["name"] for j in jobs], [j["name"] for j in EXPECTED["jobs"]])
        outcomes = self.expected_open_outcomes()
        for got, want in zip(jobs, EXPECTED["jobs"]):
            want = dict(want)
            if want["name"] == "open-runs":
                ok = sum(1 for s in outcomes.values() if s == "succeeded")
                bad = len(outcomes) - ok
                want["successCount"] += ok
                want["errorCount"] += bad
                want["errorsSinceLastSuccess"] = 0 if outcomes[QUEUED] == "succeeded" else bad
                for key, n in (("lastSuccess", ok), ("lastError", bad)):
                    if n:  # set at the opening, so after the fixture was made
                        self.assertGreater(parse_iso_ms(got[key]), MADE_AT, key)
                        want[key] = got[key]
            self.assertSameJson(got, want, "$[%s]" % want["name"])

    def test_history_and_output_survive(self):
        """Every run the release recorded is listed with the same fields and values, in the same order (the
        listing may add fields), and its output reads the same. Rules: the two open runs end (lost, and run);
        `cron-progress` gets the record of its missed slot (test_cron_progress); no other job gets a run."""
        srv = self.open_fixture()
        outcomes = self.expected_open_outcomes()
        for name, want_runs in EXPECTED["runs"].items():
            got_runs = self.runs(srv, name)
            by_id = {r["taskId"]: r for r in got_runs}
            old_ids = [r["taskId"] for r in want_runs]
            self.assertEqual([t for t in by_id if t in set(old_ids)], old_ids, "%s: the runs' order" % name)
            if name != "cron-progress":
                self.assertEqual(sorted(set(by_id) - set(old_ids)), [], "%s: runs the release did not have" % name)
            for want in want_runs:
                got = by_id[want["taskId"]]
                if want["taskId"] in outcomes:
                    self.assertEqual(got["status"], outcomes[want["taskId"]], got)
                    self.assertTrue(got["reason"] or got["status"] == "succeeded", got)
                    changed = ("status", "start", "end", "durationMs", "exitCode", "signal", "signalName", "reason",
                               "stdoutBytes", "stderrBytes")
                    if got["status"] == "lost":
                        self.assertEqual(got["start"], want["start"], "the lost run's start")
                    want = {k: v for k, v in want.items() if k not in changed}
                for key, value in want.items():
                    self.assertIn(key, got, "%s: %s" % (want["taskId"], key))
                    self.assertSameJson(got[key], value, "%s.%s" % (want["taskId"], key))
        for task_id, want in EXPECTED["logs"].items():
            for stream in ("stdout", "stderr"):
                self.assertEqual(self.log(srv, task_id, stream), want[stream], "%s %s" % (task_id, stream))
        # What the run left running wrote under the release stays readable once it is recorded lost.
        self.assertEqual(self.log(srv, RUNNING, "stdout"), "run %s\n" % RUNNING)
        if outcomes[QUEUED] == "succeeded":
            self.assertEqual(self.log(srv, QUEUED, "stdout"), "run %s\n" % QUEUED)

    def test_next_fires_survive(self):
        """The next fire times are the release's, computed from the stored anchors: `iso-new-york`'s P2113M from
        2024-10-31 (a month's end clamps to 2200-11-30, and the slot after is 2376-12-31 only from the anchor),
        `iso-london-elapsed`'s PT1600000H, `described`'s weekly one in Europe/London. They depend on the tz
        database's rules for those years, which the server reads from this machine: if the database no longer
        gives the offsets it gave when the fixture was made, the comparison is skipped, saying so."""
        srv = self.open_fixture()
        changed = []
        for name, want in EXPECTED["next"].items():
            if name == "cron-progress":
                continue
            for fire in want["next"]:
                local = datetime.datetime.fromisoformat(fire["local"])
                utc = datetime.datetime.fromisoformat(fire["utc"])
                offset = utc.astimezone(zoneinfo.ZoneInfo(want["zone"])).utcoffset()
                if offset != local.utcoffset():
                    changed.append("%s at %s: %s, was %s" % (want["zone"], fire["utc"], offset, local.utcoffset()))
        if changed:
            self.skipTest("the tz database changed since the fixture was made: " + "; ".join(changed))
        for name, want in EXPECTED["next"].items():
            if name != "cron-progress":
                self.assertSameJson(self.call(srv, "GET", "%s/jobs/%s/next?count=3" % (API, name)), want, name)

    def test_cron_progress(self):
        """The cron slot the release ran (CRON["handled_due_ms"]) is not run again, and the next one, which came
        due after the release stopped, is recorded missed: the first record after opening is a skipped one whose
        task id names that slot (however many yearly slots followed it by the time this runs: the count in its
        reason is not asserted). Had the progress been lost, the job would count its slots from the opening and
        record none. Its next fire times are the expression's slots after now, computed here."""
        srv = self.open_fixture()
        runs = self.runs(srv, "cron-progress")
        old = {r["taskId"] for r in EXPECTED["runs"]["cron-progress"]}
        new = sorted((r for r in runs if r["taskId"] not in old), key=lambda r: r["id"])
        self.assertTrue(new, "no record of the slot after the release's: its cron progress was lost")
        first = new[0]
        self.assertEqual(first["taskId"], "ct:%d:0:cron-progress:" % CRON["next_due_ms"], first)
        self.assertEqual((first["status"], first["trigger"]), ("skipped", "schedule"), first)
        self.assertIn(iso_ms(CRON["next_due_ms"]), first["reason"])
        self.assertIn("missed", first["reason"])
        for r in new[1:]:  # a yearly slot that happened to be due within epsilon of the opening
            self.assertGreater(parse_iso_ms(r["due"]), CRON["next_due_ms"], r)
        self.assertEqual(CRON["schedule"], "%d,%d %d %d %d *" % (CRON["minutes"][0], CRON["minutes"][1],
                                                             CRON["hour"], CRON["day"], CRON["month"]))
        now = datetime.datetime.fromtimestamp(now_ms() / 1000, datetime.timezone.utc)
        slots = [datetime.datetime(y, CRON["month"], CRON["day"], CRON["hour"], m, tzinfo=datetime.timezone.utc)
                 for y in range(now.year, now.year + 3) for m in CRON["minutes"]]
        want = [iso_ms(int(s.timestamp() * 1000)) for s in slots if s > now][:3]
        got = self.call(srv, "GET", "%s/jobs/cron-progress/next?count=3" % API)
        self.assertEqual([f["utc"] for f in got["next"]], want)

    def complete_round(self, srv):
        """Run the parent the fixture's round waits for; the child runs once, with both parents' task ids. When
        this test's account may not run jobs as the fixture's, the two jobs are posted back as they read with
        runAsUser set to it first (posting a job back keeps its round)."""
        for name, kind in (("parent-b", "iso8601"), ("fan-in", "dependency")):
            job = self.call(srv, "GET", "%s/job/%s" % (V1, name))
            if not may_run_as(job["runAsUser"]):
                job["runAsUser"] = pwd.getpwuid(os.geteuid()).pw_name
                status, body = srv.json("POST", "%s/%s" % (V1, kind), job)
                self.assertEqual(status, 204, body)
        before = self.runs(srv, "fan-in")
        self.call(srv, "PUT", "%s/job/parent-b" % V1, expect=204)
        runs = wait_until(lambda: (lambda rs: rs if len(rs) > len(before) and rs[0]["status"] not in OPEN else None)(
            self.runs(srv, "fan-in")), 30, interval=0.1, what="fan-in to run")
        b = self.runs(srv, "parent-b")[0]
        self.assertEqual((b["trigger"], b["status"]), ("manual", "succeeded"), b)
        child = runs[0]
        self.assertEqual((child["trigger"], child["status"]), ("dependency", "succeeded"), child)
        self.assertEqual(child["parentTaskIds"], [ROUND["done"]["parent-a"], b["taskId"]])
        self.assertEqual(self.log(srv, child["taskId"], "stdout"),
                         "parents=%s,%s\n" % (ROUND["done"]["parent-a"], b["taskId"]))
        return child

    def test_half_round_completes(self):
        """The round the release left half complete (parent-a succeeded, parent-b not yet) completes when
        parent-b succeeds: the child runs once, with parent-a's task id from the fixture."""
        srv = self.open_fixture()
        self.assertEqual(ROUND["pending"], ["parent-b"])
        self.assertEqual(len(self.runs(srv, "fan-in")), len(EXPECTED["runs"]["fan-in"]), "fan-in ran at opening")
        child = self.complete_round(srv)
        self.assertEqual([r["taskId"] for r in self.runs(srv, "fan-in")],
                         [child["taskId"]] + [r["taskId"] for r in EXPECTED["runs"]["fan-in"]])

    def test_reopen_same_answers(self):
        """Stopped and opened again, the upgraded data dir answers as it did before the stop (after its round
        completed, so that what the new server wrote is read back too)."""
        srv = self.open_fixture()
        self.complete_round(srv)
        before = self.answers(srv)
        srv.restart()
        after = self.answers(srv)
        self.assertSameJson(after, before)


if __name__ == "__main__":
    main()
