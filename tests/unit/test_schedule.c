/* Schedule parsing, errors, the Chronos rewrite, zones and printing. Expected instants are written by hand
 * from the calendar and known zone rules, and converted with libc's timegm, not with the module. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "schedule/schedule.h"
#include "schedule_times.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define ALL_STARS (SCHEDULE_F_MIN_STAR | SCHEDULE_F_HOUR_STAR | SCHEDULE_F_MDAY_STAR | SCHEDULE_F_WDAY_STAR)
#define DAY_STARS (SCHEDULE_F_MDAY_STAR | SCHEDULE_F_WDAY_STAR)

#define NOW_TEXT "2024-05-15T10:20:30.123Z"

static void test_struct_is_small(void **state)
{
	(void)state;
	_Static_assert(sizeof(struct schedule) <= 64, "struct schedule must stay small");
	assert_int_equal(sizeof(struct schedule), 64);
}

struct parse_ok {
	const char *sched, *tz;
	int64_t repeat;
	const char *start; /* NULL: now - 1 s */
	const char *period;
	const char *zone;
};

static const struct parse_ok parse_ok_rows[] = {
	/* reference 7.1 */
	{ "R5/2008-03-01T13:00:00Z/P1D", NULL, 5, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01T13:00:00Z/P1D", NULL, -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R1//P1D", NULL, 1, NULL, "P1D", "UTC" },
	{ "R1//P", NULL, 1, NULL, "PT0S", "UTC" },
	{ "R/2008-03-01T13:00:00Z/P1D", "BST", -1, "2008-03-01T13:00:00+06:00", "P1D", "Asia/Dhaka" },
	{ "R/2008-03-01T13:00:00Z/P1D", "PST", -1, "2008-03-01T13:00:00-08:00", "P1D", "America/Los_Angeles" },
	{ "R/2008-03-01T13:00:00Z/P1D", "Europe/Paris", -1, "2008-03-01T13:00:00+01:00", "P1D", "Europe/Paris" },
	{ "R/2008-03-01T13:00:00-04:00/P1D", "PST", -1, "2008-03-01T13:00:00-08:00", "P1D", "America/Los_Angeles" },
	{ "R/2008-03-01/P1D", "PST", -1, "2008-03-01T00:00:00-08:00", "P1D", "America/Los_Angeles" },
	/* legacy IDs in summer, as Joda-Time maps them: PST and EST have DST, BST (Dhaka) stays +06:00 */
	{ "R/2008-07-01T13:00:00Z/P1D", "PST", -1, "2008-07-01T13:00:00-07:00", "P1D", "America/Los_Angeles" },
	{ "R/2008-07-01T13:00:00Z/P1D", "EST", -1, "2008-07-01T13:00:00-04:00", "P1D", "America/New_York" },
	{ "R/2008-07-01T13:00:00Z/P1D", "BST", -1, "2008-07-01T13:00:00+06:00", "P1D", "Asia/Dhaka" },
	{ "R/2008-07-01T13:00:00Z/P1D", "America/New_York", -1, "2008-07-01T13:00:00-04:00", "P1D",
		"America/New_York" },
	{ "R/2008-03-01T13:00:00Z/P1D", "GMT+05:30", -1, "2008-03-01T13:00:00+05:30", "P1D", "GMT+05:30" },
	{ "R/2008-03-01T13:00:00Z/P1D", "GMT-8", -1, "2008-03-01T13:00:00-08:00", "P1D", "GMT-08:00" },
	{ "R/2008-03-01T13:00:00Z/P1D", "UTC", -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01T13:00:00Z/P1D", "Etc/UTC", -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	/* no zone: the string's offset is the zone, none means UTC */
	{ "R/2008-03-01T13:00:00/P1D", NULL, -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01T13:00:00/P1D", "", -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01T13:30:00+05:30/P1D", NULL, -1, "2008-03-01T08:00:00Z", "P1D", "GMT+05:30" },
	{ "R/2008-03-01T13:00-0530/P1D", NULL, -1, "2008-03-01T18:30:00Z", "P1D", "GMT-05:30" },
	{ "R/2008-03-01T13+02/P1D", NULL, -1, "2008-03-01T11:00:00Z", "P1D", "GMT+02:00" },
	{ "R/2008-03-01T13:00:00+00:00/P1D", NULL, -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01T13:00:00.000-08:00/P1D", NULL, -1, "2008-03-01T21:00:00Z", "P1D", "GMT-08:00" },
	/* fractions: on the last element, '.' or ',', any digits, truncated to ms */
	{ "R/2008-03-01T13:00:00.5Z/PT1M", NULL, -1, "2008-03-01T13:00:00.500Z", "PT1M", "UTC" },
	{ "R/2008-03-01T13:00:00,123456789Z/PT1M", NULL, -1, "2008-03-01T13:00:00.123Z", "PT1M", "UTC" },
	{ "R/2008-03-01T13:00:00.999999999999Z/PT1M", NULL, -1, "2008-03-01T13:00:00.999Z", "PT1M", "UTC" },
	{ "R/2008-03-01T13.5Z/P1D", NULL, -1, "2008-03-01T13:30:00Z", "P1D", "UTC" },
	{ "R/2008-03-01T13:30.25Z/P1D", NULL, -1, "2008-03-01T13:30:15Z", "P1D", "UTC" },
	/* reduced dates, ordinal and week dates (Joda: a week without a day is its Thursday) */
	{ "R/2008/P1Y", NULL, -1, "2008-01-01T00:00:00Z", "P1Y", "UTC" },
	{ "R/2008-03/P1M", NULL, -1, "2008-03-01T00:00:00Z", "P1M", "UTC" },
	{ "R/2008-3-1T9:5:7Z/P1D", NULL, -1, "2008-03-01T09:05:07Z", "P1D", "UTC" },
	{ "R/2008-061/P1D", NULL, -1, "2008-03-01T00:00:00Z", "P1D", "UTC" },
	{ "R/2009-060/P1D", NULL, -1, "2009-03-01T00:00:00Z", "P1D", "UTC" },
	{ "R/2008-366T12:00Z/P1D", NULL, -1, "2008-12-31T12:00:00Z", "P1D", "UTC" },
	{ "R/2009-W01-1/P1W", NULL, -1, "2008-12-29T00:00:00Z", "P1W", "UTC" },
	{ "R/2009-W01-7/P1W", NULL, -1, "2009-01-04T00:00:00Z", "P1W", "UTC" },
	{ "R/2009-W53-7T10:00Z/P1W", NULL, -1, "2010-01-03T10:00:00Z", "P1W", "UTC" },
	{ "R/2009-W01/P1W", NULL, -1, "2009-01-01T00:00:00Z", "P1W", "UTC" },
	{ "R/2020-W10-3/P1W", NULL, -1, "2020-03-04T00:00:00Z", "P1W", "UTC" },
	{ "R/2008-03-01T/P1D", NULL, -1, "2008-03-01T00:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01TZ/P1D", NULL, -1, "2008-03-01T00:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01t13:00:00z/P1D", NULL, -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	/* periods are printed the Joda way: zero fields dropped, kept apart, zero is PT0S */
	{ "R/2008-03-01T13:00:00Z/P1Y2M3W4DT5H6M7.5S", NULL, -1, "2008-03-01T13:00:00Z", "P1Y2M3W4DT5H6M7.500S",
		"UTC" },
	{ "R/2008-03-01T13:00:00Z/PT60M", NULL, -1, "2008-03-01T13:00:00Z", "PT60M", "UTC" },
	{ "R/2008-03-01T13:00:00Z/PT36H", NULL, -1, "2008-03-01T13:00:00Z", "PT36H", "UTC" },
	{ "R/2008-03-01T13:00:00Z/P0Y0M1D", NULL, -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01T13:00:00Z/PT0.5S", NULL, -1, "2008-03-01T13:00:00Z", "PT0.500S", "UTC" },
	{ "R/2008-03-01T13:00:00Z/PT1,25S", NULL, -1, "2008-03-01T13:00:00Z", "PT1.250S", "UTC" },
	{ "R/2008-03-01T13:00:00Z/P1d", NULL, -1, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R/2008-03-01T13:00:00Z/P2147483647D", NULL, -1, "2008-03-01T13:00:00Z", "P2147483647D", "UTC" },
	{ "R5/2008-03-01T13:00:00Z/PT0S", NULL, 5, "2008-03-01T13:00:00Z", "PT0S", "UTC" },
	{ "R0/2008-03-01T13:00:00Z/P1D", NULL, 0, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R007/2008-03-01T13:00:00Z/P1D", NULL, 7, "2008-03-01T13:00:00Z", "P1D", "UTC" },
	{ "R999999999999999999/2008-03-01T13:00:00Z/P1D", NULL, 999999999999999999, "2008-03-01T13:00:00Z", "P1D",
		"UTC" },
	/* the earliest start accepted, and an offset that brings a 1969 wall clock into 1970 */
	{ "R/1970-01-01T00:00:01Z/P1D", NULL, -1, "1970-01-01T00:00:01Z", "P1D", "UTC" },
	{ "R/9999-12-31T23:59:59Z/PT1S", NULL, -1, "9999-12-31T23:59:59Z", "PT1S", "UTC" },
	{ "R/9999-12-31T15:59:59.999/PT1S", "PST", -1, "9999-12-31T23:59:59.999Z", "PT1S", "America/Los_Angeles" },
	{ "R/1969-12-31T23:00:00-02:00/P1D", NULL, -1, "1970-01-01T01:00:00Z", "P1D", "GMT-02:00" },
	/* wall clock in a DST gap moves forward; in a repeated hour the zone's offset at the instant the string
	 * names picks the copy (Joda's withZoneRetainFields; more in test_schedule_zones.c) */
	{ "R/2024-03-10T02:30:00/P1D", "America/New_York", -1, "2024-03-10T03:30:00-04:00", "P1D",
		"America/New_York" },
	{ "R/2024-11-03T01:30:00.000-05:00/PT1H", "America/New_York", -1, "2024-11-03T06:30:00Z", "PT1H",
		"America/New_York" },
	{ "R/2024-11-03T01:30:00.000-04:00/PT1H", "America/New_York", -1, "2024-11-03T05:30:00Z", "PT1H",
		"America/New_York" },
	{ "R/2024-11-03T01:30:00/PT1H", "America/New_York", -1, "2024-11-03T05:30:00Z", "PT1H",
		"America/New_York" },
	{ "R/2024-10-27T02:30:00/PT1H", "Europe/Paris", -1, "2024-10-27T01:30:00Z", "PT1H", "Europe/Paris" },
	{ "R/2024-10-27T02:30:00Z/PT1H", "Europe/Paris", -1, "2024-10-27T01:30:00Z", "PT1H", "Europe/Paris" },
	{ "R/2024-10-27T02:30:00+01:00/PT1H", "Europe/Paris", -1, "2024-10-27T01:30:00Z", "PT1H", "Europe/Paris" },
	{ "R/2024-10-27T02:30:00+02:00/PT1H", "Europe/Paris", -1, "2024-10-27T00:30:00Z", "PT1H", "Europe/Paris" },
};

static void test_parse_ok(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256], period[SCHEDULE_FORMAT_MAX];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(parse_ok_rows); i++) {
		const struct parse_ok *r = &parse_ok_rows[i];
		int64_t want = r->start ? T(r->start) : T(NOW_TEXT) - 1000;
		struct schedule s;
		const char *slash;

		err[0] = '\0';
		if (schedule_parse(z, r->sched, r->tz, T(NOW_TEXT), &s, err, sizeof(err)) != 0)
			fail_msg("row %zu '%s': %s", i, r->sched, err);
		assert_int_equal(schedule_kind(&s), SCHEDULE_ISO8601);
		if (schedule_start(&s) != want)
			fail_msg("row %zu '%s' tz %s: start %lld, want %lld (%s)", i, r->sched, r->tz ? r->tz : "-",
				(long long)schedule_start(&s), (long long)want, r->start ? r->start : "now-1s");
		assert_int_equal(schedule_repeat(&s), r->repeat);
		assert_int_equal(!!(s.flags & SCHEDULE_F_START_NOW), r->start == NULL);
		assert_string_equal(schedule_zone_name(z, s.zone), r->zone);
		assert_int_equal(schedule_format(z, &s, period, sizeof(period)), 0);
		slash = strrchr(period, '/');
		assert_non_null(slash);
		if (strcmp(slash + 1, r->period) != 0)
			fail_msg("row %zu '%s': period %s, want %s", i, r->sched, slash + 1, r->period);
	}
	schedule_zones_free(z);
}

struct parse_err {
	const char *sched, *tz;
	int rc;
	const char *msg;
};

static const struct parse_err parse_err_rows[] = {
	{ "FOO", NULL, -EINVAL,
		"schedule: cannot parse 'FOO': expected R[n]/[start]/period or a 5-field cron expression" },
	{ "", NULL, -EINVAL, "schedule: cannot parse '': expected R[n]/[start]/period or a 5-field cron expression" },
	{ "R5", NULL, -EINVAL, "schedule: cannot parse 'R5': expected R[n]/[start]/period or a 5-field cron expression" },
	{ " R/2008-03-01T13:00:00Z/P1D", NULL, -EINVAL,
		"schedule: cannot parse ' R/2008-03-01T13:00:00Z/P1D': expected R[n]/[start]/period or a 5-field cron "
		"expression" },
	{ "R/2008-03-01T13:00:00Z", "PST", -EINVAL, "schedule: period missing in 'R/2008-03-01T13:00:00Z'" },
	{ "R/2008-03-01T13:00:00Z/", NULL, -EINVAL, "schedule: period missing in 'R/2008-03-01T13:00:00Z/'" },
	{ "R-1/2008-03-01T13:00:00Z/P1D", NULL, -EINVAL,
		"schedule: repetition count must be R or Rn with n >= 0 in 'R-1/2008-03-01T13:00:00Z/P1D'" },
	{ "Rx/2008-03-01T13:00:00Z/P1D", NULL, -EINVAL,
		"schedule: repetition count must be R or Rn with n >= 0 in 'Rx/2008-03-01T13:00:00Z/P1D'" },
	{ "R99999999999999999999/2008-03-01T13:00:00Z/P1D", NULL, -EINVAL,
		"schedule: repetition count too large in 'R99999999999999999999/2008-03-01T13:00:00Z/P1D'" },
	{ "R/2008-03-01T13:00:00Z/PT", NULL, -EINVAL,
		"schedule: invalid period 'PT' in 'R/2008-03-01T13:00:00Z/PT': 'T' must be followed by hours, minutes "
		"or seconds" },
	{ "R/2008-03-01T13:00:00Z/P1DT", NULL, -EINVAL,
		"schedule: invalid period 'P1DT' in 'R/2008-03-01T13:00:00Z/P1DT': 'T' must be followed by hours, "
		"minutes or seconds" },
	{ "R/2008-03-01T13:00:00Z/P-1D", NULL, -EINVAL,
		"schedule: invalid period 'P-1D' in 'R/2008-03-01T13:00:00Z/P-1D': negative values are not allowed" },
	{ "R/2008-03-01T13:00:00Z/PT-5M", NULL, -EINVAL,
		"schedule: invalid period 'PT-5M' in 'R/2008-03-01T13:00:00Z/PT-5M': negative values are not allowed" },
	{ "R/2008-03-01T13:00:00Z/P1H", NULL, -EINVAL,
		"schedule: invalid period 'P1H' in 'R/2008-03-01T13:00:00Z/P1H': hours, minutes and seconds need a 'T' "
		"(PT1H)" },
	{ "R/2008-03-01T13:00:00Z/PT1D", NULL, -EINVAL,
		"schedule: invalid period 'PT1D' in 'R/2008-03-01T13:00:00Z/PT1D': after 'T' only H, M and S are "
		"allowed" },
	{ "R/2008-03-01T13:00:00Z/P1D1Y", NULL, -EINVAL,
		"schedule: invalid period 'P1D1Y' in 'R/2008-03-01T13:00:00Z/P1D1Y': fields must appear once each, in "
		"the order Y M W D T H M S" },
	{ "R/2008-03-01T13:00:00Z/P1D1D", NULL, -EINVAL,
		"schedule: invalid period 'P1D1D' in 'R/2008-03-01T13:00:00Z/P1D1D': fields must appear once each, in "
		"the order Y M W D T H M S" },
	{ "R/2008-03-01T13:00:00Z/P1.5D", NULL, -EINVAL,
		"schedule: invalid period 'P1.5D' in 'R/2008-03-01T13:00:00Z/P1.5D': only seconds may have a fraction" },
	{ "R/2008-03-01T13:00:00Z/PT1.S", NULL, -EINVAL,
		"schedule: invalid period 'PT1.S' in 'R/2008-03-01T13:00:00Z/PT1.S': a fraction needs digits after the "
		"separator" },
	{ "R/2008-03-01T13:00:00Z/P1", NULL, -EINVAL,
		"schedule: invalid period 'P1' in 'R/2008-03-01T13:00:00Z/P1': a number needs a designator (Y, M, W, "
		"D, H, M or S)" },
	{ "R/2008-03-01T13:00:00Z/P2147483648D", NULL, -EINVAL,
		"schedule: invalid period 'P2147483648D' in 'R/2008-03-01T13:00:00Z/P2147483648D': value too large" },
	{ "R/2008-03-01T13:00:00Z/1D", NULL, -EINVAL,
		"schedule: invalid period '1D' in 'R/2008-03-01T13:00:00Z/1D': expected PnYnMnWnDTnHnMnS" },
	{ "R/2008-03-01T13:00:00Z/p1d", NULL, -EINVAL,
		"schedule: invalid period 'p1d' in 'R/2008-03-01T13:00:00Z/p1d': expected PnYnMnWnDTnHnMnS" },
	{ "R/2008-03-01T13:00:00Z/PXYZ", NULL, -EINVAL,
		"schedule: invalid period 'PXYZ' in 'R/2008-03-01T13:00:00Z/PXYZ': expected PnYnMnWnDTnHnMnS" },
	{ "R/2008-03-01T13:00:00Z/P1D ", NULL, -EINVAL,
		"schedule: invalid period 'P1D ' in 'R/2008-03-01T13:00:00Z/P1D ': expected PnYnMnWnDTnHnMnS" },
	{ "R/2008-13-01/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-13-01' in 'R/2008-13-01/P1D': month must be 1-12" },
	{ "R/2008-02-30/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-02-30' in 'R/2008-02-30/P1D': day of month out of range" },
	{ "R/2009-02-29/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2009-02-29' in 'R/2009-02-29/P1D': day of month out of range" },
	{ "R/2009-366/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2009-366' in 'R/2009-366/P1D': day of year out of range" },
	{ "R/2010-W53/P1W", NULL, -EINVAL,
		"schedule: invalid start date '2010-W53' in 'R/2010-W53/P1W': week number out of range" },
	{ "R/2009-W01-8/P1W", NULL, -EINVAL,
		"schedule: invalid start date '2009-W01-8' in 'R/2009-W01-8/P1W': day of week must be 1-7" },
	{ "R/2008-03-01T24:00/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-03-01T24:00' in 'R/2008-03-01T24:00/P1D': hour must be 0-23" },
	{ "R/2008-03-01T13:60/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-03-01T13:60' in 'R/2008-03-01T13:60/P1D': minute must be 0-59" },
	{ "R/2008-03-01T13:00:61/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-03-01T13:00:61' in 'R/2008-03-01T13:00:61/P1D': second must be "
		"0-59" },
	{ "R/2008-03-01T13:00:00+24:00/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-03-01T13:00:00+24:00' in 'R/2008-03-01T13:00:00+24:00/P1D': offset "
		"out of range" },
	{ "R/2008-03-01T13:00:00+5/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-03-01T13:00:00+5' in 'R/2008-03-01T13:00:00+5/P1D': offset must be "
		"Z, +HH, +HH:mm or +HHmm" },
	{ "R/08-03-01/P1D", NULL, -EINVAL,
		"schedule: invalid start date '08-03-01' in 'R/08-03-01/P1D': expected a 4-digit year" },
	{ "R/2008-03-01 13:00/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-03-01 13:00' in 'R/2008-03-01 13:00/P1D': unexpected text after "
		"the date and time" },
	{ "R/2008-03-01Z/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-03-01Z' in 'R/2008-03-01Z/P1D': unexpected text after the date and "
		"time" },
	{ "R/20080301T130000Z/P1D", NULL, -EINVAL,
		"schedule: invalid start date '20080301T130000Z' in 'R/20080301T130000Z/P1D': expected a 4-digit year" },
	{ "R/2008-03-01T13:00:00.Z/P1D", NULL, -EINVAL,
		"schedule: invalid start date '2008-03-01T13:00:00.Z' in 'R/2008-03-01T13:00:00.Z/P1D': a fraction "
		"needs digits after the separator" },
	{ "R/now/P1D", NULL, -EINVAL, "schedule: invalid start date 'now' in 'R/now/P1D': expected a 4-digit year" },
	{ "R/1969-12-31T00:00:00Z/P1D", NULL, -EINVAL,
		"schedule: start date '1969-12-31T00:00:00Z' is before 1970 in 'R/1969-12-31T00:00:00Z/P1D'" },
	{ "R/1970-01-01T00:00:00.999Z/P1D", NULL, -EINVAL,
		"schedule: start date '1970-01-01T00:00:00.999Z' is before 1970 in 'R/1970-01-01T00:00:00.999Z/P1D'" },
	/* a wall-clock start in 9999 that a zone west of UTC puts in 10000 (its fire times could not be shown) */
	{ "R/9999-12-31T23:59:59Z/PT1S", "PST", -EINVAL,
		"schedule: start date '9999-12-31T23:59:59Z' is after the year 9999 in UTC in "
		"'R/9999-12-31T23:59:59Z/PT1S'" },
	{ "R/9999-12-31T20:00:00-05:00/P1D", NULL, -EINVAL,
		"schedule: start date '9999-12-31T20:00:00-05:00' is after the year 9999 in UTC in "
		"'R/9999-12-31T20:00:00-05:00/P1D'" },
	{ "R/1970-01-01T05:00:00/P1D", "Asia/Tokyo", -EINVAL,
		"schedule: start date '1970-01-01T05:00:00' is before 1970 in 'R/1970-01-01T05:00:00/P1D'" },
	{ "R//P", NULL, -EINVAL,
		"schedule: infinite repetition with a zero period in 'R//P' would run forever: use a non-zero period or "
		"Rn" },
	{ "R/2008-03-01T13:00:00Z/PT0S", NULL, -EINVAL,
		"schedule: infinite repetition with a zero period in 'R/2008-03-01T13:00:00Z/PT0S' would run forever: "
		"use a non-zero period or Rn" },
	{ "R/2008-03-01T13:00:00Z/P0D", NULL, -EINVAL,
		"schedule: infinite repetition with a zero period in 'R/2008-03-01T13:00:00Z/P0D' would run forever: "
		"use a non-zero period or Rn" },
	/* zones: unknown ones are rejected (Chronos silently used GMT) */
	{ "R/2008-03-01T13:00:00Z/P1D", "Mars/Olympus", -ENOENT, "scheduleTimeZone: unknown time zone 'Mars/Olympus'" },
	{ "R/2008-03-01T13:00:00Z/P1D", "utc", -ENOENT, "scheduleTimeZone: unknown time zone 'utc'" },
	{ "R/2008-03-01T13:00:00Z/P1D", "Etc/Unknown", -ENOENT, "scheduleTimeZone: unknown time zone 'Etc/Unknown'" },
	{ "R/2008-03-01T13:00:00Z/P1D", "GMT+25", -ENOENT, "scheduleTimeZone: unknown time zone 'GMT+25'" },
	{ "R/2008-03-01T13:00:00Z/P1D", "UTC+01:00", -ENOENT, "scheduleTimeZone: unknown time zone 'UTC+01:00'" },
	{ "R/2008-03-01T13:00:00Z/P1D", "Europe/Paris\n", -ENOENT, "scheduleTimeZone: unknown time zone 'Europe/Paris?'" },
	{ "* * * * *", "Mars/Olympus", -ENOENT, "scheduleTimeZone: unknown time zone 'Mars/Olympus'" },
	{ "FOO", "Mars/Olympus", -EINVAL,
		"schedule: cannot parse 'FOO': expected R[n]/[start]/period or a 5-field cron expression" },
	/* cron */
	{ "60 * * * *", NULL, -EINVAL, "schedule: cron minute field '60': value 60 out of range 0-59 in '60 * * * *'" },
	{ "* 24 * * *", NULL, -EINVAL, "schedule: cron hour field '24': value 24 out of range 0-23 in '* 24 * * *'" },
	{ "* * 0 * *", NULL, -EINVAL,
		"schedule: cron day-of-month field '0': value 0 out of range 1-31 in '* * 0 * *'" },
	{ "* * 32 * *", NULL, -EINVAL,
		"schedule: cron day-of-month field '32': value 32 out of range 1-31 in '* * 32 * *'" },
	{ "* * * 13 *", NULL, -EINVAL, "schedule: cron month field '13': value 13 out of range 1-12 in '* * * 13 *'" },
	{ "* * * FOO *", NULL, -EINVAL, "schedule: cron month field 'FOO': unknown name 'FOO' in '* * * FOO *'" },
	{ "* * * * 8", NULL, -EINVAL, "schedule: cron day-of-week field '8': value 8 out of range 0-7 in '* * * * 8'" },
	{ "* * * * MONDAY", NULL, -EINVAL,
		"schedule: cron day-of-week field 'MONDAY': unknown name 'MONDAY' in '* * * * MONDAY'" },
	{ "* * JAN * *", NULL, -EINVAL,
		"schedule: cron day-of-month field 'JAN': expected a number in '* * JAN * *'" },
	{ "a b c d e", NULL, -EINVAL, "schedule: cron minute field 'a': expected a number in 'a b c d e'" },
	{ "5-1 * * * *", NULL, -EINVAL, "schedule: cron minute field '5-1': range 5-1 is reversed in '5-1 * * * *'" },
	{ "*/0 * * * *", NULL, -EINVAL, "schedule: cron minute field '*/0': step must be at least 1 in '*/0 * * * *'" },
	{ "*/ * * * *", NULL, -EINVAL, "schedule: cron minute field '*/': expected a step after '/' in '*/ * * * *'" },
	{ "5/10 * * * *", NULL, -EINVAL,
		"schedule: cron minute field '5/10': a step needs a range or '*' (e.g. 5-59/10) in '5/10 * * * *'" },
	{ "1,,2 * * * *", NULL, -EINVAL, "schedule: cron minute field '1,,2': empty list element in '1,,2 * * * *'" },
	{ "1, * * * *", NULL, -EINVAL, "schedule: cron minute field '1,': empty list element in '1, * * * *'" },
	{ "1-2-3 * * * *", NULL, -EINVAL, "schedule: cron minute field '1-2-3': unexpected '-' in '1-2-3 * * * *'" },
	{ "* * * *", NULL, -EINVAL,
		"schedule: cron expression needs 5 fields (minute hour day-of-month month day-of-week), found 4 in "
		"'* * * *'" },
	{ "0 0 * * * *", NULL, -EINVAL,
		"schedule: cron expressions with seconds or years (6 or 7 fields) are not supported in '0 0 * * * *': "
		"use minute hour day-of-month month day-of-week" },
	{ "0 0 12 * * ? 2024", NULL, -EINVAL,
		"schedule: cron expressions with seconds or years (6 or 7 fields) are not supported in "
		"'0 0 12 * * ? 2024': use minute hour day-of-month month day-of-week" },
	{ "1 2 3 4 5 6 7 8", NULL, -EINVAL,
		"schedule: cron expression needs 5 fields (minute hour day-of-month month day-of-week), found 8 in "
		"'1 2 3 4 5 6 7 8'" },
	{ "@reboot", NULL, -EINVAL, "schedule: '@reboot' is not supported: gnomon has no boot-time trigger" },
	{ "@every 5m", NULL, -EINVAL,
		"schedule: unknown cron macro '@every 5m' (expected @yearly, @annually, @monthly, @weekly, @daily, "
		"@midnight or @hourly)" },
	{ "@daily 5", NULL, -EINVAL,
		"schedule: unknown cron macro '@daily 5' (expected @yearly, @annually, @monthly, @weekly, @daily, "
		"@midnight or @hourly)" },
	{ "0 0 30 2 *", NULL, -EINVAL, "schedule: cron day-of-month never occurs in the selected months in '0 0 30 2 *'" },
	{ "0 0 31 4,6,9,11 *", NULL, -EINVAL,
		"schedule: cron day-of-month never occurs in the selected months in '0 0 31 4,6,9,11 *'" },
};

static void test_parse_errors(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[512];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(parse_err_rows); i++) {
		const struct parse_err *r = &parse_err_rows[i];
		struct schedule s;
		int rc = schedule_parse(z, r->sched, r->tz, T(NOW_TEXT), &s, err, sizeof(err));

		if (rc != r->rc)
			fail_msg("row %zu '%s': rc %d, want %d (%s)", i, r->sched, rc, r->rc, rc ? err : "ok");
		if (strcmp(err, r->msg) != 0)
			fail_msg("row %zu: message\n  got  %s\n  want %s", i, err, r->msg);
	}
	schedule_zones_free(z);
}

static void test_error_message_is_bounded(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char big[4096], err[64];
	struct schedule s;
	(void)state;

	memset(big, 'X', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(schedule_parse(z, big, NULL, 0, &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	assert_int_equal(schedule_parse(z, big, NULL, 0, &s, NULL, 0), -EINVAL);
	big[0] = 'R';
	big[1] = '/';
	assert_int_equal(schedule_parse(z, big, NULL, 0, &s, err, sizeof(err)), -EINVAL);
	assert_int_equal(schedule_parse(z, "R/2008-03-01T13:00:00Z/P1D", big, 0, &s, err, sizeof(err)), -ENOENT);
	schedule_zones_free(z);
}

struct cron_row {
	const char *expr;
	uint64_t minutes;
	uint32_t hours, mdays;
	uint16_t months;
	uint8_t wdays, flags;
};

#define ALL_MIN ((UINT64_C(1) << 60) - 1)
#define ALL_HOURS ((UINT32_C(1) << 24) - 1)
#define ALL_MDAYS (((UINT32_C(1) << 31) - 1) << 1)
#define ALL_MONTHS ((uint16_t)(((1u << 12) - 1) << 1))
#define BIT(n) (UINT64_C(1) << (n))

static const struct cron_row cron_rows[] = {
	{ "* * * * *", ALL_MIN, ALL_HOURS, ALL_MDAYS, ALL_MONTHS, 0x7F, ALL_STARS },
	{ "*/15 * * * *", BIT(0) | BIT(15) | BIT(30) | BIT(45), ALL_HOURS, ALL_MDAYS, ALL_MONTHS, 0x7F, ALL_STARS },
	{ "1-10/2 * * * *", BIT(1) | BIT(3) | BIT(5) | BIT(7) | BIT(9), ALL_HOURS, ALL_MDAYS, ALL_MONTHS, 0x7F,
		ALL_STARS & ~SCHEDULE_F_MIN_STAR },
	{ "0 9 * * 1-5", BIT(0), 1u << 9, ALL_MDAYS, ALL_MONTHS, 0x3E, SCHEDULE_F_MDAY_STAR },
	{ "0 9 * * MON-FRI", BIT(0), 1u << 9, ALL_MDAYS, ALL_MONTHS, 0x3E, SCHEDULE_F_MDAY_STAR },
	{ "0 9 * * mon-Fri", BIT(0), 1u << 9, ALL_MDAYS, ALL_MONTHS, 0x3E, SCHEDULE_F_MDAY_STAR },
	{ "0 0 * * 7", BIT(0), 1, ALL_MDAYS, ALL_MONTHS, 0x01, SCHEDULE_F_MDAY_STAR },
	{ "0 0 * * 0", BIT(0), 1, ALL_MDAYS, ALL_MONTHS, 0x01, SCHEDULE_F_MDAY_STAR },
	{ "0 0 * * 5-7", BIT(0), 1, ALL_MDAYS, ALL_MONTHS, 0x61, SCHEDULE_F_MDAY_STAR },
	{ "0 0 * * SAT,sun", BIT(0), 1, ALL_MDAYS, ALL_MONTHS, 0x41, SCHEDULE_F_MDAY_STAR },
	{ "0 0 1 JAN,jul *", BIT(0), 1, 1u << 1, (1u << 1) | (1u << 7), 0x7F, SCHEDULE_F_WDAY_STAR },
	{ "0 0 1 jan-MAR/2 *", BIT(0), 1, 1u << 1, (1u << 1) | (1u << 3), 0x7F, SCHEDULE_F_WDAY_STAR },
	{ "0 0 */10 * *", BIT(0), 1, (1u << 1) | (1u << 11) | (1u << 21) | (1u << 31), ALL_MONTHS, 0x7F, DAY_STARS },
	{ "59 23 31 12 *", BIT(59), 1u << 23, 1u << 31, 1u << 12, 0x7F, SCHEDULE_F_WDAY_STAR },
	{ "0 0 13 * FRI", BIT(0), 1, 1u << 13, ALL_MONTHS, 1u << 5, 0 },
	{ "0,5,10-12 0 * * *", BIT(0) | BIT(5) | BIT(10) | BIT(11) | BIT(12), 1, ALL_MDAYS, ALL_MONTHS, 0x7F,
		DAY_STARS },
	{ "0 */100 * * *", BIT(0), 1, ALL_MDAYS, ALL_MONTHS, 0x7F, SCHEDULE_F_HOUR_STAR | DAY_STARS },
	{ "  0\t12  * * *  ", BIT(0), 1u << 12, ALL_MDAYS, ALL_MONTHS, 0x7F, DAY_STARS },
	{ "0 0 29 2 *", BIT(0), 1, 1u << 29, 1u << 2, 0x7F, SCHEDULE_F_WDAY_STAR },
	{ "0 0 31 4,5 *", BIT(0), 1, 1u << 31, (1u << 4) | (1u << 5), 0x7F, SCHEDULE_F_WDAY_STAR },
	{ "0 0 30 2 MON", BIT(0), 1, 1u << 30, 1u << 2, 1u << 1, 0 },
	{ "@yearly", BIT(0), 1, 1u << 1, 1u << 1, 0x7F, SCHEDULE_F_WDAY_STAR },
	{ "@annually", BIT(0), 1, 1u << 1, 1u << 1, 0x7F, SCHEDULE_F_WDAY_STAR },
	{ "@monthly", BIT(0), 1, 1u << 1, ALL_MONTHS, 0x7F, SCHEDULE_F_WDAY_STAR },
	{ "@weekly", BIT(0), 1, ALL_MDAYS, ALL_MONTHS, 0x01, SCHEDULE_F_MDAY_STAR },
	{ "@daily", BIT(0), 1, ALL_MDAYS, ALL_MONTHS, 0x7F, DAY_STARS },
	{ "@midnight", BIT(0), 1, ALL_MDAYS, ALL_MONTHS, 0x7F, DAY_STARS },
	{ "@hourly", BIT(0), ALL_HOURS, ALL_MDAYS, ALL_MONTHS, 0x7F, SCHEDULE_F_HOUR_STAR | DAY_STARS },
	{ "@HOURLY", BIT(0), ALL_HOURS, ALL_MDAYS, ALL_MONTHS, 0x7F, SCHEDULE_F_HOUR_STAR | DAY_STARS },
};

static void test_cron_parse(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(cron_rows); i++) {
		const struct cron_row *r = &cron_rows[i];
		struct schedule s;

		if (schedule_parse(z, r->expr, NULL, 0, &s, err, sizeof(err)) != 0)
			fail_msg("row %zu '%s': %s", i, r->expr, err);
		assert_int_equal(schedule_kind(&s), SCHEDULE_CRON);
		if (s.u.cron.minutes != r->minutes || s.u.cron.hours != r->hours || s.u.cron.mdays != r->mdays ||
		    s.u.cron.months != r->months || s.u.cron.wdays != r->wdays || s.flags != r->flags)
			fail_msg("row %zu '%s': %llx %x %x %x %x flags %x", i, r->expr,
				(unsigned long long)s.u.cron.minutes, s.u.cron.hours, s.u.cron.mdays, s.u.cron.months,
				s.u.cron.wdays, s.flags);
		assert_int_equal(s.zone, SCHEDULE_ZONE_UTC);
		assert_int_equal(schedule_start(&s), SCHEDULE_NONE);
		assert_int_equal(schedule_repeat(&s), SCHEDULE_REPEAT_INFINITE);
	}
	schedule_zones_free(z);
}

struct rewrite_row {
	const char *sched, *tz, *now, *want;
};

/* Reference 7.2 with now = 2024-05-15T10:20:30.123Z, then more. */
static const struct rewrite_row rewrite_rows[] = {
	{ "R/2012-01-01T00:00:01.000Z/PT1M", NULL, NOW_TEXT, "R/2024-05-15T10:21:01.000Z/PT1M" },
	{ "R/2012-01-01T00:00:01.000Z/P1M", NULL, NOW_TEXT, "R/2024-06-01T00:00:01.000Z/P1M" },
	{ "R/2024-05-16T10:20:30.123Z/PT1M", NULL, NOW_TEXT, "R/2024-05-16T10:20:30.123Z/PT1M" },
	{ "R0/2024-05-14T10:20:30.123Z/PT0S", NULL, NOW_TEXT, "R0/2024-05-14T10:20:30.123Z/PT0S" }, /* gnomon: R0 */
	{ "R1/2024-05-14T10:20:30.123Z/PT0S", NULL, NOW_TEXT, "R0/2024-05-14T10:20:30.123Z/PT0S" },
	{ "R1/2024-05-15T10:20:30.123Z/P1D", NULL, NOW_TEXT, "R0/2024-05-15T10:20:30.123Z/P1D" },
	{ "R3/2024-05-15T10:20:30.123Z/P1D", NULL, NOW_TEXT, "R2/2024-05-15T10:20:30.123Z/P1D" },
	{ "R1/2024-05-15T10:20:30.123Z/PT1S", NULL, NOW_TEXT, "R0/2024-05-15T10:20:30.123Z/PT1S" },
	{ "R1/2024-05-14T10:20:30.123Z/PT1S", NULL, NOW_TEXT, "R0/2024-05-15T10:20:31.123Z/PT1S" },
	{ "R/2024-05-14T10:20:30.123Z/P1D", NULL, NOW_TEXT, "R/2024-05-16T10:20:30.123Z/P1D" },
	{ "R/2024-05-14T10:20:30.123Z/P1Y", NULL, NOW_TEXT, "R/2025-05-14T10:20:30.123Z/P1Y" },
	/* an empty start is now - 1 s, so a launch moves it by one period */
	{ "R1//P1D", NULL, NOW_TEXT, "R0/2024-05-16T10:20:29.123Z/P1D" },
	{ "R1//P", NULL, NOW_TEXT, "R0/2024-05-15T10:20:29.123Z/PT0S" },
	{ "R5//PT1H", NULL, NOW_TEXT, "R4/2024-05-15T11:20:29.123Z/PT1H" },
	/* many missed occurrences consume one repetition */
	{ "R10/2024-05-01T00:00:00Z/P1D", NULL, NOW_TEXT, "R9/2024-05-16T00:00:00.000Z/P1D" },
	{ "R/2024-05-15T00:00:00Z/PT60M", NULL, NOW_TEXT, "R/2024-05-15T11:00:00.000Z/PT60M" },
	{ "R/2024-05-15T10:20:30.122Z/PT0.001S", NULL, NOW_TEXT, "R/2024-05-15T10:20:30.124Z/PT0.001S" },
	/* printed in the zone, offset from the string ignored when a zone is given */
	{ "R/2008-03-01T13:00:00-04:00/P1D", "PST", NOW_TEXT, "R/2024-05-15T13:00:00.000-07:00/P1D" },
	{ "R/2008-03-01T13:00:00-04:00/P1D", NULL, NOW_TEXT, "R/2024-05-15T13:00:00.000-04:00/P1D" },
	{ "R/2008-03-01T13:00:00Z/P1D", "BST", NOW_TEXT, "R/2024-05-16T13:00:00.000+06:00/P1D" },
	{ "R/2008-03-01T13:00:00Z/P1D", "Europe/Paris", NOW_TEXT, "R/2024-05-15T13:00:00.000+02:00/P1D" },
	{ "R/2008-03-01T13:00:00Z/P1D", "Etc/UTC", NOW_TEXT, "R/2024-05-15T13:00:00.000Z/P1D" },
	{ "R/2008-03-01T13:00:00Z/P1D", "GMT+05:30", NOW_TEXT, "R/2024-05-16T13:00:00.000+05:30/P1D" },
	/* the second copy of a repeated hour is printed with its own offset, and reads back as that copy */
	{ "R/2024-11-03T00:30:00-04:00/PT1H", "America/New_York", "2024-11-03T05:45:00Z",
		"R/2024-11-03T01:30:00.000-05:00/PT1H" },
	{ "R/2024-11-03T01:30:00.000-05:00/PT1H", "America/New_York", "2024-11-03T06:45:00Z",
		"R/2024-11-03T02:30:00.000-05:00/PT1H" },
	/* wall-clock days across spring forward */
	{ "R/2024-03-09T12:00:00/P1D", "America/New_York", "2024-03-09T18:00:00Z",
		"R/2024-03-10T12:00:00.000-04:00/P1D" },
	/* cron is never rewritten */
	{ "*/5 * * * *", NULL, NOW_TEXT, "*/5 * * * *" },
	{ "@daily", "Europe/Paris", NOW_TEXT, "@daily" },
};

static void test_rewrite(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(rewrite_rows); i++) {
		const struct rewrite_row *r = &rewrite_rows[i];
		char *out = NULL;

		if (schedule_rewrite(z, r->sched, r->tz, T(r->now), &out, err, sizeof(err)) != 0)
			fail_msg("row %zu '%s': %s", i, r->sched, err);
		if (strcmp(out, r->want) != 0)
			fail_msg("row %zu '%s' at %s:\n  got  %s\n  want %s", i, r->sched, r->now, out, r->want);
		free(out);
	}
	schedule_zones_free(z);
}

static void test_rewrite_errors(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256], x[] = "x", *out = x;
	(void)state;

	assert_int_equal(schedule_rewrite(z, "R//P", NULL, 0, &out, err, sizeof(err)), -EINVAL);
	assert_null(out);
	assert_int_equal(schedule_rewrite(z, "R/9999-06-01T00:00:00Z/P1Y", NULL, T("9999-07-01T00:00:00Z"), &out, err,
		sizeof(err)), -ERANGE);
	assert_string_equal(err, "schedule: no next occurrence of 'R/9999-06-01T00:00:00Z/P1Y' before the year 10000");
	schedule_zones_free(z);
}

/* The parsed value is updated in place, as the engine will do, and matches the string path. */
static void test_skip_forward_in_place(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256], buf[SCHEDULE_FORMAT_MAX];
	struct schedule s;
	(void)state;

	assert_int_equal(schedule_parse(z, "R3/2024-05-01T09:00:00/P1W", "Europe/Paris", 0, &s, err, sizeof(err)), 0);
	assert_int_equal(schedule_skip_forward(z, &s, T("2024-05-15T10:00:00Z")), 0);
	assert_int_equal(schedule_format(z, &s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "R2/2024-05-22T09:00:00.000+02:00/P1W");
	assert_int_equal(schedule_skip_forward(z, &s, T("2024-05-15T10:00:00Z")), 0);
	assert_int_equal(schedule_format(z, &s, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "R1/2024-05-22T09:00:00.000+02:00/P1W");
	assert_int_equal(schedule_skip_forward(z, &s, T("2024-05-15T10:00:00Z")), 0);
	assert_int_equal(schedule_skip_forward(z, &s, T("2024-05-15T10:00:00Z")), 0);
	assert_int_equal(schedule_repeat(&s), 0);
	assert_int_equal(schedule_format(z, &s, buf, 10), -ENOSPC);

	assert_int_equal(schedule_parse(z, "R1//PT1M", NULL, T(NOW_TEXT), &s, err, sizeof(err)), 0);
	assert_true(s.flags & SCHEDULE_F_START_NOW);
	assert_int_equal(schedule_skip_forward(z, &s, T(NOW_TEXT)), 0);
	assert_false(s.flags & SCHEDULE_F_START_NOW);
	assert_int_equal(schedule_start(&s), T("2024-05-15T10:21:29.123Z"));

	assert_int_equal(schedule_parse(z, "0 * * * *", NULL, 0, &s, err, sizeof(err)), 0);
	assert_int_equal(schedule_skip_forward(z, &s, T(NOW_TEXT)), 0);
	assert_int_equal(schedule_format(z, &s, buf, sizeof(buf)), -EINVAL);
	schedule_zones_free(z);
}

struct instant_row {
	const char *zone, *utc, *want;
};

static const struct instant_row instant_rows[] = {
	{ "UTC", "1970-01-01T00:00:00Z", "1970-01-01T00:00:00.000Z" },
	{ "UTC", "2024-02-29T23:59:59.999Z", "2024-02-29T23:59:59.999Z" },
	{ "PST", "2008-03-01T13:00:00Z", "2008-03-01T05:00:00.000-08:00" },
	{ "PST", "2008-07-01T13:00:00Z", "2008-07-01T06:00:00.000-07:00" },
	{ "EST", "2008-07-01T13:00:00Z", "2008-07-01T09:00:00.000-04:00" },
	{ "BST", "2008-12-31T20:00:00Z", "2009-01-01T02:00:00.000+06:00" },
	{ "Europe/London", "2024-01-15T12:00:00Z", "2024-01-15T12:00:00.000Z" },
	{ "Europe/London", "2024-07-15T12:00:00Z", "2024-07-15T13:00:00.000+01:00" },
	{ "America/New_York", "2024-03-10T06:59:59.999Z", "2024-03-10T01:59:59.999-05:00" },
	{ "America/New_York", "2024-03-10T07:00:00Z", "2024-03-10T03:00:00.000-04:00" },
	{ "America/New_York", "2024-11-03T05:59:59.999Z", "2024-11-03T01:59:59.999-04:00" },
	{ "America/New_York", "2024-11-03T06:00:00Z", "2024-11-03T01:00:00.000-05:00" },
	{ "Australia/Lord_Howe", "2024-04-06T14:59:00Z", "2024-04-07T01:59:00.000+11:00" },
	{ "Australia/Lord_Howe", "2024-04-06T15:00:00Z", "2024-04-07T01:30:00.000+10:30" },
	{ "Australia/Lord_Howe", "2024-10-05T15:29:00Z", "2024-10-06T01:59:00.000+10:30" },
	{ "Australia/Lord_Howe", "2024-10-05T15:30:00Z", "2024-10-06T02:30:00.000+11:00" },
	{ "Asia/Kathmandu", "2024-01-01T00:00:00Z", "2024-01-01T05:45:00.000+05:45" },
	/* Liberia kept -00:44:30 until 1972: offsets with seconds print them, as Joda does */
	{ "Africa/Monrovia", "1971-01-01T00:00:00Z", "1970-12-31T23:15:30.000-00:44:30" },
	{ "UTC", "9999-12-31T23:59:59.999Z", "9999-12-31T23:59:59.999Z" },
};

static void test_format_instant(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char buf[SCHEDULE_INSTANT_MAX], err[128];
	uint16_t zone;
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(instant_rows); i++) {
		const struct instant_row *r = &instant_rows[i];

		assert_int_equal(schedule_zones_intern(z, r->zone, &zone, err, sizeof(err)), 0);
		assert_int_equal(schedule_format_instant(z, zone, T(r->utc), buf, sizeof(buf)), 0);
		if (strcmp(buf, r->want) != 0)
			fail_msg("row %zu %s in %s: got %s, want %s", i, r->utc, r->zone, buf, r->want);
	}
	assert_int_equal(schedule_format_instant(z, 0, T("2024-01-01T00:00:00Z"), buf, 10), -ENOSPC);
	assert_int_equal(schedule_format_instant(z, 0, T("9999-12-31T23:59:59Z") + 1000, buf, sizeof(buf)), -ERANGE);
	/* the ends of the range are no instants: an offset added to them must not overflow */
	assert_int_equal(schedule_zones_intern(z, "GMT+05:30", &zone, err, sizeof(err)), 0);
	assert_int_equal(schedule_format_instant(z, zone, SCHEDULE_NEVER, buf, sizeof(buf)), -ERANGE);
	assert_int_equal(schedule_zones_intern(z, "GMT-05:30", &zone, err, sizeof(err)), 0);
	assert_int_equal(schedule_format_instant(z, zone, SCHEDULE_NONE, buf, sizeof(buf)), -ERANGE);
	schedule_zones_free(z);
}

static void test_validate(void **state)
{
	char err[256];
	(void)state;

	assert_int_equal(schedule_validate("R/2008-03-01T13:00:00Z/P1D", "PST", 0, err, sizeof(err)), 0);
	assert_int_equal(schedule_validate("*/5 * * * *", "Europe/Paris", 0, err, sizeof(err)), 0);
	assert_int_equal(schedule_validate("R/2008-03-01T13:00:00Z/P1D", "Mars/Olympus", 0, err, sizeof(err)), -ENOENT);
	assert_int_equal(schedule_validate(NULL, NULL, 0, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_struct_is_small),
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_error_message_is_bounded),
		cmocka_unit_test(test_cron_parse),
		cmocka_unit_test(test_rewrite),
		cmocka_unit_test(test_rewrite_errors),
		cmocka_unit_test(test_skip_forward_in_place),
		cmocka_unit_test(test_format_instant),
		cmocka_unit_test(test_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
