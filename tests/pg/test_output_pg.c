/* history/run_output_pg.h against a real PostgreSQL: a run's output shipped from the local files and read back
 * (bytes as they were, a stream with none); live chunks coalesced and replaced by the final content, none taken
 * after the run ended; a job's deletion and a prune take the rows with the runs; a fenced shipment given up;
 * PostgreSQL down: shipments wait in a bounded buffer (the oldest given up past it) and are stored once it is
 * back. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "history/run_output_files.h"
#include "history/run_output_pg.h"
#include "pg_test.h"
#include "store/pg_store.h"
#include "util/rmtree.h"

struct fx {
	struct pg_test_backend a;
	char dir[64];
	struct run_output *o;
	bool stopped;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct run_output *files;
	char err[256];

	if (f == NULL || pg_test_backend_open(&f->a, NULL) < 0) {
		free(f);
		return -1;
	}
	snprintf(f->dir, sizeof(f->dir), "/tmp/gnomon-output-pg-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(run_output_files_new(f->dir, &files, err, sizeof(err)), 0);
	assert_int_equal(run_output_pg_new(&f->a.loop, f->a.p, f->a.conninfo, files, &f->o, err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->stopped)
		(void)pg_test_start();
	run_output_pg_stop(f->o);
	pg_test_backend_close(&f->a);
	run_output_free(f->o);
	char err[256];
	if (rmtree_at(AT_FDCWD, f->dir, err, sizeof(err)) < 0)
		fprintf(stderr, "%s\n", err);
	free(f);
	return 0;
}

/* A run's row, open or ended. */
static void add_run(struct fx *f, const char *task_id, const char *job, const char *status)
{
	char sql[512];

	snprintf(sql, sizeof(sql), "INSERT INTO runs (task_id, job, due_ms, attempt, trigger, status, end_ms) VALUES "
				   "('%s', '%s', 1, 0, 'schedule', '%s', 2)", task_id, job, status);
	assert_int_equal(pg_test_exec(f->a.conninfo, sql), 0);
}

/* Write a stream's local file, as the embedded agent does. */
static void write_local(struct fx *f, const char *task_id, enum run_stream s, const char *data, size_t len)
{
	char path[4096];
	int fd;

	run_output_files_path(f->dir, &(struct run_output_key){task_id}, s, path, sizeof(path));
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

struct shipped {
	int calls, status;
};

static void on_shipped(void *ctx, int status)
{
	struct shipped *s = ctx;

	s->calls++;
	s->status = status;
}

static int ship(struct fx *f, const char *task_id, struct shipped *s)
{
	return run_output_ship(f->o, &(struct run_output_key){task_id}, on_shipped, s);
}

struct fetched {
	int calls, status;
	bool found;
	char data[4096];
	size_t len;
};

static void on_fetched(void *ctx, int status, bool found, const char *data, size_t len)
{
	struct fetched *r = ctx;

	r->calls++;
	r->status = status;
	r->found = found;
	r->len = len < sizeof(r->data) ? len : sizeof(r->data);
	if (len)
		memcpy(r->data, data, r->len);
}

/* Fetch a stream and wait for it. */
static struct fetched fetch(struct fx *f, const char *task_id, enum run_stream s)
{
	struct fetched r = {0};

	assert_int_equal(run_output_fetch(f->o, &(struct run_output_key){task_id}, s, on_fetched, &r), 0);
	assert_int_equal(r.calls, 0);
	assert_true(pg_test_run_until(&f->a.loop, &r.calls, 1, 10000));
	assert_int_equal(r.status, 0);
	return r;
}

static void test_ship_and_fetch(void **state)
{
	struct fx *f = *state;
	static const char out[] = "hello\n", err[] = {'a', '\0', '\xff', '\\', 'x', '\n'};
	struct shipped s = {0};
	struct fetched r;

	add_run(f, "ct:1:0:a:", "a", "succeeded");
	write_local(f, "ct:1:0:a:", RUN_STDOUT, out, strlen(out));
	write_local(f, "ct:1:0:a:", RUN_STDERR, err, sizeof(err));
	assert_int_equal(ship(f, "ct:1:0:a:", &s), 0);
	assert_int_equal(s.calls, 0); /* never from inside */
	assert_true(run_output_shipping(f->o, &(struct run_output_key){"ct:1:0:a:"}));
	assert_true(pg_test_run_until(&f->a.loop, &s.calls, 1, 10000));
	assert_int_equal(s.status, 0);
	assert_false(run_output_shipping(f->o, &(struct run_output_key){"ct:1:0:a:"}));
	r = fetch(f, "ct:1:0:a:", RUN_STDOUT);
	assert_true(r.found);
	assert_int_equal(r.len, strlen(out));
	assert_memory_equal(r.data, out, r.len);
	r = fetch(f, "ct:1:0:a:", RUN_STDERR);
	assert_true(r.found);
	assert_int_equal(r.len, sizeof(err));
	assert_memory_equal(r.data, err, sizeof(err));

	/* a run with no stderr, then shipped again (idempotent): one stream */
	add_run(f, "ct:2:0:a:", "a", "failed");
	write_local(f, "ct:2:0:a:", RUN_STDOUT, "x", 1);
	for (int i = 0; i < 2; i++) {
		s = (struct shipped){0};
		assert_int_equal(ship(f, "ct:2:0:a:", &s), 0);
		assert_true(pg_test_run_until(&f->a.loop, &s.calls, 1, 10000));
		assert_int_equal(s.status, 0);
	}
	assert_true(fetch(f, "ct:2:0:a:", RUN_STDOUT).found);
	assert_false(fetch(f, "ct:2:0:a:", RUN_STDERR).found);
	assert_false(fetch(f, "ct:9:0:nobody:", RUN_STDOUT).found);
	/* a run whose row is gone (pruned meanwhile): nothing stored, no error */
	write_local(f, "ct:3:0:gone:", RUN_STDOUT, "y", 1);
	s = (struct shipped){0};
	assert_int_equal(ship(f, "ct:3:0:gone:", &s), 0);
	assert_true(pg_test_run_until(&f->a.loop, &s.calls, 1, 10000));
	assert_int_equal(s.status, 0);
	assert_false(fetch(f, "ct:3:0:gone:", RUN_STDOUT).found);
}

/* Wait until nothing is waiting or in flight. */
static bool drained(struct fx *f, uint64_t max_ms)
{
	for (uint64_t waited = 0; waited < max_ms; waited += 10) {
		if (run_output_pg_pending(f->o, NULL) == 0)
			return true;
		uv_run(&f->a.loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
	return false;
}

static void test_chunks_then_final(void **state)
{
	struct fx *f = *state;
	struct run_output_key key = {"ct:5:0:live:"};
	struct shipped s = {0};
	struct fetched r;
	size_t bytes;

	add_run(f, key.task_id, "live", "running");
	run_output_chunk(f->o, &key, RUN_STDOUT, 0, "ab", 2);
	run_output_chunk(f->o, &key, RUN_STDOUT, 2, "cd", 2);
	run_output_chunk(f->o, &key, RUN_STDERR, 0, "e", 1);
	/* coalesced: one batch per stream, held until 2 s passed (or 64 KiB gathered) */
	assert_int_equal(run_output_pg_pending(f->o, &bytes), 2);
	assert_int_equal(bytes, 5);
	assert_true(drained(f, 5000));
	r = fetch(f, key.task_id, RUN_STDOUT);
	assert_true(r.found);
	assert_int_equal(r.len, 4);
	assert_memory_equal(r.data, "abcd", 4);
	/* a second batch, appended at its offset */
	run_output_chunk(f->o, &key, RUN_STDOUT, 4, "ef", 2);
	assert_true(drained(f, 5000));
	r = fetch(f, key.task_id, RUN_STDOUT);
	assert_int_equal(r.len, 6);
	assert_memory_equal(r.data, "abcdef", 6);

	/* the run ended: a late chunk is not taken, and the final content replaces the chunks */
	assert_int_equal(pg_test_exec(f->a.conninfo, "UPDATE runs SET status = 'succeeded' WHERE task_id = 'ct:5:0:live:'"),
	    0);
	run_output_chunk(f->o, &key, RUN_STDOUT, 6, "LATE", 4);
	assert_true(drained(f, 5000));
	assert_int_equal(fetch(f, key.task_id, RUN_STDOUT).len, 6);
	write_local(f, key.task_id, RUN_STDOUT, "final\n", 6);
	assert_int_equal(ship(f, key.task_id, &s), 0);
	assert_true(pg_test_run_until(&f->a.loop, &s.calls, 1, 10000));
	assert_int_equal(s.status, 0);
	r = fetch(f, key.task_id, RUN_STDOUT);
	assert_int_equal(r.len, 6);
	assert_memory_equal(r.data, "final\n", 6);
	assert_false(fetch(f, key.task_id, RUN_STDERR).found); /* no stderr at the end: its chunks went too */
}

struct removed {
	int calls, status;
};

static void on_removed_done(void *ctx, int status)
{
	struct removed *r = ctx;

	r->calls++;
	r->status = status;
}

/* Ship a run's stdout and wait. */
static void ship_one(struct fx *f, const char *task_id, const char *job)
{
	struct shipped s = {0};

	add_run(f, task_id, job, "succeeded");
	write_local(f, task_id, RUN_STDOUT, task_id, strlen(task_id));
	assert_int_equal(ship(f, task_id, &s), 0);
	assert_true(pg_test_run_until(&f->a.loop, &s.calls, 1, 10000));
	assert_int_equal(s.status, 0);
	assert_true(fetch(f, task_id, RUN_STDOUT).found);
}

static void test_prune_and_delete_take_the_rows(void **state)
{
	struct fx *f = *state;
	struct history_retention keep = {.older_than_ms = 100, .keep = 0};
	struct removed r = {0};

	ship_one(f, "ct:1:0:pruned:", "pruned");
	ship_one(f, "ct:1:0:deleted:", "deleted");
	ship_one(f, "ct:1:0:kept:", "kept");
	assert_int_equal(pg_test_exec(f->a.conninfo, "UPDATE runs SET end_ms = 1000 WHERE job = 'kept'"), 0);
	assert_int_equal(history_prune(f->a.h, &keep, NULL, on_removed_done, &r), 0);
	assert_true(pg_test_run_until(&f->a.loop, &r.calls, 1, 10000));
	assert_int_equal(r.status, 2); /* pruned's and deleted's (end_ms 2) */
	assert_false(fetch(f, "ct:1:0:pruned:", RUN_STDOUT).found);
	assert_true(fetch(f, "ct:1:0:kept:", RUN_STDOUT).found);
	r = (struct removed){0};
	assert_int_equal(history_delete_job(f->a.h, "kept", NULL, on_removed_done, &r), 0);
	assert_true(pg_test_run_until(&f->a.loop, &r.calls, 1, 10000));
	assert_int_equal(r.status, 1);
	assert_false(fetch(f, "ct:1:0:kept:", RUN_STDOUT).found);
}

static void test_fenced(void **state)
{
	struct fx *f = *state;
	struct shipped s = {0};

	add_run(f, "ct:1:0:f:", "f", "succeeded");
	write_local(f, "ct:1:0:f:", RUN_STDOUT, "z", 1);
	assert_int_equal(pg_test_exec(f->a.conninfo, "INSERT INTO leader VALUES (1, 7)"), 0);
	pg_store_set_epoch(f->a.p, 6); /* deposed */
	assert_int_equal(ship(f, "ct:1:0:f:", &s), 0);
	assert_true(pg_test_run_until(&f->a.loop, &s.calls, 1, 10000));
	assert_int_equal(s.status, -ESTALE);
	assert_int_equal(run_output_pg_pending(f->o, NULL), 0);
	pg_store_set_epoch(f->a.p, 7);
	s = (struct shipped){0};
	assert_int_equal(ship(f, "ct:1:0:f:", &s), 0);
	assert_true(pg_test_run_until(&f->a.loop, &s.calls, 1, 10000));
	assert_int_equal(s.status, 0);
}

/* Run the loop for ms. */
static void run_for(struct fx *f, uint64_t ms)
{
	for (uint64_t waited = 0; waited < ms; waited += 10) {
		uv_run(&f->a.loop, UV_RUN_NOWAIT);
		usleep(10000);
	}
}

static void test_down_then_back(void **state)
{
	struct fx *f = *state;
	static const char *const ids[] = {"ct:1:0:d:", "ct:2:0:d:", "ct:3:0:d:"};
	struct shipped s[3] = {{0}};
	char data[40];

	memset(data, 'd', sizeof(data));
	for (int i = 0; i < 3; i++) {
		add_run(f, ids[i], "d", "succeeded");
		write_local(f, ids[i], RUN_STDOUT, data, sizeof(data));
	}
	run_output_pg_set_limits(f->o, 100, 3000, 300); /* room for two; sent again every 3 s; 300 ms per request */
	assert_int_equal(pg_test_stop(), 0);
	f->stopped = true;
	assert_int_equal(ship(f, ids[0], &s[0]), 0);
	run_for(f, 1000); /* sent, failed (no connection), waiting */
	assert_int_equal(s[0].calls, 0);
	assert_int_equal(run_output_pg_pending(f->o, NULL), 1);
	assert_int_equal(ship(f, ids[1], &s[1]), 0);
	run_for(f, 200);
	assert_int_equal(ship(f, ids[2], &s[2]), 0); /* past the bound: the oldest waiting is given up */
	assert_int_equal(s[0].calls, 1);
	assert_int_equal(s[0].status, -ENOBUFS);
	run_for(f, 500);
	assert_int_equal(s[1].calls + s[2].calls, 0);
	assert_int_equal(run_output_pg_pending(f->o, NULL), 2);

	assert_int_equal(pg_test_start(), 0);
	f->stopped = false;
	assert_true(pg_test_run_until(&f->a.loop, &s[2].calls, 1, 20000));
	assert_int_equal(s[1].calls, 1);
	assert_int_equal(s[1].status, 0);
	assert_int_equal(s[2].status, 0);
	assert_false(fetch(f, ids[0], RUN_STDOUT).found);
	assert_int_equal(fetch(f, ids[1], RUN_STDOUT).len, sizeof(data));
	assert_int_equal(fetch(f, ids[2], RUN_STDOUT).len, sizeof(data));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ship_and_fetch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chunks_then_final, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_and_delete_take_the_rows, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fenced, setup, teardown),
		cmocka_unit_test_setup_teardown(test_down_then_back, setup, teardown),
	};

	return pg_test_main("output_pg", tests, sizeof(tests) / sizeof(tests[0]));
}
