/* Fire times: ISO periods and cron across DST, repetition limits, counts, and cross-checks (next against
 * previous, and wildcard cron against a brute-force scan with glibc's own time zone database). Expected
 * instants come from the calendar and the known 2024 transitions:
 *   America/New_York    2024-03-10 02:00 EST -> 03:00 EDT (07:00Z), 2024-11-03 02:00 EDT -> 01:00 EST (06:00Z)
 *   Europe/Paris        2024-03-31 02:00 -> 03:00 (01:00Z),         2024-10-27 03:00 -> 02:00 (01:00Z)
 *   Australia/Lord_Howe 2024-04-07 02:00 +11 -> 01:30 +10:30 (2024-04-06T15:00Z),
 *                       2024-10-06 02:00 +10:30 -> 02:30 +11 (2024-10-05T15:30Z)
 *   America/Sao_Paulo   2018-11-04 00:00 -03 -> 01:00 -02 (03:00Z) */
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
#define MAX_WANT 9

struct seq_row {
	const char *sched, *tz, *from;
	const char *want[MAX_WANT]; /* the next fire times after from, in order; "end": nothing follows */
};

static const struct seq_row seq_rows[] = {
	/* P1D keeps the wall clock, PT24H is elapsed time */
	{ "R/2024-03-09T12:00:00/P1D", "America/New_York", "2024-03-09T00:00:00Z",
		{ "2024-03-09T12:00:00-05:00", "2024-03-10T12:00:00-04:00", "2024-03-11T12:00:00-04:00" } },
	{ "R/2024-03-09T12:00:00/PT24H", "America/New_York", "2024-03-09T00:00:00Z",
		{ "2024-03-09T12:00:00-05:00", "2024-03-10T13:00:00-04:00", "2024-03-11T13:00:00-04:00" } },
	{ "R/2024-11-02T12:00:00/P1D", "America/New_York", "2024-11-02T00:00:00Z",
		{ "2024-11-02T12:00:00-04:00", "2024-11-03T12:00:00-05:00", "2024-11-04T12:00:00-05:00" } },
	{ "R/2024-11-02T12:00:00/PT24H", "America/New_York", "2024-11-02T00:00:00Z",
		{ "2024-11-02T12:00:00-04:00", "2024-11-03T11:00:00-05:00", "2024-11-04T11:00:00-05:00" } },
	{ "R/2024-03-30T12:00:00/P1D", "Europe/Paris", "2024-03-30T00:00:00Z",
		{ "2024-03-30T12:00:00+01:00", "2024-03-31T12:00:00+02:00", "2024-04-01T12:00:00+02:00" } },
	{ "R/2024-03-30T12:00:00/PT24H", "Europe/Paris", "2024-03-30T00:00:00Z",
		{ "2024-03-30T12:00:00+01:00", "2024-03-31T13:00:00+02:00", "2024-04-01T13:00:00+02:00" } },
	{ "R/2024-10-26T12:00:00/P1D", "Europe/Paris", "2024-10-26T00:00:00Z",
		{ "2024-10-26T12:00:00+02:00", "2024-10-27T12:00:00+01:00", "2024-10-28T12:00:00+01:00" } },
	{ "R/2024-10-26T12:00:00/PT24H", "Europe/Paris", "2024-10-26T00:00:00Z",
		{ "2024-10-26T12:00:00+02:00", "2024-10-27T11:00:00+01:00", "2024-10-28T11:00:00+01:00" } },
	{ "R/2024-04-06T12:00:00/P1D", "Australia/Lord_Howe", "2024-04-05T00:00:00Z",
		{ "2024-04-06T12:00:00+11:00", "2024-04-07T12:00:00+10:30", "2024-04-08T12:00:00+10:30" } },
	{ "R/2024-04-06T12:00:00/PT24H", "Australia/Lord_Howe", "2024-04-05T00:00:00Z",
		{ "2024-04-06T12:00:00+11:00", "2024-04-07T11:30:00+10:30", "2024-04-08T11:30:00+10:30" } },
	{ "R/2024-10-05T12:00:00/P1D", "Australia/Lord_Howe", "2024-10-04T00:00:00Z",
		{ "2024-10-05T12:00:00+10:30", "2024-10-06T12:00:00+11:00", "2024-10-07T12:00:00+11:00" } },
	{ "R/2024-10-05T12:00:00/PT24H", "Australia/Lord_Howe", "2024-10-04T00:00:00Z",
		{ "2024-10-05T12:00:00+10:30", "2024-10-06T12:30:00+11:00", "2024-10-07T12:30:00+11:00" } },
	/* wall-clock times in a gap move forward by the gap, in an overlap take the earlier copy; the next day is
	 * computed from the start, so it is back on time */
	{ "R/2024-10-04T02:15:00/P1D", "Australia/Lord_Howe", "2024-10-03T00:00:00Z",
		{ "2024-10-04T02:15:00+10:30", "2024-10-05T02:15:00+10:30", "2024-10-06T02:45:00+11:00",
			"2024-10-07T02:15:00+11:00" } },
	{ "R/2024-04-05T01:45:00/P1D", "Australia/Lord_Howe", "2024-04-04T00:00:00Z",
		{ "2024-04-05T01:45:00+11:00", "2024-04-06T01:45:00+11:00", "2024-04-07T01:45:00+11:00",
			"2024-04-08T01:45:00+10:30" } },
	{ "R/2024-03-09T02:30:00/P1D", "America/New_York", "2024-03-09T00:00:00Z",
		{ "2024-03-09T02:30:00-05:00", "2024-03-10T03:30:00-04:00", "2024-03-11T02:30:00-04:00" } },
	{ "R/2024-11-02T01:30:00/P1D", "America/New_York", "2024-11-02T00:00:00Z",
		{ "2024-11-02T01:30:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00" } },
	{ "R/2024-11-03T00:30:00-04:00/PT1H", "America/New_York", "2024-11-03T00:00:00Z",
		{ "2024-11-03T00:30:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-03T01:30:00-05:00",
			"2024-11-03T02:30:00-05:00" } },
	{ "R/2024-03-03T12:00:00/P1W", "America/New_York", "2024-03-01T00:00:00Z",
		{ "2024-03-03T12:00:00-05:00", "2024-03-10T12:00:00-04:00", "2024-03-17T12:00:00-04:00" } },
	/* only an offset: a fixed offset, no DST */
	{ "R/2024-03-09T12:00:00-05:00/P1D", NULL, "2024-03-09T00:00:00Z",
		{ "2024-03-09T12:00:00-05:00", "2024-03-10T12:00:00-05:00", "2024-03-11T12:00:00-05:00" } },
	/* months clamp to the month's end; occurrence k is start + k months, so March is back on the 31st */
	{ "R/2024-01-31T00:00:00Z/P1M", NULL, "2024-01-01T00:00:00Z",
		{ "2024-01-31T00:00:00Z", "2024-02-29T00:00:00Z", "2024-03-31T00:00:00Z", "2024-04-30T00:00:00Z",
			"2024-05-31T00:00:00Z" } },
	{ "R/2023-01-31T00:00:00Z/P1M", NULL, "2023-01-01T00:00:00Z",
		{ "2023-01-31T00:00:00Z", "2023-02-28T00:00:00Z", "2023-03-31T00:00:00Z", "2023-04-30T00:00:00Z" } },
	{ "R/2024-01-31T09:00:00/P1M", "America/New_York", "2024-01-01T00:00:00Z",
		{ "2024-01-31T09:00:00-05:00", "2024-02-29T09:00:00-05:00", "2024-03-31T09:00:00-04:00",
			"2024-04-30T09:00:00-04:00" } },
	{ "R/2024-02-29T00:00:00Z/P1Y", NULL, "2024-01-01T00:00:00Z",
		{ "2024-02-29T00:00:00Z", "2025-02-28T00:00:00Z", "2026-02-28T00:00:00Z", "2027-02-28T00:00:00Z",
			"2028-02-29T00:00:00Z" } },
	/* years then months, each clamping (Joda): Feb 29 + 1Y = Feb 28, + 1M = Mar 28 */
	{ "R/2024-02-29T00:00:00Z/P1Y1M", NULL, "2024-01-01T00:00:00Z",
		{ "2024-02-29T00:00:00Z", "2025-03-28T00:00:00Z", "2026-04-28T00:00:00Z", "2027-05-28T00:00:00Z",
			"2028-06-29T00:00:00Z" } },
	{ "R/2009-W01-1/P1W", NULL, "2008-01-01T00:00:00Z",
		{ "2008-12-29T00:00:00Z", "2009-01-05T00:00:00Z", "2009-01-12T00:00:00Z" } },
	{ "R/2024-01-01T00:00:00Z/P1DT12H", NULL, "2024-01-01T00:00:00Z",
		{ "2024-01-02T12:00:00Z", "2024-01-04T00:00:00Z", "2024-01-05T12:00:00Z" } },
	/* repetition limits and zero periods */
	{ "R3/2024-01-01T00:00:00Z/P1D", NULL, "2023-12-31T00:00:00Z",
		{ "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", "2024-01-03T00:00:00Z", "end" } },
	{ "R1/2024-01-01T00:00:00Z/P1D", NULL, "2023-12-31T00:00:00Z", { "2024-01-01T00:00:00Z", "end" } },
	{ "R0/2024-01-01T00:00:00Z/P1D", NULL, "2023-12-31T00:00:00Z", { "end" } },
	{ "R5/2024-01-01T00:00:00Z/PT0S", NULL, "2023-12-31T00:00:00Z", { "2024-01-01T00:00:00Z", "end" } },
	{ "R3/2024-01-01T00:00:00Z/P1D", NULL, "2024-01-02T00:00:00Z", { "2024-01-03T00:00:00Z", "end" } },
	{ "R/9999-12-31T00:00:00Z/PT6H", NULL, "9999-12-31T00:00:00Z",
		{ "9999-12-31T06:00:00Z", "9999-12-31T12:00:00Z", "9999-12-31T18:00:00Z", "end" } },
	/* cron, fixed-time jobs: a skipped time runs once at the end of the gap, a repeated one runs once */
	{ "30 2 * * *", "America/New_York", "2024-03-09T12:00:00-05:00",
		{ "2024-03-10T03:00:00-04:00", "2024-03-11T02:30:00-04:00" } },
	{ "30 1 * * *", "America/New_York", "2024-11-02T12:00:00-04:00",
		{ "2024-11-03T01:30:00-04:00", "2024-11-04T01:30:00-05:00" } },
	{ "30 1 * * *", "America/New_York", "2024-11-03T01:45:00-05:00", { "2024-11-04T01:30:00-05:00" } },
	{ "30 1 * * *", "America/New_York", "2024-11-03T01:40:00-04:00", { "2024-11-04T01:30:00-05:00" } },
	{ "0,30 2 * * *", "America/New_York", "2024-03-09T12:00:00-05:00",
		{ "2024-03-10T03:00:00-04:00", "2024-03-11T02:00:00-04:00", "2024-03-11T02:30:00-04:00" } },
	{ "0 1-3 * * *", "America/New_York", "2024-03-10T00:00:00-05:00",
		{ "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-11T01:00:00-04:00" } },
	{ "0 1-3 * * *", "America/New_York", "2024-11-03T00:00:00-04:00",
		{ "2024-11-03T01:00:00-04:00", "2024-11-03T02:00:00-05:00", "2024-11-03T03:00:00-05:00" } },
	{ "30 2 * * *", "Europe/Paris", "2024-03-30T12:00:00+01:00",
		{ "2024-03-31T03:00:00+02:00", "2024-04-01T02:30:00+02:00" } },
	{ "30 2 * * *", "Europe/Paris", "2024-10-26T12:00:00+02:00",
		{ "2024-10-27T02:30:00+02:00", "2024-10-28T02:30:00+01:00" } },
	{ "45 1 * * *", "Australia/Lord_Howe", "2024-04-06T12:00:00+11:00",
		{ "2024-04-07T01:45:00+11:00", "2024-04-08T01:45:00+10:30" } },
	{ "15 2 * * *", "Australia/Lord_Howe", "2024-10-05T12:00:00+10:30",
		{ "2024-10-06T02:30:00+11:00", "2024-10-07T02:15:00+11:00" } },
	{ "@daily", "America/Sao_Paulo", "2018-11-03T12:00:00-03:00",
		{ "2018-11-04T01:00:00-02:00", "2018-11-05T00:00:00-02:00" } },
	/* cron, wildcard jobs follow the real clock: skipped times do not run, repeated ones run twice */
	{ "@hourly", "America/New_York", "2024-03-10T00:30:00-05:00",
		{ "2024-03-10T01:00:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T04:00:00-04:00" } },
	{ "@hourly", "America/New_York", "2024-11-03T00:30:00-04:00",
		{ "2024-11-03T01:00:00-04:00", "2024-11-03T01:00:00-05:00", "2024-11-03T02:00:00-05:00",
			"2024-11-03T03:00:00-05:00" } },
	{ "*/30 * * * *", "America/New_York", "2024-11-03T00:45:00-04:00",
		{ "2024-11-03T01:00:00-04:00", "2024-11-03T01:30:00-04:00", "2024-11-03T01:00:00-05:00",
			"2024-11-03T01:30:00-05:00", "2024-11-03T02:00:00-05:00" } },
	{ "*/30 * * * *", "America/New_York", "2024-03-10T01:15:00-05:00",
		{ "2024-03-10T01:30:00-05:00", "2024-03-10T03:00:00-04:00", "2024-03-10T03:30:00-04:00" } },
	{ "*/15 * * * *", "Australia/Lord_Howe", "2024-04-07T01:40:00+11:00",
		{ "2024-04-07T01:45:00+11:00", "2024-04-07T01:30:00+10:30", "2024-04-07T01:45:00+10:30",
			"2024-04-07T02:00:00+10:30" } },
	{ "*/15 * * * *", "Australia/Lord_Howe", "2024-10-06T01:40:00+10:30",
		{ "2024-10-06T01:45:00+10:30", "2024-10-06T02:30:00+11:00", "2024-10-06T02:45:00+11:00" } },
	/* cron fields and macros in UTC and fixed offsets */
	{ "0 9 * * MON-FRI", NULL, "2024-05-17T10:00:00Z", { "2024-05-20T09:00:00Z", "2024-05-21T09:00:00Z" } },
	{ "0 0 13 * FRI", NULL, "2024-09-01T00:00:00Z",
		{ "2024-09-06T00:00:00Z", "2024-09-13T00:00:00Z", "2024-09-20T00:00:00Z", "2024-09-27T00:00:00Z",
			"2024-10-04T00:00:00Z", "2024-10-11T00:00:00Z", "2024-10-13T00:00:00Z", "2024-10-18T00:00:00Z" } },
	{ "0 0 */2 * MON", NULL, "2024-05-01T00:00:00Z",
		{ "2024-05-13T00:00:00Z", "2024-05-27T00:00:00Z", "2024-06-03T00:00:00Z", "2024-06-17T00:00:00Z" } },
	{ "0 0 29 2 *", NULL, "2024-03-01T00:00:00Z", { "2028-02-29T00:00:00Z", "2032-02-29T00:00:00Z" } },
	{ "@yearly", NULL, "2024-05-15T00:00:00Z", { "2025-01-01T00:00:00Z", "2026-01-01T00:00:00Z" } },
	{ "@monthly", NULL, "2024-05-15T00:00:00Z", { "2024-06-01T00:00:00Z", "2024-07-01T00:00:00Z" } },
	{ "@weekly", NULL, "2024-05-15T00:00:00Z", { "2024-05-19T00:00:00Z", "2024-05-26T00:00:00Z" } },
	{ "59 23 31 12 *", NULL, "2024-05-15T00:00:00Z", { "2024-12-31T23:59:00Z", "2025-12-31T23:59:00Z" } },
	{ "*/20 9-10 * * *", NULL, "2024-05-15T09:50:00Z",
		{ "2024-05-15T10:00:00Z", "2024-05-15T10:20:00Z", "2024-05-15T10:40:00Z", "2024-05-16T09:00:00Z" } },
	{ "0 12 * * *", "GMT+05:30", "2024-05-15T00:00:00Z",
		{ "2024-05-15T12:00:00+05:30", "2024-05-16T12:00:00+05:30" } },
	{ "0 0 * * *", "PST", "2024-07-01T00:00:00Z", { "2024-07-01T00:00:00-07:00", "2024-07-02T00:00:00-07:00" } },
	/* zones with one negative offset (a segment with no start): the first minute of the segment is not
	 * computed from a missing start (it overflowed) */
	{ "0 1 * * *", "Etc/GMT+7", "2024-07-01T00:00:00Z", { "2024-07-01T01:00:00-07:00", "2024-07-02T01:00:00-07:00" } },
	{ "0 1 * * *", "GMT-07:00", "2024-07-01T00:00:00Z", { "2024-07-01T01:00:00-07:00", "2024-07-02T01:00:00-07:00" } },
	{ "@yearly", "America/Phoenix", "2024-07-01T00:00:00Z", { "2025-01-01T00:00:00-07:00", "2026-01-01T00:00:00-07:00" } },
	{ "30 23 * * *", "Pacific/Honolulu", "2024-07-01T00:00:00Z",
		{ "2024-06-30T23:30:00-10:00", "2024-07-01T23:30:00-10:00" } },
	{ "59 23 31 12 *", NULL, "9999-12-31T23:58:00Z", { "9999-12-31T23:59:00Z", "end" } },
	/* west of UTC the last minutes of 9999 are in 10000 in UTC: they are past the end */
	{ "59 23 31 12 *", "PST", "9998-12-31T00:00:00Z", { "9998-12-31T23:59:00-08:00", "end" } },
	{ "59 15 31 12 *", "PST", "9998-12-31T00:00:00Z", { "9998-12-31T15:59:00-08:00", "9999-12-31T15:59:00-08:00", "end" } },
};

static void check_seq_row(struct schedule_zones *z, size_t i, const struct seq_row *r)
{
	int64_t got[MAX_WANT + 1], want[MAX_WANT], v, count;
	char a[SCHEDULE_INSTANT_MAX], b[SCHEDULE_INSTANT_MAX];
	struct schedule s;
	int n = 0, m, ends;

	parse_or_fail(z, r->sched, r->tz, 0, &s);
	while (n < MAX_WANT && r->want[n] != NULL && strcmp(r->want[n], "end") != 0) {
		want[n] = T(r->want[n]);
		n++;
	}
	ends = n < MAX_WANT && r->want[n] != NULL;
	m = schedule_next_n(z, &s, T(r->from), got, n + 1);
	for (int k = 0; k < n; k++)
		if (k >= m || got[k] != want[k])
			fail_msg("row %zu '%s' %s: fire %d is %s, want %s", i, r->sched, r->tz ? r->tz : "-", k,
				k < m ? show(z, s.zone, got[k], a, sizeof(a)) : "missing", r->want[k]);
	if (ends && m != n)
		fail_msg("row %zu '%s': fires again at %s", i, r->sched, show(z, s.zone, got[n], a, sizeof(a)));
	for (int k = 0; k < n; k++) {
		assert_int_equal(schedule_next_after(z, &s, want[k] - 1, &v), 0);
		assert_int_equal(v, want[k]);
		assert_int_equal(schedule_last_at_or_before(z, &s, want[k], &v), 0);
		if (v != want[k])
			fail_msg("row %zu '%s': last at or before %s is %s", i, r->sched, r->want[k],
				show(z, s.zone, v, b, sizeof(b)));
		if (k > 0) {
			assert_int_equal(schedule_last_at_or_before(z, &s, want[k] - 1, &v), 0);
			if (v != want[k - 1])
				fail_msg("row %zu '%s': last before %s is %s", i, r->sched, r->want[k],
					show(z, s.zone, v, b, sizeof(b)));
		}
	}
	if (n > 0) {
		assert_int_equal(schedule_count_between(z, &s, T(r->from), want[n - 1], 1000, &count), 0);
		assert_int_equal(count, n);
	}
}

static void test_fire_sequences(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(seq_rows); i++)
		check_seq_row(z, i, &seq_rows[i]);
	schedule_zones_free(z);
}

struct count_row {
	const char *sched, *tz, *from, *to;
	int64_t cap, want;
};

static const struct count_row count_rows[] = {
	{ "*/15 * * * *", "America/New_York", "2024-11-03T00:00:00-04:00", "2024-11-04T00:00:00-05:00", 1000, 100 },
	{ "*/15 * * * *", "America/New_York", "2024-03-10T00:00:00-05:00", "2024-03-11T00:00:00-04:00", 1000, 92 },
	{ "*/15 * * * *", "America/New_York", "2024-03-10T00:00:00-05:00", "2024-03-11T00:00:00-04:00", 10, 10 },
	/* 24 real hours across a 30-minute fall back: local 23:00+11 to 22:30+10:30 holds 23 o'clocks */
	{ "@hourly", "Australia/Lord_Howe", "2024-04-06T12:00:00Z", "2024-04-07T12:00:00Z", 1000, 23 },
	{ "@hourly", "Australia/Lord_Howe", "2024-10-05T12:00:00Z", "2024-10-06T12:00:00Z", 1000, 24 },
	{ "R/2024-01-01T00:00:00Z/PT1M", NULL, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 100000, 1440 },
	{ "R/2024-01-01T00:00:00Z/PT1M", NULL, "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", 5, 5 },
	{ "R/2024-01-01T00:00:00Z/P1D", NULL, "2024-01-01T00:00:00Z", "2024-12-31T00:00:00Z", 1000, 365 },
	{ "R/2024-01-01T00:00:00Z/P1D", NULL, "2023-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 1000, 1 },
	{ "R10/2024-01-01T00:00:00Z/P1D", NULL, "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z", 1000, 10 },
	{ "R10/2024-01-01T00:00:00Z/P1D", NULL, "2024-01-05T00:00:00Z", "2025-01-01T00:00:00Z", 1000, 5 },
	{ "R0/2024-01-01T00:00:00Z/P1D", NULL, "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z", 1000, 0 },
	{ "R5/2024-01-01T00:00:00Z/PT0S", NULL, "2023-01-01T00:00:00Z", "2025-01-01T00:00:00Z", 1000, 1 },
	{ "R/2024-01-01T00:00:00Z/P1D", NULL, "2025-01-01T00:00:00Z", "2024-01-01T00:00:00Z", 1000, 0 },
};

static void test_count_between(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(count_rows); i++) {
		const struct count_row *r = &count_rows[i];
		struct schedule s;
		int64_t n;

		parse_or_fail(z, r->sched, r->tz, 0, &s);
		assert_int_equal(schedule_count_between(z, &s, T(r->from), T(r->to), r->cap, &n), 0);
		if (n != r->want)
			fail_msg("row %zu '%s': %lld, want %lld", i, r->sched, (long long)n, (long long)r->want);
	}
	schedule_zones_free(z);
}

static void test_limits(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	struct schedule s;
	int64_t v, out[4];
	(void)state;

	parse_or_fail(z, "R/2024-01-01T00:00:00Z/PT1S", NULL, 0, &s);
	assert_int_equal(schedule_next_after(z, &s, T("9999-12-31T23:59:59Z"), &v), 0);
	assert_int_equal(v, SCHEDULE_NEVER);
	assert_int_equal(schedule_next_after(z, &s, INT64_MAX - 1, &v), 0);
	assert_int_equal(v, SCHEDULE_NEVER);
	assert_int_equal(schedule_next_after(z, &s, INT64_MAX, &v), 0);
	assert_int_equal(v, SCHEDULE_NEVER);
	assert_int_equal(schedule_count_between(z, &s, T("9999-12-31T23:59:00Z"), INT64_MAX, 1000, &v), 0);
	assert_int_equal(v, 59);
	assert_int_equal(schedule_last_at_or_before(z, &s, INT64_MAX, &v), 0);
	assert_int_equal(v, T("9999-12-31T23:59:59Z"));
	assert_int_equal(schedule_last_at_or_before(z, &s, INT64_MIN, &v), 0);
	assert_int_equal(v, SCHEDULE_NONE);
	assert_int_equal(schedule_next_after(z, &s, INT64_MIN, &v), 0);
	assert_int_equal(v, T("2024-01-01T00:00:00Z"));

	/* occurrence k multiplies the period: 1000 months after Jan 31 2024 is May 31 2107 */
	parse_or_fail(z, "R/2024-01-31T00:00:00Z/P1M", NULL, 0, &s);
	assert_int_equal(schedule_occurrence(z, &s, 1000, &v), 0);
	assert_int_equal(v, T("2107-05-31T00:00:00Z"));
	assert_int_equal(schedule_occurrence(z, &s, 100000, &v), 0);
	assert_int_equal(v, SCHEDULE_NEVER);
	assert_int_equal(schedule_occurrence(z, &s, -1, &v), -EINVAL);

	/* the range ends with the year 9999 on the zone's wall clock */
	parse_or_fail(z, "R/9999-12-31T00:00:00Z/PT6H", "Pacific/Kiritimati", 0, &s);
	assert_int_equal(schedule_next_after(z, &s, T("9999-12-30T00:00:00Z"), &v), 0);
	assert_int_equal(v, T("9999-12-31T00:00:00+14:00"));
	assert_int_equal(schedule_next_after(z, &s, v, &v), 0);
	assert_int_equal(v, T("9999-12-31T06:00:00+14:00"));
	assert_int_equal(schedule_next_n(z, &s, v, out, 4), 2);
	assert_int_equal(out[1], T("9999-12-31T18:00:00+14:00"));

	/* a millisecond period from 1970: the index is found without stepping */
	parse_or_fail(z, "R/1970-01-01T00:00:01Z/PT0.001S", NULL, 0, &s);
	assert_int_equal(schedule_next_after(z, &s, T("2024-05-15T10:20:30.123Z"), &v), 0);
	assert_int_equal(v, T("2024-05-15T10:20:30.124Z"));
	parse_or_fail(z, "R/1970-01-01T00:00:01Z/P2147483647Y", NULL, 0, &s);
	assert_int_equal(schedule_next_after(z, &s, T("2024-05-15T10:20:30.123Z"), &v), 0);
	assert_int_equal(v, SCHEDULE_NEVER);

	/* an empty start is due now */
	parse_or_fail(z, "R1//P", NULL, T("2024-05-15T10:20:30.123Z"), &s);
	assert_int_equal(schedule_next_after(z, &s, T("2024-05-15T10:20:29.000Z"), &v), 0);
	assert_int_equal(v, T("2024-05-15T10:20:29.123Z"));
	assert_true(schedule_period_is_zero(&s));

	parse_or_fail(z, "*/5 * * * *", "Europe/Paris", 0, &s);
	assert_int_equal(schedule_next_after(z, &s, INT64_MAX - 1, &v), 0);
	assert_int_equal(v, SCHEDULE_NEVER);
	assert_int_equal(schedule_next_after(z, &s, INT64_MAX, &v), 0);
	assert_int_equal(v, SCHEDULE_NEVER);
	/* cron searches start a day before the epoch */
	assert_int_equal(schedule_next_after(z, &s, INT64_MIN, &v), 0);
	assert_int_equal(v, T("1969-12-31T00:05:00Z"));
	assert_int_equal(schedule_count_between(z, &s, T("9999-12-31T23:00:00+01:00"), INT64_MAX, 1000, &v), 0);
	assert_int_equal(v, 11);
	assert_int_equal(schedule_count_between(z, &s, INT64_MIN, INT64_MAX, 3, &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(schedule_last_at_or_before(z, &s, INT64_MIN + 1, &v), 0);
	assert_int_equal(v, SCHEDULE_NONE);
	assert_int_equal(schedule_last_at_or_before(z, &s, INT64_MAX, &v), 0);
	assert_int_equal(v, T("9999-12-31T23:55:00+01:00"));
	/* ... and so do the backward ones: the last fire before the first is none, not one a day earlier */
	parse_or_fail(z, "0 16 * * *", "America/New_York", 0, &s);
	assert_int_equal(schedule_next_after(z, &s, T("1900-01-01T00:00:00Z"), &v), 0);
	assert_int_equal(v, T("1969-12-31T16:00:00-05:00"));
	assert_int_equal(schedule_last_at_or_before(z, &s, v - 1, &v), 0);
	assert_int_equal(v, SCHEDULE_NONE);
	assert_int_equal(schedule_occurrence(z, &s, 0, &v), -EINVAL);
	assert_false(schedule_period_is_zero(&s));
	schedule_zones_free(z);
}

/* next and last enumerate the same instants: across the DST days of several zones, for t between two
 * consecutive fire times p <= t < n, last(t) = p, next(t) = n, last(n - 1) = p and next(p) = n. */
static const char *const prop_scheds[] = {
	"30 2 * * *", "30 1 * * *", "0 1-3 * * *", "*/30 * * * *", "@daily", "15 2 * * *", "45 1 * * SUN", "@hourly",
	"R/2024-01-01T02:30:00/P1D", "R/2024-01-01T00:45:00/PT45M", "R/2024-01-31T02:30:00/P1M",
	"R/2024-01-01T01:45:00/P1W",
};
static const char *const prop_zones[] = { "America/New_York", "Europe/Paris", "Australia/Lord_Howe", "UTC" };
static const char *const prop_windows[] = { "2024-03-09T00:00:00Z", "2024-04-05T00:00:00Z", "2024-10-04T00:00:00Z",
	"2024-10-26T00:00:00Z", "2024-11-02T00:00:00Z" };

static void test_next_and_last_agree(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char a[SCHEDULE_INSTANT_MAX], b[SCHEDULE_INSTANT_MAX];
	(void)state;

	for (size_t si = 0; si < ARRAY_LEN(prop_scheds); si++) {
		for (size_t zi = 0; zi < ARRAY_LEN(prop_zones); zi++) {
			struct schedule s;

			parse_or_fail(z, prop_scheds[si], prop_zones[zi], 0, &s);
			for (size_t wi = 0; wi < ARRAY_LEN(prop_windows); wi++) {
				int64_t from = T(prop_windows[wi]);
				for (int64_t t = from; t < from + INT64_C(3) * 86400000; t += INT64_C(17) * 60000 + 31000) {
					int64_t p, n, p2, n2;

					assert_int_equal(schedule_last_at_or_before(z, &s, t, &p), 0);
					assert_int_equal(schedule_next_after(z, &s, t, &n), 0);
					assert_true(p <= t && n > t);
					assert_int_equal(schedule_last_at_or_before(z, &s, n - 1, &p2), 0);
					assert_int_equal(schedule_next_after(z, &s, p, &n2), 0);
					if (p2 != p || n2 != n)
						fail_msg("'%s' %s at %s: last %s next %s, last(next-1) %s next(last) %s",
							prop_scheds[si], prop_zones[zi], show(z, s.zone, t, a, sizeof(a)),
							show(z, s.zone, p, b, sizeof(b)), show(z, s.zone, n, a, sizeof(a)),
							show(z, s.zone, p2, b, sizeof(b)), show(z, s.zone, n2, a, sizeof(a)));
				}
			}
		}
	}
	schedule_zones_free(z);
}

/* Wildcard cron against brute force: every real minute whose local time (glibc localtime, its own tz
 * database) matches, around both 2024 transitions. */
struct brute_row {
	const char *expr;
	int (*match)(const struct tm *tm);
};

static int every_15(const struct tm *tm)
{
	return tm->tm_min % 15 == 0;
}

static int on_the_hour(const struct tm *tm)
{
	return tm->tm_min == 0;
}

static int minute_7(const struct tm *tm)
{
	return tm->tm_min == 7;
}

static int every_20_hours_1_3(const struct tm *tm)
{
	return tm->tm_min % 20 == 0 && tm->tm_hour >= 1 && tm->tm_hour <= 3;
}

static int sunday_hourly(const struct tm *tm)
{
	return tm->tm_min == 0 && tm->tm_wday == 0;
}

static const struct brute_row brute_rows[] = {
	{ "*/15 * * * *", every_15 },
	{ "@hourly", on_the_hour },
	{ "7 * * * *", minute_7 },
	{ "*/20 1-3 * * *", every_20_hours_1_3 },
	{ "0 * * * SUN", sunday_hourly },
};

static const struct {
	const char *zone, *transition[2];
} brute_zones[] = {
	{ "America/New_York", { "2024-03-10T07:00:00Z", "2024-11-03T06:00:00Z" } },
	{ "Europe/Paris", { "2024-03-31T01:00:00Z", "2024-10-27T01:00:00Z" } },
	{ "Australia/Lord_Howe", { "2024-04-06T15:00:00Z", "2024-10-05T15:30:00Z" } },
};

#define BRUTE_SPAN_MIN (16 * 1440)

static void test_wildcard_cron_brute_force(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	static int64_t hits[BRUTE_SPAN_MIN];
	char a[SCHEDULE_INSTANT_MAX], b[SCHEDULE_INSTANT_MAX];
	const char *tz = getenv("TZ");
	char *old_tz = tz != NULL ? strdup(tz) : NULL;
	(void)state;

	for (size_t zi = 0; zi < ARRAY_LEN(brute_zones); zi++) {
		setenv("TZ", brute_zones[zi].zone, 1);
		tzset();
		for (int tr = 0; tr < 2; tr++) {
			int64_t first = T(brute_zones[zi].transition[tr]) - INT64_C(8) * 86400000;
			for (size_t ri = 0; ri < ARRAY_LEN(brute_rows); ri++) {
				struct schedule s;
				size_t nhits = 0, h = 0;

				parse_or_fail(z, brute_rows[ri].expr, brute_zones[zi].zone, 0, &s);
				for (int m = 0; m < BRUTE_SPAN_MIN; m++) {
					time_t secs = (time_t)(first / 1000 + (int64_t)m * 60);
					struct tm tm;
					localtime_r(&secs, &tm);
					if (brute_rows[ri].match(&tm))
						hits[nhits++] = first + (int64_t)m * 60000;
				}
				/* sample the middle 8 days, around the transition */
				for (int64_t t = first + INT64_C(4) * 86400000; t < first + INT64_C(12) * 86400000;
			     t += INT64_C(7) * 60000 + 13000) {
					int64_t n, p;
					while (h < nhits && hits[h] <= t)
						h++;
					assert_int_equal(schedule_next_after(z, &s, t, &n), 0);
					assert_int_equal(schedule_last_at_or_before(z, &s, t, &p), 0);
					if (h == 0 || n != hits[h] || p != hits[h - 1])
						fail_msg("'%s' %s: after %lld got %s/%s, want %s/%s", brute_rows[ri].expr,
							brute_zones[zi].zone, (long long)t, show(z, s.zone, p, a, sizeof(a)),
							show(z, s.zone, n, b, sizeof(b)), "prev", "next");
				}
			}
		}
	}
	if (old_tz != NULL)
		setenv("TZ", old_tz, 1);
	else
		unsetenv("TZ");
	tzset();
	free(old_tz);
	schedule_zones_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fire_sequences),
		cmocka_unit_test(test_count_between),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_next_and_last_agree),
		cmocka_unit_test(test_wildcard_cron_brute_force),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
