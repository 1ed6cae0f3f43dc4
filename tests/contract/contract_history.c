/* The history's contract (history/history.h), which every backend passes: each test below says what a backend
 * must do, through history.h, the state.h it comes with (open runs, and runs ended in a transaction of the
 * state) and struct contract_backend alone. How a write reports, for all of them:
 *
 * - A write (record, prune, delete_job) returns 0, and its done then runs exactly once with the final status, by
 *   the time the backend's settle returns at the latest (before the call returns, for a backend that completes
 *   at once); or it returns a negative errno, and done never runs. Either way a failure is reported once. A
 *   commit of the state reports as a write that returned 0 (contract_state.c).
 * - Writes take effect in the order they were made. What a write did is visible to the history's reads no later
 *   than its done runs; what a failed write did is never visible. A removal tells removed once per run it took,
 *   each already gone, all before done.
 * - Callbacks may read the history they came from.
 *
 * The tests of failed commits and of completion later are in contract_history_faults.c, the one of concurrent
 * readers in contract_history_readers.c; contract_history_fixture.c checks each write's report. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contract_history.h"

/* Only ended runs are the history's: a run still open is refused (-EINVAL), its done never called. */
static void test_record_only_ended(void **state)
{
	static const enum run_status open_statuses[] = {RUN_QUEUED, RUN_WAITING, RUN_STARTING, RUN_RUNNING};
	struct fixture *f = *state;
	struct text out = {""};

	for (size_t i = 0; i < sizeof(open_statuses) / sizeof(open_statuses[0]); i++) {
		struct run_record r = ct_run("open", 1, open_statuses[i], RUN_TIME_NONE), got;
		struct report rep = {0};

		run_record_init(&got);
		assert_int_equal(history_record(f->h, &r, ct_done, &rep), -EINVAL);
		ct_settle(f);
		assert_int_equal(rep.calls, 0);
		assert_int_equal(history_get(f->h, r.task_id, &got), -ENOENT);
		run_record_clear(&r);
	}
	assert_string_equal(ch_pages(f, "open", 10, NULL, &out), "|");
}

/* Every field of a record comes back as it was recorded, from get and from list, for every final status; get of
 * an unknown task id is -ENOENT and leaves out cleared. */
static void test_record_then_get(void **state)
{
	static const enum run_status ended[] = {RUN_SUCCEEDED, RUN_FAILED, RUN_KILLED, RUN_LOST, RUN_SKIPPED};
	struct fixture *f = *state;
	struct run_record r = ct_run("j", 1000, RUN_FAILED, 4000), got, listed;

	run_record_init(&got);
	run_record_init(&listed);
	r.attempt = 2;
	r.trigger = TRIGGER_RETRY;
	r.not_before_ms = 1500;
	r.start_ms = 2000;
	r.exit_code = 3;
	r.signal = 9;
	r.pid = 4242;
	r.stdout_bytes = 123;
	r.stderr_bytes = 45;
	r.cpu_user_us = 1500000; /* what it used (issue 14); the other runs' are unknown (-1) */
	r.cpu_system_us = 0;
	r.peak_memory_bytes = (int64_t)5 << 30;
	run_record_set(&r.host, "worker-7");
	run_record_set(&r.arguments, "--fast 'a b'");
	run_record_set(&r.parents, "up:1,up2:1");
	run_record_set(&r.reason, "exit status 3");
	ch_record(f, &r);
	assert_int_equal(history_get(f->h, "j:1000", &got), 0);
	ct_assert_same(&got, &r);
	/* fn's non-zero return stops the walk, and is what the walk returns */
	assert_int_equal(history_list(f->h, "j", NULL, 1, ch_copy_one, &listed, (char[HISTORY_CURSOR_MAX]){0}), 1);
	ct_assert_same(&listed, &r);
	run_record_clear(&r);
	for (size_t i = 0; i < sizeof(ended) / sizeof(ended[0]); i++) {
		r = ct_run("k", (int64_t)i, ended[i], 100);
		ch_record(f, &r);
		assert_int_equal(history_get(f->h, r.task_id, &got), 0);
		ct_assert_same(&got, &r);
		run_record_clear(&r);
	}
	assert_int_equal(history_get(f->h, "j:9", &got), -ENOENT);
	assert_null(got.task_id);
	assert_int_equal(got.end_ms, RUN_TIME_NONE);
	run_record_clear(&listed);
}

/* Recording a task id again replaces its record: one run, the new fields, wherever it is read. */
static void test_replace_by_task_id(void **state)
{
	struct fixture *f = *state;
	struct run_record r = ct_run("j", 10, RUN_FAILED, 20), got;
	struct text out = {""};

	run_record_init(&got);
	ch_record(f, &r);
	r.status = RUN_SUCCEEDED;
	r.exit_code = 0;
	r.end_ms = 30;
	run_record_set(&r.host, "other-host");
	ch_record(f, &r);
	assert_int_equal(history_get(f->h, "j:10", &got), 0);
	ct_assert_same(&got, &r);
	assert_string_equal(ch_pages(f, "j", 10, NULL, &out), "j:10,|");
	assert_int_equal(history_recent(f->h, HISTORY_RECENT_FAILURES, 10, ct_collect, ct_clear(&out)), 0);
	assert_string_equal(out.s, "");
	assert_string_equal(ch_durations(f, "j", 10, &out), "j:20|");
	run_record_clear(&r);
	run_record_clear(&got);
}

/* "p:7,p:6,|p:5,p:4,|..." for runs p:n..p:1 in pages of limit: what ch_pages must give. */
static const char *newest_first(int n, int limit, struct text *out)
{
	int len = 0;

	for (int due = n, i = 1; due >= 1; due--, i++) {
		const char *end = i % limit && due > 1 ? "" : "|";
		len += snprintf(out->s + len, sizeof(out->s) - (size_t)len, "p:%d,%s", due, end);
	}
	if (n == 0)
		snprintf(out->s, sizeof(out->s), "|");
	return out->s;
}

/* A job's ended runs, newest first, in pages of at most limit (every page but the last full) that follow the
 * cursors to the last page, whose next is ""; open runs and other jobs' runs are left out; NULL and "" start at
 * the newest. */
static void test_list_pages(void **state)
{
	static const enum run_status statuses[] = {RUN_SUCCEEDED, RUN_FAILED, RUN_KILLED, RUN_LOST, RUN_SKIPPED};
	struct fixture *f = *state;
	struct text got = {""}, want = {""};

	for (int due = 1; due <= 7; due++) {
		ch_add(f, "p", due, statuses[due % 5], 100 + due);
		ch_add(f, "other", due, RUN_SUCCEEDED, 100 + due);
		if (due == 4)
			ch_add_open(f, "p", 40);
	}
	for (int limit = 1; limit <= 9; limit++) {
		assert_string_equal(ch_pages(f, "p", limit, NULL, &got), newest_first(7, limit, &want));
		assert_string_equal(ch_pages(f, "p", limit, "", &got), want.s);
	}
	assert_string_equal(ch_pages(f, "p", 1000, NULL, &got), newest_first(7, 1000, &want));
	assert_string_equal(ch_pages(f, "nobody", 5, NULL, &got), newest_first(0, 5, &want));
}

/* A cursor stays valid when the run it came after is pruned, and runs recorded since do not enter later pages. */
static void test_cursor_after_prune(void **state)
{
	struct fixture *f = *state;
	char next[HISTORY_CURSOR_MAX];
	struct text out = {""};

	for (int due = 1; due <= 6; due++)
		ch_add(f, "p", due, RUN_SUCCEEDED, due == 5 ? 10 : 100 + due);
	assert_int_equal(history_list(f->h, "p", NULL, 2, ct_collect, &out, next), 0);
	assert_string_equal(out.s, "p:6,p:5,");
	ch_prune(f, &(struct history_retention){.jobs = (const char *const[]){"p"}, .n_jobs = 1,
	    .older_than_ms = 50}, (const char *const[]){"p:5", NULL});
	ch_add(f, "p", 7, RUN_SUCCEEDED, 107);
	assert_string_equal(ch_pages(f, "p", 2, next, &out), "p:4,p:3,|p:2,p:1,|");
}

/* A cursor the backend did not make is -EINVAL, and no run is passed on. */
static void test_invalid_cursor(void **state)
{
	static const char *const bad[] = {"not a cursor", "x", "-1", "0x10", "?", "~~~~"};
	struct fixture *f = *state;
	char next[HISTORY_CURSOR_MAX];
	struct text out = {""};

	for (int due = 1; due <= 3; due++)
		ch_add(f, "p", due, RUN_SUCCEEDED, 100 + due);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(history_list(f->h, "p", bad[i], 2, ct_collect, ct_clear(&out), next), -EINVAL);
		assert_string_equal(out.s, "");
	}
}

/* The newest failed or lost runs of every job (killed is neither), and the newest skipped ones, at most limit. */
static void test_recent(void **state)
{
	static const struct {
		enum history_recent kind;
		int limit;
		const char *runs;
	} rows[] = {
		{HISTORY_RECENT_FAILURES, 10, "b:6,b:3,a:2,"},
		{HISTORY_RECENT_FAILURES, 2, "b:6,b:3,"},
		{HISTORY_RECENT_SKIPS, 10, "a:7,b:4,"},
		{HISTORY_RECENT_SKIPS, 1, "a:7,"},
	};
	static const struct run_row runs[] = {
		{"a", 1, RUN_SUCCEEDED, 11}, {"a", 2, RUN_FAILED, 12}, {"b", 3, RUN_LOST, 13},
		{"b", 4, RUN_SKIPPED, 14}, {"a", 5, RUN_KILLED, 15}, {"a", 55, RUN_RUNNING, RUN_TIME_NONE},
		{"b", 6, RUN_FAILED, 16}, {"a", 7, RUN_SKIPPED, 17},
	};
	struct fixture *f = *state;
	struct text out = {""};

	ch_add_rows(f, runs, sizeof(runs) / sizeof(runs[0]));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(history_recent(f->h, rows[i].kind, rows[i].limit, ct_collect, ct_clear(&out)), 0);
		assert_string_equal(out.s, rows[i].runs);
	}
}

/* Durations (end - due) of a job's newest succeeded runs (no other status counts), newest first, at most max;
 * for all jobs, one call per job that has any, each the same. */
static void test_durations(void **state)
{
	static const struct run_row runs[] = {
		{"x", 0, RUN_SUCCEEDED, 250}, {"x", 1000, RUN_KILLED, 1100}, {"y", 500, RUN_SUCCEEDED, 530},
		{"x", 2000, RUN_SUCCEEDED, 2040}, {"x", 3000, RUN_LOST, 3500}, {"y", 600, RUN_FAILED, 700},
		{"x", 4000, RUN_SUCCEEDED, 4900}, {"z", 10, RUN_SKIPPED, 20}, {"x", 5000, RUN_FAILED, 5001},
		{"x", 6000, RUN_RUNNING, RUN_TIME_NONE},
	};
	struct fixture *f = *state;
	struct text out = {""};

	ch_add_rows(f, runs, sizeof(runs) / sizeof(runs[0]));
	assert_string_equal(ch_durations(f, "x", 2, &out), "x:900,40|");
	assert_string_equal(ch_durations(f, "x", 10, &out), "x:900,40,250|");
	assert_string_equal(ch_durations(f, "y", 10, &out), "y:30|");
	assert_string_equal(ch_durations(f, "z", 10, &out), "");
	assert_string_equal(ch_durations(f, "nobody", 10, &out), "");
	assert_string_equal(ch_durations(f, NULL, 1, &out), "x:900|y:30|");
	assert_string_equal(ch_durations(f, NULL, 10, &out), "x:900,40,250|y:30|");
}

/* Retention by count keeps a job's newest keep runs, its open runs among them (they stay: open runs are never the
 * history's to remove), for the jobs named or all; a removal of nothing is done with 0. */
static void test_prune_by_count(void **state)
{
	static const char *const c[] = {"c"};
	struct fixture *f = *state;
	struct text out = {""};

	for (int due = 1; due <= 5; due++)
		ch_add(f, "c", due, RUN_SUCCEEDED, 100 + due);
	ch_add_open(f, "c", 6);
	for (int due = 1; due <= 3; due++)
		ch_add(f, "d", due, RUN_FAILED, 200 + due);
	ch_prune(f, &(struct history_retention){.jobs = c, .n_jobs = 1, .keep = 3, .older_than_ms = RUN_TIME_NONE},
	    (const char *const[]){"c:1", "c:2", "c:3", NULL});
	assert_string_equal(ch_pages(f, "c", 10, NULL, &out), "c:5,c:4,|");
	assert_string_equal(ch_pages(f, "d", 10, NULL, &out), "d:3,d:2,d:1,|");
	ch_prune(f, &(struct history_retention){.jobs = c, .n_jobs = 1, .keep = 3, .older_than_ms = RUN_TIME_NONE},
	    (const char *const[]){NULL});
	ch_prune(f, &(struct history_retention){.keep = 2, .older_than_ms = RUN_TIME_NONE},
	    (const char *const[]){"c:4", "d:1", NULL});
	ch_prune(f, &(struct history_retention){.keep = 0, .older_than_ms = RUN_TIME_NONE},
	    (const char *const[]){NULL});
	assert_string_equal(ch_pages(f, "c", 10, NULL, &out), "c:5,|");
	assert_string_equal(ch_pages(f, "d", 10, NULL, &out), "d:3,d:2,|");
	/* the open run that counted ends now, and is the job's newest */
	ch_add(f, "c", 6, RUN_SUCCEEDED, 106);
	assert_string_equal(ch_pages(f, "c", 10, NULL, &out), "c:6,c:5,|");
}

/* Retention by age removes the ended runs that ended before older_than_ms (one that ended then stays), alone or
 * with a count. */
static void test_prune_by_age(void **state)
{
	static const char *const e[] = {"e"};
	static const struct run_row runs[] = {
		{"e", 1, RUN_SUCCEEDED, 100}, {"g", 1, RUN_LOST, 150}, {"e", 2, RUN_FAILED, 200},
		{"e", 3, RUN_SUCCEEDED, 300}, {"e", 4, RUN_QUEUED, RUN_TIME_NONE},
	};
	struct fixture *f = *state;
	struct text out = {""};

	ch_add_rows(f, runs, sizeof(runs) / sizeof(runs[0]));
	ch_prune(f, &(struct history_retention){.older_than_ms = 200}, (const char *const[]){"e:1", "g:1", NULL});
	assert_string_equal(ch_pages(f, "e", 10, NULL, &out), "e:3,e:2,|");
	ch_prune(f, &(struct history_retention){.older_than_ms = RUN_TIME_NONE}, (const char *const[]){NULL});
	ch_add(f, "e", 5, RUN_SUCCEEDED, 500);
	/* e:2 goes by count (e:5, the open e:4 and e:3 are the newest 3) and by age, e:3 by age alone */
	ch_prune(f, &(struct history_retention){.jobs = e, .n_jobs = 1, .keep = 3, .older_than_ms = 350},
	    (const char *const[]){"e:2", "e:3", NULL});
	assert_string_equal(ch_pages(f, "e", 10, NULL, &out), "e:5,|");
}

/* Deleting a job's history removes every ended run of it and nothing else, told as a prune is. */
static void test_delete_job(void **state)
{
	struct fixture *f = *state;
	struct text out = {""};

	for (int due = 1; due <= 3; due++)
		ch_add(f, "g", due, due == 2 ? RUN_FAILED : RUN_SUCCEEDED, 100 + due);
	ch_add_open(f, "g", 4);
	ch_add(f, "h", 1, RUN_FAILED, 101);
	ch_delete_job(f, "g", (const char *const[]){"g:1", "g:2", "g:3", NULL});
	assert_string_equal(ch_pages(f, "g", 10, NULL, &out), "|");
	assert_string_equal(ch_pages(f, "h", 10, NULL, &out), "h:1,|");
	assert_int_equal(history_recent(f->h, HISTORY_RECENT_FAILURES, 10, ct_collect, ct_clear(&out)), 0);
	assert_string_equal(out.s, "h:1,");
	assert_string_equal(ch_durations(f, NULL, 10, &out), "");
	ch_delete_job(f, "nobody", (const char *const[]){NULL});
}

/* A skipped record keeps the slots it covers (first and last due time, how many) and its reason wherever it is
 * read; a record of another status reads as covering none. */
static void test_skipped_fields(void **state)
{
	static const struct {
		int64_t from, to, slots;
		const char *reason;
	} rows[] = {
		{60000, 60000, 1, "the previous run was still running"},
		{120000, 600000, 9, "9 slots missed while the server was down"},
		{700000, 86400000, 1000, "at least 1000 slots missed (the count stops there)"},
	};
	struct fixture *f = *state;
	struct run_record r, got, listed;
	char next[HISTORY_CURSOR_MAX];

	run_record_init(&got);
	run_record_init(&listed);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		r = ct_skipped("s", rows[i].from, rows[i].to, rows[i].slots, rows[i].reason);
		ch_record(f, &r);
		assert_int_equal(history_get(f->h, r.task_id, &got), 0);
		ct_assert_same(&got, &r);
		assert_int_equal(history_list(f->h, "s", NULL, 1, ch_copy_one, &listed, next), 1);
		ct_assert_same(&listed, &r);
		assert_int_equal(history_recent(f->h, HISTORY_RECENT_SKIPS, 1, ch_copy_one, &listed), 1);
		ct_assert_same(&listed, &r);
		run_record_clear(&r);
	}
	r = ct_run("s", 90000000, RUN_FAILED, 90000100);
	ch_record(f, &r);
	assert_int_equal(history_get(f->h, r.task_id, &got), 0);
	assert_int_equal(got.skipped_from_ms, RUN_TIME_NONE);
	assert_int_equal(got.skipped_to_ms, RUN_TIME_NONE);
	assert_int_equal(got.skipped_slots, 0);
	run_record_clear(&r);
	run_record_clear(&got);
	run_record_clear(&listed);
}

/* The runs of every job that overlap a window, the latest ended first (of one end, the newest run), at most limit:
 * not those that ended before it, began (started, or were due) after it, or are open; a skipped run by its due
 * time. */
static void test_window(void **state)
{
	static const struct run_row runs[] = {
		{"a", 100, RUN_SUCCEEDED, 150}, {"a", 180, RUN_FAILED, 220}, {"b", 250, RUN_SUCCEEDED, 300},
		{"c", 390, RUN_KILLED, 500}, {"c", 450, RUN_SUCCEEDED, 460}, {"a", 290, RUN_LOST, 300},
		{"d", 260, RUN_RUNNING, 0},
	};
	static const struct {
		int64_t from, to;
		int limit;
		const char *want;
	} rows[] = {
		{200, 400, 10, "c:390,a:290,b:250,s:210,a:180,"},
		{200, 400, -1, "c:390,a:290,b:250,s:210,a:180,"},
		{200, 400, 2, "c:390,a:290,"},
		{300, 400, 10, "c:390,a:290,b:250,"},
		{200, 250, 10, "b:250,s:210,a:180,"},
		{501, 1000, 10, ""},
		{0, 99, 10, ""},
		{0, 100, 10, "a:100,"},
		{0, 1000, 10, "c:390,c:450,a:290,b:250,s:210,a:180,a:100,"},
	};
	struct fixture *f = *state;
	struct run_record r = ct_skipped("s", 210, 230, 3, "missed"), got;
	struct text out = {""};

	ch_add_rows(f, runs, sizeof(runs) / sizeof(runs[0]));
	ch_record(f, &r);
	run_record_clear(&r);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		assert_int_equal(history_window(f->h, rows[i].from, rows[i].to, rows[i].limit, ct_collect, ct_clear(&out)),
		    0);
		if (strcmp(out.s, rows[i].want) != 0)
			fail_msg("window [%lld, %lld] limit %d: '%s', expected '%s'", (long long)rows[i].from,
			    (long long)rows[i].to, rows[i].limit, out.s, rows[i].want);
	}
	/* fn's non-zero return stops the walk, and is what the walk returns */
	run_record_init(&got);
	assert_int_equal(history_window(f->h, 200, 400, 10, ch_copy_one, &got), 1);
	assert_string_equal(got.task_id, "c:390");
	run_record_clear(&got);
}

int contract_history_run(const struct contract_backend *b)
{
	struct CMUnitTest tests[] = {
		CT_TEST(test_record_only_ended),
		CT_TEST(test_record_then_get),
		CT_TEST(test_replace_by_task_id),
		CT_TEST(test_list_pages),
		CT_TEST(test_cursor_after_prune),
		CT_TEST(test_invalid_cursor),
		CT_TEST(test_recent),
		CT_TEST(test_window),
		CT_TEST(test_durations),
		CT_TEST(test_prune_by_count),
		CT_TEST(test_prune_by_age),
		CT_TEST(test_delete_job),
		CT_TEST(test_skipped_fields),
		CT_TEST(test_record_failure),
		CT_TEST(test_removal_failure),
		CT_TEST(test_commit_failure),
		CT_TEST(test_completes_later),
		CT_TEST(test_concurrent_readers),
	};

	return ct_run_tests("history", b, tests, sizeof(tests) / sizeof(tests[0]));
}
