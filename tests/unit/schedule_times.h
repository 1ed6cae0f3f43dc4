/* Test helpers for the schedule unit tests: instants written as text, instants printed for messages, parsing.
 * Include after <cmocka.h> and "schedule/schedule.h". */
#ifndef GNOMON_TESTS_SCHEDULE_TIMES_H
#define GNOMON_TESTS_SCHEDULE_TIMES_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* "2024-03-10T03:00:00[.mmm](Z|+hh:mm)" to UTC epoch ms, with libc. */
static inline int64_t T(const char *s)
{
	int y, mo, d, h, mi, sec, n = 0, oh = 0, om = 0, ms = 0, sign = 0;
	struct tm tm = { 0 };
	const char *p;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		fail_msg("bad test time '%s'", s);
	p = s + n;
	if (*p == '.') {
		ms = (p[1] - '0') * 100 + (p[2] - '0') * 10 + (p[3] - '0');
		p += 4;
	}
	if (*p == '+' || *p == '-') {
		sign = *p == '-' ? -1 : 1;
		if (sscanf(p + 1, "%2d:%2d", &oh, &om) != 2)
			fail_msg("bad test offset '%s'", s);
	} else if (*p != 'Z') {
		fail_msg("bad test zone '%s'", s);
	}
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm) * 1000 + ms - (int64_t)sign * (oh * 3600 + om * 60) * 1000;
}

/* For failure messages only. */
static inline const char *show(struct schedule_zones *z, uint16_t zone, int64_t ms, char *buf, size_t len)
{
	if (ms == SCHEDULE_NEVER)
		return "NEVER";
	if (ms == SCHEDULE_NONE)
		return "NONE";
	if (schedule_format_instant(z, zone, ms, buf, len) != 0)
		snprintf(buf, len, "%lld", (long long)ms);
	return buf;
}

/* Parse a schedule or fail the test with the parser's message. */
static inline void parse_or_fail(struct schedule_zones *z, const char *sched, const char *tz, int64_t now,
	struct schedule *s)
{
	char err[256];

	if (schedule_parse(z, sched, tz, now, s, err, sizeof(err)) != 0)
		fail_msg("'%s' tz %s: %s", sched, tz ? tz : "-", err);
}

#endif
