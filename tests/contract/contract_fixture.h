/* What the contracts' tests share (contract_state*.c, contract_history*.c): the fixture of one test against one
 * backend, the check of how a write reported (done exactly once, as the contracts say), a run record to write,
 * and text that listings are compared as. */
#ifndef GNOMON_TESTS_CONTRACT_FIXTURE_H
#define GNOMON_TESTS_CONTRACT_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "contract.h"

/* cmocka's initial state of each test: the backend to run it against. */
struct contract_run {
	const struct contract_backend *b;
};

/* One test's instance of the backend. */
struct fixture {
	const struct contract_backend *b;
	void *fx;
	struct state *s;
	struct history *h;
};

/* A test of a contract: ct_run_tests gives it its backend. */
#define CT_TEST(fn) cmocka_unit_test_setup_teardown(fn, ct_setup, ct_teardown)

/* Run the n tests of contract ("state", "history") against b, as a cmocka group named after both: cmocka's count
 * of failed tests. */
int ct_run_tests(const char *contract, const struct contract_backend *b, struct CMUnitTest *tests, size_t n);

int ct_setup(void **state);
int ct_teardown(void **state);
void ct_settle(struct fixture *f);

/* What done told of a write: how many times it ran, the last status. */
struct report {
	int calls;
	int status;
};

/* state_done_fn and history_done_fn for a struct report. */
void ct_done(void *ctx, int status);
/* The final status of a write whose call returned rc (rc itself when negative), once settled; checks that it was
 * reported exactly once (done once after 0, never after a negative errno), before the call returned when the
 * backend completes at once. */
int ct_outcome(struct fixture *f, int rc, const struct report *rep);

/* msg, an errmsg after the write that fail_next_write failed, says why it failed (the backend's fail_message). */
void ct_assert_fail_message(const struct fixture *f, const char *msg);

/* A transaction of the state, which must begin. */
struct state_txn *ct_begin(struct fixture *f);
/* Commit t and return its final status, checked as ct_outcome does (a commit always reports through done). */
int ct_commit(struct fixture *f, struct state_txn *t);

/* A run of job due at due (ms) that ended at end (RUN_TIME_NONE: not yet) with status, named "job:due", its other
 * fields plain. */
struct run_record ct_run(const char *job, int64_t due, enum run_status status, int64_t end);
/* A skipped record of job covering slots slots due from from to to, named "job:from", ended at to + 1. */
struct run_record ct_skipped(const char *job, int64_t from, int64_t to, int64_t slots, const char *reason);
/* Every field of got but the backend's own id is want's. */
void ct_assert_same(const struct run_record *got, const struct run_record *want);

/* Text that listings append to ("a:1,a:2,|"). */
struct text {
	char s[2048];
};

/* Empty t; returns it. */
struct text *ct_clear(struct text *t);
/* Append s (formatted) to t, which must have room. */
void ct_append(struct text *t, const char *s);
void ct_appendf(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* history_run_fn and state_run_fn: append "task_id," to the struct text ctx. */
int ct_collect(void *ctx, const struct run_record *r);

#endif
