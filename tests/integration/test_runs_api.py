"""gnomon's run API and its CLI, for what needs no job to run: GET /api/v1/schedule/preview, the runs of a new
job, 404s for unknown jobs and runs, 400s for bad parameters; and, over a history written into the store while
the server is down (only ended runs, which the engine leaves alone), the run JSON, paging, and captured output
streamed byte for byte. CLI: `gnomon schedule preview`, `gnomon runs`, `gnomon logs`, `gnomon job run|kill`
errors, each failing with one `gnomon: ...` line."""

import datetime
import json
import os
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import BIN, REQUEST_TIMEOUT, GnomonTestCase, main, sanitizer_lines, sched, wait_until  # noqa

API = "/api/v1"
RUN_KEYS = ["id", "taskId", "job", "due", "attempt", "trigger", "status", "start", "end", "durationMs", "exitCode",
            "signal", "signalName", "host", "agent", "arguments", "parentTaskIds", "reason", "stdoutBytes", "stderrBytes",
            "cpuUserSeconds", "cpuSystemSeconds", "peakMemoryBytes"]
RUN_COLUMNS = ("task_id", "job", "due_ms", "attempt", "trigger", "status", "not_before_ms", "start_ms", "end_ms",
               "exit_code", "signal", "pid", "stdout_bytes", "stderr_bytes", "host", "arguments", "parents",
               "reason", "cpu_user_us", "cpu_system_us", "peak_memory_bytes")


def q(value):
    return urllib.parse.quote(value, safe="")


def iso(ms):
    """Milliseconds since the epoch as the API writes them: 2026-01-01T00:00:00.000Z."""
    t = datetime.datetime.fromtimestamp(ms / 1000, datetime.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (ms % 1000)


def parse_instant(text):
    """An ISO 8601 instant with millis and Z or an offset, as a timezone-aware datetime."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


class RunsTestCase(GnomonTestCase):

    def gnomon(self, *args, env=None):
        """Run `gnomon FAMILY --server URL ARGS...`; returns (rc, stdout bytes, stderr text)."""
        argv = [BIN, args[0], "--server", self.server.url] + list(args[1:])
        full_env = {k: v for k, v in os.environ.items() if k != "GNOMON_SERVER"}
        full_env.update(env or {})
        try:
            r = subprocess.run(argv, input=b"", capture_output=True, env=full_env, timeout=REQUEST_TIMEOUT + 10)
        except subprocess.TimeoutExpired:
            self.fail("%s did not exit" % " ".join(argv))
        err = r.stderr.decode("utf-8", "replace")
        self.assertEqual(sanitizer_lines(err), [], err)
        return r.returncode, r.stdout, err

    def assertCliError(self, rc, err, code=1, contains=()):
        self.assertEqual(rc, code, err)
        lines = err.splitlines()
        self.assertTrue(lines and lines[0].startswith("gnomon: "), err)
        self.assertEqual(len(lines), 1, "expected one line on stderr, got %r" % err)
        for part in ([contains] if isinstance(contains, str) else contains):
            self.assertIn(part, lines[0])


class SchedulePreview(RunsTestCase):

    def preview(self, **params):
        return self.server.json("GET", API + "/schedule/preview?" + urllib.parse.urlencode(params))

    def test_iso_in_a_zone(self):
        status, body = self.preview(schedule="R5/2030-01-01T09:00:00Z/P1D", tz="Europe/Paris", count=3)
        self.assertEqual(status, 200, body)
        self.assertSameJson(body, {
            "schedule": "R5/2030-01-01T09:00:00Z/P1D", "timeZone": "Europe/Paris",
            "times": ["2030-01-01T09:00:00.000+01:00", "2030-01-02T09:00:00.000+01:00",
                      "2030-01-03T09:00:00.000+01:00"],
            "utc": ["2030-01-01T08:00:00.000Z", "2030-01-02T08:00:00.000Z", "2030-01-03T08:00:00.000Z"]})

    def test_iso_count_limits_and_default(self):
        status, body = self.preview(schedule="R3/2030-01-01T00:00:00Z/PT1H")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["timeZone"], "UTC")
        self.assertEqual(body["utc"], ["2030-01-01T00:00:00.000Z", "2030-01-01T01:00:00.000Z",
                                       "2030-01-01T02:00:00.000Z"])
        self.assertEqual(body["times"], body["utc"])
        status, body = self.preview(schedule="R/2030-01-01T00:00:00Z/PT1M")
        self.assertEqual(len(body["times"]), 10)
        status, body = self.preview(schedule="R/2030-01-01T00:00:00Z/PT1M", count=1000)
        self.assertEqual(len(body["utc"]), 1000)
        self.assertEqual(body["utc"][-1], "2030-01-01T16:39:00.000Z")
        status, body = self.preview(schedule="R0/2030-01-01T00:00:00Z/PT1H")
        self.assertEqual((status, body["times"], body["utc"]), (200, [], []))

    def test_p1d_keeps_wall_clock_across_dst(self):
        status, body = self.preview(schedule="R/2030-03-30T09:00:00Z/P1D", tz="Europe/Paris", count=2)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["times"], ["2030-03-30T09:00:00.000+01:00", "2030-03-31T09:00:00.000+02:00"])
        self.assertEqual(body["utc"], ["2030-03-30T08:00:00.000Z", "2030-03-31T07:00:00.000Z"])

    def test_legacy_zone_is_canonical(self):
        status, body = self.preview(schedule="R1/2030-06-01T12:00:00Z/P1D", tz="PST")
        self.assertEqual(status, 200, body)
        self.assertEqual(body["timeZone"], "America/Los_Angeles")
        self.assertEqual(body["times"], ["2030-06-01T12:00:00.000-07:00"])

    def test_cron_from_now(self):
        before = datetime.datetime.now(datetime.timezone.utc)
        status, body = self.preview(schedule="0 9 * * MON-FRI", tz="America/New_York", count=5)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["timeZone"], "America/New_York")
        self.assertEqual(len(body["times"]), 5)
        last = before
        for local, utc in zip(body["times"], body["utc"]):
            t, u = parse_instant(local), parse_instant(utc)
            self.assertEqual(t, u)
            self.assertTrue(utc.endswith("Z"), utc)
            self.assertEqual((t.hour, t.minute, t.second), (9, 0, 0), local)
            self.assertLess(t.weekday(), 5, local)
            self.assertGreater(t, last)
            last = t

    def test_past_start_lists_what_a_new_job_runs(self):
        """An old start is not a slot the engine runs: a job created now runs only the latest past occurrence,
        and only when it is within epsilon (default --task-epsilon, 60 s; or the epsilon= parameter)."""
        before = datetime.datetime.now(datetime.timezone.utc)
        status, body = self.preview(schedule="R/2008-03-01T13:00:00Z/PT1H", count=3)
        self.assertEqual(status, 200, body)
        nxt = [parse_instant(u) for u in body["utc"]]
        self.assertEqual(len(nxt), 3)
        hour = before.replace(minute=0, second=0, microsecond=0)
        if nxt[0] == hour:  # only in the first minute of the hour: the latest slot is within epsilon
            self.assertLessEqual(before - hour, datetime.timedelta(seconds=60))
        else:
            self.assertEqual(nxt[0], hour + datetime.timedelta(hours=1))
        self.assertEqual([b - a for a, b in zip(nxt, nxt[1:])], [datetime.timedelta(hours=1)] * 2)

        status, body = self.preview(schedule="R/2008-03-01T13:00:00Z/PT1H", count=3, epsilon="PT2H")
        self.assertEqual(status, 200, body)
        now = datetime.datetime.now(datetime.timezone.utc)
        due = parse_instant(body["utc"][0])
        self.assertLessEqual(due, now)
        self.assertGreater(due, now - datetime.timedelta(hours=1, seconds=5))
        self.assertEqual((due.minute, due.second), (0, 0))
        self.assertEqual(parse_instant(body["utc"][1]) - due, datetime.timedelta(hours=1))

    def test_past_month_end_start_comes_back_to_the_31st(self):
        """Occurrences count from the start: P1M from January 31 gives each month's last day."""
        year = datetime.datetime.now(datetime.timezone.utc).year - 1
        status, body = self.preview(schedule="R/%d-01-31T10:00:00Z/P1M" % year, count=24)
        self.assertEqual(status, 200, body)
        days = {(t.year, t.month): t.day for t in map(parse_instant, body["utc"])}
        self.assertEqual(len(days), 24, body)
        for (y, m), d in days.items():
            last = (datetime.date(y + m // 12, m % 12 + 1, 1) - datetime.timedelta(days=1)).day
            self.assertEqual(d, last, body["utc"])

    def test_epsilon_errors(self):
        for eps in ("P", "1S", "PT-1S", "x" * 100):
            status, body = self.preview(schedule="@hourly", epsilon=eps)
            self.assertBadRequest(status, body, "epsilon: ")
        status, body = self.preview(schedule="@hourly", epsilon="PT0S", count=1)
        self.assertEqual(status, 200, body)

    def test_errors(self):
        status, body = self.preview()
        self.assertBadRequest(status, body, "schedule: required")
        status, body = self.preview(schedule="")
        self.assertBadRequest(status, body, "schedule: required")
        status, body = self.preview(schedule="FOO")
        self.assertBadRequest(status, body, "schedule: ", "FOO")
        status, body = self.preview(schedule="@hourly", tz="Mars/Olympus")
        self.assertBadRequest(status, body, "scheduleTimeZone: ", "Mars/Olympus")
        for count in ("0", "1001", "-1", "abc", "1.5", "10x"):
            status, body = self.preview(schedule="@hourly", count=count)
            self.assertBadRequest(status, body, "count: ")
        status, body = self.server.json("GET", API + "/schedule/preview?schedule=%FF%FE")
        self.assertBadRequest(status, body, "schedule: ")
        status, body = self.server.json("GET", API + "/schedule/preview?schedule=@hourly&count=%FF")
        self.assertBadRequest(status, body, "count: ")

    def test_cli(self):
        rc, out, err = self.gnomon("schedule", "preview", "R5/2030-01-01T09:00:00Z/P1D", "--tz", "Europe/Paris",
                                   "-n", "2")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.decode(), "2030-01-01 09:00:00 +01:00 (2030-01-01 08:00:00 UTC)\n"
                                      "2030-01-02 09:00:00 +01:00 (2030-01-02 08:00:00 UTC)\n")
        rc, out, err = self.gnomon("schedule", "preview", "R5/2030-01-01T09:00:00Z/P1D", "-n", "1")
        self.assertEqual((rc, out.decode()), (0, "2030-01-01 09:00:00 UTC\n"), err)
        rc, out, err = self.gnomon("schedule", "preview", "0 9 * * MON-FRI", "--tz=America/New_York", "--json")
        self.assertEqual(rc, 0, err)
        got = json.loads(out)
        self.assertEqual(got["timeZone"], "America/New_York")
        self.assertEqual(len(got["times"]), 10)
        rc, out, err = self.gnomon("schedule", "preview", "R0/2030-01-01T00:00:00Z/P1D")
        self.assertEqual((rc, out), (0, b""), err)

    def test_cli_errors(self):
        rc, out, err = self.gnomon("schedule", "preview", "FOO")
        self.assertCliError(rc, err, 1, "schedule: cannot parse 'FOO'")
        rc, out, err = self.gnomon("schedule", "preview", "@daily", "--tz", "Nowhere/Land")
        self.assertCliError(rc, err, 1, "scheduleTimeZone: ")
        rc, out, err = self.gnomon("schedule", "preview", "@daily", "-n", "0")
        self.assertCliError(rc, err, 2, "-n")
        rc, out, err = self.gnomon("schedule", "preview", "@daily", "-n")
        self.assertCliError(rc, err, 2, "needs a value")
        rc, out, err = self.gnomon("schedule", "preview")
        self.assertCliError(rc, err, 2, "missing argument SCHEDULE")


class RunsWithoutHistory(RunsTestCase):

    def test_new_job_has_no_runs(self):
        self.add_job(sched("fresh"))
        status, body = self.server.json("GET", API + "/jobs/fresh/runs")
        self.assertEqual(status, 200, body)
        self.assertSameJson(body, {"runs": [], "next": None})
        rc, out, err = self.gnomon("runs", "fresh")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.decode().splitlines()[0].split(), ["TASK", "ID", "TRIGGER", "ATTEMPT", "STATUS",
                                                                "START", "DURATION", "EXIT", "CPU", "MEM",
                                                                "AGENT"])
        self.assertEqual(len(out.decode().splitlines()), 1)
        rc, out, err = self.gnomon("runs", "fresh", "--json")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), {"runs": [], "next": None})

    def test_unknown_job(self):
        status, body = self.server.json("GET", API + "/jobs/nope/runs")
        self.assertError(status, body, 404, contains="nope")
        rc, out, err = self.gnomon("runs", "nope")
        self.assertCliError(rc, err, 1, "nope")

    def test_unknown_run(self):
        for task_id in ("ct:1:0:nope:", "ct:1:0:nope:a/b c", "ct:1:0:nope:%"):
            for suffix in ("", "/log", "/log?stream=stderr&follow=1"):
                status, body = self.server.json("GET", API + "/runs/" + q(task_id) + suffix)
                self.assertError(status, body, 404, contains=task_id)
        status, body = self.server.json("GET", API + "/runs/%FF%FE/log")
        self.assertError(status, body, 404)
        rc, out, err = self.gnomon("logs", "ct:1:0:nope:")
        self.assertCliError(rc, err, 1, "ct:1:0:nope:")

    def test_bad_paging_parameters(self):
        self.add_job(sched("paged"))
        for key, values in (("limit", ("0", "1001", "-1", "abc", "1.5", "%205", "%FF")),
                            ("before", ("0", "-3", "x", "9" * 30))):
            for value in values:
                status, body = self.server.json("GET", "%s/jobs/paged/runs?%s=%s" % (API, key, value))
                self.assertBadRequest(status, body, key + ": ")
        status, body = self.server.json("GET", API + "/jobs/paged/runs?limit=1000&before=5")
        self.assertEqual((status, body), (200, {"runs": [], "next": None}))

    def test_cli_usage_errors(self):
        rc, out, err = self.gnomon("runs")
        self.assertCliError(rc, err, 2, "missing argument NAME")
        rc, out, err = self.gnomon("runs", "x", "--limit", "ten")
        self.assertCliError(rc, err, 2, "--limit")
        rc, out, err = self.gnomon("runs", "x", "--bogus")
        self.assertCliError(rc, err, 2, "--bogus")
        rc, out, err = self.gnomon("logs")
        self.assertCliError(rc, err, 2, "missing argument TASKID")
        rc, out, err = self.gnomon("logs", "x", "--stream", "stdin")
        self.assertCliError(rc, err, 2, "--stream")

    def test_job_run_and_kill_unknown_job(self):
        rc, out, err = self.gnomon("job", "run", "ghost", "--", "a")
        self.assertCliError(rc, err, 1, "ghost")
        rc, out, err = self.gnomon("job", "kill", "ghost")
        self.assertCliError(rc, err, 1, "ghost")
        rc, out, err = self.gnomon("job", "run")
        self.assertCliError(rc, err, 2)

    def test_job_run_passes_arguments(self):
        self.add_job(sched("manual", "true"))
        rc, out, err = self.gnomon("job", "run", "manual", "--", "a", "b c", "--json", "50%")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.decode(), "job 'manual' started\n")

        def manual_run():
            _, body = self.server.json("GET", API + "/jobs/manual/runs")
            runs = [r for r in (body or {}).get("runs", []) if r["trigger"] == "manual"]
            return runs[0] if runs else None
        run = wait_until(manual_run, 20, what="the manual run in the history")
        self.assertEqual(run["arguments"], "a 'b c' --json 50%")
        rc, out, err = self.gnomon("job", "kill", "manual")
        self.assertEqual(rc, 0, err)
        self.assertEqual(out.decode(), "job 'manual' killed\n")


class RunsWithHistory(RunsTestCase):
    """A history written into the store while the server is stopped: ended runs only."""

    JOB = "hist"

    def setUp(self):
        super().setUp()
        self.add_job(sched(self.JOB))
        self.add_job(sched("skippy"))
        self.now = int(time.time() * 1000)
        self.server.stop()
        self.rows = self.seed()
        self.server.start()

    def seed(self):
        """25 scheduled runs (one failed), a killed retry with odd arguments and parents, a skipped slot; log files
        for two of them. Returns {task id: row id}. And for the job skippy, one run with a log, then 150 skipped
        slots (more than one page of `gnomon logs JOB`'s search)."""
        now, runs = self.now, []
        for i in range(25):
            due = now - (30 - i) * 60000
            runs.append(dict(task_id="ct:%d:0:%s:" % (due, self.JOB), due_ms=due, trigger="schedule",
                             status="failed" if i == 3 else "succeeded", start_ms=due + 5, end_ms=due + 65005,
                             exit_code=2 if i == 3 else 0, stdout_bytes=11))
        runs.append(dict(task_id="ct:%d:1:%s:a/b, c" % (now - 1000, self.JOB), due_ms=now - 1000, attempt=1,
                         trigger="retry", status="killed", start_ms=now - 900, end_ms=now - 400, signal=9,
                         arguments="a/b, c", parents="ct:1:0:p:x,y,ct:2:0:q:", reason="killed on request",
                         cpu_user_us=1500000, cpu_system_us=250000, peak_memory_bytes=52428800))
        runs.append(dict(task_id="ct:%d:0:%s:" % (now, self.JOB), due_ms=now, status="skipped",
                         reason="missed by 2 h (epsilon 60 s)"))
        runs.append(dict(job="skippy", task_id="ct:%d:0:skippy:" % (now - 10**6), due_ms=now - 10**6,
                         status="succeeded", start_ms=now - 10**6, end_ms=now - 10**6 + 5, exit_code=0,
                         stdout_bytes=9))
        for i in range(150):
            due = now - 10**6 + (i + 1) * 1000
            runs.append(dict(job="skippy", task_id="ct:%d:0:skippy:" % due, due_ms=due, status="skipped",
                             reason="missed"))
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gnomon.db"))
        try:
            ids, self.skippy_ids = {}, {}
            for r in runs:
                row = dict(job=self.JOB, attempt=0, trigger="schedule", not_before_ms=None, start_ms=None,
                           end_ms=None, exit_code=-1, signal=0, pid=0, stdout_bytes=0, stderr_bytes=0, host="h1",
                           arguments="", parents="", reason="", cpu_user_us=None, cpu_system_us=None,
                           peak_memory_bytes=None)
                row.update(r)
                cur = db.execute("INSERT INTO runs(%s) VALUES(%s)" % (", ".join(RUN_COLUMNS),
                                                                     ", ".join("?" * len(RUN_COLUMNS))),
                                 [row[c] for c in RUN_COLUMNS])
                (ids if row["job"] == self.JOB else self.skippy_ids)[row["task_id"]] = cur.lastrowid
            db.commit()
        finally:
            db.close()
        os.makedirs(os.path.join(self.server.data_dir, "logs"), exist_ok=True)
        self.big = os.urandom(300 * 1024) + b"\0\r\n\xff tail"
        self.killed_id = runs[25]["task_id"]
        self.write_log(ids[self.killed_id], "stdout", self.big)
        self.write_log(ids[self.killed_id], "stderr", b"oops\n")
        self.write_log(self.skippy_ids["ct:%d:0:skippy:" % (now - 10**6)], "stdout", b"skippy 1\n")
        return ids

    def write_log(self, row_id, stream, data):
        """As earlier releases named the files (by row id): the server renames them at start-up."""
        with open(os.path.join(self.server.data_dir, "logs", "%d.%s" % (row_id, stream)), "wb") as f:
            f.write(data)

    def runs(self, query=""):
        status, body = self.server.json("GET", "%s/jobs/%s/runs%s" % (API, self.JOB, query))
        self.assertEqual(status, 200, body)
        return body

    def test_run_json(self):
        killed = self.runs("?limit=2")["runs"][1]
        self.assertSameJson(killed, {
            "id": self.rows[self.killed_id], "taskId": self.killed_id, "job": self.JOB, "due": iso(self.now - 1000),
            "attempt": 1, "trigger": "retry", "status": "killed", "start": iso(self.now - 900),
            "end": iso(self.now - 400), "durationMs": 500, "exitCode": None, "signal": 9, "signalName": "SIGKILL",
            "host": "h1", "agent": "", "arguments": "a/b, c", "parentTaskIds": ["ct:1:0:p:x,y", "ct:2:0:q:"],
            "reason": "killed on request", "stdoutBytes": 0, "stderrBytes": 0, "cpuUserSeconds": 1.5,
            "cpuSystemSeconds": 0.25, "peakMemoryBytes": 52428800})
        status, one = self.server.json("GET", API + "/runs/" + q(self.killed_id))
        self.assertEqual(status, 200, one)
        self.assertSameJson(one, killed)
        status, raw = self.server.json("GET", API + "/runs/" + self.killed_id.replace(" ", "%20"))
        self.assertEqual((status, raw), (200, killed))

    def test_ended_and_skipped_runs(self):
        runs = self.runs("?limit=30")["runs"]
        skipped = runs[0]
        self.assertEqual(list(skipped.keys()), RUN_KEYS)
        self.assertEqual((skipped["status"], skipped["start"], skipped["end"], skipped["durationMs"],
                          skipped["exitCode"], skipped["signal"], skipped["signalName"]),
                         ("skipped", None, None, None, None, None, None))
        self.assertEqual((skipped["cpuUserSeconds"], skipped["cpuSystemSeconds"], skipped["peakMemoryBytes"]),
                         (None, None, None))  # not known
        self.assertEqual(skipped["reason"], "missed by 2 h (epsilon 60 s)")
        failed = [r for r in runs if r["status"] == "failed"]
        self.assertEqual(len(failed), 1)
        self.assertEqual((failed[0]["exitCode"], failed[0]["durationMs"], failed[0]["stdoutBytes"]), (2, 65000, 11))

    def test_paging(self):
        """Pages are asked for with the opaque cursor `next` of the page before; the numeric `before=` of earlier releases (a run's
        id) is still taken; a cursor stays good when the run it came after is pruned."""
        ids = [t for t, _ in sorted(self.rows.items(), key=lambda kv: kv[1], reverse=True)]  # task ids, newest first
        self.assertEqual(len(ids), 27)
        first = self.runs()
        self.assertEqual([r["taskId"] for r in first["runs"]], ids[:20])
        self.assertIsInstance(first["next"], str)
        rest = self.runs("?before=" + q(first["next"]))
        self.assertEqual([r["taskId"] for r in rest["runs"]], ids[20:])
        self.assertIsNone(rest["next"])
        seen, before = [], None
        while True:
            page = self.runs("?limit=9" + ("&before=" + q(before) if before else ""))
            seen += [r["taskId"] for r in page["runs"]]
            if page["next"] is None:
                break
            before = page["next"]
        self.assertEqual(seen, ids)
        self.assertEqual(self.runs("?limit=27")["next"], None)
        self.assertIsInstance(self.runs("?limit=26")["next"], str)
        legacy = self.runs("?before=%d" % self.rows[ids[19]])
        self.assertEqual([r["taskId"] for r in legacy["runs"]], ids[20:])
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gnomon.db"), timeout=10)
        try:
            db.execute("DELETE FROM runs WHERE task_id = ?", (ids[19],))
            db.commit()
        finally:
            db.close()
        self.assertEqual([r["taskId"] for r in self.runs("?before=" + q(first["next"]))["runs"]], ids[20:])

    def test_log(self):
        path = "%s/runs/%s/log" % (API, q(self.killed_id))
        status, headers, data = self.server.request("GET", path)
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")
        self.assertEqual(data, self.big)
        for query in ("?stream=stdout", "?follow=1", "?stream=stdout&follow=true"):
            status, _, data = self.server.request("GET", path + query)
            self.assertEqual((status, data == self.big), (200, True), query)
        status, _, data = self.server.request("GET", path + "?stream=stderr")
        self.assertEqual((status, data), (200, b"oops\n"))

    def test_log_not_captured(self):
        task_id = "ct:%d:0:%s:" % (self.now, self.JOB)
        status, headers, data = self.server.request("GET", "%s/runs/%s/log?stream=stderr" % (API, q(task_id)))
        self.assertEqual((status, data), (200, b""))
        self.assertEqual(headers["content-type"], "text/plain; charset=utf-8")

    def test_log_bad_parameters(self):
        path = "%s/runs/%s/log" % (API, q(self.killed_id))
        for query, key in (("?stream=stdin", "stream: "), ("?stream=%FF", "stream: "), ("?follow=2", "follow: "),
                           ("?follow=yes", "follow: ")):
            status, body = self.server.json("GET", path + query)
            self.assertBadRequest(status, body, key)

    def test_cli_runs(self):
        """Start times are in the user's zone (TZ) with the zone's abbreviation, checked against Python's
        zoneinfo."""
        for tz in ("UTC", "America/New_York", "Asia/Kolkata", "America/Sao_Paulo"):
            with self.subTest(tz=tz):
                rc, out, err = self.gnomon("runs", self.JOB, "--limit", "2", env={"TZ": tz})
                self.assertEqual(rc, 0, err)
                lines = out.decode().splitlines()
                self.assertEqual(len(lines), 4, lines)
                self.assertTrue(lines[0].startswith("TASK ID"), lines)
                self.assertEqual(lines[1].split()[1:4], ["schedule", "0", "skipped"])
                # start, duration, exit, CPU, memory, agent
                self.assertEqual(lines[1].split()[4:], ["-", "-", "-", "-", "-", "-"])
                start = datetime.datetime.fromtimestamp((self.now - 900) // 1000, zoneinfo.ZoneInfo(tz))
                self.assertEqual(lines[2].split()[-11:], ["retry", "1", "killed"] +
                                 start.strftime("%Y-%m-%d %H:%M:%S %Z").split() +
                                 ["500ms", "SIGKILL", "1.7s", "50.0MiB", "-"])
        self.assertTrue(lines[2].startswith(self.killed_id + " "), lines[2])
        cursor = self.runs("?limit=2")["next"]
        self.assertEqual(lines[3], "(more: gnomon runs %s --before %s)" % (self.JOB, cursor))
        rc, out, err = self.gnomon("runs", self.JOB, "--before", cursor, "--limit=1")
        self.assertEqual(rc, 0, err)
        self.assertIn("1m05s", out.decode())
        rc, out, err = self.gnomon("runs", self.JOB, "--json", "--limit", "5")
        self.assertEqual(rc, 0, err)
        self.assertEqual(json.loads(out), self.runs("?limit=5"))

    def test_cli_logs(self):
        rc, out, err = self.gnomon("logs", self.killed_id)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, self.big)
        rc, out, err = self.gnomon("logs", "--stream", "stderr", self.killed_id, "-f")
        self.assertEqual((rc, out), (0, b"oops\n"), err)
        rc, out, err = self.gnomon("logs", "ct:%d:0:%s:" % (self.now, self.JOB), "--stream=stderr")
        self.assertEqual((rc, out), (0, b""), err)

    def test_cli_logs_of_a_job(self):
        """`gnomon logs JOB` prints the job's latest run that is not skipped (the newest record here is a skipped
        slot; the run before it is the killed retry with a log)."""
        rc, out, err = self.gnomon("logs", self.JOB)
        self.assertEqual((rc, out == self.big), (0, True), err)
        rc, out, err = self.gnomon("logs", "-f", self.JOB, "--stream", "stderr")
        self.assertEqual((rc, out), (0, b"oops\n"), err)
        rc, out, err = self.gnomon("logs", "skippy")
        self.assertEqual((rc, out), (0, b"skippy 1\n"), err)
        rc, out, err = self.gnomon("logs", "ghost")
        self.assertCliError(rc, err, 1, "Job 'ghost' not found")
        self.add_job(sched("never"))
        rc, out, err = self.gnomon("logs", "never")
        self.assertCliError(rc, err, 1, "job 'never' has not run yet")


if __name__ == "__main__":
    main()
