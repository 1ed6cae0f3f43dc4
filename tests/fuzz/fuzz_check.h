/* Shared by the fuzz targets: invariant checks that abort with a message, and the fire-time invariants of one
 * parsed schedule. */
#ifndef GNOMON_FUZZ_CHECK_H
#define GNOMON_FUZZ_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schedule/civil.h"
#include "schedule/describe.h"
#include "schedule/schedule.h"

#define CHECK(cond, ...)                                                                                     \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "invariant failed at %s:%d: %s\n  ", __FILE__, __LINE__, #cond);  \
			fprintf(stderr, __VA_ARGS__);                                                        \
			fputc('\n', stderr);                                                                 \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

#define FUZZ_NEXT 8 /* fire times listed per query */

/* An instant from 8 input bytes, spread over what schedules use: a day before 1970 to a day past 9999. */
static inline int64_t fuzz_instant(const uint8_t *p)
{
	uint64_t v = 0;
	int64_t lo = -MS_PER_DAY, span = CIVIL_LOCAL_END + 2 * MS_PER_DAY;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	/* a quarter of them near "now" (2020-2040) where the real traffic is */
	if ((v & 3) == 0)
		return INT64_C(1577836800000) + (int64_t)((v >> 2) % (uint64_t)(INT64_C(20) * 366 * MS_PER_DAY));
	return lo + (int64_t)((v >> 2) % (uint64_t)span);
}

/* A fire time can be shown: in its zone and in UTC, as the API prints it. */
static inline void check_printable(struct schedule_zones *z, const struct schedule *s, int64_t t, const char *what)
{
	char buf[SCHEDULE_INSTANT_MAX];

	CHECK(schedule_format_instant(z, s->zone, t, buf, sizeof(buf)) == 0, "%s %lld not printable in its zone",
		what, (long long)t);
	CHECK(schedule_format_instant(z, SCHEDULE_ZONE_UTC, t, buf, sizeof(buf)) == 0, "%s %lld not printable in UTC",
		what, (long long)t);
}

/* Every invariant of the fire-time functions around instant t. ordered: the schedule's occurrences do not
 * decrease, which holds for every schedule in every zone whose gaps are at most a day (all real ones: the
 * largest is Samoa's skipped day in 2011); a wall-clock period across a longer gap (a made-up zone) moves one
 * occurrence forward past the next, and only the checks that need no order are made. */
static inline void check_fire_times(struct schedule_zones *z, const struct schedule *s, const char *tz, int64_t t,
	int64_t now, bool ordered)
{
	int64_t next, prev, v, out[FUZZ_NEXT], count;
	char text[SCHEDULE_FORMAT_MAX], err[256], words[SCHEDULE_DESCRIBE_MAX];
	struct schedule back, moved;
	int n, rc;

	/* next and last bracket t, and agree with each other */
	if (schedule_next_after(z, s, t, &next) != 0 || schedule_last_at_or_before(z, s, t, &prev) != 0)
		return; /* an instant outside what the zone answers for */
	CHECK(next == SCHEDULE_NEVER || next > t, "next %lld after %lld", (long long)next, (long long)t);
	CHECK(prev == SCHEDULE_NONE || prev <= t, "last %lld at or before %lld", (long long)prev, (long long)t);
	if (next != SCHEDULE_NEVER)
		check_printable(z, s, next, "next");
	if (prev != SCHEDULE_NONE)
		check_printable(z, s, prev, "last");
	if (!ordered)
		return;
	if (next != SCHEDULE_NEVER) {
		CHECK(schedule_last_at_or_before(z, s, next, &v) == 0 && v == next, "last(next %lld) is %lld",
			(long long)next, (long long)v);
		CHECK(schedule_next_after(z, s, next - 1, &v) == 0 && v == next, "next(next %lld - 1) is %lld",
			(long long)next, (long long)v);
		CHECK(schedule_last_at_or_before(z, s, next - 1, &v) == 0 && v == prev,
			"last(next %lld - 1) is %lld, last(t) %lld", (long long)next, (long long)v, (long long)prev);
	}
	if (prev != SCHEDULE_NONE) {
		CHECK(schedule_next_after(z, s, prev, &v) == 0 && v == next, "next(last %lld) is %lld, next(t) %lld",
			(long long)prev, (long long)v, (long long)next);
	}
	/* successive fires strictly increase, and are counted as such */
	n = schedule_next_n(z, s, t, out, FUZZ_NEXT);
	CHECK(n >= 0, "next_n failed: %d", n);
	for (int i = 0; i < n; i++) {
		CHECK(out[i] > (i == 0 ? t : out[i - 1]), "fire %d (%lld) not after %lld", i, (long long)out[i],
			(long long)(i == 0 ? t : out[i - 1]));
		check_printable(z, s, out[i], "next_n");
	}
	CHECK(n == 0 || out[0] == next, "next_n starts at %lld, next is %lld", (long long)out[0], (long long)next);
	if (n > 0) {
		CHECK(schedule_count_between(z, s, t, out[n - 1], 1000, &count) == 0 && count == n,
			"%lld fires counted in (t, fire %d], want %d", (long long)count, n - 1, n);
	}
	/* the fires the engine would run (what the preview and /next show) increase and can be shown */
	n = schedule_upcoming(z, s, now - 3600000, now, 60000, out, FUZZ_NEXT);
	CHECK(n >= 0, "upcoming failed: %d", n);
	for (int i = 0; i < n; i++) {
		CHECK(i == 0 || out[i] > out[i - 1], "upcoming %d (%lld) not after %lld", i, (long long)out[i],
			(long long)out[i - 1]);
		check_printable(z, s, out[i], "upcoming");
	}
	CHECK(schedule_describe(z, s, "x", words, sizeof(words)) >= 0, "describe failed");
	if (schedule_kind(s) != SCHEDULE_ISO8601)
		return;
	/* as Chronos stores it, the schedule reads back as itself */
	if (schedule_format(z, s, text, sizeof(text)) == 0) {
		rc = schedule_parse(z, text, tz, now, &back, err, sizeof(err));
		CHECK(rc == 0, "'%s' does not read back: %s", text, err);
		CHECK(schedule_start(&back) == schedule_start(s) && schedule_repeat(&back) == schedule_repeat(s),
			"'%s' reads back as start %lld, was %lld", text, (long long)schedule_start(&back),
			(long long)schedule_start(s));
	}
	/* moving past a launch leaves the start after it */
	moved = *s;
	if (schedule_skip_forward(z, &moved, now) == 0 && !schedule_period_is_zero(s) && schedule_start(s) < now)
		CHECK(schedule_start(&moved) > now, "skip_forward to %lld left start %lld", (long long)now,
			(long long)schedule_start(&moved));
}

#endif
