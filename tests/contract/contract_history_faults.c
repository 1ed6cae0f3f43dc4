/* The history's contract when a commit fails or completes later (contract_history.c says how a write reports). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "contract_history.h"

/* Record r with its commit failing: the failure is reported once (a negative return, or done's status), and
 * errmsg says its cause. */
static void record_failing(struct fixture *f, const struct run_record *r)
{
	struct write w = {.f = f, .task_id = r->task_id, .get_at_done = 1};
	int rc;

	f->b->fail_next_write(f->fx);
	rc = history_record(f->h, r, ch_record_done, &w);
	assert_true(ct_outcome(f, rc, &w.rep) < 0);
	ct_assert_fail_message(f, history_errmsg(f->h));
}

/* A record whose commit fails leaves nothing to read (nor a change to a record it replaced); the next record
 * commits. */
void test_record_failure(void **state)
{
	struct fixture *f = *state;
	struct run_record r = ct_run("a", 2, RUN_FAILED, 12), got;
	struct text out = {""};

	run_record_init(&got);
	ch_add(f, "a", 1, RUN_FAILED, 11);
	record_failing(f, &r);
	assert_int_equal(history_get(f->h, "a:2", &got), -ENOENT);
	assert_string_equal(ch_pages(f, "a", 10, NULL, &out), "a:1,|");
	assert_int_equal(history_recent(f->h, HISTORY_RECENT_FAILURES, 10, ct_collect, ct_clear(&out)), 0);
	assert_string_equal(out.s, "a:1,");
	ch_record(f, &r);
	assert_string_equal(ch_pages(f, "a", 10, NULL, &out), "a:2,a:1,|");
	/* a replacement that fails leaves the record it would have replaced */
	run_record_clear(&r);
	r = ct_run("a", 1, RUN_SUCCEEDED, 99);
	record_failing(f, &r);
	assert_int_equal(history_get(f->h, "a:1", &got), 0);
	assert_int_equal(got.status, RUN_FAILED);
	assert_int_equal(got.end_ms, 11);
	assert_string_equal(ch_durations(f, NULL, 10, &out), "");
	run_record_clear(&r);
	run_record_clear(&got);
}

/* A prune or a deletion whose commit fails reports the failure once (and errmsg its cause), tells no run removed
 * and removes none; the next one commits. */
void test_removal_failure(void **state)
{
	static const char *const b[] = {"b"};
	const struct history_retention keep = {.jobs = b, .n_jobs = 1, .keep = 1, .older_than_ms = RUN_TIME_NONE};
	struct fixture *f = *state;
	struct removal m = {.f = f};
	struct text out = {""};

	for (int due = 1; due <= 3; due++)
		ch_add(f, "b", due, RUN_SUCCEEDED, 100 + due);
	f->b->fail_next_write(f->fx);
	assert_true(ch_removal_end(&m, history_prune(f->h, &keep, ch_removed, ch_removal_done, &m)) < 0);
	ct_assert_fail_message(f, history_errmsg(f->h));
	assert_string_equal(ch_pages(f, "b", 10, NULL, &out), "b:3,b:2,b:1,|");
	ch_prune(f, &keep, (const char *const[]){"b:1", "b:2", NULL});
	memset(&m, 0, sizeof(m));
	m.f = f;
	f->b->fail_next_write(f->fx);
	assert_true(ch_removal_end(&m, history_delete_job(f->h, "b", ch_removed, ch_removal_done, &m)) < 0);
	ct_assert_fail_message(f, history_errmsg(f->h));
	assert_string_equal(ch_pages(f, "b", 10, NULL, &out), "b:3,|");
	ch_delete_job(f, "b", (const char *const[]){"b:3", NULL});
	assert_string_equal(ch_pages(f, "b", 10, NULL, &out), "|");
}

/* A transaction of the state that ends the runs due 1..n of job (never open: skipped slots, say). */
static struct state_txn *end_batch(struct fixture *f, const char *job, int n)
{
	struct state_txn *t = ct_begin(f);

	for (int due = 1; due <= n; due++) {
		struct run_record r = ct_run(job, due, RUN_SKIPPED, 100 + due);
		assert_int_equal(state_end_run(t, &r), 0);
		run_record_clear(&r);
	}
	return t;
}

/* Runs ended in a transaction of the state enter the history with it: a commit that fails leaves none of them. */
void test_commit_failure(void **state)
{
	struct fixture *f = *state;
	struct state_txn *t = end_batch(f, "c", 3);
	struct run_record got;
	struct text out = {""};

	run_record_init(&got);
	f->b->fail_next_write(f->fx);
	assert_true(ct_commit(f, t) < 0);
	assert_int_equal(history_get(f->h, "c:2", &got), -ENOENT);
	assert_string_equal(ch_pages(f, "c", 10, NULL, &out), "|");
	assert_int_equal(ct_commit(f, end_batch(f, "c", 3)), 0);
	assert_string_equal(ch_pages(f, "c", 10, NULL, &out), "c:3,c:2,c:1,|");
}

/* Record the runs due from..from + n - 1 of job at once, each reporting into w (their records into r). */
static void record_many(struct fixture *f, const char *job, int from, int n, struct run_record *r,
    struct write *w)
{
	for (int i = 0; i < n; i++) {
		r[i] = ct_run(job, from + i, RUN_SUCCEEDED, 100 + from + i);
		w[i] = (struct write){.f = f, .task_id = r[i].task_id, .get_at_done = 1};
		assert_int_equal(history_record(f->h, &r[i], ch_record_done, &w[i]), 0);
		if (f->b->completes_at_once)
			assert_int_equal(w[i].rep.calls, 1);
	}
}

/* Check the writes record_many made: each done once, succeeded, its record visible by then. */
static void check_many(struct fixture *f, int n, struct run_record *r, struct write *w)
{
	for (int i = 0; i < n; i++) {
		assert_true(ct_outcome(f, 0, &w[i].rep) >= 0);
		assert_int_equal(w[i].get_at_done, 0);
		run_record_clear(&r[i]);
	}
}

/* Writes under way at once each complete exactly once, with their final status, and take effect in the order
 * they were made (a record made after a prune is not pruned); what each did is visible by the time its done runs
 * (before the call returns, for a backend that completes at once), a removal's runs told before its done.
 * ch_record and ch_prune check this of each write alone. */
void test_completes_later(void **state)
{
	static const char *const l[] = {"l"};
	struct fixture *f = *state;
	struct run_record r[3];
	struct write w[3];
	struct removal m = {.f = f};
	struct text out = {""};

	record_many(f, "l", 1, 3, r, w);
	check_many(f, 3, r, w);
	/* a removal and a record under way together */
	assert_int_equal(history_prune(f->h, &(struct history_retention){.jobs = l, .n_jobs = 1, .keep = 1,
	    .older_than_ms = RUN_TIME_NONE}, ch_removed, ch_removal_done, &m), 0);
	record_many(f, "l", 4, 1, r, w);
	assert_int_equal(ch_removal_end(&m, 0), 2);
	ch_assert_told(&m, (const char *const[]){"l:1", "l:2", NULL});
	check_many(f, 1, r, w);
	assert_string_equal(ch_pages(f, "l", 10, NULL, &out), "l:4,l:3,|");
}
