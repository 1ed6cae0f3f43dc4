/* The SQLite store against a real file: jobs in order, the data-dir lock, runs (claim, update, open runs,
 * and a job's open runs; the ended ones: test_history_sqlite.c). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "store/runs.h"
#include "store/store.h"

static char dir[] = "/tmp/gnomon-test-store-XXXXXX";

static struct store *open_store(void)
{
	struct store *s = NULL;
	char err[256];
	assert_int_equal(store_open(dir, &s, err, sizeof(err)), 0);
	return s;
}

static int collect_names(void *ctx, const struct state_job *job)
{
	char *out = ctx;
	strcat(out, job->name);
	strcat(out, ",");
	return 0;
}

static void test_jobs_and_lock(void **state)
{
	struct store *s = open_store(), *second = NULL;
	char err[256], names[64] = "";
	(void)state;

	assert_int_equal(store_put_job(s, "a", "{}"), 0);
	assert_int_equal(store_put_job(s, "b", "{}"), 0);
	assert_int_equal(store_put_job(s, "a", "{\"x\":1}"), 0); /* replaced: keeps its place */
	assert_int_equal(store_put_job(s, "c", "{}"), 0);
	assert_int_equal(store_delete_job(s, "b"), 0);
	assert_true(store_open(dir, &second, err, sizeof(err)) < 0);
	assert_non_null(strstr(err, "in use by another gnomon server"));
	store_close(s);
	s = open_store();
	assert_int_equal(store_load_jobs(s, collect_names, names), 0);
	assert_string_equal(names, "a,c,");
	store_close(s);
}

static void save(struct store *s, const char *task, const char *job, enum run_status st, int64_t end_ms)
{
	struct run_record r;
	run_record_init(&r);
	run_record_set(&r.task_id, task);
	run_record_set(&r.job, job);
	r.status = st;
	r.end_ms = end_ms;
	assert_int_equal(store_put_run(s, &r), 0);
	assert_true(r.id > 0);
	run_record_clear(&r);
}

static int collect_tasks(void *ctx, const struct run_record *r)
{
	strcat(ctx, r->task_id);
	strcat(ctx, ",");
	return 0;
}

static void test_runs(void **state)
{
	struct store *s = open_store();
	struct run_record r;
	char out[256];
	(void)state;

	/* A claim succeeds once per task id. */
	run_record_init(&r);
	run_record_set(&r.task_id, "ct:1:0:j:");
	run_record_set(&r.job, "j");
	r.status = RUN_QUEUED;
	assert_int_equal(store_claim_run(s, &r), 0);
	assert_int_equal(store_claim_run(s, &r), -EEXIST);
	r.status = RUN_RUNNING;
	r.pid = 42;
	run_record_set(&r.host, "h1");
	assert_int_equal(store_put_run(s, &r), 0);
	run_record_clear(&r);

	save(s, "ct:2:0:j:", "j", RUN_SUCCEEDED, 2000);
	save(s, "ct:3:0:j:", "j", RUN_FAILED, 3000);
	save(s, "ct:4:0:j:", "j", RUN_WAITING, RUN_TIME_NONE);
	save(s, "ct:5:0:k:", "k", RUN_SKIPPED, 1000);

	run_record_init(&r);
	assert_int_equal(store_get_run(s, "ct:1:0:j:", &r), 0);
	assert_int_equal(r.status, RUN_RUNNING);
	assert_int_equal(r.pid, 42);
	assert_string_equal(r.host, "h1");
	assert_int_equal(r.end_ms, RUN_TIME_NONE);
	assert_int_equal(store_get_run(s, "nope", &r), -ENOENT);
	run_record_clear(&r);

	out[0] = '\0';
	assert_int_equal(store_load_open_runs(s, collect_tasks, out), 0);
	assert_string_equal(out, "ct:1:0:j:,ct:4:0:j:,");

	/* A job's open runs, newest first (its ended ones are the history's: test_history_sqlite.c). */
	out[0] = '\0';
	assert_int_equal(store_list_open_runs(s, "j", collect_tasks, out), 0);
	assert_string_equal(out, "ct:4:0:j:,ct:1:0:j:,");
	store_close(s);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];
	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jobs_and_lock),
		cmocka_unit_test(test_runs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
