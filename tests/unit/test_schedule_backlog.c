/* Long backlogs in bounded work: what the engine asks of a schedule when a job's start is far behind now (a
 * server down for months, or a short period). One row per schedule: the slots due by now are counted by
 * arithmetic, exactly, and the schedule moves past now in one step, however many slots that passes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "schedule/schedule.h"
#include "schedule_times.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

struct backlog_row {
	const char *schedule, *tz;
	const char *now;
	int64_t period_ms; /* elapsed-time periods: the exact count is (now - start) / period + 1 */
	int64_t due;       /* slots at or before now (start included) */
};

static void test_backlog_is_counted_and_passed_in_one_step(void **state)
{
	static const struct backlog_row rows[] = {
		/* The schedules: 3e10 and 6e9 slots, more than a 32-bit occurrence index holds. */
		{"R/2026-01-01T00:00:00Z/PT0.001S", NULL, "2026-12-06T17:00:00.000Z", 1, INT64_C(339) * 86400000 + 17 * 3600000 + 1},
		{"R/2025-01-05T00:00:00Z/PT0.01S", NULL, "2026-12-06T00:00:00.000Z", 10, INT64_C(700) * 8640000 + 1},
		/* A legitimate job with a start 700 days back: 60 million slots. */
		{"R/2025-01-05T00:00:00Z/PT1S", NULL, "2026-12-06T00:00:00.500Z", 1000, INT64_C(700) * 86400 + 1},
		{"R/2025-01-05T00:00:00Z/PT1S", "Europe/Paris", "2026-12-06T00:00:00.000Z", 1000,
		    INT64_C(700) * 86400 + 3600 + 1}, /* the zone's wall clock: 2025-01-04T23:00Z */
		/* Wall-clock periods count from their anchor, far below the index bound. */
		{"R/1970-01-02T00:00:00Z/P1D", NULL, "2026-12-06T12:00:00.000Z", 0, 20793},
		{"R/1970-01-02T00:00:00Z/PT1H", NULL, "2026-12-06T12:00:00.000Z", 3600000, 499021},
	};
	struct schedule_zones *z = schedule_zones_new();
	(void)state;

	for (size_t i = 0; i < N(rows); i++) {
		const struct backlog_row *row = &rows[i];
		int64_t now = T(row->now), start, count, last, next;
		struct schedule s;

		parse_or_fail(z, row->schedule, row->tz, now, &s);
		start = schedule_start(&s);
		assert_int_equal(schedule_count_between(z, &s, start - 1, now, INT64_MAX, &count), 0);
		if (row->period_ms > 0 && count != (now - start) / row->period_ms + 1)
			fail_msg("row %zu: %lld slots, arithmetic says %lld", i, (long long)count,
				(long long)((now - start) / row->period_ms + 1));
		if (count != row->due)
			fail_msg("row %zu: %lld slots, want %lld", i, (long long)count, (long long)row->due);
		assert_int_equal(schedule_last_at_or_before(z, &s, now, &last), 0);
		assert_true(last <= now && last > now - 86400000);
		/* The engine's move after handling them: one step, to the first slot after now. */
		assert_int_equal(schedule_advance(z, &s, now, last), 0);
		assert_int_equal(schedule_next_after(z, &s, now, &next), 0);
		if (schedule_start(&s) <= now || schedule_start(&s) != next)
			fail_msg("row %zu: start %lld after advancing to %lld, next %lld", i, (long long)schedule_start(&s),
				(long long)now, (long long)next);
		assert_int_equal(schedule_repeat(&s), SCHEDULE_REPEAT_INFINITE);
	}
	schedule_zones_free(z);
}

/* The schedule the engine stores after the move reads back as the same slots. */
static void test_rewritten_schedule_after_a_long_backlog(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256], *out = NULL;
	(void)state;

	assert_int_equal(schedule_rewrite(z, "R/2026-01-01T00:00:00Z/PT0.001S", NULL, T("2026-12-06T17:00:00.000Z"),
		&out, err, sizeof(err)), 0);
	assert_string_equal(out, "R/2026-12-06T17:00:00.001Z/PT0.001S");
	free(out);
	assert_int_equal(schedule_rewrite(z, "R3/2025-01-05T00:00:00Z/PT0.01S", NULL, T("2026-12-06T00:00:00.005Z"),
		&out, err, sizeof(err)), 0);
	assert_string_equal(out, "R2/2026-12-06T00:00:00.010Z/PT0.010S");
	free(out);
	schedule_zones_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backlog_is_counted_and_passed_in_one_step),
		cmocka_unit_test(test_rewritten_schedule_after_a_long_backlog),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
