/* Unit tests for the judgement of a server's clock against PostgreSQL's (server/server_clock.h): one reading taken
 * between two of this server's, and a step of the wall clock against the monotonic one. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdbool.h>

#include "server/server_clock.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_judge(void **state)
{
	static const struct {
		int64_t sent, db, got, max;
		int64_t offset, error;
	} cases[] = {
		{1000, 1010, 1020, 2000, 0, 10},        /* the same clock, a 20 ms round trip */
		{1000, 31010, 1020, 2000, 30000, 10},   /* this server 30 s behind: off */
		{31000, 1010, 31020, 2000, -30000, 10}, /* 30 s ahead: off */
		{1000, 3500, 1020, 2000, 2490, 10},     /* 2.48 to 2.5 s: off */
		{1000, 2900, 2000, 2000, 1400, 500},    /* 0.9 to 1.9 s: within */
		{1000, 4000, 3000, 2000, 2000, 1000},   /* 1 to 3 s: maybe within, so not off */
		{1000, 1000, 1000, 0, 0, 0},            /* exact */
	};
	static const bool off[] = {false, true, true, true, false, false, false};

	(void)state;
	for (size_t i = 0; i < N(cases); i++) {
		struct clock_reading r;
		server_clock_judge(cases[i].sent, cases[i].db, cases[i].got, cases[i].max, &r);
		if (r.offset_ms != cases[i].offset || r.error_ms != cases[i].error || r.off != off[i])
			fail_msg("case %zu: offset %lld +- %lld off %d, expected %lld +- %lld off %d", i,
			    (long long)r.offset_ms, (long long)r.error_ms, r.off, (long long)cases[i].offset,
			    (long long)cases[i].error, off[i]);
	}
}

static void test_stepped(void **state)
{
	static const struct {
		int64_t wall0;
		uint64_t mono0;
		int64_t wall1;
		uint64_t mono1;
		int64_t max;
		bool stepped;
	} cases[] = {
		{100000, 50, 100100, 150, 2000, false},  /* both moved 100 ms */
		{100000, 50, 130100, 150, 2000, true},   /* the wall clock 30 s forwards */
		{100000, 50, 70100, 150, 2000, true},    /* 30 s backwards */
		{100000, 50, 101900, 150, 2000, false},  /* 1.8 s: within the bound (NTP slewing, a slow tick) */
		{100000, 50, 102200, 150, 2000, true},   /* 2.1 s */
		{100000, 50, 100000, 3050, 2000, true},  /* the wall clock stood still 3 s */
	};

	(void)state;
	for (size_t i = 0; i < N(cases); i++)
		if (server_clock_stepped(cases[i].wall0, cases[i].mono0, cases[i].wall1, cases[i].mono1, cases[i].max) !=
		    cases[i].stepped)
			fail_msg("case %zu: expected stepped %d", i, cases[i].stepped);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judge),
		cmocka_unit_test(test_stepped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
