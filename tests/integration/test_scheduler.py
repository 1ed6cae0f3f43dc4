"""The scheduler runs jobs: on schedule, with retries, timeouts, kills, manual runs with arguments, Chronos 2
async completion, epsilon skips after downtime, and one run per slot across repeated kill -9 of the server.
Timing tolerances are generous (seconds): precision is measured by the benchmarks, not here."""

import http.client
import os
import pwd
import random
import signal
import sqlite3
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import (BIN, GnomonTestCase, Server, kill_executor, main, now_ms, process_gone,  # noqa: E402
                            run_file_name, sched, wait_until)
from gnomon_harness import iso_ms as iso, parse_iso_ms as parse_iso  # noqa: E402

V1 = "/v1/scheduler"


FINAL = {"succeeded", "failed", "killed", "lost", "skipped"}
OPEN = {"queued", "waiting", "starting", "running"}


def traced(trace_dir, body):
    """A shell command that records its execution in trace_dir/trace: "start RUNTIME TASKID" before body and
    "end RUNTIME TASKID" after it, and "overlap RUNTIME TASKID" when another execution of the job still held the
    lock (flock on trace_dir/lock, held by the whole process group until it ends, even when it is killed).
    "{d}" in body is trace_dir."""
    line = '"%s $CHRONOS_JOB_RUN_TIME $GNOMON_TASK_ID" >> {d}/trace'
    return ('exec 9>>{d}/lock; flock -n 9 || echo ' + line % "overlap" + '; echo ' + line % "start" +
            '; {body}; echo ' + line % "end").format(d=trace_dir, body=body.format(d=trace_dir))


def read_trace(trace_dir):
    """The trace as (event, run time ms, task id) tuples, in the order they were written."""
    try:
        with open(os.path.join(trace_dir, "trace")) as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        return []
    return [(ev, int(rt), tid) for ev, rt, tid in (line.split(" ", 2) for line in lines)]


class SchedulerTestCase(GnomonTestCase):
    server_args = ("--failure-retry", "300", "--kill-grace", "1000")

    def runs(self, name, srv=None):
        status, body = (srv or self.server).json("GET", "/api/v1/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]

    def wait_runs(self, name, predicate, timeout=30, what=None, srv=None):
        return wait_until(lambda: (lambda r: r if predicate(r) else None)(self.runs(name, srv)), timeout,
                          interval=0.1, what=what or "runs of %s" % name)

    def log(self, task_id, stream="stdout"):
        status, _, body = self.server.request(
            "GET", "/api/v1/runs/%s/log?stream=%s" % (urllib.parse.quote(task_id, safe=""), stream))
        self.assertEqual(status, 200)
        return body.decode()

    def finished(self, runs, n):
        return len([r for r in runs if r["status"] in FINAL]) >= n

    def state(self, name, srv=None):
        status, body = (srv or self.server).json("GET", V1 + "/jobs/summary")
        return [j["state"] for j in body["jobs"] if j["name"] == name][0]


class Schedules(SchedulerTestCase):
    def test_repeating_job_runs_each_slot_then_disables(self):
        start = now_ms() + 1500
        self.add_job(sched("tick", "echo tick $CHRONOS_JOB_NAME", schedule="R3/%s/PT1S" % iso(start)))
        runs = self.wait_runs("tick", lambda r: self.finished(r, 3), what="3 runs of tick")
        runs = sorted(runs, key=lambda r: r["due"])
        self.assertEqual([r["status"] for r in runs], ["succeeded"] * 3)
        self.assertEqual([r["trigger"] for r in runs], ["schedule"] * 3)
        self.assertEqual([parse_iso(r["due"]) for r in runs], [start, start + 1000, start + 2000])
        for r in runs:
            self.assertGreaterEqual(parse_iso(r["start"]), parse_iso(r["due"]))
            self.assertLess(parse_iso(r["start"]) - parse_iso(r["due"]), 5000, r)
            self.assertEqual(r["exitCode"], 0)
            self.assertEqual(self.log(r["taskId"]), "tick tick\n")
        job = wait_until(lambda: (lambda j: j if j["disabled"] else None)(self.get_job("tick")), 10,
                         what="tick disabled after its last recurrence")
        self.assertEqual(job["successCount"], 3)
        self.assertTrue(job["schedule"].startswith("R0/"), job["schedule"])
        self.assertNotEqual(job["lastSuccess"], "")

    def test_disabled_job_does_not_run(self):
        self.add_job(sched("off", "true", schedule="R/%s/PT1S" % iso(now_ms() - 500), disabled=True))
        self.add_job(sched("on", "true", schedule="R2/%s/PT1S" % iso(now_ms() + 200)))
        self.wait_runs("on", lambda r: self.finished(r, 2))
        self.assertEqual(self.runs("off"), [])

    def test_cron_job_runs_every_minute_boundary(self):
        # A cron job never runs for slots before it was created: the first run is the next whole minute, at
        # most 60 s away.
        created = now_ms()
        self.add_job(sched("cronjob", "echo $CHRONOS_JOB_RUN_TIME", schedule="* * * * *"))
        status, body = self.server.json("GET", V1 + "/jobs/summary")
        self.assertEqual(status, 200)
        self.assertIn([j["state"] for j in body["jobs"] if j["name"] == "cronjob"], (["idle"], ["1 running"]))
        run = self.wait_runs("cronjob", lambda r: self.finished(r, 1), timeout=90, what="the first cron run")[0]
        due = parse_iso(run["due"])
        self.assertEqual(due % 60000, 0, run)
        self.assertTrue(created < due <= created + 60000, (created, run))
        self.assertEqual((run["status"], run["trigger"], run["attempt"]), ("succeeded", "schedule", 0), run)
        self.assertLess(parse_iso(run["start"]) - due, 5000, run)
        self.assertEqual(self.log(run["taskId"]), "%d\n" % due)


class Outcomes(SchedulerTestCase):
    def test_failure_is_retried_then_counted_once(self):
        self.add_job(sched("flaky", "echo attempt $CHRONOS_JOB_RUN_ATTEMPT >&2; exit 3",
                           schedule="R1//PT1S", retries=2))
        runs = self.wait_runs("flaky", lambda r: self.finished(r, 3), what="3 attempts")
        runs = sorted(runs, key=lambda r: r["attempt"])
        self.assertEqual([(r["attempt"], r["status"], r["exitCode"]) for r in runs],
                         [(0, "failed", 3), (1, "failed", 3), (2, "failed", 3)])
        self.assertEqual([r["trigger"] for r in runs], ["schedule", "retry", "retry"])
        self.assertEqual(len({r["due"] for r in runs}), 1, "retries keep the slot's due time")
        self.assertEqual(self.log(runs[2]["taskId"], "stderr"), "attempt 2\n")
        job = wait_until(lambda: (lambda j: j if j["errorCount"] == 1 else None)(self.get_job("flaky")), 10,
                         what="errorCount 1")
        self.assertEqual(job["errorsSinceLastSuccess"], 1)
        self.assertEqual(job["successCount"], 0)

    def test_retry_delay_and_backoff(self):
        self.add_job(sched("backoff", "exit 1", schedule="R1//PT1S", retries=2, retryDelay="PT0.5S",
                           retryBackoff=2))
        runs = sorted(self.wait_runs("backoff", lambda r: self.finished(r, 3), what="3 attempts"),
                      key=lambda r: r["attempt"])
        gap1 = parse_iso(runs[1]["start"]) - parse_iso(runs[0]["end"])
        gap2 = parse_iso(runs[2]["start"]) - parse_iso(runs[1]["end"])
        self.assertTrue(450 <= gap1 < 3000, gap1)   # retryDelay, not --failure-retry (300 ms here)
        self.assertTrue(950 <= gap2 < 4000, gap2)   # doubled by retryBackoff

    def test_timeout_fails_the_run(self):
        self.add_job(sched("slow", "sleep 30", schedule="R1//PT1S", retries=0, maxCompletionTime=1))
        run = self.wait_runs("slow", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "failed")
        self.assertIn("maxCompletionTime", run["reason"])
        self.assertLess(run["durationMs"], 10000)
        self.assertEqual(self.get_job("slow")["errorCount"], 1)

    def test_kill_is_neither_retried_nor_an_error(self):
        self.add_job(sched("sleeper", "sleep 30", schedule="R/2030-01-01T00:00:00Z/P1D", retries=3))
        self.add_job(sched("later", "sleep 0.5", schedule="R/2030-01-01T00:00:00Z/P1D"))
        status, _, _ = self.server.request("PUT", V1 + "/job/sleeper")
        self.assertEqual(status, 204)
        self.wait_runs("sleeper", lambda r: r and r[0]["status"] == "running", what="sleeper running")
        status, body = self.server.json("GET", V1 + "/jobs/summary")
        self.assertEqual([j["state"] for j in body["jobs"] if j["name"] == "sleeper"], ["1 running"])
        status, _, _ = self.server.request("DELETE", V1 + "/task/kill/sleeper")
        self.assertEqual(status, 204)
        run = self.wait_runs("sleeper", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "killed")
        self.assertEqual(run["trigger"], "manual")
        # A later event that provably comes after --failure-retry (300 ms) has passed since the kill: a run of
        # another job that started after it and lasted longer than that. A retry would be in the history.
        self.server.request("PUT", V1 + "/job/later")
        later = self.wait_runs("later", lambda r: self.finished(r, 1), what="the later run")[0]
        self.assertGreater(parse_iso(later["end"]) - parse_iso(run["end"]), 300, (run, later))
        self.assertEqual([r["taskId"] for r in self.runs("sleeper")], [run["taskId"]])
        job = self.get_job("sleeper")
        self.assertEqual((job["errorCount"], job["successCount"]), (0, 0))

    def test_manual_run_with_arguments_and_environment(self):
        self.add_job(sched("show", "echo", schedule="R/2030-01-01T00:00:00Z/P1D", owner="ops@example.com",
                           environmentVariables=[{"name": "COLOR", "value": "blue"},
                                                 {"name": "CHRONOS_JOB_NAME", "value": "spoofed"}]))
        status, _, _ = self.server.request("PUT", V1 + "/job/show?arguments=" + urllib.parse.quote("--a 1; b"))
        self.assertEqual(status, 204)
        run = self.wait_runs("show", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "succeeded")
        self.assertTrue(run["taskId"].endswith(":0:show:--a 1 b"), run["taskId"])
        self.assertEqual(self.log(run["taskId"]), "--a 1 b\n")
        # The schedule did not move.
        self.assertEqual(self.get_job("show")["schedule"], "R/2030-01-01T00:00:00Z/P1D")
        self.add_job(sched("envjob", 'echo "$CHRONOS_JOB_NAME $CHRONOS_JOB_OWNER $COLOR $GNOMON_TASK_ID '
                           '$CHRONOS_RESOURCE_MEM $CHRONOS_JOB_RUN_ATTEMPT $GNOMON_AGENT $GNOMON_EPOCH"',
                           schedule="R/2030-01-01T00:00:00Z/P1D", owner="ops@example.com",
                           environmentVariables=[{"name": "COLOR", "value": "blue"},
                                                 {"name": "CHRONOS_JOB_NAME", "value": "spoofed"}]))
        self.server.request("PUT", V1 + "/job/envjob")
        run = self.wait_runs("envjob", lambda r: self.finished(r, 1))[0]
        _, cluster = self.server.json("GET", "/api/v1/cluster")
        self.assertGreater(cluster["epoch"], 0)
        self.assertEqual(self.log(run["taskId"]), "envjob ops@example.com blue %s 128.0 0 embedded %d\n"
                         % (run["taskId"], cluster["epoch"]))

    def test_run_as_user(self):
        if os.geteuid() != 0:
            self.skipTest("runAsUser needs a root server")
        os.chmod(self.server.root, 0o711)  # mkdtemp's 0700 would keep nobody from reaching the data dir
        self.add_job(sched("who", "id -un; pwd", schedule="R/2030-01-01T00:00:00Z/P1D", runAsUser="nobody"))
        self.server.request("PUT", V1 + "/job/who")
        run = self.wait_runs("who", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(self.log(run["taskId"]),
                         "nobody\n%s/work/%s\n" % (self.server.data_dir, run_file_name(run["taskId"])))
        self.add_job(sched("ghost", "true", schedule="R/2030-01-01T00:00:00Z/P1D", runAsUser="no-such-user",
                           retries=0))
        self.server.request("PUT", V1 + "/job/ghost")
        run = self.wait_runs("ghost", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "failed")
        self.assertEqual(run["reason"], "runAsUser: unknown user 'no-such-user'")

    def test_async_job_completes_on_its_status(self):
        self.add_job(sched("asyncjob", "true", schedule="R/2030-01-01T00:00:00Z/P1D", **{"async": True}))
        self.server.request("PUT", V1 + "/job/asyncjob")
        run = self.wait_runs("asyncjob", lambda r: r and r[0]["end"] is not None, what="async process ended")[0]
        self.assertEqual(run["status"], "running")
        status, body = self.server.json("PUT", V1 + "/task/" + urllib.parse.quote(run["taskId"], safe=""),
                                        {"statusCode": 0})
        self.assertEqual(status, 204, body)
        run = self.wait_runs("asyncjob", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "succeeded")
        self.assertEqual(self.get_job("asyncjob")["successCount"], 1)
        status, body = self.server.json("PUT", V1 + "/task/ct:1:0:nope:", {"statusCode": 0})
        self.assertEqual(status, 404, body)
        status, body = self.server.json("PUT", V1 + "/task/ct:1:0:nope:", {"code": 0})
        self.assertEqual(status, 400, body)


class Concurrency(SchedulerTestCase):
    def test_non_concurrent_job_keeps_one_waiting_slot(self):
        self.add_job(sched("one", "sleep 1", schedule="R/2030-01-01T00:00:00Z/P1D"))
        for _ in range(3):
            self.assertEqual(self.server.request("PUT", V1 + "/job/one")[0], 204)
        self.assertEqual(self.state("one"), "1 running")
        runs = self.wait_runs("one", lambda r: self.finished(r, 3), what="both runs and the skip")
        by_status = sorted(r["status"] for r in runs)
        self.assertEqual(by_status, ["skipped", "succeeded", "succeeded"])
        done = sorted((r for r in runs if r["status"] == "succeeded"), key=lambda r: r["start"])
        self.assertGreaterEqual(parse_iso(done[1]["start"]), parse_iso(done[0]["end"]), "the second waited")
        skipped = [r for r in runs if r["status"] == "skipped"][0]
        self.assertIn("previous run was still going", skipped["reason"])

    def test_concurrent_job_runs_side_by_side(self):
        self.add_job(sched("many", "sleep 1", schedule="R/2030-01-01T00:00:00Z/P1D", concurrent=True))
        for _ in range(3):
            self.server.request("PUT", V1 + "/job/many")
        wait_until(lambda: self.state("many") == "3 running", 10, what="3 running")
        runs = self.wait_runs("many", lambda r: self.finished(r, 3))
        self.assertEqual([r["status"] for r in runs], ["succeeded"] * 3)

    def test_high_priority_goes_first_when_saturated(self):
        srv = self.new_server(("--max-running", "1"))
        for name, high in (("blocker", False), ("low", False), ("high", True)):
            self.add_job(sched(name, "sleep 0.3", schedule="R/2030-01-01T00:00:00Z/P1D", highPriority=high), srv=srv)
        for name in ("blocker", "low", "high"):
            srv.request("PUT", V1 + "/job/" + name)
        self.assertEqual(self.state("low", srv), "queued")
        low = self.wait_runs("low", lambda r: self.finished(r, 1), srv=srv)[0]
        high = self.runs("high", srv)[0]
        self.assertLess(parse_iso(high["start"]), parse_iso(low["start"]))
        status, body = srv.json("GET", "/metrics")
        self.assertEqual(body["counters"]["gnomon.runs.succeeded"]["count"], 3)
        self.assertEqual(body["gauges"]["gnomon.runs.running"]["value"], 0)


class HistoryAndStats(SchedulerTestCase):
    def run_times(self, name, n, srv):
        for _ in range(n):
            srv.request("PUT", V1 + "/job/" + name)
            self.wait_runs(name, lambda r: r and r[0]["status"] in FINAL, srv=srv)

    def test_stats_report_real_runs(self):
        self.add_job(sched("st", "sleep 0.2", schedule="R/2030-01-01T00:00:00Z/P1D"))
        self.run_times("st", 3, self.server)
        status, body = self.server.json("GET", V1 + "/job/stat/st")
        self.assertEqual(status, 200)
        h = body["histogram"]
        self.assertEqual(list(h), ["75thPercentile", "95thPercentile", "98thPercentile", "99thPercentile",
                                   "median", "mean", "count"])
        self.assertEqual(h["count"], 3)
        self.assertTrue(150 <= h["median"] <= 5000, h)
        hist = body["taskStatHistory"]
        self.assertEqual([x["status"] for x in hist], ["Success"] * 3)
        self.assertRegex(hist[0]["startTime"], r"^\d\d/\d\d/\d\d \d\d:\d\d:\d\d$")
        self.assertEqual(list(hist[0]), ["taskId", "jobName", "slaveId", "startTime", "endTime", "duration",
                                         "status"])
        status, body = self.server.json("GET", V1 + "/stats/median")
        self.assertEqual(status, 200)
        self.assertEqual([x["jobNameLabel"] for x in body], ["st"])
        self.assertTrue(0.15 <= body[0]["time"] <= 5, body)

    def test_job_history_limit(self):
        srv = self.new_server(("--job-history-limit", "2"))
        self.add_job(sched("lim", "true", schedule="R/2030-01-01T00:00:00Z/P1D"), srv=srv)
        self.run_times("lim", 3, srv)
        status, body = srv.json("GET", V1 + "/job/stat/lim")
        self.assertEqual(len(body["taskStatHistory"]), 2)

    def test_retention_by_count_removes_runs_and_files(self):
        """Pruned runs lose their output files and (--keep-work-dirs always) their working directories."""
        srv = self.new_server(("--history-max-runs", "2", "--keep-work-dirs", "always"))
        self.add_job(sched("keep2", "echo hi", schedule="R/2030-01-01T00:00:00Z/P1D"), srv=srv)
        self.run_times("keep2", 4, srv)
        # applied within a second of each run's end
        runs = wait_until(lambda: (lambda r: r if len(r) == 2 else None)(self.runs("keep2", srv)), 10,
                          what="two runs kept")
        names = sorted(run_file_name(r["taskId"]) for r in runs)
        logs = sorted(os.listdir(os.path.join(srv.data_dir, "logs")))
        # each kept run's stdout and the order record of its streams (stdout alone here)
        self.assertEqual(logs, sorted(n + ext for n in names for ext in (".order", ".stdout")))
        work = os.path.join(srv.data_dir, "work")
        wait_until(lambda: sorted(os.listdir(work)) == sorted(names + [n + ".task" for n in names]), 10,
                   what="the working directories of the pruned runs removed")

    def test_retention_by_age_applies_to_old_records(self):
        srv = self.new_server(())
        self.add_job(sched("old", "echo hi", schedule="R/2030-01-01T00:00:00Z/P1D"), srv=srv)
        self.run_times("old", 2, srv)
        srv.stop()
        time.sleep(1.2)
        srv.extra_args = ["--history-max-age", "1"]
        srv.start()
        self.assertEqual(self.runs("old", srv), [])
        self.assertEqual(os.listdir(os.path.join(srv.data_dir, "logs")), [])


class FollowLogs(SchedulerTestCase):
    def start_and_follow(self, name, command):
        self.add_job(sched(name, command, schedule="R/2030-01-01T00:00:00Z/P1D"))
        self.server.request("PUT", V1 + "/job/" + name)
        run = self.wait_runs(name, lambda r: r and r[0]["status"] == "running", what=name + " running")[0]
        conn = http.client.HTTPConnection("127.0.0.1", self.server.port, timeout=30)
        conn.request("GET", "/api/v1/runs/%s/log?follow=1" % urllib.parse.quote(run["taskId"], safe=""))
        resp = conn.getresponse()
        self.assertEqual(resp.status, 200)
        return run, conn, resp

    def test_follow_streams_output_until_the_run_ends(self):
        run, conn, resp = self.start_and_follow("talk", "for i in 1 2 3 4 5; do echo line $i; sleep 0.4; done")
        first = resp.readline()
        self.assertEqual(first, b"line 1\n")
        # The first line arrived while the run was still going: it was followed, not read after the fact.
        self.assertEqual(self.runs("talk")[0]["status"], "running")
        rest = resp.read()
        conn.close()
        self.assertEqual(first + rest, b"".join(b"line %d\n" % i for i in range(1, 6)))
        self.assertEqual(self.runs("talk")[0]["status"], "succeeded")

    def test_cli_logs_follow(self):
        self.add_job(sched("cli", "echo one; sleep 0.5; echo two", schedule="R/2030-01-01T00:00:00Z/P1D"))
        self.server.request("PUT", V1 + "/job/cli")
        run = self.wait_runs("cli", lambda r: r and r[0]["status"] in ("running", "succeeded"))[0]
        out = subprocess.run([BIN, "logs", run["taskId"], "-f", "--server", self.server.url],
                             capture_output=True, timeout=30)
        self.assertEqual((out.returncode, out.stdout), (0, b"one\ntwo\n"), out.stderr)

    def test_graceful_stop_while_following(self):
        run, conn, resp = self.start_and_follow("quiet", "echo ready; sleep 30")
        # The follower sent what the file held: it is parked at its end, waiting for more output.
        self.assertEqual(resp.readline(), b"ready\n")
        self.assertEqual(self.runs("quiet")[0]["status"], "running")
        self.server.stop()  # checks a clean exit (status 0, no sanitizer report)
        conn.close()


class Downtime(SchedulerTestCase):
    def test_a_long_cron_downtime_is_counted_up_to_a_bound(self):
        """Cron slots are counted one by one: past 1,000 the record says "at least", instead of the loop walking
        every minute of a long downtime."""
        self.add_job(sched("minutely", "true", schedule="* * * * *", epsilon="PT1S"))
        self.server.stop()
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gnomon.db"))
        with db:
            db.execute("UPDATE job_state SET last_due_ms = ? WHERE name = 'minutely'", (now_ms() - 2 * 86400000,))
        db.close()
        self.server.start()
        runs = self.wait_runs("minutely", lambda r: any(x["status"] == "skipped" for x in r))
        reasons = [r["reason"] for r in runs if r["status"] == "skipped"]
        self.assertTrue(any(x.startswith("at least 1000 slots from ") for x in reasons), reasons)

    def test_slot_later_than_epsilon_is_skipped_and_recorded(self):
        start = now_ms() + 1000
        self.add_job(sched("eps", "true", schedule="R/%s/PT30S" % iso(start), epsilon="PT1S"))
        self.server.kill9()
        time.sleep(max(0, (start + 2500 - now_ms()) / 1000))  # the slot is now 2.5 s late, epsilon is 1 s
        self.server.start()
        runs = self.wait_runs("eps", lambda r: self.finished(r, 1), what="the skipped slot")
        self.assertEqual(len(runs), 1, runs)
        self.assertEqual(runs[0]["status"], "skipped")
        self.assertEqual(parse_iso(runs[0]["due"]), start)
        self.assertIn("epsilon PT1S", runs[0]["reason"])
        # The schedule moved on to the next slot.
        self.assertTrue(self.get_job("eps")["schedule"].startswith("R/"), self.get_job("eps"))

    def test_late_slot_within_epsilon_runs_once(self):
        start = now_ms() + 1000
        self.add_job(sched("late", "true", schedule="R/%s/PT1S" % iso(start), epsilon="PT60S"))
        self.server.kill9()
        time.sleep(max(0, (start + 3500 - now_ms()) / 1000))  # four slots came due while it was down
        self.server.start()
        runs = self.wait_runs("late", lambda r: any(x["status"] == "skipped" for x in r) and
                              any(x["status"] == "succeeded" for x in r), what="a late run and the skipped slots")
        skipped = [r for r in runs if r["status"] == "skipped"]
        self.assertEqual(len(skipped), 1, "missed slots collapse into one record")
        self.assertEqual(parse_iso(skipped[0]["due"]), start)


class CrashSafety(SchedulerTestCase):
    def test_one_run_per_slot_across_repeated_kill9(self):
        """A 1-second job due every 2 s records each execution in a trace; the server is killed at random
        moments, including mid-run. Checked slot by slot against the history: every slot due during the test
        has a final record (run, lost then retried, or skipped), no slot's command ran to its end twice, and no
        two executions of the (non-concurrent) job overlapped."""
        d = self.server.root
        start = now_ms() + 1000
        self.add_job(sched("crash", traced(d, "sleep 1"), schedule="R/%s/PT2S" % iso(start), retries=1))
        rng = random.Random(42)
        for _ in range(5):
            time.sleep(rng.uniform(0.3, 2.5))
            self.server.kill9()
            time.sleep(rng.uniform(0.0, 0.5))
            self.server.start()
        until = now_ms()  # the slots due up to now are checked; later ones may still be going

        def settled(runs):
            # A slot after until was claimed (so every earlier one was handled) and the earlier ones all ended.
            mine = [r for r in runs if parse_iso(r["due"]) <= until]
            later = any(parse_iso(r["due"]) > until for r in runs)
            return mine if later and all(r["status"] in FINAL for r in mine) else None
        runs = self.wait_runs("crash", settled, timeout=60, what="every slot due before the last restart ended")
        runs = [r for r in runs if parse_iso(r["due"]) <= until]
        by_task = {r["taskId"]: r for r in runs}
        self.assertEqual(len(by_task), len(runs), "a task id recorded twice")

        slots = {}
        for r in runs:
            slots.setdefault(parse_iso(r["due"]), []).append(r)
        expected = list(range(start, until + 1, 2000))
        self.assertGreaterEqual(len(expected), 3, "the test did not last long enough")
        covered = set()
        for due, attempts in sorted(slots.items()):
            attempts.sort(key=lambda r: r["attempt"])
            self.assertEqual([r["attempt"] for r in attempts], list(range(len(attempts))),
                             "slot %d: attempts %s" % (due, attempts))
            for r in attempts[:-1]:
                self.assertIn(r["status"], ("failed", "lost"), "slot %d was retried after %s" % (due, r))
            last = attempts[-1]
            if last["status"] in ("failed", "lost"):
                self.assertEqual(last["attempt"], 1, "slot %d: a retry is missing after %s" % (due, last))
            covered.add(due)
            if last["status"] == "skipped" and "slots from" in last["reason"]:
                covered |= {due + 2000 * k for k in range(int(last["reason"].split()[0]))}
        self.assertEqual(sorted(set(expected) - covered), [], "slots missing from the history")

        trace = [t for t in read_trace(d) if t[1] <= until]
        self.assertEqual([t for t in trace if t[0] == "overlap"], [], "two executions of the job overlapped")
        started = [t[2] for t in trace if t[0] == "start"]
        self.assertEqual(len(started), len(set(started)), "a task id was executed twice: %s" % started)
        for tid in started:
            self.assertIn(tid, by_task, "an execution the history does not know")
        ended = {}
        for ev, due, tid in trace:
            if ev == "end":
                ended.setdefault(due, []).append(tid)
        for due, tids in ended.items():
            # the task goes on under its executor while the server is down, and its result is recorded after the
            # restart: no slot's command completes twice, lost or not
            self.assertLessEqual(len(tids), 1, "slot %d completed twice: %s" % (due, slots[due]))
        for r in runs:
            if r["status"] == "succeeded":
                self.assertIn(r["taskId"], ended.get(parse_iso(r["due"]), []), "succeeded without running: %s" % r)


class NonConcurrentRetries(SchedulerTestCase):
    def test_retry_waits_for_the_running_slot_and_goes_before_the_waiting_one(self):
        """Slot 0 fails at once and its retry comes due while slot 1 runs: the retry waits until slot 1 ends,
        then runs before slot 2, which waited meanwhile. No two executions overlap."""
        d = self.server.root
        start = now_ms() + 1500
        body = "if [ ! -e {d}/failed ]; then : > {d}/failed; exit 1; fi; sleep 2"
        self.add_job(sched("serial", traced(d, body), schedule="R3/%s/PT1S" % iso(start), retries=1,
                           retryDelay="PT1.5S"))
        runs = self.wait_runs("serial", lambda r: self.finished(r, 4), timeout=60, what="4 runs of serial")
        trace = read_trace(d)
        self.assertEqual([t for t in trace if t[0] == "overlap"], [], "the retry ran alongside a slot")
        order = [(rt, int(tid.split(":")[2])) for ev, rt, tid in trace if ev == "start"]
        self.assertEqual(order, [(start, 0), (start + 1000, 0), (start, 1), (start + 2000, 0)])
        self.assertEqual(sorted((r["attempt"], r["status"]) for r in runs),
                         [(0, "failed"), (0, "succeeded"), (0, "succeeded"), (1, "succeeded")])
        for a, b in zip(sorted(runs, key=lambda r: r["start"]), sorted(runs, key=lambda r: r["start"])[1:]):
            self.assertGreaterEqual(parse_iso(b["start"]), parse_iso(a["end"]), (a, b))


class EpsilonAtStart(SchedulerTestCase):
    def test_slot_that_waited_in_the_queue_past_its_epsilon_is_skipped(self):
        srv = self.new_server(("--max-running", "1"))
        self.add_job(sched("blocker", "sleep 4", schedule="R/2030-01-01T00:00:00Z/P1D"), srv=srv)
        srv.request("PUT", V1 + "/job/blocker")
        self.wait_runs("blocker", lambda r: r and r[0]["status"] == "running", srv=srv)
        start = now_ms() + 1000
        self.add_job(sched("eps", "true", schedule="R2/%s/PT30S" % iso(start), epsilon="PT1S"), srv=srv)
        run = self.wait_runs("eps", lambda r: self.finished(r, 1), srv=srv, what="the late slot")[0]
        self.assertEqual((run["status"], run["trigger"], run["start"]), ("skipped", "schedule", None), run)
        self.assertEqual(parse_iso(run["due"]), start)
        self.assertIn("epsilon PT1S", run["reason"])
        self.assertIn("waited", run["reason"])
        blocker = self.wait_runs("blocker", lambda r: self.finished(r, 1), srv=srv)[0]
        self.assertEqual(blocker["status"], "succeeded")
        self.assertGreater(parse_iso(blocker["end"]) - start, 1000, "the slot really waited past its epsilon")

    def test_waiting_slot_past_its_epsilon_is_skipped(self):
        start = now_ms() + 1000
        self.add_job(sched("busy", "sleep 4", schedule="R2/%s/PT1S" % iso(start), epsilon="PT1S"))
        runs = self.wait_runs("busy", lambda r: self.finished(r, 2), what="the run and the late slot")
        runs = sorted(runs, key=lambda r: r["due"])
        self.assertEqual([(r["status"], parse_iso(r["due"])) for r in runs],
                         [("succeeded", start), ("skipped", start + 1000)])
        self.assertIn("epsilon PT1S", runs[1]["reason"])
        self.assertIsNone(runs[1]["start"])

    def test_retries_and_manual_runs_are_not_bound_by_epsilon(self):
        srv = self.new_server(("--max-running", "1", "--failure-retry", "300"))
        self.add_job(sched("blocker", "sleep 3", schedule="R/2030-01-01T00:00:00Z/P1D"), srv=srv)
        self.add_job(sched("patient", "true", schedule="R/2030-01-01T00:00:00Z/P1D", epsilon="PT0S"), srv=srv)
        srv.request("PUT", V1 + "/job/blocker")
        self.wait_runs("blocker", lambda r: r and r[0]["status"] == "running", srv=srv)
        srv.request("PUT", V1 + "/job/patient")
        run = self.wait_runs("patient", lambda r: self.finished(r, 1), srv=srv)[0]
        self.assertEqual((run["status"], run["trigger"]), ("succeeded", "manual"), run)
        self.assertGreater(parse_iso(run["start"]) - parse_iso(run["due"]), 1000, run)


class FiniteSchedules(SchedulerTestCase):
    def test_exhausted_schedule_disables_the_job_after_its_final_failure(self):
        self.add_job(sched("lastfail", "exit 1", schedule="R1//PT1S", retries=1))
        runs = self.wait_runs("lastfail", lambda r: self.finished(r, 2), what="both attempts")
        self.assertEqual(sorted((r["attempt"], r["status"]) for r in runs), [(0, "failed"), (1, "failed")])
        job = wait_until(lambda: (lambda j: j if j["disabled"] else None)(self.get_job("lastfail")), 10,
                         what="lastfail disabled after its final failure")
        self.assertTrue(job["schedule"].startswith("R0/"), job["schedule"])
        self.assertEqual((job["errorCount"], job["successCount"]), (1, 0))

    def test_missed_last_slot_disables_the_job(self):
        start = now_ms() + 1500
        self.add_job(sched("lastmissed", "true", schedule="R1/%s/PT1S" % iso(start), epsilon="PT0.5S"))
        self.server.stop()
        wait_until(lambda: now_ms() > start + 1500, 10, what="the slot to be more than epsilon late")
        self.server.start()
        job = wait_until(lambda: (lambda j: j if j["disabled"] else None)(self.get_job("lastmissed")), 10,
                         what="lastmissed disabled after its last slot was missed")
        self.assertTrue(job["schedule"].startswith("R0/"), job["schedule"])
        runs = self.server.json("GET", "/api/v1/jobs/lastmissed/runs")[1]["runs"]
        self.assertEqual([r["status"] for r in runs], ["skipped"])


class DeletedWhileRunning(SchedulerTestCase):
    def test_a_new_job_of_the_same_name_is_not_affected_by_the_old_ones_runs(self):
        """The deleted job's process ends after the grace period, when a new job already has its name: its end
        must not count for the new job (which would then look busy for ever)."""
        d = self.server.root
        self.add_job(sched("reborn", "trap '' TERM; touch %s/started; sleep 5" % d,
                           schedule="R/2030-01-01T00:00:00Z/P1D"))
        self.assertEqual(self.server.request("PUT", V1 + "/job/reborn")[0], 204)
        wait_until(lambda: os.path.exists(os.path.join(d, "started")), 20, what="the first job's run")
        old = self.runs("reborn")[0]
        self.assertEqual(self.server.request("DELETE", V1 + "/job/reborn")[0], 204)
        self.add_job(sched("reborn", "true", schedule="R/2030-01-01T00:00:00Z/P1D"))
        # the old process ignores SIGTERM: it ends by SIGKILL after --kill-grace (1 s), as a killed run
        self.wait_runs("reborn", lambda r: any(x["taskId"] == old["taskId"] and x["status"] == "killed" for x in r),
                       what="the old run's end")
        self.assertEqual(self.state("reborn"), "idle")
        self.assertEqual(self.server.request("PUT", V1 + "/job/reborn")[0], 204)
        runs = self.wait_runs("reborn", lambda r: any(x["trigger"] == "manual" and x["status"] == "succeeded" and
                                                      x["taskId"] != old["taskId"] for x in r),
                              what="the new job's run")
        job = self.get_job("reborn")
        self.assertEqual((job["successCount"], job["errorCount"]), (1, 0))
        self.assertEqual(self.state("reborn"), "idle")
        self.assertIn(old["taskId"], [r["taskId"] for r in runs])


class DisableAfterFailures(SchedulerTestCase):
    server_args = ("--failure-retry", "300", "--disable-after-failures", "2")

    def test_job_is_disabled_after_n_failures_since_its_last_success(self):
        self.add_job(sched("failing", "exit 1", schedule="R/2030-01-01T00:00:00Z/P1D", retries=0))
        self.server.request("PUT", V1 + "/job/failing")
        self.wait_runs("failing", lambda r: self.finished(r, 1))
        job = wait_until(lambda: (lambda j: j if j["errorCount"] == 1 else None)(self.get_job("failing")), 10,
                         what="errorCount 1")
        self.assertEqual((job["disabled"], job["errorsSinceLastSuccess"]), (False, 1))
        self.server.request("PUT", V1 + "/job/failing")
        self.wait_runs("failing", lambda r: self.finished(r, 2))
        job = wait_until(lambda: (lambda j: j if j["errorCount"] == 2 else None)(self.get_job("failing")), 10,
                         what="errorCount 2")
        self.assertEqual((job["disabled"], job["errorsSinceLastSuccess"]), (True, 2))

    def test_a_success_resets_the_count(self):
        d = self.server.root
        self.add_job(sched("mixed", "test -e %s/ok" % d, schedule="R/2030-01-01T00:00:00Z/P1D", retries=0))
        for ok in (False, True, False):
            if ok:
                open(os.path.join(d, "ok"), "w").close()
            elif os.path.exists(os.path.join(d, "ok")):
                os.unlink(os.path.join(d, "ok"))
            n = len(self.runs("mixed")) + 1
            self.server.request("PUT", V1 + "/job/mixed")
            self.wait_runs("mixed", lambda r: self.finished(r, n))
        job = wait_until(lambda: (lambda j: j if j["errorCount"] == 2 else None)(self.get_job("mixed")), 10,
                         what="errorCount 2")
        self.assertEqual((job["disabled"], job["errorsSinceLastSuccess"], job["successCount"]), (False, 1, 1))


class OutputCap(SchedulerTestCase):
    server_args = ("--log-cap", "1K")

    def test_first_and_last_log_cap_bytes_are_kept(self):
        full = "".join("%d\n" % i for i in range(1, 3001)).encode()
        self.add_job(sched("chatty", "seq 1 3000; seq 1 10 >&2", schedule="R/2030-01-01T00:00:00Z/P1D"))
        self.server.request("PUT", V1 + "/job/chatty")
        run = self.wait_runs("chatty", lambda r: self.finished(r, 1))[0]
        self.assertEqual((run["status"], run["stdoutBytes"], run["stderrBytes"]), ("succeeded", len(full), 21))
        marker = b"\n[gnomon: %d bytes omitted]\n" % (len(full) - 2048)
        self.assertEqual(self.log(run["taskId"]).encode(), full[:1024] + marker + full[-1024:])
        self.assertEqual(self.log(run["taskId"], "stderr"), "".join("%d\n" % i for i in range(1, 11)))


class AsyncJobs(SchedulerTestCase):
    def test_async_run_ends_when_its_status_arrives(self):
        self.add_job(sched("asyncend", "true", schedule="R/2030-01-01T00:00:00Z/P1D", **{"async": True}))
        self.server.request("PUT", V1 + "/job/asyncend")
        run = self.wait_runs("asyncend", lambda r: r and r[0]["end"] is not None, what="async process ended")[0]
        self.assertEqual(run["status"], "running")
        wait_until(lambda: now_ms() - parse_iso(run["start"]) >= 1500, 10, what="1.5 s after the start")
        sent = now_ms()
        status, body = self.server.json("PUT", V1 + "/task/" + urllib.parse.quote(run["taskId"], safe=""),
                                        {"statusCode": 0})
        self.assertEqual(status, 204, body)
        run = self.wait_runs("asyncend", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "succeeded")
        self.assertGreaterEqual(parse_iso(run["end"]), sent - 50, run)
        self.assertGreaterEqual(run["durationMs"], 1500, run)

    def test_async_status_never_reported_fails_at_max_completion_time_and_retries(self):
        self.add_job(sched("silent", "true", schedule="R/2030-01-01T00:00:00Z/P1D", retries=1, maxCompletionTime=1,
                           **{"async": True}))
        self.server.request("PUT", V1 + "/job/silent")
        runs = self.wait_runs("silent", lambda r: self.finished(r, 2), timeout=30, what="both attempts timed out")
        runs = sorted(runs, key=lambda r: r["attempt"])
        self.assertEqual([(r["attempt"], r["trigger"], r["status"]) for r in runs],
                         [(0, "manual", "failed"), (1, "retry", "failed")])
        for r in runs:
            self.assertIn("maxCompletionTime", r["reason"])
            self.assertIn("status", r["reason"])
            self.assertGreaterEqual(r["durationMs"], 1000, r)
        self.assertEqual(self.state("silent"), "idle")
        job = wait_until(lambda: (lambda j: j if j["errorCount"] == 1 else None)(self.get_job("silent")), 10,
                         what="errorCount 1")
        self.assertEqual(job["successCount"], 0)
        status, _ = self.server.json("PUT", V1 + "/task/" + urllib.parse.quote(runs[0]["taskId"], safe=""),
                                     {"statusCode": 0})
        self.assertEqual(status, 404, "a status after the deadline does not count")


class ManualRuns(SchedulerTestCase):
    def test_argv_job_arguments_are_split_into_words(self):
        self.add_job(sched("words", "printf", shell=False, arguments=["%s|"],
                           schedule="R/2030-01-01T00:00:00Z/P1D"))
        args = r"""'<%s>\n' x y "a b" c\ d 'e'"f" '' "q\"q" """
        status, _, _ = self.server.request("PUT", V1 + "/job/words?arguments=" + urllib.parse.quote(args))
        self.assertEqual(status, 204)
        run = self.wait_runs("words", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(self.log(run["taskId"]), '<x>\n<y>\n<a b>\n<c d>\n<ef>\n<>\n<q"q>\n')
        status, body = self.server.json("PUT", V1 + "/job/words?arguments=" + urllib.parse.quote("'open"))
        self.assertBadRequest(status, body, contains="quote")

    def test_shell_job_appends_the_arguments_to_the_command(self):
        self.add_job(sched("shellargs", "printf '<%s>\n'", schedule="R/2030-01-01T00:00:00Z/P1D"))
        self.server.request("PUT", V1 + "/job/shellargs?arguments=" + urllib.parse.quote("x 'y z'"))
        run = self.wait_runs("shellargs", lambda r: self.finished(r, 1))[0]
        self.assertEqual(self.log(run["taskId"]), "<x>\n<y z>\n")

    def test_manual_run_of_a_disabled_job_runs_and_so_do_its_retries(self):
        d = self.server.root
        self.add_job(sched("offjob", "if [ ! -e %s/failed ]; then : > %s/failed; exit 1; fi; echo" % (d, d),
                           schedule="R/2030-01-01T00:00:00Z/P1D", disabled=True, retries=1))
        self.server.request("PUT", V1 + "/job/offjob?arguments=again")
        runs = self.wait_runs("offjob", lambda r: self.finished(r, 2), what="the run and its retry")
        runs = sorted(runs, key=lambda r: r["attempt"])
        self.assertEqual([(r["attempt"], r["trigger"], r["status"]) for r in runs],
                         [(0, "manual", "failed"), (1, "retry", "succeeded")], runs)
        self.assertTrue(runs[1]["taskId"].endswith(":1:offjob:again"), runs[1])
        self.assertEqual(self.log(runs[1]["taskId"]), "again\n")
        self.assertTrue(self.get_job("offjob")["disabled"])

    def test_retry_of_a_manual_run_keeps_its_arguments_across_a_restart(self):
        srv = self.new_server(("--failure-retry", "3000"))
        d = srv.root
        self.add_job(sched("argretry", "if [ ! -e %s/failed ]; then : > %s/failed; exit 1; fi; echo" % (d, d),
                           schedule="R/2030-01-01T00:00:00Z/P1D", disabled=True, retries=1), srv=srv)
        srv.request("PUT", V1 + "/job/argretry?arguments=kept")
        self.wait_runs("argretry", lambda r: any(x["status"] == "waiting" for x in r), srv=srv, what="the retry")
        srv.restart()
        runs = self.wait_runs("argretry", lambda r: self.finished(r, 2), srv=srv, what="the retry after a restart")
        retry = [r for r in runs if r["attempt"] == 1][0]
        self.assertEqual(retry["status"], "succeeded", retry)
        status, _, body = srv.request("GET", "/api/v1/runs/%s/log" % urllib.parse.quote(retry["taskId"], safe=""))
        self.assertEqual(body, b"kept\n")


class Recovery(SchedulerTestCase):
    def kill_pids_at_cleanup(self, path):
        def cleanup():
            try:
                with open(path) as f:
                    pids = [int(x) for x in f.read().split()]
            except (OSError, ValueError):
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
        self.addCleanup(cleanup)

    def test_processes_of_a_starting_run_are_killed_on_recovery(self):
        """The server died after recording a run as starting and spawning it, before recording its pid, and its
        executor died too (so nobody can tell how the task would end): the restart finds its processes through
        GNOMON_TASK_ID and kills them before anything else runs."""
        d = self.server.root
        pids = os.path.join(d, "pids")
        self.kill_pids_at_cleanup(pids)
        self.add_job(sched("orphan", "sleep 60 & echo $$ $! > %s; wait" % pids,
                           schedule="R/2030-01-01T00:00:00Z/P1D", retries=0))
        self.server.request("PUT", V1 + "/job/orphan")
        self.wait_runs("orphan", lambda r: r and r[0]["status"] == "running" and os.path.exists(pids) and
                       len(open(pids).read().split()) == 2, what="orphan running")
        task_id = self.runs("orphan")[0]["taskId"]
        self.server.kill9()
        kill_executor(self.server.data_dir, task_id)
        procs = [int(x) for x in open(pids).read().split()]
        self.assertFalse(any(process_gone(p) for p in procs), "the task did not survive the server")
        db = sqlite3.connect(os.path.join(self.server.data_dir, "gnomon.db"))
        with db:
            db.execute("UPDATE runs SET status = 'starting', pid = 0 WHERE job = 'orphan'")
        db.close()
        self.server.start()
        run = self.wait_runs("orphan", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "lost")
        self.assertIn("killed", run["reason"])
        wait_until(lambda: all(process_gone(p) for p in procs), 10, what="the orphaned processes killed")

    def test_kill_in_progress_when_the_server_dies_is_recorded_as_killed(self):
        """A kill under way (the task ignores SIGTERM, its grace runs) when the server dies goes on under the task's
        executor: the restart adopts the run, and records it killed once the grace is over, not retried."""
        srv = self.new_server(("--failure-retry", "300", "--kill-grace", "3000"))
        pids = os.path.join(srv.root, "pids")
        self.kill_pids_at_cleanup(pids)
        self.add_job(sched("stubborn", "trap '' TERM; echo $$ > %s; sleep 60" % pids,
                           schedule="R/2030-01-01T00:00:00Z/P1D", retries=2), srv=srv)
        srv.request("PUT", V1 + "/job/stubborn")
        self.wait_runs("stubborn", lambda r: r and r[0]["status"] == "running" and os.path.exists(pids) and
                       open(pids).read().strip(), srv=srv, what="stubborn running")
        self.assertEqual(srv.request("DELETE", V1 + "/task/kill/stubborn")[0], 204)
        srv.kill9()  # it ignores SIGTERM: the kill was still waiting for its grace period
        pid = int(open(pids).read())
        self.assertFalse(process_gone(pid))
        srv.start()
        runs = self.wait_runs("stubborn", lambda r: self.finished(r, 1), srv=srv)
        self.assertEqual([(r["status"], r["attempt"]) for r in runs], [("killed", 0)], runs)
        self.assertTrue(process_gone(pid), "recorded killed, but the task still runs")
        job = self.get_job("stubborn", srv=srv)
        self.assertEqual((job["errorCount"], job["successCount"]), (0, 0))

    def test_recovery_leaves_another_servers_task_of_the_same_id_alone(self):
        """Two servers on one host, each with a job of the same name due at the same instant: their tasks have the
        same id. A restart of one whose task lost its executor too kills its own task only (GNOMON_DATA_DIR tells
        them apart)."""
        other = self.new_server(self.server_args)
        start = now_ms() + 2000
        for srv in (self.server, other):
            pidfile = os.path.join(srv.root, "pid")
            self.kill_pids_at_cleanup(pidfile)
            self.add_job(sched("twin", "echo $$ > %s; sleep 60" % pidfile, schedule="R1/%s/PT1S" % iso(start),
                               retries=0), srv=srv)
        for srv in (self.server, other):
            self.wait_runs("twin", lambda r: r and r[0]["status"] == "running" and
                           os.path.exists(os.path.join(srv.root, "pid")), srv=srv, what="twin running")
        ids = {srv.root: self.runs("twin", srv)[0]["taskId"] for srv in (self.server, other)}
        self.assertEqual(len(set(ids.values())), 1, ids)
        mine, theirs = (int(open(os.path.join(srv.root, "pid")).read()) for srv in (self.server, other))
        self.server.kill9()
        kill_executor(self.server.data_dir, ids[self.server.root])  # nobody can tell how it ends: it is killed
        self.server.start()
        run = self.wait_runs("twin", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "lost")
        wait_until(lambda: process_gone(mine), 10, what="this server's task killed")
        self.assertFalse(process_gone(theirs), "the other server's task was killed")
        self.assertEqual(self.runs("twin", other)[0]["status"], "running")


class NobodyServer(Server):
    """A server running as nobody when the tests run as root (else as the tests' own account)."""

    def command(self):
        cmd = super().command()
        if os.geteuid() == 0:
            return ["setpriv", "--reuid=nobody", "--regid=%d" % pwd.getpwnam("nobody").pw_gid, "--clear-groups"] + cmd
        return cmd


class RunAsUser(SchedulerTestCase):
    server_args = None

    def setUp(self):
        super().setUp()
        self.server = NobodyServer(start=False)
        self.addCleanup(self.server.close)
        self._servers.append(self.server)
        if os.geteuid() == 0:
            os.chown(self.server.root, pwd.getpwnam("nobody").pw_uid, -1)
        self.server.start()
        self.me = "nobody" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name
        self.other = "root" if self.me != "root" else "daemon"

    def test_default_run_as_user_is_the_servers_account(self):
        self.add_job(sched("mine", "id -un", schedule="R/2030-01-01T00:00:00Z/P1D"))
        self.assertEqual(self.get_job("mine")["runAsUser"], self.me)
        self.server.request("PUT", V1 + "/job/mine")
        run = self.wait_runs("mine", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "succeeded", run)
        self.assertEqual(self.log(run["taskId"]), self.me + "\n")

    def test_another_user_fails_at_once_and_leaves_no_working_directory(self):
        self.add_job(sched("theirs", "true", schedule="R/2030-01-01T00:00:00Z/P1D", runAsUser=self.other,
                           retries=0))
        self.server.request("PUT", V1 + "/job/theirs")
        run = self.wait_runs("theirs", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "failed")
        self.assertEqual(run["reason"], "gnomon runs as '%s', not root: cannot run jobs as '%s'"
                         % (self.me, self.other))
        self.assertEqual(os.listdir(os.path.join(self.server.data_dir, "work")), [])

    def test_failed_launch_leaves_no_working_directory(self):
        self.add_job(sched("nosuch", "/nonexistent/program", shell=False, schedule="R/2030-01-01T00:00:00Z/P1D",
                           retries=0))
        self.server.request("PUT", V1 + "/job/nosuch")
        run = self.wait_runs("nosuch", lambda r: self.finished(r, 1))[0]
        self.assertEqual(run["status"], "failed")
        self.assertIn("cannot run", run["reason"])
        self.assertEqual(os.listdir(os.path.join(self.server.data_dir, "work")), [])

    def test_help_shows_the_default_user(self):
        out = subprocess.run([BIN, "server", "--help"], capture_output=True, text=True, timeout=30)
        line = [x for x in out.stdout.splitlines() if x.strip().startswith("--user")]
        self.assertEqual(len(line), 1, out.stdout)
        self.assertIn("the account the server runs as", line[0])


if __name__ == "__main__":
    main()
