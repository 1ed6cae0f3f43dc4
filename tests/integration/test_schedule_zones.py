"""Schedules in time zones as a user sees them through the API: zones with one negative offset (which overflowed
the cron code and aborted the sanitizer build, even at every start with such a job stored)."""

import os
import sys
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from gnomon_harness import GnomonTestCase, main, sched  # noqa: E402

API = "/api/v1"


class ZonesTestCase(GnomonTestCase):

    def preview(self, srv=None, **params):
        return (srv or self.server).json("GET", API + "/schedule/preview?" + urllib.parse.urlencode(params))


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
