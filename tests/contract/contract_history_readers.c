/* The history's contract with a reader on another thread: while the test's thread commits batches of records,
 * each batch in one transaction of the state's, a second history over the same data (the backend's open_reader)
 * lists and gets on a thread of its own. It must never fail, and must only ever see whole batches.
 *
 * No sleeps: halfway through each batch, its transaction open, the writer waits for the reader to make a whole
 * listing, so that reads overlap transactions however fast either is (a backend whose batch is not one
 * transaction shows half of it then); the reader stops at a flag the writer sets after its last commit, and its
 * last listing, begun after the flag, must see every batch. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "contract_history.h"

#define BATCH 5    /* records per transaction */
#define BATCHES 40 /* transactions */
#define JOB "w"

/* What the reader thread shares with the test's: set before it starts, or by it alone until it is joined (then
 * read by the test), but for the flag that stops it. */
struct reader {
	struct fixture *f;
	atomic_int begun;    /* listings begun */
	atomic_int reads;    /* listings done */
	atomic_bool stop;    /* the writer's last batch has committed */
	atomic_bool stopped; /* the reader is done (or could not open) */
	int counts_seen;     /* listings that saw a count other than the one before */
	int final_count;     /* what the listing that began after stop saw (-1: none ran) */
	char failure[256];   /* the first thing that went wrong ("" none) */
};

static int count_run(void *ctx, const struct run_record *r)
{
	(void)r;
	(*(int *)ctx)++;
	return 0;
}

/* The task id of the i-th record the writer makes (0-based): due i + 1, so that ch_run names it "w:<i + 1>". */
static void task_id_of(int i, char *out, size_t size)
{
	snprintf(out, size, JOB ":%d", i + 1);
}

/* Get the first record of batch b, then its last: a batch whose first record was there must be whole when read
 * after it. 0, or -1 with rd->failure set. */
static int check_batch(struct reader *rd, struct history *h, int b)
{
	char first[32], last[32];
	struct run_record r;
	int rc;

	task_id_of(b * BATCH, first, sizeof(first));
	task_id_of(b * BATCH + BATCH - 1, last, sizeof(last));
	run_record_init(&r);
	rc = history_get(h, first, &r);
	if (rc == 0 && (rc = history_get(h, last, &r)) == -ENOENT)
		snprintf(rd->failure, sizeof(rd->failure), "%s was read, then %s was not: half a batch", first, last);
	else if (rc < 0 && rc != -ENOENT)
		snprintf(rd->failure, sizeof(rd->failure), "get: %d (%s)", rc, history_errmsg(h));
	run_record_clear(&r);
	return rd->failure[0] ? -1 : 0;
}

/* List the job's runs in one page and check the count, then the next batch by get. 0, or -1 with rd->failure
 * set. */
static int read_once(struct reader *rd, struct history *h, int *count)
{
	char next[HISTORY_CURSOR_MAX];
	int n = 0, rc;

	rc = history_list(h, JOB, NULL, BATCH * BATCHES + 1, count_run, &n, next);
	if (rc < 0)
		snprintf(rd->failure, sizeof(rd->failure), "list: %d (%s)", rc, history_errmsg(h));
	else if (n % BATCH != 0 || n < *count || n > BATCH * BATCHES)
		snprintf(rd->failure, sizeof(rd->failure), "list: %d runs after %d (batches of %d)", n, *count, BATCH);
	if (rd->failure[0])
		return -1;
	rd->counts_seen += n != *count;
	*count = n;
	/* the batch after those listed: being written, perhaps committed since, but never there in part */
	return check_batch(rd, h, n / BATCH < BATCHES ? n / BATCH : BATCHES - 1);
}

/* The reader thread: reads until the writer is done, then once more, which must see every batch. No cmocka here:
 * what goes wrong is kept in rd->failure for the test's thread. */
static void *reader_main(void *arg)
{
	struct reader *rd = arg;
	struct history *h = NULL;
	void *handle = NULL;
	int count = 0, rc;

	rc = rd->f->b->open_reader(rd->f->fx, &handle, &h);
	if (rc < 0) {
		snprintf(rd->failure, sizeof(rd->failure), "open_reader: %d", rc);
		atomic_store(&rd->stopped, true);
		return NULL;
	}
	for (;;) {
		bool last = atomic_load(&rd->stop); /* read before the listing: when set, every batch is in */
		atomic_fetch_add(&rd->begun, 1);
		if (read_once(rd, h, &count) < 0)
			break;
		atomic_fetch_add(&rd->reads, 1);
		if (last) {
			rd->final_count = count;
			break;
		}
	}
	rd->f->b->close_reader(rd->f->fx, handle);
	atomic_store(&rd->stopped, true);
	return NULL;
}

/* Wait until the reader has made a whole listing from now on, or stopped. */
static void await_listing(struct reader *rd)
{
	int mark = atomic_load(&rd->begun); /* listings are in turn: the next one begins after now */

	while (atomic_load(&rd->reads) <= mark && !atomic_load(&rd->stopped))
		sched_yield();
}

/* Commit the BATCHES batches, each with a listing made while it is half written; what went wrong into failure
 * (no cmocka while the reader runs). */
static void write_batches(struct fixture *f, struct reader *rd, char *failure, size_t size)
{
	for (int b = 0; b < BATCHES && !failure[0]; b++) {
		struct report rep = {0};
		int rc = f->b->begin(f->fx);

		for (int i = b * BATCH; rc == 0 && i < b * BATCH + BATCH; i++) {
			struct run_record r = ch_run(JOB, i + 1, RUN_SUCCEEDED, 1000 + i);
			if (i == b * BATCH + BATCH / 2)
				await_listing(rd);
			rc = history_record(f->h, &r, NULL, NULL);
			run_record_clear(&r);
		}
		if (rc == 0 && (rc = f->b->commit(f->fx, ch_done, &rep)) == 0) {
			ch_settle(f);
			rc = rep.calls == 1 ? rep.status : -EPROTO;
		}
		if (rc < 0)
			snprintf(failure, size, "batch %d: %d (%s)", b, rc, history_errmsg(f->h));
	}
}

void test_concurrent_readers(void **state)
{
	struct fixture *f = *state;
	struct reader rd = {.f = f, .final_count = -1};
	char failure[256] = "";
	pthread_t thread;

	assert_int_equal(pthread_create(&thread, NULL, reader_main, &rd), 0);
	write_batches(f, &rd, failure, sizeof(failure));
	atomic_store(&rd.stop, true);
	assert_int_equal(pthread_join(thread, NULL), 0);
	if (failure[0] || rd.failure[0])
		fail_msg("writer: %s; reader: %s", failure[0] ? failure : "ok", rd.failure[0] ? rd.failure : "ok");
	assert_int_equal(rd.final_count, BATCH * BATCHES);
	assert_true(atomic_load(&rd.reads) > BATCHES); /* one inside each batch, and the last */
	print_message("reader: %d listings, %d counts\n", atomic_load(&rd.reads), rd.counts_seen);
}
