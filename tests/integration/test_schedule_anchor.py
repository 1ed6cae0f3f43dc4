"""ISO schedules count their occurrences from the start first posted (the anchor), across the engine's rewrites of
the stored schedule, restarts (kill -9 and graceful) and a client posting back what it read; a changed schedule
counts from its own start. GET /api/v1/jobs/{name}/next shows the engine's next fire times. The history tells
slots that were too late from slots collapsed into a late run."""

import calendar
import datetime
import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, dep, main, sched, wait_until  # noqa: E402

API = "/api/v1"
UTC = datetime.timezone.utc


def iso(dt):
    """A UTC datetime as the API prints it: 2027-02-28T10:00:00.000Z."""
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (dt.microsecond // 1000)


def parse_instant(text):
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def add_months(dt, months):
    """dt plus a number of months, the day clamped to the month's end (Joda's plusMonths)."""
    m = dt.month - 1 + months
    year, month = dt.year + m // 12, m % 12 + 1
    return dt.replace(year=year, month=month, day=min(dt.day, calendar.monthrange(year, month)[1]))


def month_end_case(now):
    """An anchor on a 31st and a period of 1 to 3 months whose first occurrence after now is clamped (a 28th, 29th
    or 30th), so that counting from that rewritten start instead of the anchor gives other days later on. Returns
    (anchor, months, index of that occurrence)."""
    for months in (1, 2, 3):
        for month in (12, 10, 8, 7, 5, 3, 1):  # every remainder modulo 2 and 3, each with a 31st
            anchor = datetime.datetime(now.year - 1, month, 31, 10, 0, tzinfo=UTC)
            k = 0
            while add_months(anchor, k * months) <= now:
                k += 1
            start = add_months(anchor, k * months)
            drifted = [add_months(start, j * months) for j in range(6)]
            if start.day < 31 and drifted != [add_months(anchor, (k + j) * months) for j in range(6)]:
                return anchor, months, k
    raise AssertionError("no month-end case found for %s" % now)


class AnchorTestCase(GnomonTestCase):

    def next_fires(self, name, count=None, srv=None):
        path = API + "/jobs/%s/next" % urllib.parse.quote(name, safe="")
        if count is not None:
            path += "?count=" + urllib.parse.quote(str(count), safe="")
        return (srv or self.server).json("GET", path)

    def next_utc(self, name, count):
        status, body = self.next_fires(name, count)
        self.assertEqual(status, 200, body)
        return [e["utc"] for e in body["next"]]

    def runs(self, name):
        status, body = self.server.json("GET", API + "/jobs/%s/runs?limit=1000" % name)
        self.assertEqual(status, 200, body)
        return body["runs"]


class AnchorAcrossRewrites(AnchorTestCase):

    def post_month_end_job(self, name):
        """A job with an old start on a 31st that runs its latest slot at once (large epsilon); waits until the
        engine has run it and rewritten its schedule. Returns the next six fire times counted from the anchor."""
        now = datetime.datetime.now(UTC)
        anchor, months, k = month_end_case(now)
        posted = "R/%s/P%dM" % (iso(anchor), months)
        self.add_job(sched(name, "true", schedule=posted, epsilon="P100D"))
        wait_until(lambda: self.get_job(name)["schedule"] != posted and
                   any(r["status"] == "succeeded" for r in self.runs(name)), 30, interval=0.05,
                   what="the first run and the rewritten schedule")
        start = add_months(anchor, k * months)
        self.assertEqual(self.get_job(name)["schedule"], "R/%s/P%dM" % (iso(start), months))
        return [iso(add_months(anchor, (k + j) * months)) for j in range(6)]

    def test_anchor_survives_kill9_and_graceful_restart(self):
        want = self.post_month_end_job("monthly")
        self.assertEqual(self.next_utc("monthly", 6), want)
        stored = self.get_job("monthly")["schedule"]
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.next_utc("monthly", 6), want)
        self.server.restart()
        self.assertEqual(self.next_utc("monthly", 6), want)
        self.assertEqual(self.get_job("monthly")["schedule"], stored)

    def test_posting_back_what_was_read_keeps_the_anchor(self):
        want = self.post_month_end_job("readback")
        job = self.get_job("readback")
        self.add_job(job)
        self.assertEqual(self.next_utc("readback", 6), want)
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.next_utc("readback", 6), want)
        # Another count is the same schedule too.
        job["schedule"] = "R9/" + job["schedule"].split("/", 1)[1]
        self.add_job(job)
        self.assertEqual(self.next_utc("readback", 6), want)

    def test_changed_schedule_counts_from_its_own_start(self):
        self.post_month_end_job("changed")
        job = self.get_job("changed")
        start = parse_instant(job["schedule"].split("/")[1])
        # The same start with another period: no anchor fits it, it counts from that start.
        job["schedule"] = "R/%s/P6M" % iso(start)
        self.add_job(job)
        want = [iso(add_months(start, 6 * j)) for j in range(4)]
        self.assertEqual(self.next_utc("changed", 4), want)
        self.server.restart()
        self.assertEqual(self.next_utc("changed", 4), want)
        # Another start (a day earlier, still to come) with the old period.
        earlier = start - datetime.timedelta(days=1)
        job["schedule"] = "R/%s/P1M" % iso(earlier)
        self.add_job(job)
        want = [iso(add_months(earlier, j)) for j in range(4)]
        self.assertEqual(self.next_utc("changed", 4), want)
        self.server.kill9()
        self.server.start()
        self.assertEqual(self.next_utc("changed", 4), want)


class NextEndpoint(AnchorTestCase):

    def test_shape_zone_and_dst(self):
        self.add_job(sched("ny", schedule="R3/2030-03-09T02:30:00/P1D", scheduleTimeZone="America/New_York"))
        status, body = self.next_fires("ny")
        self.assertEqual(status, 200, body)
        self.assertSameJson(body, {"job": "ny", "next": [
            {"utc": "2030-03-09T07:30:00.000Z", "local": "2030-03-09T02:30:00.000-05:00"},
            {"utc": "2030-03-10T07:30:00.000Z", "local": "2030-03-10T03:30:00.000-04:00"},
            {"utc": "2030-03-11T06:30:00.000Z", "local": "2030-03-11T02:30:00.000-04:00"}],
            "zone": "America/New_York"})

    def test_cron_and_counts(self):
        self.add_job(sched("cron", schedule="0 9 * * *", scheduleTimeZone="Europe/Paris"))
        status, body = self.next_fires("cron")
        self.assertEqual((status, body["zone"], len(body["next"])), (200, "Europe/Paris", 10), body)
        now = datetime.datetime.now(UTC)
        times = [parse_instant(e["local"]) for e in body["next"]]
        self.assertTrue(all((t.hour, t.minute) == (9, 0) for t in times), body)
        self.assertTrue(now < times[0] <= now + datetime.timedelta(days=1, hours=1), body)
        self.assertEqual([parse_instant(e["utc"]) for e in body["next"]], times)
        status, body = self.next_fires("cron", 1000)
        self.assertEqual((status, len(body["next"])), (200, 1000))
        for count in ("0", "1001", "-1", "abc", "1.5"):
            status, body = self.next_fires("cron", count)
            self.assertBadRequest(status, body, "count: ")

    def test_empty_for_dependent_disabled_and_exhausted_jobs(self):
        self.add_job(sched("parent"))
        self.add_job(dep("child", ["parent"]))
        self.add_job(sched("off", disabled=True))
        self.add_job(sched("done", schedule="R0/2030-01-01T00:00:00Z/P1D"))
        for name in ("child", "off", "done"):
            status, body = self.next_fires(name)
            self.assertEqual((status, body["job"], body["next"]), (200, name, []), body)
        self.assertEqual(self.next_utc("parent", 2), ["2030-01-01T00:00:00.000Z", "2030-01-02T00:00:00.000Z"])

    def test_unknown_job(self):
        status, body = self.next_fires("nope")
        self.assertError(status, body, 404, contains="nope")


class MissedSlotReasons(AnchorTestCase):

    def test_collapsed_slots_are_not_called_late(self):
        """Down for 5 s with a slot every second and epsilon 2 s: the latest slot runs late, the slots within 2 s
        before it collapse into that run, the older ones were more than epsilon late."""
        start = datetime.datetime.now(UTC).replace(microsecond=0) + datetime.timedelta(seconds=2)
        self.add_job(sched("tick", "true", schedule="R/%s/PT1S" % iso(start), epsilon="PT2S"))
        self.server.kill9()
        wait_until(lambda: datetime.datetime.now(UTC) > start + datetime.timedelta(seconds=5), 30,
                   what="five slots to pass while the server is down")
        self.server.start()
        runs = wait_until(lambda: (lambda r: r if len([x for x in r if x["status"] == "skipped"]) >= 2 and
                                   any(x["status"] == "succeeded" for x in r) else None)(self.runs("tick")),
                          30, interval=0.05, what="the late run and two skipped records")
        ran = min((r for r in runs if r["status"] == "succeeded"), key=lambda r: r["due"])
        late, collapsed = sorted((r for r in runs if r["status"] == "skipped"), key=lambda r: r["due"])[:2]
        self.assertEqual(parse_instant(late["due"]), start)
        self.assertIn("missed: more than epsilon PT2S late", late["reason"])
        self.assertNotIn("collapsed", late["reason"])
        self.assertIn("collapsed into the late run of slot %s" % ran["due"], collapsed["reason"])
        self.assertNotIn("epsilon", collapsed["reason"])
        # Together they cover every slot from the start to the one that ran, each once.
        covered = []
        for r in (late, collapsed):
            words = r["reason"].split()
            n = 1 if words[0] == "slot" else int(words[0])
            self.assertEqual(r["reason"].startswith("slot %s " % r["due"]) or
                             r["reason"].startswith("%d slots from %s to " % (n, r["due"])), True, r["reason"])
            covered += [parse_instant(r["due"]) + datetime.timedelta(seconds=i) for i in range(n)]
        due = parse_instant(ran["due"])
        self.assertEqual(covered, [start + datetime.timedelta(seconds=i)
                                   for i in range(int((due - start).total_seconds()))])
        self.assertLessEqual(due - parse_instant(collapsed["due"]), datetime.timedelta(seconds=3))


if __name__ == "__main__":
    main()
