/* Schedules in words: one row per schedule, its zone, and the words people read in the UI. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "schedule/describe.h"
#include "schedule/schedule.h"

#define NOW INT64_C(1893456000000) /* 2030-01-01T00:00:00Z */

static const struct {
	const char *schedule, *tz, *words;
} rows[] = {
	{"R/2030-01-01T13:00:00Z/P1D", "Europe/Paris", "every day at 13:00 Europe/Paris"},
	{"R/2030-01-01T13:00:00+01:00/P1D", NULL, "every day at 13:00 GMT+01:00"},
	{"R/2030-01-01T13:00:00Z/P1D", NULL, "every day at 13:00 UTC"},
	{"R/2030-01-01T06:30:15Z/P2D", "UTC", "every 2 days at 06:30:15 UTC"},
	{"R5/2030-01-01T13:00:00Z/P1D", "UTC", "every day at 13:00 UTC, 5 more times"},
	{"R1/2030-06-01T09:00:00Z/P1D", "America/New_York", "once, on 2030-06-01 at 09:00 America/New_York"},
	{"R0/2030-06-01T09:00:00Z/P1D", NULL, "no more runs"},
	{"R/2030-01-01T00:10:00Z/PT1H", NULL, "every hour at :10"},
	{"R/2030-01-01T00:10:00Z/PT6H", NULL, "every 6 hours at :10"},
	{"R/2030-01-01T00:00:00Z/PT15M", NULL, "every 15 minutes"},
	{"R/2030-01-01T00:00:00Z/PT1M", NULL, "every minute"},
	{"R/2030-01-01T00:00:00Z/PT30S", NULL, "every 30 seconds"},
	{"R/2030-01-07T09:00:00Z/P1W", "UTC", "every week on Monday at 09:00 UTC"},
	{"R/2030-01-31T10:00:00Z/P1M", "UTC", "every month on day 31 at 10:00 UTC"},
	{"R/2032-02-29T00:00:00Z/P1Y", "UTC", "every year on Feb 29 at 00:00 UTC"},
	{"R/2030-01-01T00:00:00Z/P1DT2H", "UTC", "every P1DT2H from 2030-01-01 00:00 UTC"},
	{"R1//P", NULL, "once, on 2029-12-31 at 23:59:59 UTC"},
	{"* * * * *", NULL, "every minute UTC"},
	{"*/15 * * * *", "Europe/Paris", "every 15 minutes Europe/Paris"},
	{"30 * * * *", NULL, "every hour at :30 UTC"},
	{"0 */4 * * *", NULL, "every 4 hours at :00 UTC"},
	{"0 13 * * *", "Europe/Paris", "every day at 13:00 Europe/Paris"},
	{"0 9 * * MON-FRI", "America/New_York", "at 09:00 on Mon-Fri America/New_York"},
	{"0 9,17 * * 1,3,5", NULL, "at 09:00, 17:00 on Mon, Wed, Fri UTC"},
	{"0 0 1,15 * *", NULL, "at 00:00 on day 1, 15 UTC"},
	{"0 0 1 1,7 *", NULL, "at 00:00 on day 1 in Jan, Jul UTC"},
	{"@hourly", NULL, "every hour at :00 UTC"},
	{"@daily", NULL, "every day at 00:00 UTC"},
	{"@weekly", NULL, "at 00:00 on Sun UTC"},
	{"0 0 1 * 1", NULL, "cron '0 0 1 * 1' UTC"},
	{"5,7 1-3 * * *", NULL, "cron '5,7 1-3 * * *' UTC"},
};

static void test_words(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char err[256], words[SCHEDULE_DESCRIBE_MAX];
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct schedule s;
		if (schedule_parse(z, rows[i].schedule, rows[i].tz, NOW, &s, err, sizeof(err)) != 0)
			fail_msg("row %zu '%s': %s", i, rows[i].schedule, err);
		int n = schedule_describe(z, &s, rows[i].schedule, words, sizeof(words));
		if (n < 0 || strcmp(words, rows[i].words) != 0)
			fail_msg("row %zu '%s' (%s): got '%s', expected '%s'", i, rows[i].schedule,
			    rows[i].tz ? rows[i].tz : "-", n < 0 ? "(error)" : words, rows[i].words);
		assert_int_equal(n, (int)strlen(words));
	}
	schedule_zones_free(z);
}

static void test_small_buffer(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	struct schedule s;
	char err[256], small[8];
	(void)state;

	assert_int_equal(schedule_parse(z, "R/2030-01-01T13:00:00Z/P1D", NULL, NOW, &s, err, sizeof(err)), 0);
	assert_int_equal(schedule_describe(z, &s, "", small, sizeof(small)), -ENOSPC);
	schedule_zones_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_small_buffer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
