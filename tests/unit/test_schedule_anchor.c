/* Anchored ISO schedules: a schedule launched and rewritten again and again (skip forward, print, parse back,
 * restore the anchor as a restart does) keeps computing its occurrences from the start first posted, so a day
 * clamped to the end of a month or moved by DST comes back. Also the restart's consistency check, a re-post
 * keeping its anchor, and the slots the engine will run (schedule_upcoming). Transitions used (2027):
 *   America/New_York    03-14 02:00 EST -> 03:00 EDT
 *   Europe/Paris        03-28 02:00 -> 03:00,        10-31 03:00 -> 02:00
 *   Australia/Lord_Howe 04-04 02:00 +11 -> 01:30 +10:30, 10-03 02:00 +10:30 -> 02:30 +11 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "schedule/schedule.h"
#include "schedule_times.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MAX_WANT 10

struct step_row {
	const char *sched, *tz;
	const char *want[MAX_WANT]; /* the start after each launch, in order */
};

static const struct step_row step_rows[] = {
	/* P1M from Jan 31 clamps to each month's end */
	{ "R/2027-01-31T10:00:00Z/P1M", NULL,
		{ "2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z",
			"2027-05-31T10:00:00Z", "2027-06-30T10:00:00Z", "2027-07-31T10:00:00Z", "2027-08-31T10:00:00Z",
			"2027-09-30T10:00:00Z", "2027-10-31T10:00:00Z" } },
	{ "R/2027-01-31T10:00:00+05:30/P1M", NULL,
		{ "2027-01-31T10:00:00+05:30", "2027-02-28T10:00:00+05:30", "2027-03-31T10:00:00+05:30" } },
	/* P1Y from Feb 29 is Feb 28 until the next leap year */
	{ "R/2028-02-29T00:00:00Z/P1Y", NULL,
		{ "2028-02-29T00:00:00Z", "2029-02-28T00:00:00Z", "2030-02-28T00:00:00Z", "2031-02-28T00:00:00Z",
			"2032-02-29T00:00:00Z", "2033-02-28T00:00:00Z", "2034-02-28T00:00:00Z", "2035-02-28T00:00:00Z",
			"2036-02-29T00:00:00Z" } },
	/* P1D keeps the wall clock: a time in the gap moves once, the next day is back on time */
	{ "R/2027-03-13T02:30:00/P1D", "America/New_York",
		{ "2027-03-13T02:30:00-05:00", "2027-03-14T03:30:00-04:00", "2027-03-15T02:30:00-04:00",
			"2027-03-16T02:30:00-04:00" } },
	{ "R/2027-03-07T02:30:00/P1W", "America/New_York",
		{ "2027-03-07T02:30:00-05:00", "2027-03-14T03:30:00-04:00", "2027-03-21T02:30:00-04:00" } },
	{ "R/2027-03-27T02:30:00/P1D", "Europe/Paris",
		{ "2027-03-27T02:30:00+01:00", "2027-03-28T03:30:00+02:00", "2027-03-29T02:30:00+02:00",
			"2027-03-30T02:30:00+02:00" } },
	{ "R/2027-10-30T02:30:00/P1D", "Europe/Paris",
		{ "2027-10-30T02:30:00+02:00", "2027-10-31T02:30:00+02:00", "2027-11-01T02:30:00+01:00" } },
	{ "R/2027-01-31T02:30:00/P1M", "Europe/Paris",
		{ "2027-01-31T02:30:00+01:00", "2027-02-28T02:30:00+01:00", "2027-03-31T02:30:00+02:00",
			"2027-04-30T02:30:00+02:00" } },
	{ "R/2027-10-02T02:15:00/P1D", "Australia/Lord_Howe",
		{ "2027-10-02T02:15:00+10:30", "2027-10-03T02:45:00+11:00", "2027-10-04T02:15:00+11:00",
			"2027-10-05T02:15:00+11:00" } },
	{ "R/2027-04-03T01:45:00/P1D", "Australia/Lord_Howe",
		{ "2027-04-03T01:45:00+11:00", "2027-04-04T01:45:00+11:00", "2027-04-05T01:45:00+10:30" } },
	/* elapsed time needs no anchor (it re-anchors at each start) and stays exact */
	{ "R/2027-03-13T02:30:00/PT24H", "America/New_York",
		{ "2027-03-13T02:30:00-05:00", "2027-03-14T03:30:00-04:00", "2027-03-15T03:30:00-04:00" } },
	{ "R4/2027-01-31T10:00:00Z/P1M", NULL,
		{ "2027-01-31T10:00:00Z", "2027-02-28T10:00:00Z", "2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z" } },
};

/* What a restart does with the stored text and anchor: parse, restore, and check it is the same schedule. */
static void restart(struct schedule_zones *z, const struct step_row *r, struct schedule *s)
{
	char text[SCHEDULE_FORMAT_MAX];
	int64_t anchor = 0, index = 0, a2, i2;
	bool has = schedule_anchor(s, &anchor, &index);
	struct schedule before = *s;

	assert_int_equal(schedule_format(z, s, text, sizeof(text)), 0);
	parse_or_fail(z, text, r->tz, 0, s);
	if (has) {
		if (schedule_set_anchor(z, s, anchor, index) != 0)
			fail_msg("'%s' rewritten as '%s': anchor %lld index %lld refused", r->sched, text,
				(long long)anchor, (long long)index);
		assert_true(schedule_anchor(s, &a2, &i2));
		assert_int_equal(a2, anchor);
		assert_int_equal(i2, index);
	} else {
		assert_false(schedule_anchor(s, &a2, &i2));
	}
	assert_int_equal(schedule_start(s), schedule_start(&before));
	assert_int_equal(schedule_repeat(s), schedule_repeat(&before));
}

static void test_launch_after_launch(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char got[SCHEDULE_INSTANT_MAX];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(step_rows); i++) {
		const struct step_row *r = &step_rows[i];
		struct schedule s, in_memory;

		parse_or_fail(z, r->sched, r->tz, 0, &s);
		in_memory = s;
		for (size_t k = 0; k < MAX_WANT && r->want[k]; k++) {
			int64_t start = schedule_start(&s);
			if (start != T(r->want[k]) || schedule_start(&in_memory) != start)
				fail_msg("row %zu '%s' launch %zu: got %s, want %s", i, r->sched, k,
					show(z, s.zone, start, got, sizeof(got)), r->want[k]);
			/* launched a second late, as the engine moves it; then restarted from what it stored */
			assert_int_equal(schedule_advance(z, &s, start + 1000, start), 0);
			assert_int_equal(schedule_skip_forward(z, &in_memory, start + 1000), 0);
			restart(z, r, &s);
		}
	}
	schedule_zones_free(z);
}

/* A launch long after its slot jumps over the passed occurrences and still counts from the anchor. */
static void test_late_launch_counts_from_anchor(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	int64_t anchor, index, next[3];
	struct schedule s;
	(void)state;

	parse_or_fail(z, "R/2027-01-31T10:00:00Z/P1M", NULL, 0, &s);
	assert_int_equal(schedule_skip_forward(z, &s, T("2027-05-15T00:00:00Z")), 0);
	assert_int_equal(schedule_start(&s), T("2027-05-31T10:00:00Z"));
	assert_true(schedule_anchor(&s, &anchor, &index));
	assert_int_equal(anchor, T("2027-01-31T10:00:00Z"));
	assert_int_equal(index, 4);
	assert_int_equal(schedule_next_n(z, &s, schedule_start(&s), next, 3), 3);
	assert_int_equal(next[0], T("2027-06-30T10:00:00Z"));
	assert_int_equal(next[1], T("2027-07-31T10:00:00Z"));
	assert_int_equal(next[2], T("2027-08-31T10:00:00Z"));
	schedule_zones_free(z);
}

struct anchor_row {
	const char *stored, *tz; /* the schedule as stored (rewritten) */
	const char *anchor;
	int64_t index;
	int rc;             /* of schedule_set_anchor */
	const char *next;   /* the occurrence after the start once restored (or not) */
};

static const struct anchor_row anchor_rows[] = {
	{ "R/2027-03-31T10:00:00.000Z/P1M", NULL, "2027-01-31T10:00:00Z", 2, 0, "2027-04-30T10:00:00Z" },
	{ "R/2027-02-28T10:00:00.000Z/P1M", NULL, "2027-01-31T10:00:00Z", 1, 0, "2027-03-31T10:00:00Z" },
	{ "R/2027-03-14T03:30:00.000-04:00/P1D", "America/New_York", "2027-03-13T02:30:00-05:00", 1, 0,
		"2027-03-15T02:30:00-04:00" },
	{ "R/2032-02-29T00:00:00.000Z/P1Y", NULL, "2028-02-29T00:00:00Z", 4, 0, "2033-02-28T00:00:00Z" },
	/* inconsistent: the job was re-posted (or its row is stale); it counts from its own start */
	{ "R/2027-03-28T10:00:00.000Z/P1M", NULL, "2027-01-31T10:00:00Z", 2, -ESTALE, "2027-04-28T10:00:00Z" },
	{ "R/2027-02-28T10:00:00.000Z/P1M", NULL, "2027-01-31T10:00:00Z", 2, -ESTALE, "2027-03-28T10:00:00Z" },
	{ "R/2027-02-28T10:00:00.000Z/P1M", NULL, "2027-01-31T10:00:00Z", -1, -ESTALE, "2027-03-28T10:00:00Z" },
	{ "R/2027-02-28T10:00:00.000Z/P3W", NULL, "2027-01-31T10:00:00Z", 1, -ESTALE, "2027-03-21T10:00:00Z" },
	{ "R/2027-03-14T03:30:00.000-04:00/P1D", "Europe/Paris", "2027-03-13T02:30:00-05:00", 1, -ESTALE,
		"2027-03-15T03:30:00+01:00" },
	{ "R/2027-02-28T10:00:00.000Z/PT24H", NULL, "2027-02-27T10:00:00Z", 1, -ESTALE, "2027-03-01T10:00:00Z" },
};

static void test_restart_consistency(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char got[SCHEDULE_INSTANT_MAX];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(anchor_rows); i++) {
		const struct anchor_row *r = &anchor_rows[i];
		struct schedule s, parsed;
		int64_t next;
		int rc;

		parse_or_fail(z, r->stored, r->tz, 0, &s);
		parsed = s;
		rc = schedule_set_anchor(z, &s, T(r->anchor), r->index);
		if (rc != r->rc)
			fail_msg("row %zu '%s': set_anchor gave %d, want %d", i, r->stored, rc, r->rc);
		if (rc != 0)
			assert_memory_equal(&s, &parsed, sizeof(s));
		assert_int_equal(schedule_next_after(z, &s, schedule_start(&s), &next), 0);
		if (next != T(r->next))
			fail_msg("row %zu '%s': next %s, want %s", i, r->stored, show(z, s.zone, next, got, sizeof(got)),
				r->next);
	}
	schedule_zones_free(z);
}

/* An empty start is "now" at every parse: it has no anchor to save and none restores onto it, until its first
 * launch makes the start concrete. */
static void test_start_now_takes_no_anchor(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	int64_t anchor, index;
	struct schedule s;
	(void)state;

	parse_or_fail(z, "R//P1M", NULL, T("2027-03-31T10:00:01Z"), &s);
	assert_false(schedule_anchor(&s, &anchor, &index));
	assert_int_equal(schedule_set_anchor(z, &s, T("2027-01-31T10:00:00Z"), 2), -ESTALE);
	assert_int_equal(schedule_skip_forward(z, &s, T("2027-03-31T10:00:01Z")), 0);
	assert_true(schedule_anchor(&s, &anchor, &index));
	assert_int_equal(anchor, T("2027-03-31T10:00:00Z"));
	assert_int_equal(index, 1);
	assert_int_equal(schedule_start(&s), T("2027-04-30T10:00:00Z"));
	schedule_zones_free(z);
}

struct keep_row {
	const char *old, *old_tz; /* parsed, then launched once at launch */
	const char *launch;
	const char *posted, *posted_tz;
	bool kept;
	const char *next; /* the posted schedule's occurrence after its start */
};

static const struct keep_row keep_rows[] = {
	/* posted back as it was read: same start, period and zone */
	{ "R/2027-01-31T10:00:00Z/P1M", NULL, "2027-01-31T10:00:01Z", "R/2027-02-28T10:00:00.000Z/P1M", NULL, true,
		"2027-03-31T10:00:00Z" },
	{ "R/2027-01-31T10:00:00Z/P1M", NULL, "2027-01-31T10:00:01Z", "R5/2027-02-28T10:00:00Z/P1M", NULL, true,
		"2027-03-31T10:00:00Z" },
	{ "R/2027-03-13T02:30:00/P1D", "America/New_York", "2027-03-13T07:30:01Z",
		"R/2027-03-14T03:30:00.000-04:00/P1D", "America/New_York", true, "2027-03-15T02:30:00-04:00" },
	/* changed: start, period or zone */
	{ "R/2027-01-31T10:00:00Z/P1M", NULL, "2027-01-31T10:00:01Z", "R/2027-02-27T10:00:00Z/P1M", NULL, false,
		"2027-03-27T10:00:00Z" },
	{ "R/2027-01-31T10:00:00Z/P1M", NULL, "2027-01-31T10:00:01Z", "R/2027-02-28T10:00:00Z/P2M", NULL, false,
		"2027-04-28T10:00:00Z" },
	{ "R/2027-01-31T10:00:00Z/P1M", NULL, "2027-01-31T10:00:01Z", "R/2027-02-28T10:00:00Z/P1M", "Europe/London",
		false, "2027-03-28T10:00:00+01:00" },
	{ "R/2027-01-31T10:00:00Z/P1M", NULL, "2027-01-31T10:00:01Z", "R//P1M", NULL, false, NULL },
};

static void test_repost_keeps_anchor(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char got[SCHEDULE_INSTANT_MAX];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(keep_rows); i++) {
		const struct keep_row *r = &keep_rows[i];
		struct schedule old, posted;
		int64_t next;

		parse_or_fail(z, r->old, r->old_tz, 0, &old);
		assert_int_equal(schedule_skip_forward(z, &old, T(r->launch)), 0);
		parse_or_fail(z, r->posted, r->posted_tz, T(r->launch), &posted);
		if (schedule_keep_anchor(&posted, &old) != r->kept)
			fail_msg("row %zu '%s': kept is %d, want %d", i, r->posted, !r->kept, r->kept);
		if (r->next == NULL)
			continue;
		assert_int_equal(schedule_next_after(z, &posted, schedule_start(&posted), &next), 0);
		if (next != T(r->next))
			fail_msg("row %zu '%s': next %s, want %s", i, r->posted,
				show(z, posted.zone, next, got, sizeof(got)), r->next);
	}
	schedule_zones_free(z);
}

struct upcoming_row {
	const char *sched, *tz;
	const char *cron_done; /* cron: the last slot handled (NULL: now, as for a new job) */
	const char *now;
	int64_t eps_ms;
	bool ends; /* nothing follows the times listed */
	const char *want[MAX_WANT];
};

static const struct upcoming_row upcoming_rows[] = {
	/* the latest past slot runs only within epsilon; the older start never does */
	{ "R/2027-01-31T10:00:00Z/P1M", NULL, NULL, "2027-03-31T10:00:30Z", 60000, false,
		{ "2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z", "2027-05-31T10:00:00Z" } },
	{ "R/2027-01-31T10:00:00Z/P1M", NULL, NULL, "2027-03-31T10:00:30Z", 10000, false,
		{ "2027-04-30T10:00:00Z", "2027-05-31T10:00:00Z", "2027-06-30T10:00:00Z" } },
	{ "R/2008-03-01T13:00:00Z/PT1H", NULL, NULL, "2027-03-31T10:20:00Z", 60000, false,
		{ "2027-03-31T11:00:00Z", "2027-03-31T12:00:00Z" } },
	/* the launch takes one of the count, run or not */
	{ "R3/2027-01-31T10:00:00Z/P1M", NULL, NULL, "2027-03-31T10:00:30Z", 60000, true,
		{ "2027-03-31T10:00:00Z", "2027-04-30T10:00:00Z", "2027-05-31T10:00:00Z" } },
	{ "R3/2027-01-31T10:00:00Z/P1M", NULL, NULL, "2027-03-31T10:00:30Z", 10000, true,
		{ "2027-04-30T10:00:00Z", "2027-05-31T10:00:00Z" } },
	{ "R1/2027-01-31T10:00:00Z/P1M", NULL, NULL, "2027-03-31T10:00:30Z", 10000, true, { NULL } },
	{ "R0/2027-01-31T10:00:00Z/P1M", NULL, NULL, "2027-01-01T00:00:00Z", 60000, true, { NULL } },
	/* a future start, then its occurrences, up to the count */
	{ "R3/2030-01-01T00:00:00Z/PT1H", NULL, NULL, "2027-03-31T10:00:30Z", 60000, true,
		{ "2030-01-01T00:00:00Z", "2030-01-01T01:00:00Z", "2030-01-01T02:00:00Z" } },
	/* a zero period fires once more, at once when its start has passed */
	{ "R1/2027-01-31T10:00:00Z/PT0S", NULL, NULL, "2027-03-31T10:00:30Z", 60000, true,
		{ "2027-03-31T10:00:30Z" } },
	/* cron counts from its progress */
	{ "0 10 * * *", "Europe/Paris", "2027-03-28T10:00:00+02:00", "2027-03-31T10:00:30+02:00", 60000, false,
		{ "2027-03-31T10:00:00+02:00", "2027-04-01T10:00:00+02:00" } },
	{ "0 10 * * *", "Europe/Paris", NULL, "2027-03-31T10:00:30+02:00", 60000, false,
		{ "2027-04-01T10:00:00+02:00", "2027-04-02T10:00:00+02:00" } },
};

static void test_upcoming(void **state)
{
	struct schedule_zones *z = schedule_zones_new();
	char got[SCHEDULE_INSTANT_MAX];
	(void)state;

	for (size_t i = 0; i < ARRAY_LEN(upcoming_rows); i++) {
		const struct upcoming_row *r = &upcoming_rows[i];
		int64_t now = T(r->now), out[MAX_WANT];
		struct schedule s;
		int want = 0, n;

		while (want < MAX_WANT && r->want[want])
			want++;
		parse_or_fail(z, r->sched, r->tz, now, &s);
		n = schedule_upcoming(z, &s, r->cron_done ? T(r->cron_done) : now, now, r->eps_ms, out,
			r->ends ? MAX_WANT : want);
		if (n != want)
			fail_msg("row %zu '%s': %d times, want %d", i, r->sched, n, want);
		for (int k = 0; k < want; k++)
			if (out[k] != T(r->want[k]))
				fail_msg("row %zu '%s' time %d: got %s, want %s", i, r->sched, k,
					show(z, s.zone, out[k], got, sizeof(got)), r->want[k]);
	}
	schedule_zones_free(z);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_launch_after_launch),
		cmocka_unit_test(test_late_launch_counts_from_anchor),
		cmocka_unit_test(test_restart_consistency),
		cmocka_unit_test(test_start_now_takes_no_anchor),
		cmocka_unit_test(test_repost_keeps_anchor),
		cmocka_unit_test(test_upcoming),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
