/* The state's contract with a reader on another thread (contract_reader.h): while the test's thread commits
 * batches, each one transaction that puts BATCH jobs, claims a run of each and ends the runs the batch before
 * claimed, a second state over the same data loads the jobs, then the open runs, on a thread of its own. It must
 * never fail, and must only ever see whole transactions: the jobs of whole batches, never fewer than before, and
 * the open runs of exactly one batch (none before the first), never one before the jobs it saw; its last read
 * sees every batch. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "contract_reader.h"
#include "contract_state.h"

#define BATCH 5    /* jobs per transaction */
#define BATCHES 40 /* transactions */

/* The reader's own: what its reads saw. */
struct seen {
	int jobs;        /* jobs the last read saw */
	int batch;       /* the batch whose runs it saw open (-1: none) */
	int final_jobs;  /* what the read begun after the writer was done saw (-1: none ran) */
	int final_batch;
};

/* The open runs one read saw: how many, and of which batch (-2: of several). */
struct open_seen {
	int n;
	int batch;
};

static int count_job(void *ctx, const struct state_job *job)
{
	(void)job;
	(*(int *)ctx)++;
	return 0;
}

/* The writer's job i is "w<i>", its run "w<i>:1": the batch is in the name. */
static int see_run(void *ctx, const struct run_record *r)
{
	struct open_seen *o = ctx;
	int batch = atoi(r->job + 1) / BATCH;

	o->batch = o->n++ == 0 || o->batch == batch ? batch : -2;
	return 0;
}

/* ct_read_fn: load the jobs, then the open runs, and check what they show against each other and the read
 * before. */
static int read_once(void *ctx, struct state *s, struct history *h, bool last, char *failure, size_t size)
{
	struct seen *seen = ctx;
	struct open_seen o = {0, -1};
	int jobs = 0, rc;

	(void)h;
	if ((rc = state_load_jobs(s, count_job, &jobs)) < 0)
		snprintf(failure, size, "load_jobs: %d (%s)", rc, state_errmsg(s));
	else if (jobs % BATCH != 0 || jobs < seen->jobs || jobs > BATCH * BATCHES)
		snprintf(failure, size, "load_jobs: %d jobs after %d (batches of %d)", jobs, seen->jobs, BATCH);
	else if ((rc = state_load_open_runs(s, see_run, &o)) < 0)
		snprintf(failure, size, "load_open_runs: %d (%s)", rc, state_errmsg(s));
	else if (o.n == 0 ? jobs > 0 : o.n != BATCH || o.batch < 0)
		snprintf(failure, size, "load_open_runs: %d runs of batch %d (-2: several) after %d jobs", o.n, o.batch,
		    jobs);
	else if (o.batch < seen->batch || o.batch < jobs / BATCH - 1)
		snprintf(failure, size, "load_open_runs: batch %d after batch %d and %d jobs", o.batch, seen->batch,
		    jobs);
	if (failure[0])
		return -1;
	seen->jobs = jobs;
	seen->batch = o.batch;
	if (last) {
		seen->final_jobs = jobs;
		seen->final_batch = o.batch;
	}
	return 0;
}

/* ct_write_fn: job i, its run claimed, and the end of the run of the job BATCH before (the batch before's). */
static int write_job(struct state_txn *t, int i)
{
	char name[16], before[16];
	struct run_record r, ended;
	int rc;

	snprintf(name, sizeof(name), "w%d", i);
	snprintf(before, sizeof(before), "w%d", i - BATCH);
	r = ct_run(name, 1, RUN_QUEUED, RUN_TIME_NONE);
	ended = ct_run(before, 1, RUN_SUCCEEDED, 10);
	if ((rc = state_put_job(t, name, "{}")) == 0 && (rc = state_claim_run(t, &r)) == 0 && i >= BATCH)
		rc = state_end_run(t, &ended);
	run_record_clear(&r);
	run_record_clear(&ended);
	return rc;
}

void test_state_concurrent_readers(void **state)
{
	struct fixture *f = *state;
	struct seen seen = {.batch = -1, .final_jobs = -1, .final_batch = -1};

	ct_with_reader(f, BATCHES, BATCH, write_job, read_once, &seen);
	assert_int_equal(seen.final_jobs, BATCH * BATCHES);
	assert_int_equal(seen.final_batch, BATCHES - 1);
}
