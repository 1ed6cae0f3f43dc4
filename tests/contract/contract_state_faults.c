/* The state's contract when a commit fails, a transaction is aborted, or commits complete later
 * (contract_state.c says how a commit reports). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "contract_state.h"

/* The task ids whose history cs_snapshot shows here. */
static const char *const ended[] = {"r:1", "r:2", "r:3", "s:1", NULL};

/* What every test here starts from: two jobs (j1 with progress and outcome), two open runs, a round of two
 * entries. */
static const char before[] = "jobs: j1 p=1 - R/2024-01-01T00:00:00Z/PT1H o=1/0/0 10 never|j2| "
			     "progress: j1 p=1 - R/2024-01-01T00:00:00Z/PT1H| open: r:1=queued,r:2=running, "
			     "rounds: c<j2=j2:1|c<p=p:1| history: r:1=-|r:2=-|r:3=-|s:1=-|";

/* ... and what write_every_kind makes of it. */
static const char after[] = "jobs: j1 p=2 5@1 R/2024-01-01T05:00:00Z/PT1H o=2/0/0 20 never|n| "
			    "progress: j1 p=2 5@1 R/2024-01-01T05:00:00Z/PT1H| open: r:1=running,r:3=queued, "
			    "rounds: c<q=q:1| history: r:1=-|r:2=succeeded|r:3=-|s:1=skipped|";

static void make_before(struct fixture *f)
{
	struct run_record r1 = ct_run("r", 1, RUN_QUEUED, RUN_TIME_NONE), r2 = ct_run("r", 2, RUN_RUNNING,
	    RUN_TIME_NONE);
	struct state_txn *t = ct_begin(f);
	struct text out;

	assert_int_equal(state_put_job(t, "j1", "{\"v\":1}"), 0);
	assert_int_equal(state_put_job(t, "j2", "{}"), 0);
	assert_int_equal(state_put_progress(t, "j1", &(struct state_progress){.last_due_ms = 1,
	    .schedule = "R/2024-01-01T00:00:00Z/PT1H"}), 0);
	assert_int_equal(state_put_outcome(t, "j1", &(struct state_outcome){1, 0, 0, 10, INT64_MIN, false}), 0);
	assert_int_equal(state_claim_run(t, &r1), 0);
	assert_int_equal(state_claim_run(t, &r2), 0);
	assert_int_equal(state_round_put(t, "c", "p", "p:1"), 0);
	assert_int_equal(state_round_put(t, "c", "j2", "j2:1"), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(cs_snapshot(f, ended, &out), before);
	run_record_clear(&r1);
	run_record_clear(&r2);
}

/* A transaction with a write of every kind, which make_before's state takes to after: the caller commits or
 * aborts it. */
static struct state_txn *write_every_kind(struct fixture *f)
{
	struct run_record r1 = ct_run("r", 1, RUN_RUNNING, RUN_TIME_NONE), r2 = ct_run("r", 2, RUN_SUCCEEDED, 50);
	struct run_record r3 = ct_run("r", 3, RUN_QUEUED, RUN_TIME_NONE), s1 = ct_run("s", 1, RUN_SKIPPED, 2);
	struct state_txn *t = ct_begin(f);

	assert_int_equal(state_put_job(t, "n", "{}"), 0);
	assert_int_equal(state_put_job(t, "j1", "{\"v\":2}"), 0);
	assert_int_equal(state_delete_job(t, "j2"), 0);
	assert_int_equal(state_put_progress(t, "j1", &(struct state_progress){.last_due_ms = 2, .has_anchor = true,
	    .anchor_ms = 5, .anchor_index = 1, .schedule = "R/2024-01-01T05:00:00Z/PT1H"}), 0);
	assert_int_equal(state_put_outcome(t, "j1", &(struct state_outcome){2, 0, 0, 20, INT64_MIN, false}), 0);
	assert_int_equal(state_claim_run(t, &r3), 0);
	assert_int_equal(state_put_run(t, &r1), 0);
	assert_int_equal(state_end_run(t, &r2), 0);
	assert_int_equal(state_claim_run(t, &s1), 0);
	assert_int_equal(state_round_put(t, "c", "q", "q:1"), 0);
	assert_int_equal(state_round_clear(t, "c", "p"), 0);
	run_record_clear(&r1);
	run_record_clear(&r2);
	run_record_clear(&r3);
	run_record_clear(&s1);
	return t;
}

/* A commit that fails reports it once, through done, with errmsg saying its cause, and leaves nothing of any kind
 * of write it held; the backend works on: the same writes then commit. */
void test_state_commit_failure(void **state)
{
	struct fixture *f = *state;
	struct state_txn *t;
	struct text out;

	make_before(f);
	t = write_every_kind(f);
	f->b->fail_next_write(f->fx);
	assert_true(ct_commit(f, t) < 0);
	ct_assert_fail_message(f, state_errmsg(f->s));
	assert_string_equal(cs_snapshot(f, ended, &out), before);
	assert_string_equal(cs_definition(f, "j1"), "{\"v\":1}");
	assert_int_equal(ct_commit(f, write_every_kind(f)), 0);
	assert_string_equal(cs_snapshot(f, ended, &out), after);
	assert_string_equal(cs_definition(f, "j1"), "{\"v\":2}");
}

/* An aborted transaction leaves nothing, and the backend works on. */
void test_state_abort(void **state)
{
	struct fixture *f = *state;
	struct text out;

	make_before(f);
	state_abort(write_every_kind(f));
	ct_settle(f);
	assert_string_equal(cs_snapshot(f, ended, &out), before);
	state_abort(NULL); /* nothing */
	assert_int_equal(ct_commit(f, write_every_kind(f)), 0);
	assert_string_equal(cs_snapshot(f, ended, &out), after);
}

/* One of the commits test_state_completes_later makes: what its done saw. */
struct later {
	struct fixture *f;
	int *order;      /* the commits done so far, shared */
	const char *job; /* the job it put: visible at done */
	const char *run; /* a run it claimed or ended: open or ended at done */
	bool ended;      /* ... ended: in the history at done */
	struct report rep;
	int done_as;     /* its place among the dones (1: first) */
	bool job_seen, run_seen;
};

static void later_done(void *ctx, int status)
{
	struct later *l = ctx;
	struct run_record r;

	ct_done(&l->rep, status);
	l->done_as = ++*l->order;
	l->job_seen = cs_definition(l->f, l->job) != NULL;
	run_record_init(&r);
	l->run_seen = history_get(l->f->h, l->run, &r) == 0 ||
	    (!l->ended && state_get_open_run(l->f->s, l->run, &r) == 0);
	run_record_clear(&r);
}

/* Commits made one after the other before any completes each complete exactly once, in the order made, each with
 * its writes visible by the time its done runs (before state_commit returns, for a backend that completes at
 * once); later commits build on earlier ones. */
void test_state_completes_later(void **state)
{
	struct fixture *f = *state;
	struct run_record a1 = ct_run("a", 1, RUN_RUNNING, RUN_TIME_NONE);
	int order = 0;
	struct later l[3] = {
		{.f = f, .order = &order, .job = "a", .run = "a:1"},
		{.f = f, .order = &order, .job = "b", .run = "a:1", .ended = true},
		{.f = f, .order = &order, .job = "c", .run = "a:1", .ended = true},
	};
	struct state_txn *t;
	struct text out;

	t = ct_begin(f);
	assert_int_equal(state_put_job(t, "a", "{}"), 0);
	assert_int_equal(state_claim_run(t, &a1), 0);
	state_commit(t, later_done, &l[0]);
	t = ct_begin(f);
	assert_int_equal(state_put_job(t, "b", "{}"), 0);
	a1.status = RUN_SUCCEEDED;
	a1.end_ms = 10;
	assert_int_equal(state_end_run(t, &a1), 0);
	state_commit(t, later_done, &l[1]);
	t = ct_begin(f);
	assert_int_equal(state_put_job(t, "c", "{}"), 0);
	assert_int_equal(state_round_put(t, "c", "a", "a:1"), 0);
	state_commit(t, later_done, &l[2]);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(ct_outcome(f, 0, &l[i].rep), 0);
		assert_int_equal(l[i].done_as, i + 1);
		assert_true(l[i].job_seen);
		assert_true(l[i].run_seen);
	}
	assert_string_equal(cs_jobs(f, &out), "a|b|c|");
	assert_string_equal(cs_open_runs(f, &out), "");
	assert_string_equal(cs_rounds(f, &out), "c<a=a:1|");
	run_record_clear(&a1);
}

/* state_commit_now gives the final status when the backend completed the commit before returning, else
 * -EINPROGRESS; either way the commit completes. */
void test_state_commit_now(void **state)
{
	struct fixture *f = *state;
	struct state_txn *t = ct_begin(f);
	int rc;

	assert_int_equal(state_put_job(t, "z", "{\"now\":true}"), 0);
	rc = state_commit_now(t);
	if (f->b->completes_at_once)
		assert_int_equal(rc, 0);
	else if (rc != -EINPROGRESS)
		assert_int_equal(rc, 0);
	ct_settle(f);
	assert_string_equal(cs_definition(f, "z"), "{\"now\":true}");
}
