/* The state's contract for open runs and rounds (contract_state.c says how a commit reports). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "contract_state.h"

static const enum run_status open_statuses[] = {RUN_QUEUED, RUN_WAITING, RUN_STARTING, RUN_RUNNING};
static const enum run_status final_statuses[] = {RUN_SUCCEEDED, RUN_FAILED, RUN_KILLED, RUN_LOST, RUN_SKIPPED};

/* state_run_fn and history_run_fn: copy the first run into the struct run_record ctx, and stop with 5. */
static int copy_first(void *ctx, const struct run_record *r)
{
	run_record_copy(ctx, r);
	return 5;
}

/* A claim is refused (-EEXIST) when the task id is an open run's, an ended run's, or was claimed earlier in the
 * same transaction; the refusal changes nothing, and the transaction commits its other writes. */
void test_state_claim_taken(void **state)
{
	struct fixture *f = *state;
	struct run_record a = ct_run("a", 1, RUN_QUEUED, RUN_TIME_NONE), b = ct_run("b", 1, RUN_QUEUED, RUN_TIME_NONE);
	struct run_record c = ct_run("c", 1, RUN_QUEUED, RUN_TIME_NONE), got;
	static const char *const ended[] = {"b:1", NULL};
	struct state_txn *t = ct_begin(f);
	struct text out;

	run_record_init(&got);
	assert_int_equal(state_claim_run(t, &a), 0);
	assert_int_equal(state_claim_run(t, &b), 0);
	assert_int_equal(ct_commit(f, t), 0);
	cs_end(f, &b, RUN_SUCCEEDED, 5);
	t = ct_begin(f);
	run_record_set(&a.host, "another-host");
	b.status = RUN_QUEUED;
	b.end_ms = RUN_TIME_NONE;
	assert_int_equal(state_claim_run(t, &a), -EEXIST);
	assert_int_equal(state_claim_run(t, &b), -EEXIST);
	assert_int_equal(state_claim_run(t, &c), 0);
	assert_int_equal(state_claim_run(t, &c), -EEXIST);
	assert_int_equal(state_put_job(t, "k", "{}"), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(cs_snapshot(f, ended, &out), "jobs: k| progress:  open: a:1=queued,c:1=queued, rounds:  "
	    "history: b:1=succeeded|");
	assert_int_equal(state_get_open_run(f->s, "a:1", &got), 0);
	assert_string_equal(got.host, "host-1");
	run_record_clear(&a);
	run_record_clear(&b);
	run_record_clear(&c);
	run_record_clear(&got);
}

/* A skipped record claimed goes to the history as it is, never open; its task id is taken. */
void test_state_claim_skipped(void **state)
{
	struct fixture *f = *state;
	struct run_record s = ct_skipped("s", 60000, 600000, 10, "10 slots missed while the server was down"), got;
	struct text out;
	struct state_txn *t;

	run_record_init(&got);
	cs_claim(f, &s);
	assert_int_equal(history_get(f->h, "s:60000", &got), 0);
	ct_assert_same(&got, &s);
	assert_int_equal(state_get_open_run(f->s, "s:60000", &got), -ENOENT);
	assert_string_equal(cs_open_runs(f, &out), "");
	assert_string_equal(cs_list_open_runs(f, "s", &out), "");
	t = ct_begin(f);
	assert_int_equal(state_claim_run(t, &s), -EEXIST);
	s.status = RUN_QUEUED;
	assert_int_equal(state_claim_run(t, &s), -EEXIST);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(cs_open_runs(f, &out), "");
	run_record_clear(&s);
	run_record_clear(&got);
}

/* put_run takes only open statuses, end_run only final ones (-EINVAL, the transaction then aborted): a run
 * refused stays as it was. */
void test_state_statuses_refused(void **state)
{
	static const char *const ended[] = {"a:1", NULL};
	struct fixture *f = *state;
	struct run_record a = ct_run("a", 1, RUN_QUEUED, RUN_TIME_NONE);
	struct text out;

	cs_claim(f, &a);
	for (size_t i = 0; i < sizeof(final_statuses) / sizeof(final_statuses[0]); i++) {
		struct state_txn *t = ct_begin(f);
		a.status = final_statuses[i];
		assert_int_equal(state_put_run(t, &a), -EINVAL);
		state_abort(t);
	}
	for (size_t i = 0; i < sizeof(open_statuses) / sizeof(open_statuses[0]); i++) {
		struct state_txn *t = ct_begin(f);
		a.status = open_statuses[i];
		assert_int_equal(state_end_run(t, &a), -EINVAL);
		state_abort(t);
	}
	assert_string_equal(cs_snapshot(f, ended, &out), "jobs:  progress:  open: a:1=queued, rounds:  history: a:1=-|");
	run_record_clear(&a);
}

/* put_run updates what an open run learns as it goes (its status, times, process, output, host, reason: not what
 * it was claimed as, its attempt, trigger, arguments and parents), through every open status: it comes back as
 * written, from get_open_run and the listings. */
void test_state_put_run(void **state)
{
	struct fixture *f = *state;
	struct run_record r = ct_run("u", 100, RUN_QUEUED, RUN_TIME_NONE), got;
	struct text out;

	run_record_init(&got);
	r.start_ms = RUN_TIME_NONE;
	r.not_before_ms = 150;
	r.attempt = 1;
	r.trigger = TRIGGER_RETRY;
	run_record_set(&r.arguments, "--fast 'a b'");
	run_record_set(&r.parents, "up:1,up2:1");
	cs_claim(f, &r);
	assert_int_equal(state_get_open_run(f->s, "u:100", &got), 0);
	ct_assert_same(&got, &r);
	for (size_t i = 0; i < sizeof(open_statuses) / sizeof(open_statuses[0]); i++) {
		struct state_txn *t = ct_begin(f);
		r.status = open_statuses[i];
		r.not_before_ms = 200 + (int64_t)i;
		r.start_ms = r.status == RUN_RUNNING ? 300 : RUN_TIME_NONE;
		r.pid = r.status == RUN_RUNNING ? 4242 : 0;
		r.stdout_bytes = (int64_t)i * 10;
		r.stderr_bytes = (int64_t)i;
		run_record_set(&r.host, "worker-9");
		run_record_set(&r.reason, r.status == RUN_WAITING ? "retrying after exit status 1" : "");
		assert_int_equal(state_put_run(t, &r), 0);
		assert_int_equal(ct_commit(f, t), 0);
		assert_int_equal(state_get_open_run(f->s, "u:100", &got), 0);
		ct_assert_same(&got, &r);
		assert_int_equal(state_load_open_runs(f->s, copy_first, &got), 5);
		ct_assert_same(&got, &r);
		assert_int_equal(state_list_open_runs(f->s, "u", copy_first, &got), 5);
		ct_assert_same(&got, &r);
	}
	assert_string_equal(cs_open_runs(f, &out), "u:100=running,");
	run_record_clear(&r);
	run_record_clear(&got);
}

/* end_run moves an open run to the history, as it was ended: no longer open (get_open_run -ENOENT, out cleared),
 * in the history's get. A run claimed and ended in one transaction, or a skipped slot ended without being open,
 * goes to the history alone. */
void test_state_end_run(void **state)
{
	static const char *const ended[] = {"e:1", "g:1", "h:1", NULL};
	struct fixture *f = *state;
	struct run_record e = ct_run("e", 1, RUN_RUNNING, RUN_TIME_NONE), g = ct_run("g", 1, RUN_QUEUED, RUN_TIME_NONE);
	struct run_record h = ct_skipped("h", 1, 40, 2, "the previous run was still running"), got;
	struct state_txn *t;
	struct text out;

	run_record_init(&got);
	cs_claim(f, &e);
	assert_int_equal(state_get_open_run(f->s, "e:1", &got), 0);
	assert_int_equal(history_get(f->h, "e:1", &got), -ENOENT);
	e.exit_code = 3;
	run_record_set(&e.reason, "exit status 3");
	cs_end(f, &e, RUN_FAILED, 30);
	assert_int_equal(state_get_open_run(f->s, "e:1", &got), -ENOENT);
	assert_null(got.task_id);
	assert_int_equal(got.end_ms, RUN_TIME_NONE);
	assert_int_equal(history_get(f->h, "e:1", &got), 0);
	ct_assert_same(&got, &e);
	t = ct_begin(f);
	assert_int_equal(state_claim_run(t, &g), 0);
	g.status = RUN_KILLED;
	g.end_ms = 20;
	assert_int_equal(state_end_run(t, &g), 0);
	assert_int_equal(state_end_run(t, &h), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(cs_snapshot(f, ended, &out), "jobs:  progress:  open:  rounds:  "
	    "history: e:1=failed|g:1=killed|h:1=skipped|");
	assert_int_equal(history_get(f->h, "h:1", &got), 0);
	ct_assert_same(&got, &h);
	run_record_clear(&e);
	run_record_clear(&g);
	run_record_clear(&h);
	run_record_clear(&got);
}

/* Claim the runs named, in one transaction. */
static void claim_all(struct fixture *f, const char *const *jobs, const int *dues, size_t n)
{
	struct state_txn *t = ct_begin(f);

	for (size_t i = 0; i < n; i++) {
		struct run_record r = ct_run(jobs[i], dues[i], RUN_QUEUED, RUN_TIME_NONE);
		assert_int_equal(state_claim_run(t, &r), 0);
		run_record_clear(&r);
	}
	assert_int_equal(ct_commit(f, t), 0);
}

/* load_open_runs lists every open run, the first claimed first; list_open_runs one job's, the last claimed
 * first; an update keeps a run's place, an end takes it out. Walks stop at fn's first non-zero return, which
 * they return. */
void test_state_open_run_order(void **state)
{
	struct fixture *f = *state;
	struct run_record r = ct_run("a", 1, RUN_RUNNING, RUN_TIME_NONE), got;
	struct state_txn *t;
	struct text out;

	run_record_init(&got);
	claim_all(f, (const char *const[]){"a", "b", "a"}, (const int[]){1, 2, 3}, 3);
	claim_all(f, (const char *const[]){"c", "b"}, (const int[]){4, 5}, 2);
	assert_string_equal(cs_open_runs(f, &out), "a:1=queued,b:2=queued,a:3=queued,c:4=queued,b:5=queued,");
	assert_string_equal(cs_list_open_runs(f, "a", &out), "a:3=queued,a:1=queued,");
	assert_string_equal(cs_list_open_runs(f, "b", &out), "b:5=queued,b:2=queued,");
	assert_string_equal(cs_list_open_runs(f, "nobody", &out), "");
	t = ct_begin(f);
	assert_int_equal(state_put_run(t, &r), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(cs_open_runs(f, &out), "a:1=running,b:2=queued,a:3=queued,c:4=queued,b:5=queued,");
	run_record_clear(&r);
	r = ct_run("a", 3, RUN_QUEUED, RUN_TIME_NONE);
	cs_end(f, &r, RUN_SUCCEEDED, 10);
	assert_string_equal(cs_open_runs(f, &out), "a:1=running,b:2=queued,c:4=queued,b:5=queued,");
	assert_string_equal(cs_list_open_runs(f, "a", &out), "a:1=running,");
	assert_int_equal(state_load_open_runs(f->s, copy_first, &got), 5);
	assert_string_equal(got.task_id, "a:1");
	assert_int_equal(state_list_open_runs(f->s, "b", copy_first, &got), 5);
	assert_string_equal(got.task_id, "b:5");
	run_record_clear(&r);
	run_record_clear(&got);
}

/* state_round_fn: count in the int ctx, stop at the first with 3. */
static int stop_at_first(void *ctx, const char *child, const char *parent, const char *task_id)
{
	(void)child;
	(void)parent;
	(void)task_id;
	++*(int *)ctx;
	return 3;
}

/* Round entries: one per child and parent, replaced by a later put; cleared one parent at a time, or a child's
 * whole round at once (other children's stay). */
void test_state_rounds(void **state)
{
	static const struct {
		const char *child, *parent, *task_id; /* task_id NULL: clear parent's entry (NULL: the round) */
		const char *rounds;                   /* what load_rounds says then */
	} rows[] = {
		{"c", "p1", "p1:1", "c<p1=p1:1|"},
		{"c", "p2", "p2:1", "c<p1=p1:1|c<p2=p2:1|"},
		{"d", "p1", "p1:1", "c<p1=p1:1|c<p2=p2:1|d<p1=p1:1|"},
		{"c", "p1", "p1:2", "c<p1=p1:2|c<p2=p2:1|d<p1=p1:1|"},
		{"c", "p2", NULL, "c<p1=p1:2|d<p1=p1:1|"},
		{"c", "p3", "p3:7", "c<p1=p1:2|c<p3=p3:7|d<p1=p1:1|"},
		{"c", NULL, NULL, "d<p1=p1:1|"},
		{"nobody", NULL, NULL, "d<p1=p1:1|"},
		{"d", "nobody", NULL, "d<p1=p1:1|"},
	};
	struct fixture *f = *state;
	struct text out;
	int calls = 0;

	assert_string_equal(cs_rounds(f, &out), "");
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct state_txn *t = ct_begin(f);
		if (rows[i].task_id)
			assert_int_equal(state_round_put(t, rows[i].child, rows[i].parent, rows[i].task_id), 0);
		else
			assert_int_equal(state_round_clear(t, rows[i].child, rows[i].parent), 0);
		assert_int_equal(ct_commit(f, t), 0);
		assert_string_equal(cs_rounds(f, &out), rows[i].rounds);
	}
	assert_int_equal(state_load_rounds(f->s, stop_at_first, &calls), 3);
	assert_int_equal(calls, 1);
}
