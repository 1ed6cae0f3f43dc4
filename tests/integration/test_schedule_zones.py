"""Schedules in time zones as a user sees them through the API.

- Fire times follow the system's tz database: gnomon's previews for a set of zones (Mexico City, which dropped DST
  in 2022, Asuncion, Nuuk, Casablanca, Gaza's 50-hour rule times, Lord Howe's half hour, ...) over several years
  from next year up to 2500 and 9999, against Python's zoneinfo reading the same files (ZoneInfo.from_file on
  the server's TZDIR, so a tzdata package of Python's own plays no part), and a restart picks up changed zone
  files.
- scheduleTimeZone's legacy ids as Joda-Time maps them (EST is America/New_York), a start in a repeated hour
  as Chronos places it, names that are not zones (paths) refused.
- Zones with one negative offset, which overflowed the cron code and aborted the sanitizer build (even at every
  start with such a job stored); a start that is in 9999 on the wall clock but in 10000 in UTC is refused.
"""

import datetime
import os
import shutil
import sys
import tempfile
import urllib.parse
import zoneinfo

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, sched  # noqa: E402

API = "/api/v1"
TZDIR = os.environ.get("TZDIR") or "/usr/share/zoneinfo"
UTC = datetime.timezone.utc
DAY = datetime.timedelta(days=1)
MINUTE = datetime.timedelta(minutes=1)

# Zones with something to get wrong: rules changed since ICU 72's data (2022e), 30- and 45-minute offsets and
# DST, DST at midnight or 24:00, negative DST (Dublin), footers with negative or >24 h rule times, a link.
ZONES = ["America/Mexico_City", "America/Asuncion", "America/Nuuk", "Africa/Casablanca", "America/New_York",
         "Europe/London", "Australia/Sydney", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham",
         "America/Santiago", "Asia/Tehran", "Europe/Dublin", "America/St_Johns", "Asia/Gaza", "Antarctica/Troll",
         "America/Havana", "Africa/Cairo", "America/Phoenix", "Pacific/Kiritimati", "Etc/GMT+7", "US/Eastern"]
# Next year (the preview lists from the start only when it is in the future; in Mexico City, ICU 72's data
# still had DST), the end of fat files' tables (2037), beyond them (2040), beyond gnomon's written-out
# transitions (2100, 2500), and the last years of the range.
NEXT_YEAR = datetime.datetime.now(datetime.timezone.utc).year + 1
YEARS = sorted({NEXT_YEAR, max(NEXT_YEAR, 2037), max(NEXT_YEAR, 2040), 2100, 2500})
WALL_TIMES = ["00:30", "01:30", "02:30", "03:30"]


def system_zone(name):
    with open(os.path.join(TZDIR, name), "rb") as f:
        return zoneinfo.ZoneInfo.from_file(f, key=name)


def parse_instant(text):
    """An instant as the API prints it (2030-01-01T09:00:00.000+01:00, ...Z), year 10000 excluded."""
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def printed(local_dt):
    """A zone-aware datetime as the API prints it."""
    text = local_dt.isoformat(timespec="milliseconds")
    return text[:-6] + "Z" if text.endswith("+00:00") else text


class ZonesTestCase(GnomonTestCase):
    server_args = None

    def setUp(self):
        super().setUp()
        self.server = self.new_server(env={"TZDIR": TZDIR})

    def preview(self, srv=None, **params):
        return (srv or self.server).json("GET", API + "/schedule/preview?" + urllib.parse.urlencode(params))

    def preview_ok(self, **params):
        status, body = self.preview(**params)
        self.assertEqual(status, 200, (params, body))
        self.assertEqual(len(body["times"]), len(body["utc"]))
        return body


class SystemTzDatabase(ZonesTestCase):
    """Fire times against Python's zoneinfo reading the same files."""

    def check_printed(self, zi, local, utc, what):
        """The local text is the UTC instant in the zone, as zoneinfo sees it."""
        instant = parse_instant(utc)
        self.assertEqual(local, printed(instant.astimezone(zi)), what)

    def test_daily_wall_clock_times(self):
        """P1D at 00:30-03:30 for 800 days from several years: each fire is that wall-clock time in the zone
        (fold 0: the earlier instant in a repeated hour, moved forward by the gap in a skipped one)."""
        checked = 0
        for name in ZONES:
            zi = system_zone(name)
            for year in YEARS:
                for wall in WALL_TIMES:
                    hh, mm = map(int, wall.split(":"))
                    body = self.preview_ok(schedule="R/%d-01-01T%s:00/P1D" % (year, wall), tz=name, count=800)
                    self.assertEqual(len(body["utc"]), 800, (name, year, wall))
                    for i, (local, utc) in enumerate(zip(body["times"], body["utc"])):
                        what = (name, year, wall, i, local, utc)
                        day = datetime.date(year, 1, 1) + i * DAY
                        want = datetime.datetime(day.year, day.month, day.day, hh, mm, tzinfo=zi).astimezone(UTC)
                        self.assertEqual(parse_instant(utc), want, what)
                        self.check_printed(zi, local, utc, what)
                        checked += 1
        self.assertGreater(checked, 300000)

    def test_offsets_every_seven_hours(self):
        """PT7H for 1,000 fires (about 10 months) from several years, far ones included: every fire is
        printed with the zone's offset at that instant."""
        for name in ZONES:
            zi = system_zone(name)
            for year in YEARS + [9998]:
                body = self.preview_ok(schedule="R/%d-02-01T00:00:00Z/PT7H" % year, tz=name, count=1000)
                self.assertEqual(len(body["utc"]), 1000, (name, year))
                for local, utc in zip(body["times"], body["utc"]):
                    self.check_printed(zi, local, utc, (name, year, local, utc))

    def test_last_years_end_before_10000(self):
        for name in ("America/New_York", "Pacific/Kiritimati", "Etc/GMT+7"):
            zi = system_zone(name)
            body = self.preview_ok(schedule="R/9999-12-25T12:00:00/P1D", tz=name, count=20)
            self.assertTrue(1 <= len(body["utc"]) <= 7, body)
            for local, utc in zip(body["times"], body["utc"]):
                self.check_printed(zi, local, utc, (name, local, utc))
                self.assertTrue(local.startswith("9999-12-") and utc.startswith("9999-12-"), body)

    def vixie_fires(self, zi, first_day, hh, mm, n):
        """n fires of 'mm hh * * *' from first_day on, Vixie cron's way: a skipped time fires at the end of
        the gap (the transition), a repeated one once, at its first instant."""
        out, day = [], first_day
        while len(out) < n:
            naive = datetime.datetime(day.year, day.month, day.day, hh, mm)
            early = naive.replace(tzinfo=zi, fold=0).astimezone(UTC)
            if early.astimezone(zi).replace(tzinfo=None) == naive:
                out.append(early)
            else:
                # in a gap: fold 1 is before the transition, fold 0 after it; the transition to the minute
                t = naive.replace(tzinfo=zi, fold=1).astimezone(UTC)
                while (t + MINUTE).astimezone(zi).utcoffset() == t.astimezone(zi).utcoffset():
                    t += MINUTE
                out.append(t + MINUTE)
            day += DAY
        return out

    def test_daily_cron_from_now(self):
        """Fixed-time cron jobs for the next 1,000 days, Mexico City's April 2027 included."""
        for name in ZONES:
            zi = system_zone(name)
            for hh, mm in ((0, 30), (1, 30), (2, 30), (3, 15)):
                body = self.preview_ok(schedule="%d %d * * *" % (mm, hh), tz=name, count=1000)
                got = [parse_instant(u) for u in body["utc"]]
                want = self.vixie_fires(zi, got[0].astimezone(zi).date(), hh, mm, 1000)
                self.assertEqual(got, want, (name, hh, mm))
                for local, utc in zip(body["times"], body["utc"]):
                    self.check_printed(zi, local, utc, (name, local, utc))

    def test_mexico_city_has_no_dst_from_2023(self):
        body = self.preview_ok(schedule="R/%d-04-10T12:00:00/P1D" % NEXT_YEAR, tz="America/Mexico_City", count=2)
        self.assertEqual(body["times"], ["%d-04-10T12:00:00.000-06:00" % NEXT_YEAR,
                                         "%d-04-11T12:00:00.000-06:00" % NEXT_YEAR])

    def test_changed_zone_files_take_effect_on_restart(self):
        """The OS updating its tzdata changes fire times at the next start: here a private TZDIR whose zone
        file is replaced while the server runs."""
        tzdir = tempfile.mkdtemp(prefix="gnomon-tzdir-")
        self.addCleanup(shutil.rmtree, tzdir, True)
        os.makedirs(os.path.join(tzdir, "Test"))
        shutil.copy(os.path.join(TZDIR, "America/New_York"), os.path.join(tzdir, "Test/Zone"))
        srv = self.new_server(env={"TZDIR": tzdir})
        self.add_job(sched("local-noon", schedule="R/2030-07-01T12:00:00/P1D", scheduleTimeZone="Test/Zone"),
                     srv=srv)
        status, body = srv.json("GET", API + "/jobs/local-noon/next?count=1")
        self.assertEqual((status, body["zone"], body["next"][0]["utc"]), (200, "Test/Zone", "2030-07-01T16:00:00.000Z"))
        shutil.copy(os.path.join(TZDIR, "Asia/Tokyo"), os.path.join(tzdir, "Test/Zone"))
        status, body = srv.json("GET", API + "/jobs/local-noon/next?count=1")
        self.assertEqual(body["next"][0]["utc"], "2030-07-01T16:00:00.000Z", "read once, until the restart")
        srv.restart()
        status, body = srv.json("GET", API + "/jobs/local-noon/next?count=1")
        self.assertEqual(body["next"][0], {"utc": "2030-07-01T03:00:00.000Z", "local": "2030-07-01T12:00:00.000+09:00"})


class ChronosZones(ZonesTestCase):
    """What Chronos users wrote keeps meaning what it meant in Chronos."""

    def test_legacy_ids_as_joda_maps_them(self):
        for tz, zone, summer in (("EST", "America/New_York", "-04:00"), ("MST", "America/Denver", "-06:00"),
                                 ("HST", "Pacific/Honolulu", "-10:00"), ("PST", "America/Los_Angeles", "-07:00"),
                                 ("BST", "Asia/Dhaka", "+06:00"), ("IST", "Asia/Kolkata", "+05:30"),
                                 ("ECT", "CET", "+02:00")):
            body = self.preview_ok(schedule="R1/2030-07-01T12:00:00/P1D", tz=tz)
            self.assertEqual((body["timeZone"], body["times"]), (zone, ["2030-07-01T12:00:00.000" + summer]))
        self.add_job(sched("est-job", schedule="R/2030-07-01T09:00:00/P1D", scheduleTimeZone="EST"))
        self.assertEqual(self.get_job("est-job")["scheduleTimeZone"], "EST", "the job keeps what was posted")
        status, body = self.server.json("GET", API + "/jobs/est-job/next?count=1")
        self.assertEqual((body["zone"], body["next"][0]["utc"]), ("America/New_York", "2030-07-01T13:00:00.000Z"))

    def test_start_in_a_repeated_hour(self):
        for schedule, first in (("R/2030-10-27T01:30:00/P1D", "2030-10-27T01:30:00.000Z"),
                                ("R/2030-10-27T01:30:00Z/P1D", "2030-10-27T01:30:00.000Z"),
                                ("R/2030-10-27T01:30:00+01:00/P1D", "2030-10-27T00:30:00.000Z"),
                                ("R/2030-10-27T01:30:00+05:00/P1D", "2030-10-27T00:30:00.000Z")):
            body = self.preview_ok(schedule=schedule, tz="Europe/London", count=2)
            self.assertEqual(body["utc"], [first, "2030-10-28T01:30:00.000Z"], schedule)

    def test_names_that_are_not_zones(self):
        for tz in ("../../etc/passwd", "/etc/passwd", "/usr/share/zoneinfo/UTC", "zone.tab", "tzdata.zi",
                   "posixrules", "right/UTC", "Europe/../UTC", "Mars/Olympus"):
            status, body = self.preview(schedule="@daily", tz=tz)
            self.assertBadRequest(status, body, "scheduleTimeZone: unknown time zone '%s'" % tz)
            status, body = self.post_job(sched("bad-zone", schedule="@daily", scheduleTimeZone=tz))
            self.assertBadRequest(status, body, "scheduleTimeZone: unknown time zone '%s'" % tz)

    def test_start_after_9999_in_utc_is_refused(self):
        text = "R/9999-12-31T23:59:59Z/PT1S"
        message = "schedule: start date '9999-12-31T23:59:59Z' is after the year 9999 in UTC in '%s'" % text
        status, body = self.preview(schedule=text, tz="PST")
        self.assertBadRequest(status, body, message)
        status, body = self.post_job(sched("too-late", schedule=text, scheduleTimeZone="PST"))
        self.assertBadRequest(status, body, message)
        body = self.preview_ok(schedule=text)
        self.assertEqual(body["utc"], ["9999-12-31T23:59:59.000Z"])
        body = self.preview_ok(schedule="R/9999-12-31T15:59:59/PT1S", tz="PST", count=5)
        self.assertEqual(body["times"], ["9999-12-31T15:59:59.000-08:00"])


class NegativeFixedOffsets(ZonesTestCase):

    def test_cron_preview_in_fixed_negative_zones(self):
        for tz in ("Etc/GMT+7", "America/Phoenix", "Pacific/Honolulu", "GMT-07:00"):
            for expr in ("0 1 * * *", "@yearly", "*/30 * * * *"):
                status, body = self.preview(schedule=expr, tz=tz, count=3)
                self.assertEqual(status, 200, (tz, expr, body))
                self.assertEqual(len(body["times"]), 3, body)
        status, body = self.preview(schedule="0 1 * * *", tz="Etc/GMT+7", count=2)
        for local in body["times"]:
            self.assertTrue(local.endswith("T01:00:00.000-07:00"), body)

    def test_stored_yearly_job_in_phoenix_survives_restarts(self):
        self.add_job(sched("yearly-phoenix", schedule="@yearly", scheduleTimeZone="America/Phoenix"))
        self.add_job(sched("daily-gmt7", schedule="0 1 * * *", scheduleTimeZone="Etc/GMT+7"))
        for _ in range(2):
            self.server.restart()
            status, body = self.server.json("GET", API + "/jobs/yearly-phoenix/next?count=2")
            self.assertEqual(status, 200, body)
            self.assertEqual([n["local"][4:] for n in body["next"]], ["-01-01T00:00:00.000-07:00"] * 2, body)
            status, body = self.server.json("GET", API + "/jobs/daily-gmt7/next?count=1")
            self.assertEqual(status, 200, body)
            self.assertTrue(body["next"][0]["local"].endswith("T01:00:00.000-07:00"), body)


if __name__ == "__main__":
    main()
