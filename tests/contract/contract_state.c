/* The state's contract (state/state.h), which every backend passes: each test below says what a backend must do,
 * through state.h, the history it hands ended runs to (history/history.h) and struct contract_backend alone. How a
 * commit reports, for all of them:
 *
 * - state_commit's done runs exactly once with the final status (0, or a negative errno that errmsg explains),
 *   by the time the backend's settle returns at the latest (before state_commit returns, for a backend that
 *   completes at once). Commits complete in the order they were made.
 * - A transaction's writes take effect in the order they were made, all of them or, when its commit fails or it
 *   is aborted, none. They are visible to the reads no later than its done runs; the tests look only after done
 *   (whether the reads show a transaction being made is the backend's affair).
 * - Callbacks may read the state they came from.
 *
 * The jobs' tests are here, the runs' and rounds' in contract_state_runs.c, those of failed, aborted and later
 * commits in contract_state_faults.c, the one of concurrent readers in contract_state_readers.c;
 * contract_fixture.c checks each commit's report. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "contract_state.h"

/* Definitions as clients write them: a plain one, escapes, UTF-8. */
static const char def_a[] = "{\"name\":\"a\",\"schedule\":\"R/2024-01-01T00:00:00Z/PT1H\",\"command\":\"true\"}";
static const char def_b[] = "{\"name\":\"b\",\"command\":\"printf '%s\\\\n' \\\"q\\\" \\\\ \\t\\u00e9\"}";
static const char def_c[] = "{\"name\":\"c\",\"description\":\"h\xc3\xa9llo \xe2\x9c\x93 \xe6\x97\xa5\xe6\x9c\xac\"}";

/* state_job_fn: count the jobs in the int ctx, and stop at the second with 7. */
static int stop_at_second(void *ctx, const struct state_job *job)
{
	(void)job;
	return ++*(int *)ctx == 2 ? 7 : 0;
}

/* A job comes back with its definition as written, byte for byte, and without progress or outcome until they are
 * written; jobs are listed in the order they were created, a replaced one keeping its place, one deleted and put
 * again going last. A walk stops at fn's first non-zero return, which it returns. */
static void test_state_jobs(void **state)
{
	struct fixture *f = *state;
	struct state_txn *t = ct_begin(f);
	struct text out;
	int calls = 0;

	assert_string_equal(cs_jobs(f, &out), "");
	assert_int_equal(state_put_job(t, "a", def_a), 0);
	assert_int_equal(state_put_job(t, "b", def_b), 0);
	assert_int_equal(ct_commit(f, t), 0);
	cs_put_job(f, "c", def_c);
	assert_string_equal(cs_jobs(f, &out), "a|b|c|");
	assert_string_equal(cs_definition(f, "a"), def_a);
	assert_string_equal(cs_definition(f, "b"), def_b);
	assert_string_equal(cs_definition(f, "c"), def_c);
	assert_null(cs_definition(f, "nobody"));
	cs_put_job(f, "a", def_c);
	assert_string_equal(cs_jobs(f, &out), "a|b|c|");
	assert_string_equal(cs_definition(f, "a"), def_c);
	t = ct_begin(f);
	assert_int_equal(state_delete_job(t, "b"), 0);
	assert_int_equal(ct_commit(f, t), 0);
	cs_put_job(f, "b", def_b);
	assert_string_equal(cs_jobs(f, &out), "a|c|b|");
	assert_int_equal(state_load_jobs(f->s, stop_at_second, &calls), 7);
	assert_int_equal(calls, 2);
}

/* Put p as job's progress in a transaction of its own. */
static void put_progress(struct fixture *f, const char *job, const struct state_progress *p)
{
	struct state_txn *t = ct_begin(f);

	assert_int_equal(state_put_progress(t, job, p), 0);
	assert_int_equal(ct_commit(f, t), 0);
}

/* Put o as job's outcome in a transaction of its own. */
static void put_outcome(struct fixture *f, const char *job, const struct state_outcome *o)
{
	struct state_txn *t = ct_begin(f);

	assert_int_equal(state_put_outcome(t, job, o), 0);
	assert_int_equal(ct_commit(f, t), 0);
}

/* A progress comes back as it was written, from load_progress and load_jobs: the anchor only when it has one (one
 * written before is forgotten), the schedule NULL or the text written; each write replaces the last. */
static void test_state_progress(void **state)
{
	static const struct {
		struct state_progress p;
		const char *text;
	} rows[] = {
		{{.last_due_ms = 0}, "0 - -"},
		{{.last_due_ms = 1700000000123}, "1700000000123 - -"},
		{{.has_anchor = true, .anchor_ms = 1704067200000, .anchor_index = 3,
		     .schedule = "R/2024-01-01T03:00:00Z/PT1H"}, "0 1704067200000@3 R/2024-01-01T03:00:00Z/PT1H"},
		{{.last_due_ms = 5, .has_anchor = true, .anchor_ms = -86400000, .anchor_index = 5000000000,
		     .schedule = "R5/1969-12-31T00:00:00Z/P1D"}, "5 -86400000@5000000000 R5/1969-12-31T00:00:00Z/P1D"},
		{{.last_due_ms = 6}, "6 - -"},
	};
	struct fixture *f = *state;
	struct text out, want;

	cs_put_job(f, "p", def_a);
	cs_put_job(f, "q", def_b);
	assert_string_equal(cs_progress(f, &out), "");
	put_progress(f, "q", &(struct state_progress){.last_due_ms = 42, .schedule = "R/2024-02-01T00:00:00Z/P1D"});
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		put_progress(f, "p", &rows[i].p);
		snprintf(want.s, sizeof(want.s), "p p=%s|q p=42 - R/2024-02-01T00:00:00Z/P1D|", rows[i].text);
		assert_string_equal(cs_progress(f, &out), want.s);
		assert_string_equal(cs_jobs(f, &out), want.s); /* the same text, as no job has an outcome */
	}
}

/* An outcome comes back as it was written, from load_jobs: counters beyond 32 bits, INT64_MIN times (never) apart
 * from 0 (the epoch), disabled; each write replaces the last. A job's outcome and progress are written apart:
 * neither changes the other, and a job with an outcome alone reads as having no progress (none, or an empty one:
 * no slot, no anchor, no schedule). */
static void test_state_outcome(void **state)
{
	static const struct {
		struct state_outcome o;
		const char *text;
	} rows[] = {
		{{0, 0, 0, INT64_MIN, INT64_MIN, false}, "0/0/0 never never"},
		{{12, 3, 2, 1700000000000, 1700000500000, false}, "12/3/2 1700000000000 1700000500000"},
		{{5000000000, 4, 3, 0, INT64_MIN, true}, "5000000000/4/3 0 never disabled"},
		{{13, 4, 0, 1700000900000, 0, false}, "13/4/0 1700000900000 0"},
	};
	const struct state_progress p = {.last_due_ms = 9, .has_anchor = true, .anchor_ms = 100, .anchor_index = 1,
	    .schedule = "R/2024-01-01T00:00:00Z/PT1M"};
	struct fixture *f = *state;
	struct text out, want;

	cs_put_job(f, "o", def_a);
	cs_put_job(f, "n", def_c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		put_outcome(f, "o", &rows[i].o);
		snprintf(want.s, sizeof(want.s), "o o=%s|n|", rows[i].text);
		if (strcmp(cs_jobs(f, &out), want.s) != 0) {
			snprintf(want.s, sizeof(want.s), "o p=0 - - o=%s|n|", rows[i].text); /* an empty progress */
			assert_string_equal(out.s, want.s);
		}
	}
	put_progress(f, "o", &p);
	put_progress(f, "n", &p);
	put_outcome(f, "n", &rows[1].o);
	assert_string_equal(cs_jobs(f, &out), "o p=9 100@1 R/2024-01-01T00:00:00Z/PT1M o=13/4/0 1700000900000 0|"
	    "n p=9 100@1 R/2024-01-01T00:00:00Z/PT1M o=12/3/2 1700000000000 1700000500000|");
}

/* Raise the epoch in a transaction of its own: the epoch it returned once the commit completed. */
static uint64_t raise_epoch(struct fixture *f, uint64_t at_least)
{
	struct state_txn *t = ct_begin(f);
	uint64_t epoch = 0;

	assert_int_equal(state_raise_epoch(t, at_least, &epoch), 0);
	assert_int_equal(ct_commit(f, t), 0);
	return epoch;
}

/* The leader's epoch: the first raise stores at_least, each later one max(stored + 1, at_least), so every epoch
 * is higher than all before it; two raises in one transaction count twice; an aborted transaction or a failed
 * commit raises nothing; 0 and values past INT64_MAX are refused without dooming the transaction. */
static void test_state_epoch(void **state)
{
	static const struct {
		uint64_t at_least, want;
	} rows[] = {{1, 1}, {1, 2}, {1, 3}, {10, 10}, {5, 11}, {11, 12}, {100, 100}, {(uint64_t)INT64_MAX - 1,
	    (uint64_t)INT64_MAX - 1}, {1, (uint64_t)INT64_MAX}};
	struct fixture *f = *state;
	struct state_txn *t;
	uint64_t a = 0, b = 0;
	int rc;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]) - 2; i++)
		assert_int_equal(raise_epoch(f, rows[i].at_least), rows[i].want);
	t = ct_begin(f);
	assert_int_equal(state_raise_epoch(t, 1, &a), 0);
	assert_int_equal(state_raise_epoch(t, 1, &b), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_int_equal(a, 101);
	assert_int_equal(b, 102);
	t = ct_begin(f);
	assert_int_equal(state_raise_epoch(t, 500, &a), 0);
	state_abort(t);
	ct_settle(f);
	t = ct_begin(f);
	assert_int_equal(state_raise_epoch(t, 600, &a), 0);
	f->b->fail_next_write(f->fx);
	assert_true(ct_commit(f, t) < 0);
	ct_assert_fail_message(f, state_errmsg(f->s));
	t = ct_begin(f);
	assert_int_equal(state_raise_epoch(t, 0, &a), -EINVAL);
	assert_int_equal(state_raise_epoch(t, (uint64_t)INT64_MAX + 1, &a), -EINVAL);
	assert_int_equal(state_raise_epoch(t, 1, &a), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_int_equal(a, 103);
	for (size_t i = sizeof(rows) / sizeof(rows[0]) - 2; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_int_equal(raise_epoch(f, rows[i].at_least), rows[i].want);
	/* none past INT64_MAX: the write (or, for a backend that holds its writes, its commit) fails */
	t = ct_begin(f);
	if ((rc = state_raise_epoch(t, 1, &a)) == 0) {
		assert_true(ct_commit(f, t) < 0);
	} else {
		assert_int_equal(rc, -EOVERFLOW);
		state_abort(t);
		ct_settle(f);
	}
}

/* Putting a job forgets its progress's schedule (the definition's holds again) and keeps the rest of its progress
 * and its outcome; in one transaction, a progress written after the job keeps its schedule, one written before
 * does not. */
static void test_state_put_job_forgets_schedule(void **state)
{
	const struct state_progress p = {.last_due_ms = 7, .has_anchor = true, .anchor_ms = 1000, .anchor_index = 2,
	    .schedule = "R/2024-01-01T02:00:00Z/PT1H"};
	const struct state_outcome o = {3, 1, 0, 5000, 4000, false};
	struct fixture *f = *state;
	struct state_txn *t = ct_begin(f);
	struct text out;

	assert_int_equal(state_put_job(t, "r", def_a), 0);
	assert_int_equal(state_put_progress(t, "r", &p), 0);
	assert_int_equal(ct_commit(f, t), 0);
	put_outcome(f, "r", &o);
	assert_string_equal(cs_jobs(f, &out), "r p=7 1000@2 R/2024-01-01T02:00:00Z/PT1H o=3/1/0 5000 4000|");
	cs_put_job(f, "r", def_b);
	assert_string_equal(cs_jobs(f, &out), "r p=7 1000@2 - o=3/1/0 5000 4000|");
	assert_string_equal(cs_progress(f, &out), "r p=7 1000@2 -|");
	assert_string_equal(cs_definition(f, "r"), def_b);
	t = ct_begin(f);
	assert_int_equal(state_put_progress(t, "r", &p), 0);
	assert_int_equal(state_put_job(t, "r", def_c), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(cs_jobs(f, &out), "r p=7 1000@2 - o=3/1/0 5000 4000|");
	assert_string_equal(cs_definition(f, "r"), def_c);
}

/* Deleting a job removes it, its progress, its outcome and every round entry it is in, as the child or as a
 * parent, and nothing else; its ended runs stay in the history. Put again, it is a new job. Deleting a job that
 * is not there changes nothing. */
static void test_state_delete_job(void **state)
{
	const struct state_progress p = {.last_due_ms = 7, .schedule = "R/2024-01-01T02:00:00Z/PT1H"};
	const struct state_outcome o = {3, 1, 0, 5000, 4000, true};
	static const char *const ended[] = {"x:1", NULL};
	struct fixture *f = *state;
	struct run_record r = ct_run("x", 1, RUN_RUNNING, RUN_TIME_NONE);
	struct state_txn *t = ct_begin(f);
	struct text out;

	assert_int_equal(state_put_job(t, "x", def_a), 0);
	assert_int_equal(state_put_job(t, "c", def_b), 0);
	assert_int_equal(state_put_progress(t, "x", &p), 0);
	assert_int_equal(state_put_progress(t, "c", &p), 0);
	assert_int_equal(state_put_outcome(t, "x", &o), 0);
	assert_int_equal(state_round_put(t, "x", "p", "p:1"), 0);
	assert_int_equal(state_round_put(t, "c", "x", "x:1"), 0);
	assert_int_equal(state_round_put(t, "c", "q", "q:1"), 0);
	assert_int_equal(state_claim_run(t, &r), 0);
	assert_int_equal(ct_commit(f, t), 0);
	cs_end(f, &r, RUN_SUCCEEDED, 10);
	t = ct_begin(f);
	assert_int_equal(state_delete_job(t, "x"), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(cs_snapshot(f, ended, &out), "jobs: c p=7 - R/2024-01-01T02:00:00Z/PT1H| "
	    "progress: c p=7 - R/2024-01-01T02:00:00Z/PT1H| open:  rounds: c<q=q:1| history: x:1=succeeded|");
	cs_put_job(f, "x", def_c);
	assert_string_equal(cs_jobs(f, &out), "c p=7 - R/2024-01-01T02:00:00Z/PT1H|x|");
	t = ct_begin(f);
	assert_int_equal(state_delete_job(t, "nobody"), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(cs_jobs(f, &out), "c p=7 - R/2024-01-01T02:00:00Z/PT1H|x|");
	run_record_clear(&r);
}

int contract_state_run(const struct contract_backend *b)
{
	struct CMUnitTest tests[] = {
		CT_TEST(test_state_jobs),
		CT_TEST(test_state_progress),
		CT_TEST(test_state_outcome),
		CT_TEST(test_state_put_job_forgets_schedule),
		CT_TEST(test_state_delete_job),
		CT_TEST(test_state_epoch),
		CT_TEST(test_state_claim_taken),
		CT_TEST(test_state_claim_skipped),
		CT_TEST(test_state_statuses_refused),
		CT_TEST(test_state_put_run),
		CT_TEST(test_state_end_run),
		CT_TEST(test_state_open_run_order),
		CT_TEST(test_state_rounds),
		CT_TEST(test_state_tokens),
		CT_TEST(test_state_audit),
		CT_TEST(test_state_commit_failure),
		CT_TEST(test_state_abort),
		CT_TEST(test_state_completes_later),
		CT_TEST(test_state_commit_now),
		CT_TEST(test_state_concurrent_readers),
	};

	return ct_run_tests("state", b, tests, sizeof(tests) / sizeof(tests[0]));
}
