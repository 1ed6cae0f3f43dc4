/* Private to the history's contract (contract_history*.c): the fixture of one test against one backend, and the
 * helpers that check, at every write, how it reported (contract_history.c's rules). */
#ifndef GNOMON_TESTS_CONTRACT_HISTORY_H
#define GNOMON_TESTS_CONTRACT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "contract.h"

/* cmocka's initial state of each test: the backend to run it against. */
struct contract_run {
	const struct contract_backend *b;
};

/* One test's instance of the backend. */
struct fixture {
	const struct contract_backend *b;
	void *fx;
	struct history *h;
};

#define CH_TEST(fn, run) cmocka_unit_test_prestate_setup_teardown(fn, ch_setup, ch_teardown, run)

/* What done told of a write: how many times it ran, the last status. */
struct report {
	int calls;
	int status;
};

/* A record's write: its report, and what get said of the record when done ran (1 until it ran). */
struct write {
	struct fixture *f;
	const char *task_id;
	struct report rep;
	int get_at_done;
};

/* A removal's write: the runs it told removed (and whether each was gone by then), then done. */
#define CH_TOLD_MAX 16
struct removal {
	struct fixture *f;
	char told[CH_TOLD_MAX][32];
	int n_told;
	int still_there;      /* told runs that get still found when told */
	int wrong_job;        /* told with a job that is not the run's */
	int told_before_done; /* n_told when done ran */
	struct report done;
};

/* Text that listings append to ("a:1,a:2,|"). */
struct text {
	char s[2048];
};

int ch_setup(void **state);
int ch_teardown(void **state);
void ch_settle(struct fixture *f);

/* history_done_fn for a struct report. */
void ch_done(void *ctx, int status);
/* The final status of a write whose call returned rc (rc itself when negative), once settled; checks that it was
 * reported exactly once (done once after 0, never after a negative errno), before the call returned when the
 * backend completes at once. */
int ch_outcome(struct fixture *f, int rc, const struct report *rep);

/* history_errmsg says why the write that fail_next_write failed, failed (the backend's fail_message). */
void ch_assert_fail_message(struct fixture *f);

/* A run of job due at due (ms) that ended at end with status, named "job:due", its other fields plain. */
struct run_record ch_run(const char *job, int64_t due, enum run_status status, int64_t end);
/* history_done_fn for a struct write. */
void ch_record_done(void *ctx, int status);
/* Record r and check that it succeeded and was visible by the time done ran. */
void ch_record(struct fixture *f, const struct run_record *r);
/* Record ch_run(job, due, status, end). */
void ch_add(struct fixture *f, const char *job, int64_t due, enum run_status status, int64_t end);
/* Make "job:due" an open (running) run of job. */
void ch_add_open(struct fixture *f, const char *job, int64_t due);
/* A row of a table of runs to make, in order: ch_add's, or ch_add_open's when status is not final. */
struct run_row {
	const char *job;
	int64_t due;
	enum run_status status;
	int64_t end;
};
void ch_add_rows(struct fixture *f, const struct run_row *rows, size_t n);
/* Every field of got but the backend's own id is want's. */
void ch_assert_same(const struct run_record *got, const struct run_record *want);

/* history_run_fn: append "task_id," to the struct text ctx. */
int ch_collect(void *ctx, const struct run_record *r);
/* history_run_fn: copy the first run into the struct run_record ctx, and stop. */
int ch_copy_one(void *ctx, const struct run_record *r);
/* Empty t; returns it. */
struct text *ch_clear(struct text *t);
/* Every page of job's runs at limit from cursor from (NULL: the newest) into out, "a:2,a:1,|a:0,|" ('|' ends a
 * page), following each next to the last page; checks that every page but the last is full. Returns out->s. */
const char *ch_pages(struct fixture *f, const char *job, int limit, const char *from, struct text *out);
/* history_durations(job, max) into out, "a:1,7|b:100|" (jobs in name order, whatever order they came in); checks
 * one call per job at most, with at most max durations. Returns out->s. */
const char *ch_durations(struct fixture *f, const char *job, int max, struct text *out);

/* history_removed_fn and history_done_fn for a struct removal. */
void ch_removed(void *ctx, const char *task_id, const char *job);
void ch_removal_done(void *ctx, int status);
/* The final status of a removal whose call returned rc, as ch_outcome; checks that every run it told of was gone
 * by then, all before done, and none when it failed. */
int ch_removal_end(struct removal *m, int rc);
/* The runs told removed are want's (NULL-terminated), each once, in any order. */
void ch_assert_told(const struct removal *m, const char *const *want);
/* Prune (delete the job's history) and check that it removed exactly want, as ch_removal_end says. */
void ch_prune(struct fixture *f, const struct history_retention *keep, const char *const *want);
void ch_delete_job(struct fixture *f, const char *job, const char *const *want);

/* contract_history_faults.c */
void test_record_failure(void **state);
void test_removal_failure(void **state);
void test_commit_failure(void **state);
void test_completes_later(void **state);
/* contract_history_readers.c */
void test_concurrent_readers(void **state);

#endif
