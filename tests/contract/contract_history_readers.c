/* The history's contract with a reader on another thread (contract_reader.h): while the test's thread commits
 * batches of runs ended, each batch in one transaction of the state, a second history over the same data lists
 * and gets on a thread of its own. It must never fail, and must only ever see whole batches; its last listing
 * sees every batch. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "contract_history.h"
#include "contract_reader.h"

#define BATCH 5    /* records per transaction */
#define BATCHES 40 /* transactions */
#define JOB "w"

/* The reader's own: what its listings saw. */
struct seen {
	int count;       /* runs the last listing saw */
	int counts_seen; /* listings that saw a count other than the one before */
	int final_count; /* what the listing begun after the writer was done saw (-1: none ran) */
};

static int count_run(void *ctx, const struct run_record *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

/* The task id of the i-th record the writer makes (0-based): due i + 1, so that ct_run names it "w:<i + 1>". */
static void task_id_of(int i, char *out, size_t size)
{
	snprintf(out, size, JOB ":%d", i + 1);
}

/* Get the first record of batch b, then its last: a batch whose first record was there must be whole when read
 * after it. 0, or -1 with failure set. */
static int check_batch(struct history *h, int b, char *failure, size_t size)
{
	char first[32], last[32];
	struct run_record r;
	int rc;

	task_id_of(b * BATCH, first, sizeof(first));
	task_id_of(b * BATCH + BATCH - 1, last, sizeof(last));
	run_record_init(&r);
	rc = history_get(h, first, &r);
	if (rc == 0 && (rc = history_get(h, last, &r)) == -ENOENT)
		snprintf(failure, size, "%s was read, then %s was not: half a batch", first, last);
	else if (rc < 0 && rc != -ENOENT)
		snprintf(failure, size, "get: %d (%s)", rc, history_errmsg(h));
	run_record_clear(&r);
	return failure[0] ? -1 : 0;
}

/* ct_read_fn: list the job's runs in one page and check the count, then the next batch by get. */
static int read_once(void *ctx, struct state *s, struct history *h, bool last, char *failure, size_t size)
{
	struct seen *seen = ctx;
	char next[HISTORY_CURSOR_MAX];
	int n = 0, rc;

	(void)s;
	rc = history_list(h, JOB, NULL, BATCH * BATCHES + 1, count_run, &n, next);
	if (rc < 0)
		snprintf(failure, size, "list: %d (%s)", rc, history_errmsg(h));
	else if (n % BATCH != 0 || n < seen->count || n > BATCH * BATCHES)
		snprintf(failure, size, "list: %d runs after %d (batches of %d)", n, seen->count, BATCH);
	if (failure[0])
		return -1;
	seen->counts_seen += n != seen->count;
	seen->count = n;
	if (last)
		seen->final_count = n;
	/* the batch after those listed: being written, perhaps committed since, but never there in part */
	return check_batch(h, n / BATCH < BATCHES ? n / BATCH : BATCHES - 1, failure, size);
}

/* ct_write_fn: end the run i + 1 of the job, a slot skipped. */
static int end_run(struct state_txn *t, int i)
{
	struct run_record r = ct_skipped(JOB, i + 1, i + 1, 1, "the previous run was still running");
	int rc = state_end_run(t, &r);

	run_record_clear(&r);
	return rc;
}

void test_concurrent_readers(void **state)
{
	struct fixture *f = *state;
	struct seen seen = {.final_count = -1};

	ct_with_reader(f, BATCHES, BATCH, end_run, read_once, &seen);
	assert_int_equal(seen.final_count, BATCH * BATCHES);
	print_message("reader: %d counts\n", seen.counts_seen);
}
