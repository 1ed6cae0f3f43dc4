/* Private to the history's contract (contract_history*.c): the helpers that check, at every write, how it reported
 * (contract_history.c's rules), over the fixture that the contracts share (contract_fixture.h). */
#ifndef GNOMON_TESTS_CONTRACT_HISTORY_H
#define GNOMON_TESTS_CONTRACT_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "contract_fixture.h"

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

/* history_done_fn for a struct write. */
void ch_record_done(void *ctx, int status);
/* Record r and check that it succeeded and was visible by the time done ran. */
void ch_record(struct fixture *f, const struct run_record *r);
/* Record ct_run(job, due, status, end). */
void ch_add(struct fixture *f, const char *job, int64_t due, enum run_status status, int64_t end);
/* Make "job:due" an open (running) run of job: claimed in a transaction of the state. */
void ch_add_open(struct fixture *f, const char *job, int64_t due);
/* A row of a table of runs to make, in order: ch_add's, or ch_add_open's when status is not final. */
struct run_row {
	const char *job;
	int64_t due;
	enum run_status status;
	int64_t end;
};
void ch_add_rows(struct fixture *f, const struct run_row *rows, size_t n);
/* history_run_fn: copy the first run into the struct run_record ctx, and stop. */
int ch_copy_one(void *ctx, const struct run_record *r);
/* Every page of job's runs at limit from cursor from (NULL: the newest) into out, "a:2,a:1,|a:0,|" ('|' ends a
 * page), following each next to the last page; checks that every page but the last is full. Returns out->s. */
const char *ch_pages(struct fixture *f, const char *job, int limit, const char *from, struct text *out);
/* history_durations(job, max) into out, "a:1,7|b:100|" (jobs in name order, whatever order they came in); checks
 * one call per job at most, with at most max durations. Returns out->s. */
const char *ch_durations(struct fixture *f, const char *job, int max, struct text *out);

/* history_removed_fn and history_done_fn for a struct removal. */
void ch_removed(void *ctx, const char *task_id, const char *job);
void ch_removal_done(void *ctx, int status);
/* The final status of a removal whose call returned rc, as ct_outcome; checks that every run it told of was gone
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
