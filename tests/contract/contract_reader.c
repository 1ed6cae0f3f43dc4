/* The reader thread of the contracts' tests of concurrent readers (contract_reader.h). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "contract_reader.h"

/* What the reader thread shares with the test's: set before it starts, or by it alone until it is joined (then
 * read by the test), but for the counters and flags. */
struct ct_reader {
	struct fixture *f;
	ct_read_fn read;
	void *ctx;
	atomic_int begun;    /* reads begun */
	atomic_int reads;    /* reads done */
	atomic_bool stop;    /* the writer is done */
	atomic_bool stopped; /* the reader is done (or could not open) */
	bool last_read;      /* the read begun after stop succeeded */
	char failure[256];   /* the first thing that went wrong ("" none) */
};

/* The reader thread: reads until the writer is done, then once more. */
static void *reader_main(void *arg)
{
	struct ct_reader *rd = arg;
	struct history *h = NULL;
	struct state *s = NULL;
	void *handle = NULL;
	int rc;

	rc = rd->f->b->open_reader(rd->f->fx, &handle, &s, &h);
	if (rc < 0) {
		snprintf(rd->failure, sizeof(rd->failure), "open_reader: %d", rc);
		atomic_store(&rd->stopped, true);
		return NULL;
	}
	for (;;) {
		bool last = atomic_load(&rd->stop); /* read before the read: when set, every commit is in */
		atomic_fetch_add(&rd->begun, 1);
		if (rd->read(rd->ctx, s, h, last, rd->failure, sizeof(rd->failure)) < 0)
			break;
		atomic_fetch_add(&rd->reads, 1);
		if (last) {
			rd->last_read = true;
			break;
		}
	}
	rd->f->b->close_reader(rd->f->fx, handle);
	atomic_store(&rd->stopped, true);
	return NULL;
}

/* Wait until the reader has made a whole read from now on, or stopped. */
static void await_read(struct ct_reader *rd)
{
	int mark = atomic_load(&rd->begun); /* reads are in turn: the next one begins after now */

	while (atomic_load(&rd->reads) <= mark && !atomic_load(&rd->stopped))
		sched_yield();
}

/* Commit the batches, each with a read made while it is half written; what went wrong into failure (no cmocka
 * while the reader runs). */
static void write_batches(struct fixture *f, struct ct_reader *rd, int batches, int per, ct_write_fn write,
    char *failure, size_t size)
{
	for (int b = 0; b < batches && !failure[0]; b++) {
		struct report rep = {0};
		struct state_txn *t = NULL;
		int rc = state_begin(f->s, &t);

		for (int i = b * per; rc == 0 && i < b * per + per; i++) {
			if (i == b * per + per / 2)
				await_read(rd);
			rc = write(t, i);
		}
		if (rc < 0) {
			state_abort(t);
		} else {
			state_commit(t, ct_done, &rep);
			ct_settle(f);
			rc = rep.calls == 1 ? rep.status : -EPROTO;
		}
		if (rc < 0)
			snprintf(failure, size, "batch %d: %d (%s)", b, rc, state_errmsg(f->s));
	}
}

void ct_with_reader(struct fixture *f, int batches, int per, ct_write_fn write, ct_read_fn read, void *read_ctx)
{
	struct ct_reader rd = {.f = f, .read = read, .ctx = read_ctx};
	char failure[256] = "";
	pthread_t thread;

	if (f->b->open_reader == NULL)
		skip(); /* the backend has no second reader */
	assert_int_equal(pthread_create(&thread, NULL, reader_main, &rd), 0);
	write_batches(f, &rd, batches, per, write, failure, sizeof(failure));
	atomic_store(&rd.stop, true);
	assert_int_equal(pthread_join(thread, NULL), 0);
	if (failure[0] || rd.failure[0])
		fail_msg("writer: %s; reader: %s", failure[0] ? failure : "ok", rd.failure[0] ? rd.failure : "ok");
	assert_true(rd.last_read);
	assert_true(atomic_load(&rd.reads) > batches); /* one inside each batch, and the last */
	print_message("reader: %d reads\n", atomic_load(&rd.reads));
}
