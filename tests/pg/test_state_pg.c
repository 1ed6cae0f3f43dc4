/* What the PostgreSQL backends do that the contract suites cannot show (state/state_pg.h, store/pg_store.h), on a
 * real server: two servers over one database fenced by their epochs; the server restarted under a writer (nothing
 * acknowledged lost, the connection back on its own, an unknown outcome refused until the state is loaded again);
 * a stopped server that never blocks the loop. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_test.h"
#include "store/pg_store.h"
#include "store/pgconn.h"

/* Two servers' backends over one schema (the second opened by the tests that need it), and whether the test
 * stopped the database server. */
struct fx {
	struct pg_test_backend a, b;
	bool b_open, stopped;
	struct pgconn *other; /* a third connection, when a test makes one */
	uv_timer_t ticker;    /* on a's loop, when a test starts it */
	uint64_t tick[3];  /* the last tick (ns), the longest gap between two, how many */
	bool ticking;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL || pg_test_backend_open(&f->a, NULL) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->stopped)
		(void)pg_test_start();
	if (f->ticking)
		uv_close((uv_handle_t *)&f->ticker, NULL);
	pgconn_close(f->other);
	pg_test_backend_close(&f->a);
	if (f->b_open)
		pg_test_backend_close(&f->b);
	free(f);
	return 0;
}

/* A commit's report. */
struct report {
	int calls, status;
};

static void on_done(void *ctx, int status)
{
	struct report *r = ctx;

	r->calls++;
	r->status = status;
}

/* Commit t of backend k and wait for its end (max_ms at most): its status. */
static int commit(struct pg_test_backend *k, struct state_txn *t, uint64_t max_ms)
{
	struct report r = {0};

	state_commit(t, on_done, &r);
	assert_true(pg_test_run_until(&k->loop, &r.calls, 1, max_ms));
	assert_int_equal(r.calls, 1);
	return r.status;
}

/* Put job name in a transaction of k's own: the commit's status. */
static int put_job(struct pg_test_backend *k, const char *name)
{
	struct state_txn *t;

	assert_int_equal(state_begin(k->s, &t), 0);
	assert_int_equal(state_put_job(t, name, "{}"), 0);
	return commit(k, t, 15000);
}

/* Raise k's epoch in a transaction of its own: the epoch. */
static uint64_t raise_epoch(struct pg_test_backend *k)
{
	struct state_txn *t;
	uint64_t epoch = 0;

	assert_int_equal(state_begin(k->s, &t), 0);
	assert_int_equal(state_raise_epoch(t, 1, &epoch), 0);
	assert_int_equal(commit(k, t, 15000), 0);
	assert_int_equal(pg_store_epoch(k->p), epoch);
	return epoch;
}

static int append_name(void *ctx, const struct state_job *job)
{
	char *s = ctx;

	strcat(s, job->name);
	strcat(s, ",");
	return 0;
}

/* The jobs k's reads see, "a,b,". */
static const char *jobs(struct pg_test_backend *k, char *buf)
{
	buf[0] = '\0';
	assert_int_equal(state_load_jobs(k->s, append_name, buf), 0);
	return buf;
}

static void on_loaded(void *ctx, int status)
{
	on_done(ctx, status);
}

/* Load k's copy again from the database: the status. */
static int load(struct pg_test_backend *k)
{
	struct report r = {0};

	assert_int_equal(pg_store_load(k->p, on_loaded, &r), 0);
	assert_true(pg_test_run_until(&k->loop, &r.calls, 1, 15000));
	return r.status;
}

/* The leader with epoch 1 writes; a second server raises the epoch to 2: from then on the first one's commits and
 * history writes fail with -ESTALE and leave nothing, while the second one's go on. Loaded again, the first one
 * sees what the database holds. */
static void test_fencing(void **state)
{
	struct fx *f = *state;
	struct run_record r;
	struct report rec = {0};
	char buf[256];

	assert_int_equal(raise_epoch(&f->a), 1);
	assert_int_equal(put_job(&f->a, "a"), 0);
	assert_int_equal(pg_test_backend_open(&f->b, f->a.conninfo), 0);
	f->b_open = true;
	assert_string_equal(jobs(&f->b, buf), "a,");
	assert_int_equal(raise_epoch(&f->b), 2);
	assert_int_equal(put_job(&f->a, "deposed"), -ESTALE);
	assert_non_null(strstr(state_errmsg(f->a.s), "the leader's epoch is 2, this server's is 1"));
	run_record_init(&r);
	r.task_id = strdup("a:1");
	r.job = strdup("a");
	r.status = RUN_SKIPPED;
	r.end_ms = 10;
	assert_int_equal(history_record(f->a.h, &r, on_done, &rec), 0);
	assert_true(pg_test_run_until(&f->a.loop, &rec.calls, 1, 15000));
	assert_int_equal(rec.status, -ESTALE);
	assert_int_equal(put_job(&f->b, "b"), 0);
	assert_string_equal(jobs(&f->a, buf), "a,"); /* its copy: what it committed */
	assert_int_equal(load(&f->a), 0);
	assert_string_equal(jobs(&f->a, buf), "a,b,");
	assert_int_equal(history_get(f->b.h, "a:1", &r), -ENOENT);
	run_record_clear(&r);
}

/* Leader a (epoch 1) with job a; then another connection locks the jobs table for 2 s (locked gets its end), and
 * a commit of job name waits behind the lock, in flight (r gets its end). */
static void commit_behind_lock(struct fx *f, const char *name, struct pg_answer *locked, struct report *r)
{
	static const struct pg_stmt lock[] = {{"BEGIN", 0, NULL}, {"LOCK TABLE jobs IN ACCESS EXCLUSIVE MODE", 0, NULL},
		{"SELECT pg_sleep(2)", 0, NULL}, {"COMMIT", 0, NULL}};
	struct state_txn *t;
	char err[256];
	int none = 0;

	assert_int_equal(raise_epoch(&f->a), 1);
	assert_int_equal(put_job(&f->a, "a"), 0);
	assert_int_equal(pgconn_new(&f->a.loop, f->a.conninfo, &f->other, err, sizeof(err)), 0);
	assert_int_equal(pgconn_send(f->other, lock, 4, 0, pg_test_on_done, locked), 0);
	(void)pg_test_run_until(&f->a.loop, &none, 1, 300); /* the lock is taken */
	assert_int_equal(state_begin(f->a.s, &t), 0);
	assert_int_equal(state_put_job(t, name, "{}"), 0);
	state_commit(t, on_done, r);
}

/* The database server is stopped under a writer and started again: a commit in flight then fails with its outcome
 * unknown (-ECONNRESET), and the backend refuses commits (-ENOTCONN: an API answers 503) until it is loaded
 * again; nothing acknowledged is lost; the connection comes back on its own. The commit is kept in flight by a lock that another connection
 * holds on the jobs table. */
static void test_restart(void **state)
{
	struct fx *f = *state;
	struct pg_answer locked = {.counter = &(int){0}};
	struct report r = {0};
	char buf[256];

	commit_behind_lock(f, "b", &locked, &r);
	(void)pg_test_run_until(&f->a.loop, &r.calls, 1, 300); /* b waits for the lock */
	assert_int_equal(r.calls, 0);
	assert_int_equal(pg_test_stop(), 0);
	f->stopped = true;
	assert_true(pg_test_run_until(&f->a.loop, &r.calls, 1, 15000));
	assert_int_equal(r.status, -ECONNRESET);
	assert_int_equal(put_job(&f->a, "c"), -ENOTCONN);
	assert_non_null(strstr(state_errmsg(f->a.s), "loaded again"));
	assert_true(pg_test_run_until(&f->a.loop, &locked.calls, 1, 5000));
	pgconn_close(f->other);
	f->other = NULL;
	assert_int_equal(pg_test_start(), 0);
	f->stopped = false;
	assert_int_equal(load(&f->a), 0);
	assert_string_equal(jobs(&f->a, buf), "a,");
	assert_int_equal(put_job(&f->a, "d"), 0);
	assert_int_equal(pgconn_connections(f->a.c), 2);
	/* a second server reads what the database holds: all that was acknowledged */
	assert_int_equal(pg_test_backend_open(&f->b, f->a.conninfo), 0);
	f->b_open = true;
	assert_string_equal(jobs(&f->b, buf), "a,d,");
}

/* A commit held in flight by a lock passes its deadline (-ETIMEDOUT: its outcome is unknown) while its
 * transaction still waits for the lock at the server. Loading again first ends that server process, so the
 * commit can never land after the load read the database, unseen by the copy: once the lock is released, the
 * database still holds what the copy holds. */
static void test_timed_out_commit_cannot_land_later(void **state)
{
	struct fx *f = *state;
	struct pg_answer locked = {.counter = &(int){0}};
	struct report r = {0};
	char buf[256];

	pg_store_set_timeout(f->a.p, 500); /* the lock and the sleep take longer */
	commit_behind_lock(f, "ghost", &locked, &r);
	assert_true(pg_test_run_until(&f->a.loop, &r.calls, 1, 5000));
	assert_int_equal(r.status, -ETIMEDOUT);
	pg_store_set_timeout(f->a.p, 15000);
	assert_int_equal(load(&f->a), 0);
	assert_string_equal(jobs(&f->a, buf), "a,");
	assert_true(pg_test_run_until(&f->a.loop, &locked.calls, 1, 5000)); /* the lock is released */
	assert_int_equal(locked.status, 0);
	assert_int_equal(put_job(&f->a, "b"), 0);
	assert_int_equal(pg_test_backend_open(&f->b, f->a.conninfo), 0);
	f->b_open = true;
	assert_string_equal(jobs(&f->b, buf), "a,b,");
}

/* A commit made while the server is down waits for it, and commits once it is back within the deadline. */
static void test_commit_waits_for_server(void **state)
{
	struct fx *f = *state;
	struct state_txn *t;
	struct report r = {0};
	char buf[256];
	int none = 0;

	assert_int_equal(put_job(&f->a, "a"), 0);
	assert_int_equal(pg_test_stop(), 0);
	f->stopped = true;
	while (pgconn_is_up(f->a.c))
		(void)pg_test_run_until(&f->a.loop, &none, 1, 20);
	assert_int_equal(state_begin(f->a.s, &t), 0);
	assert_int_equal(state_put_job(t, "later", "{}"), 0);
	state_commit(t, on_done, &r);
	(void)pg_test_run_until(&f->a.loop, &r.calls, 1, 300);
	assert_int_equal(r.calls, 0);
	assert_int_equal(pg_test_start(), 0);
	f->stopped = false;
	assert_true(pg_test_run_until(&f->a.loop, &r.calls, 1, 15000));
	if (r.status < 0)
		print_message("%s\n", state_errmsg(f->a.s));
	assert_int_equal(r.status, 0);
	assert_string_equal(jobs(&f->a, buf), "a,later,");
}

static void on_tick(uv_timer_t *t)
{
	uint64_t *last_and_gap = t->data, now = uv_hrtime();

	if (last_and_gap[0] && now - last_and_gap[0] > last_and_gap[1])
		last_and_gap[1] = now - last_and_gap[0];
	last_and_gap[0] = now;
	last_and_gap[2]++;
}

/* With the server stopped, a commit fails within its deadline (-ENOTCONN: never sent, so the backend goes on, no
 * load needed) while a timer on the loop keeps ticking every 20 ms; once the server is back, commits succeed
 * again. */
static void test_stopped_server_never_blocks(void **state)
{
	struct fx *f = *state;
	uint64_t *tick = f->tick, start;
	char buf[256];
	int rc, none = 0;

	pg_store_set_timeout(f->a.p, 1500);
	assert_int_equal(pg_test_stop(), 0);
	f->stopped = true;
	while (pgconn_is_up(f->a.c))
		(void)pg_test_run_until(&f->a.loop, &none, 1, 20);
	uv_timer_init(&f->a.loop, &f->ticker);
	f->ticking = true;
	f->ticker.data = tick;
	uv_timer_start(&f->ticker, on_tick, 20, 20);
	uv_update_time(&f->a.loop);
	start = uv_now(&f->a.loop);
	rc = put_job(&f->a, "x");
	print_message("the commit failed after %llu ms (%s); %llu ticks, the longest gap between two %llu ms\n",
	    (unsigned long long)(uv_now(&f->a.loop) - start), state_errmsg(f->a.s), (unsigned long long)tick[2],
	    (unsigned long long)(tick[1] / 1000000));
	assert_int_equal(rc, -ENOTCONN);
	assert_in_range(uv_now(&f->a.loop) - start, 1400, 3000);
	assert_in_range(tick[1] / 1000000, 0, 1000); /* the machine may be busy; a blocked loop would show 1500 */
	assert_true(tick[2] >= 10);
	assert_int_equal(pg_test_start(), 0);
	f->stopped = false;
	pg_store_set_timeout(f->a.p, 15000);
	assert_int_equal(put_job(&f->a, "y"), 0);
	assert_non_null(strstr(jobs(&f->a, buf), "y,"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fencing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timed_out_commit_cannot_land_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commit_waits_for_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stopped_server_never_blocks, setup, teardown),
	};

	return pg_test_main("test_state_pg", tests, sizeof(tests) / sizeof(tests[0]));
}
