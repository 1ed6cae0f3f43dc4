#include "store/runs.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "store/store_db.h"
#include "util/log.h"
#include "util/xmalloc.h"

static const char *const status_names[RUN_STATUS_COUNT] = {
	"queued", "waiting", "starting", "running", "succeeded", "failed", "killed", "lost", "skipped",
};
static const char *const trigger_names[TRIGGER_COUNT] = {"schedule", "manual", "retry", "dependency"};

#define COLUMNS                                                                                                    \
	"id, task_id, job, due_ms, attempt, trigger, status, not_before_ms, start_ms, end_ms, exit_code, signal, "  \
	"pid, stdout_bytes, stderr_bytes, host, arguments, parents, reason"

static const char sql_upsert[] =
	"INSERT INTO runs(task_id, job, due_ms, attempt, trigger, status, not_before_ms, start_ms, end_ms, exit_code,"
	" signal, pid, stdout_bytes, stderr_bytes, host, arguments, parents, reason)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
	" ON CONFLICT(task_id) DO UPDATE SET status = excluded.status, not_before_ms = excluded.not_before_ms,"
	" start_ms = excluded.start_ms, end_ms = excluded.end_ms, exit_code = excluded.exit_code,"
	" signal = excluded.signal, pid = excluded.pid, stdout_bytes = excluded.stdout_bytes,"
	" stderr_bytes = excluded.stderr_bytes, host = excluded.host, reason = excluded.reason"
	" RETURNING id";
static const char sql_claim[] =
	"INSERT INTO runs(task_id, job, due_ms, attempt, trigger, status, not_before_ms, start_ms, end_ms, exit_code,"
	" signal, pid, stdout_bytes, stderr_bytes, host, arguments, parents, reason)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
	" ON CONFLICT(task_id) DO NOTHING RETURNING id";
static const char sql_get[] = "SELECT " COLUMNS " FROM runs WHERE task_id = ?1";
static const char sql_get_id[] = "SELECT " COLUMNS " FROM runs WHERE id = ?1";
static const char sql_open[] =
	"SELECT " COLUMNS " FROM runs WHERE status IN ('queued', 'waiting', 'starting', 'running') ORDER BY id";
static const char sql_list[] =
	"SELECT " COLUMNS " FROM runs WHERE job = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3";
static const char sql_prune_count[] =
	"DELETE FROM runs WHERE job = ?1 AND status NOT IN ('queued', 'waiting', 'starting', 'running') AND id <="
	" (SELECT id FROM runs WHERE job = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2) RETURNING task_id, id";
static const char sql_prune_age[] =
	"DELETE FROM runs WHERE end_ms < ?1 AND status NOT IN ('queued', 'waiting', 'starting', 'running')"
	" RETURNING task_id, id";
static const char sql_delete_job[] = "DELETE FROM runs WHERE job = ?1";
static const char sql_prune_all[] =
	"DELETE FROM runs WHERE status NOT IN ('queued', 'waiting', 'starting', 'running') AND (end_ms < ?1 OR id IN"
	" (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY job ORDER BY id DESC) AS rn FROM runs)"
	" WHERE rn > ?2)) RETURNING task_id, id";
static const char sql_durations_job[] =
	"SELECT job, end_ms - due_ms FROM runs WHERE job = ?1 AND status = 'succeeded' ORDER BY id DESC LIMIT ?2";
static const char sql_durations_all[] =
	"SELECT job, end_ms - due_ms FROM runs WHERE status = 'succeeded' ORDER BY job, id DESC";

const char *run_status_name(enum run_status s)
{
	return s < RUN_STATUS_COUNT ? status_names[s] : "unknown";
}

const char *run_trigger_name(enum run_trigger t)
{
	return t < TRIGGER_COUNT ? trigger_names[t] : "unknown";
}

int run_status_parse(const char *name, enum run_status *out)
{
	for (int i = 0; i < RUN_STATUS_COUNT; i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*out = (enum run_status)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int trigger_parse(const char *name, enum run_trigger *out)
{
	for (int i = 0; i < TRIGGER_COUNT; i++) {
		if (strcmp(name, trigger_names[i]) == 0) {
			*out = (enum run_trigger)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool run_status_is_final(enum run_status s)
{
	return s >= RUN_SUCCEEDED;
}

void run_record_init(struct run_record *r)
{
	memset(r, 0, sizeof(*r));
	r->not_before_ms = RUN_TIME_NONE;
	r->start_ms = RUN_TIME_NONE;
	r->end_ms = RUN_TIME_NONE;
	r->exit_code = -1;
}

void run_record_clear(struct run_record *r)
{
	free(r->task_id);
	free(r->job);
	free(r->host);
	free(r->arguments);
	free(r->parents);
	free(r->reason);
	run_record_init(r);
}

void run_record_set(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value ? value : "");
}

static void bind_time(sqlite3_stmt *st, int col, int64_t v)
{
	if (v == RUN_TIME_NONE)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, v);
}

static const char *str(const char *s)
{
	return s ? s : "";
}

static void bind_record(sqlite3_stmt *st, const struct run_record *r)
{
	sqlite3_bind_text(st, 1, r->task_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->due_ms);
	sqlite3_bind_int(st, 4, r->attempt);
	sqlite3_bind_text(st, 5, run_trigger_name(r->trigger), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, run_status_name(r->status), -1, SQLITE_STATIC);
	bind_time(st, 7, r->not_before_ms);
	bind_time(st, 8, r->start_ms);
	bind_time(st, 9, r->end_ms);
	sqlite3_bind_int(st, 10, r->exit_code);
	sqlite3_bind_int(st, 11, r->signal);
	sqlite3_bind_int64(st, 12, r->pid);
	sqlite3_bind_int64(st, 13, r->stdout_bytes);
	sqlite3_bind_int64(st, 14, r->stderr_bytes);
	sqlite3_bind_text(st, 15, str(r->host), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, str(r->arguments), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, str(r->parents), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, str(r->reason), -1, SQLITE_STATIC);
}

/* Run an INSERT ... RETURNING id; returns 0 with the id, -EEXIST when nothing was inserted, or what
 * store_failed says. */
static int insert_returning(struct store *s, sqlite3_stmt *st, struct run_record *r)
{
	int rc = sqlite3_step(st), err = 0;
	if (rc == SQLITE_ROW) {
		r->id = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st);
	} else if (rc == SQLITE_DONE) {
		sqlite3_reset(st);
		return -EEXIST;
	}
	if (rc != SQLITE_DONE)
		err = store_failed(s);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		log_warnx("store: saving run %s: %s", r->task_id, store_errmsg(s));
	return err;
}

int store_put_run(struct store *s, struct run_record *r)
{
	sqlite3_stmt *st = store_stmt(s, sql_upsert);
	if (st == NULL)
		return -EIO;
	bind_record(st, r);
	return insert_returning(s, st, r);
}

int store_claim_run(struct store *s, struct run_record *r)
{
	sqlite3_stmt *st = store_stmt(s, sql_claim);
	if (st == NULL)
		return -EIO;
	bind_record(st, r);
	return insert_returning(s, st, r);
}

static int64_t column_time(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? RUN_TIME_NONE : sqlite3_column_int64(st, col);
}

static char *column_str(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return xstrdup(t ? (const char *)t : "");
}

/* Fill r (initialised) from the current row of a SELECT COLUMNS. */
static void read_record(sqlite3_stmt *st, struct run_record *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->task_id = column_str(st, 1);
	r->job = column_str(st, 2);
	r->due_ms = sqlite3_column_int64(st, 3);
	r->attempt = sqlite3_column_int(st, 4);
	if (trigger_parse((const char *)sqlite3_column_text(st, 5), &r->trigger) < 0)
		r->trigger = TRIGGER_SCHEDULE;
	if (run_status_parse((const char *)sqlite3_column_text(st, 6), &r->status) < 0)
		r->status = RUN_LOST;
	r->not_before_ms = column_time(st, 7);
	r->start_ms = column_time(st, 8);
	r->end_ms = column_time(st, 9);
	r->exit_code = sqlite3_column_int(st, 10);
	r->signal = sqlite3_column_int(st, 11);
	r->pid = sqlite3_column_int64(st, 12);
	r->stdout_bytes = sqlite3_column_int64(st, 13);
	r->stderr_bytes = sqlite3_column_int64(st, 14);
	r->host = column_str(st, 15);
	r->arguments = column_str(st, 16);
	r->parents = column_str(st, 17);
	r->reason = column_str(st, 18);
}

/* Step a SELECT COLUMNS, calling fn per row; stops at fn's first non-zero value and returns it. */
static int each_record(struct store *s, sqlite3_stmt *st, int (*fn)(void *ctx, const struct run_record *r),
    void *ctx)
{
	struct run_record r;
	int rc, out = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		run_record_init(&r);
		read_record(st, &r);
		out = fn(ctx, &r);
		run_record_clear(&r);
		if (out != 0)
			break;
	}
	if (out == 0 && rc != SQLITE_DONE) {
		log_warnx("store: reading runs: %s", sqlite3_errmsg(store_db(s)));
		out = -EIO;
	}
	sqlite3_reset(st);
	return out;
}

static int copy_one(void *ctx, const struct run_record *r)
{
	struct run_record *dst = ctx;
	*dst = *r;
	dst->task_id = xstrdup(r->task_id);
	dst->job = xstrdup(r->job);
	dst->host = xstrdup(r->host);
	dst->arguments = xstrdup(r->arguments);
	dst->parents = xstrdup(r->parents);
	dst->reason = xstrdup(r->reason);
	return 1;
}

int store_get_run(struct store *s, const char *task_id, struct run_record *r)
{
	sqlite3_stmt *st = store_stmt(s, sql_get);
	int rc;
	if (st == NULL)
		return -EIO;
	run_record_clear(r);
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	rc = each_record(s, st, copy_one, r);
	return rc == 1 ? 0 : rc < 0 ? rc : -ENOENT;
}

int store_get_run_by_id(struct store *s, int64_t id, struct run_record *r)
{
	sqlite3_stmt *st = store_stmt(s, sql_get_id);
	int rc;
	if (st == NULL)
		return -EIO;
	run_record_clear(r);
	sqlite3_bind_int64(st, 1, id);
	rc = each_record(s, st, copy_one, r);
	return rc == 1 ? 0 : rc < 0 ? rc : -ENOENT;
}

int store_load_open_runs(struct store *s, int (*fn)(void *ctx, const struct run_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_open);
	return st ? each_record(s, st, fn, ctx) : -EIO;
}

int store_list_runs(struct store *s, const char *job, int64_t before, int limit,
    int (*fn)(void *ctx, const struct run_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_list);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before > 0 ? before : INT64_MAX);
	sqlite3_bind_int(st, 3, limit);
	return each_record(s, st, fn, ctx);
}

/* Step a DELETE ... RETURNING task_id, reporting each; returns the count or what store_failed says. */
static int delete_returning(struct store *s, sqlite3_stmt *st,
    void (*fn)(void *ctx, const char *task_id, int64_t id), void *ctx)
{
	int rc, n = 0, err = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (fn)
			fn(ctx, (const char *)sqlite3_column_text(st, 0), sqlite3_column_int64(st, 1));
		n++;
	}
	if (rc != SQLITE_DONE)
		err = store_failed(s);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("store: pruning runs: %s", store_errmsg(s));
		return err;
	}
	return n;
}

int store_prune_runs(struct store *s, const char *job, int keep, int64_t older_than_ms,
    void (*fn)(void *ctx, const char *task_id, int64_t id), void *ctx)
{
	int n = 0, rc;
	if (keep > 0 && job) {
		sqlite3_stmt *st = store_stmt(s, sql_prune_count);
		if (st == NULL)
			return -EIO;
		sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, keep);
		if ((rc = delete_returning(s, st, fn, ctx)) < 0)
			return rc;
		n += rc;
	}
	if (older_than_ms != RUN_TIME_NONE) {
		sqlite3_stmt *st = store_stmt(s, sql_prune_age);
		if (st == NULL)
			return -EIO;
		sqlite3_bind_int64(st, 1, older_than_ms);
		if ((rc = delete_returning(s, st, fn, ctx)) < 0)
			return rc;
		n += rc;
	}
	return n;
}

int store_delete_runs(struct store *s, const char *job)
{
	sqlite3_stmt *st = store_stmt(s, sql_delete_job);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	return store_step_done(s, st);
}


int store_prune_all_runs(struct store *s, int keep, int64_t older_than_ms,
    void (*fn)(void *ctx, const char *task_id, int64_t id), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_prune_all);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, older_than_ms == RUN_TIME_NONE ? INT64_MIN : older_than_ms);
	sqlite3_bind_int64(st, 2, keep > 0 ? keep : INT64_MAX);
	return delete_returning(s, st, fn, ctx);
}

int store_run_durations(struct store *s, const char *job, int max,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, job ? sql_durations_job : sql_durations_all);
	int64_t *ms;
	char *current = NULL;
	int n = 0, rc;

	if (st == NULL)
		return -EIO;
	if (job) {
		sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, max);
	}
	ms = xmalloc((size_t)(max > 0 ? max : 1) * sizeof(*ms));
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		if (current == NULL || strcmp(current, name) != 0) {
			if (current && n > 0)
				fn(ctx, current, ms, n);
			free(current);
			current = xstrdup(name);
			n = 0;
		}
		if (n < max)
			ms[n++] = sqlite3_column_int64(st, 1);
	}
	if (current && n > 0)
		fn(ctx, current, ms, n);
	free(current);
	free(ms);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("store: reading run durations: %s", sqlite3_errmsg(store_db(s)));
		return -EIO;
	}
	return 0;
}

/* The WHERE terms match the partial indexes runs_failures and runs_skips word for word, so SQLite uses them. */
static const char sql_recent_failures[] =
	"SELECT " COLUMNS " FROM runs WHERE status IN ('failed', 'lost') ORDER BY id DESC LIMIT ?1";
static const char sql_recent_skips[] = "SELECT " COLUMNS " FROM runs WHERE status = 'skipped' ORDER BY id DESC LIMIT ?1";

int store_list_recent_runs(struct store *s, enum run_recent kind, int limit,
    int (*fn)(void *ctx, const struct run_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, kind == RUN_RECENT_FAILURES ? sql_recent_failures : sql_recent_skips);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_int(st, 1, limit);
	return each_record(s, st, fn, ctx);
}
