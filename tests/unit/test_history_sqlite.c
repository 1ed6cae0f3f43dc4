/* The history's SQLite backend over a real store: recording ended runs (and only those), inside the store's
 * transaction or not; a job's runs in pages with the opaque cursor (also after the cursor's run was pruned, and
 * the numeric one of earlier releases); recent failures and skips; durations; retention by count and by age, told run by run after
 * its commit, never inside the store's transaction; a job's runs deleted; a skipped record's fields. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "history/history.h"
#include "history/history_sqlite.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/rmtree.h"

struct fixture {
	char dir[64];
	struct store *store;
	struct history *h;
};

/* A run of job due at due, ended at end with status (RUN_TIME_NONE: not ended) and started at due. */
static struct run_record run(const char *job, int64_t due, enum run_status status, int64_t end)
{
	struct run_record r;
	char id[64];

	run_record_init(&r);
	snprintf(id, sizeof(id), "ct:%lld:0:%s:", (long long)due, job);
	run_record_set(&r.task_id, id);
	run_record_set(&r.job, job);
	r.due_ms = due;
	r.status = status;
	r.start_ms = due;
	r.end_ms = end;
	if (status == RUN_SUCCEEDED)
		r.exit_code = 0;
	return r;
}

/* Claim a run as the engine does, then record its end in the history (open runs stay claimed). */
static void add(struct fixture *f, const char *job, int64_t due, enum run_status status, int64_t end)
{
	struct run_record r = run(job, due, RUN_QUEUED, RUN_TIME_NONE);

	assert_int_equal(store_claim_run(f->store, &r), 0);
	if (run_status_is_final(status)) {
		r.status = status;
		r.end_ms = end;
		assert_int_equal(history_record(f->h, &r, NULL, NULL), 0);
	} else {
		r.status = status;
		assert_int_equal(store_put_run(f->store, &r), 0);
	}
	run_record_clear(&r);
}

static int collect(void *ctx, const struct run_record *r)
{
	strcat(ctx, r->task_id);
	strcat(ctx, ",");
	return 0;
}

static void removed(void *ctx, const char *task_id, const char *job)
{
	assert_non_null(job);
	strcat(ctx, task_id);
	strcat(ctx, ",");
}

static void record_done(void *ctx, int status)
{
	*(int *)ctx = status;
}

/* Each page of job's runs with limit, as "id,id,|id,|" (pages separated by '|'), following the cursors. */
static char *pages(struct fixture *f, const char *job, int limit, const char *from, char *out)
{
	char cursor[HISTORY_CURSOR_MAX], next[HISTORY_CURSOR_MAX];

	out[0] = '\0';
	snprintf(cursor, sizeof(cursor), "%s", from ? from : "");
	for (int i = 0; i < 100; i++) {
		assert_int_equal(history_list(f->h, job, cursor, limit, collect, out, next), 0);
		strcat(out, "|");
		if (!next[0])
			break;
		assert_true(strlen(next) < HISTORY_CURSOR_MAX);
		snprintf(cursor, sizeof(cursor), "%s", next);
	}
	return out;
}

static void test_record_and_get(void **state)
{
	struct fixture *f = *state;
	struct run_record r = run("j", 1, RUN_FAILED, 5), got;
	int status = 1;

	run_record_init(&got);
	run_record_set(&r.host, "h1");
	r.exit_code = 3;
	/* Only ended runs are the history's. */
	r.status = RUN_RUNNING;
	assert_int_equal(history_record(f->h, &r, NULL, NULL), -EINVAL);
	assert_int_equal(store_claim_run(f->store, &r), 0);
	assert_int_equal(history_get(f->h, "ct:1:0:j:", &got), -ENOENT); /* open: the store's */
	r.status = RUN_FAILED;
	assert_int_equal(history_record(f->h, &r, record_done, &status), 0);
	assert_int_equal(status, 0); /* SQLite completes before it returns */
	assert_int_equal(history_get(f->h, "ct:1:0:j:", &got), 0);
	assert_int_equal(got.status, RUN_FAILED);
	assert_int_equal(got.exit_code, 3);
	assert_int_equal(got.end_ms, 5);
	assert_string_equal(got.host, "h1");
	assert_int_equal(got.skipped_slots, 0);
	assert_int_equal(got.skipped_from_ms, RUN_TIME_NONE);
	assert_int_equal(history_get(f->h, "ct:9:0:j:", &got), -ENOENT);
	/* Inside the store's transaction, a record commits or rolls back with it. */
	run_record_clear(&r);
	r = run("j", 2, RUN_SUCCEEDED, 6);
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(history_record(f->h, &r, NULL, NULL), 0);
	store_rollback(f->store);
	assert_int_equal(history_get(f->h, "ct:2:0:j:", &got), -ENOENT);
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(history_record(f->h, &r, NULL, NULL), 0);
	assert_int_equal(store_commit(f->store), 0);
	assert_int_equal(history_get(f->h, "ct:2:0:j:", &got), 0);
	run_record_clear(&r);
	run_record_clear(&got);
}

/* A skipped record carries the slots it covers; one without them (earlier releases') reads as none. */
static void test_skipped_fields(void **state)
{
	struct fixture *f = *state;
	struct run_record r = run("s", 1000, RUN_SKIPPED, 9000), got;

	run_record_init(&got);
	r.start_ms = RUN_TIME_NONE;
	r.skipped_from_ms = 1000;
	r.skipped_to_ms = 5000;
	r.skipped_slots = 5;
	run_record_set(&r.reason, "5 slots from 1000 to 5000 missed");
	assert_int_equal(store_claim_run(f->store, &r), 0); /* the engine claims the slot as skipped */
	assert_int_equal(history_get(f->h, r.task_id, &got), 0);
	assert_int_equal(got.skipped_from_ms, 1000);
	assert_int_equal(got.skipped_to_ms, 5000);
	assert_int_equal(got.skipped_slots, 5);
	assert_string_equal(got.reason, "5 slots from 1000 to 5000 missed");
	run_record_clear(&r);
	r = run("s", 7000, RUN_SKIPPED, 9000);
	assert_int_equal(history_record(f->h, &r, NULL, NULL), 0);
	assert_int_equal(history_get(f->h, r.task_id, &got), 0);
	assert_int_equal(got.skipped_slots, 0);
	assert_int_equal(got.skipped_to_ms, RUN_TIME_NONE);
	run_record_clear(&r);
	run_record_clear(&got);
}

static void test_pages(void **state)
{
	struct fixture *f = *state;
	char out[1024], cursor[HISTORY_CURSOR_MAX];
	struct run_record r;

	run_record_init(&r);
	for (int due = 1; due <= 7; due++)
		add(f, "p", due, due == 4 ? RUN_RUNNING : RUN_SUCCEEDED, due == 5 ? 50 : 100 + due);
	add(f, "other", 1, RUN_FAILED, 50);
	/* Newest first, open runs left out, across pages. */
	static const struct {
		int limit;
		const char *pages;
	} rows[] = {
		{1, "ct:7:0:p:,|ct:6:0:p:,|ct:5:0:p:,|ct:3:0:p:,|ct:2:0:p:,|ct:1:0:p:,|"},
		{2, "ct:7:0:p:,ct:6:0:p:,|ct:5:0:p:,ct:3:0:p:,|ct:2:0:p:,ct:1:0:p:,|"},
		{4, "ct:7:0:p:,ct:6:0:p:,ct:5:0:p:,ct:3:0:p:,|ct:2:0:p:,ct:1:0:p:,|"},
		{6, "ct:7:0:p:,ct:6:0:p:,ct:5:0:p:,ct:3:0:p:,ct:2:0:p:,ct:1:0:p:,|"},
		{100, "ct:7:0:p:,ct:6:0:p:,ct:5:0:p:,ct:3:0:p:,ct:2:0:p:,ct:1:0:p:,|"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_string_equal(pages(f, "p", rows[i].limit, NULL, out), rows[i].pages);
	assert_string_equal(pages(f, "none", 5, NULL, out), "|");
	/* The cursor after ct:5 still leads on when ct:5 is pruned meanwhile (it ended first: age retention). */
	out[0] = '\0';
	assert_int_equal(history_list(f->h, "p", NULL, 3, collect, out, cursor), 0);
	assert_string_equal(out, "ct:7:0:p:,ct:6:0:p:,ct:5:0:p:,");
	assert_int_equal(history_prune(f->h, &(struct history_retention){.jobs = (const char *[]){"p"}, .n_jobs = 1,
	    .older_than_ms = 60},
	    NULL, NULL, NULL), 0);
	assert_int_equal(history_get(f->h, "ct:5:0:p:", &r), -ENOENT);
	assert_string_equal(pages(f, "p", 2, cursor, out), "ct:3:0:p:,ct:2:0:p:,|ct:1:0:p:,|");
	/* the numeric cursor of earlier releases (a row id, their `before=`): the runs before that row. */
	assert_int_equal(history_get(f->h, "ct:3:0:p:", &r), 0);
	snprintf(cursor, sizeof(cursor), "%lld", (long long)r.id);
	assert_string_equal(pages(f, "p", 5, cursor, out), "ct:2:0:p:,ct:1:0:p:,|");
	/* Cursors this backend never made. */
	static const char *const bad[] = {"x", "c", "c-1", "0", "-3", "c0", "999999999999999999999", "1x", " 1"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(history_list(f->h, "p", bad[i], 5, collect, out, cursor), -EINVAL);
	run_record_clear(&r);
}

static void keep_durations(void *ctx, const char *job, const int64_t *ms, int n)
{
	char *out = ctx;
	sprintf(out + strlen(out), "%s:", job);
	for (int i = 0; i < n; i++)
		sprintf(out + strlen(out), "%lld,", (long long)ms[i]);
	strcat(out, "|");
}

static void test_durations_and_recent(void **state)
{
	struct fixture *f = *state;
	char out[512] = "";

	add(f, "a", 10, RUN_SUCCEEDED, 15);
	add(f, "a", 20, RUN_FAILED, 29);
	add(f, "a", 30, RUN_SUCCEEDED, 37);
	add(f, "a", 40, RUN_SUCCEEDED, 41);
	add(f, "b", 10, RUN_SUCCEEDED, 110);
	add(f, "b", 50, RUN_SKIPPED, 60);
	add(f, "b", 70, RUN_LOST, 80);
	add(f, "b", 90, RUN_RUNNING, RUN_TIME_NONE);
	assert_int_equal(history_durations(f->h, "a", 2, keep_durations, out), 0);
	assert_string_equal(out, "a:1,7,|");
	out[0] = '\0';
	assert_int_equal(history_durations(f->h, NULL, 10, keep_durations, out), 0);
	assert_string_equal(out, "a:1,7,5,|b:100,|");
	out[0] = '\0';
	assert_int_equal(history_recent(f->h, HISTORY_RECENT_FAILURES, 10, collect, out), 0);
	assert_string_equal(out, "ct:70:0:b:,ct:20:0:a:,");
	out[0] = '\0';
	assert_int_equal(history_recent(f->h, HISTORY_RECENT_SKIPS, 10, collect, out), 0);
	assert_string_equal(out, "ct:50:0:b:,");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "b,a," as "a,b,": the order in which a removal tells its runs is unspecified. */
static char *sorted_list(const char *list, char *out)
{
	char copy[512], *items[32], *save = NULL;
	size_t n = 0;

	snprintf(copy, sizeof(copy), "%s", list);
	for (char *t = strtok_r(copy, ",", &save); t && n < 32; t = strtok_r(NULL, ",", &save))
		items[n++] = t;
	qsort(items, n, sizeof(*items), cmp_str);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		strcat(out, items[i]);
		strcat(out, ",");
	}
	return out;
}

/* The runs a prune removed, told by name after its commit, and how many (done). */
struct told {
	char names[512];
	int n;
};

static void told_removed(void *ctx, const char *task_id, const char *job)
{
	removed(((struct told *)ctx)->names, task_id, job);
}

static void told_done(void *ctx, int status)
{
	((struct told *)ctx)->n = status;
}

/* Retention: by count per job (open runs count, and stay), by age, both, for one job, some or all; each removed run told after the
 * commit; never inside the store's transaction; a job's runs deleted. */
static void test_prune(void **state)
{
	struct fixture *f = *state;
	char out[512] = "";

	for (int due = 1; due <= 5; due++)
		add(f, "c", due, RUN_SUCCEEDED, 100 * due);
	add(f, "c", 6, RUN_RUNNING, RUN_TIME_NONE);
	for (int due = 1; due <= 3; due++)
		add(f, "d", due, RUN_FAILED, 1000 + due);
	static const char *const c[] = {"c"}, *const cd[] = {"c", "d"};
	static const struct {
		struct history_retention keep;
		const char *removed;
	} rows[] = {
		{{.jobs = c, .n_jobs = 1, .keep = 3, .older_than_ms = RUN_TIME_NONE}, "ct:3:0:c:,ct:2:0:c:,ct:1:0:c:,"},
		{{.jobs = c, .n_jobs = 1, .keep = 3, .older_than_ms = RUN_TIME_NONE}, ""},
		{{.jobs = NULL, .keep = 0, .older_than_ms = 401}, "ct:4:0:c:,"},
		{{.jobs = NULL, .keep = 2, .older_than_ms = RUN_TIME_NONE}, "ct:1:0:d:,"},
		{{.jobs = cd, .n_jobs = 2, .keep = 0, .older_than_ms = 1003}, "ct:5:0:c:,ct:2:0:d:,"},
		{{.jobs = NULL, .keep = 1, .older_than_ms = RUN_TIME_NONE}, ""},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct told t = {"", -1};
		char got[512], want[512];
		assert_int_equal(history_prune(f->h, &rows[i].keep, told_removed, told_done, &t), 0);
		assert_string_equal(sorted_list(t.names, got), sorted_list(rows[i].removed, want));
		assert_int_equal(t.n, (int)(strlen(rows[i].removed) / strlen("ct:1:0:c:,")));
	}
	/* What is left: c's open run (the store's, which counted among its newest), d's newest. */
	assert_string_equal(pages(f, "c", 10, NULL, out), "|");
	assert_string_equal(pages(f, "d", 10, NULL, out), "ct:3:0:d:,|");
	/* Not inside the store's transaction. */
	assert_int_equal(store_begin(f->store), 0);
	assert_int_equal(history_prune(f->h, &(struct history_retention){.keep = 1, .older_than_ms = INT64_MAX},
	    removed, NULL, out), -EBUSY);
	store_rollback(f->store);
	out[0] = '\0';
	assert_int_equal(history_delete_job(f->h, "d", removed, NULL, out), 0);
	assert_string_equal(out, "ct:3:0:d:,");
	out[0] = '\0';
	assert_int_equal(store_list_open_runs(f->store, "c", collect, out), 0);
	assert_string_equal(out, "ct:6:0:c:,"); /* the open run is the store's, and stays */
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/gnomon-test-history-XXXXXX");
	if (mkdtemp(f->dir) == NULL || store_open(f->dir, &f->store, err, sizeof(err)) < 0 ||
	    history_sqlite_new(store_connection(f->store), &f->h, err, sizeof(err)) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char err[256];
	int rc;

	history_free(f->h);
	store_close(f->store);
	rc = rmtree_at(AT_FDCWD, f->dir, err, sizeof(err));
	free(f);
	return rc < 0 ? -1 : 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_record_and_get, setup, teardown),
		cmocka_unit_test_setup_teardown(test_skipped_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_durations_and_recent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
