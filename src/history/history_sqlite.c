#include "history/history_sqlite.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/run_row_sqlite.h"
#include "util/log.h"
#include "util/xmalloc.h"

enum stmt {
	ST_RECORD, ST_GET, ST_LIST, ST_RECENT_FAILURES, ST_RECENT_SKIPS, ST_WINDOW, ST_DURATIONS_JOB, ST_DURATIONS_ALL,
	ST_PRUNE_JOB, ST_PRUNE_ALL, ST_DELETE_JOB, ST_LEGACY, ST_EACH, ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_COUNT
};

#define ENDED RUN_ROW_ENDED
static const char *const stmt_sql[ST_COUNT] = {
	[ST_RECORD] = NULL, /* run_row_upsert_sql */
	[ST_GET] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE task_id = ?1 AND " ENDED,
	[ST_LIST] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE job = ?1 AND id < ?2 AND " ENDED
		    " ORDER BY id DESC LIMIT ?3",
	/* The WHERE terms match the partial indexes runs_failures and runs_skips word for word, so SQLite uses them. */
	[ST_RECENT_FAILURES] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE " RUN_ROW_FAILED
			       " ORDER BY id DESC LIMIT ?1",
	[ST_RECENT_SKIPS] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE status = 'skipped' ORDER BY id DESC LIMIT ?1",
	/* read from the index runs_by_end, down to the window's start */
	[ST_WINDOW] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE end_ms >= ?1 AND coalesce(start_ms, due_ms) <= ?2 AND "
		      ENDED " ORDER BY end_ms DESC, id DESC LIMIT ?3",
	[ST_DURATIONS_JOB] = "SELECT job, end_ms - due_ms FROM runs WHERE job = ?1 AND status = 'succeeded'"
			     " ORDER BY id DESC LIMIT ?2",
	[ST_DURATIONS_ALL] = "SELECT job, end_ms - due_ms FROM runs WHERE status = 'succeeded' ORDER BY job, id DESC",
	/* Retention by count keeps a job's newest keep runs, its open ones among them (as it always did): the count
	 * is read from the index runs_by_job alone, which the run end that asks for it can afford. */
	[ST_PRUNE_JOB] = "DELETE FROM runs WHERE job = ?1 AND " ENDED " AND (end_ms < ?2 OR id <= coalesce((SELECT id"
			 " FROM runs WHERE job = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?3), 0)) RETURNING task_id, job",
	[ST_PRUNE_ALL] = "DELETE FROM runs WHERE " ENDED " AND (end_ms < ?2 OR id IN (SELECT id FROM (SELECT id,"
			 " row_number() OVER (PARTITION BY job ORDER BY id DESC) AS rn FROM runs) WHERE rn > ?3))"
			 " RETURNING task_id, job",
	[ST_DELETE_JOB] = "DELETE FROM runs WHERE job = ?1 AND " ENDED " RETURNING task_id, job",
	[ST_LEGACY] = "SELECT task_id FROM runs WHERE id = ?1",
	[ST_EACH] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE " ENDED " ORDER BY id",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

struct hsqlite {
	struct history base;
	sqlite3 *db;
	sqlite3_stmt *st[ST_COUNT];
	char error[256];
};

/* The runs a removal took, told after its commit. */
struct removed {
	char **task_id, **job;
	size_t n, cap;
};

/* Keep the connection's message of a failure; -ENOSPC when the disk is full, else -EIO. */
static int failed(struct hsqlite *s, const char *what)
{
	int code = sqlite3_extended_errcode(s->db);
	snprintf(s->error, sizeof(s->error), "%s", sqlite3_errmsg(s->db));
	log_warnx("history: %s: %s", what, s->error);
	return (code & 0xff) == SQLITE_FULL ? -ENOSPC : -EIO;
}

static sqlite3_stmt *stmt(struct hsqlite *s, enum stmt id)
{
	sqlite3_reset(s->st[id]);
	sqlite3_clear_bindings(s->st[id]);
	return s->st[id];
}

static int step_done(struct hsqlite *s, enum stmt id, const char *what)
{
	int rc = sqlite3_step(s->st[id]);
	sqlite3_reset(s->st[id]);
	return rc == SQLITE_DONE ? 0 : failed(s, what);
}

static int sq_record(struct history *h, const struct run_record *r, history_done_fn done, void *ctx)
{
	struct hsqlite *s = (struct hsqlite *)h;
	sqlite3_stmt *st = stmt(s, ST_RECORD);
	int rc;

	run_row_bind(st, r);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	rc = rc == SQLITE_DONE ? 0 : failed(s, "recording a run");
	if (rc == 0 && done) /* a failure is the return value's alone: reported once */
		done(ctx, rc);
	return rc;
}

/* Step a SELECT RUN_ROW_COLUMNS, calling fn per row; stops at fn's first non-zero value and returns it. */
static int each_row(struct hsqlite *s, sqlite3_stmt *st, history_run_fn fn, void *ctx)
{
	struct run_record r;
	int rc, out = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		run_record_init(&r);
		run_row_read(st, &r);
		out = fn(ctx, &r);
		run_record_clear(&r);
		if (out != 0)
			break;
	}
	sqlite3_reset(st);
	if (out == 0 && rc != SQLITE_DONE)
		out = failed(s, "reading runs");
	return out;
}

static int copy_one(void *ctx, const struct run_record *r)
{
	run_record_copy(ctx, r);
	return 1;
}

static int sq_get(struct history *h, const char *task_id, struct run_record *out)
{
	struct hsqlite *s = (struct hsqlite *)h;
	sqlite3_stmt *st = stmt(s, ST_GET);
	int rc;

	run_record_clear(out);
	sqlite3_bind_text(st, 1, task_id, -1, SQLITE_STATIC);
	rc = each_row(s, st, copy_one, out);
	return rc == 1 ? 0 : rc < 0 ? rc : -ENOENT;
}

/* The position a cursor names: "c<id>" (this backend's), or a bare id (the `before=` of earlier releases). */
static int cursor_parse(const char *cursor, int64_t *before)
{
	const char *p = cursor;
	char *end;
	long long v;

	*before = INT64_MAX;
	if (cursor == NULL || *cursor == '\0')
		return 0;
	if (*p == 'c')
		p++;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(p, &end, 10);
	if (errno || *end || v <= 0)
		return -EINVAL;
	*before = v;
	return 0;
}

struct page {
	history_run_fn fn;
	void *ctx;
	int left;           /* rows of the page still to pass on */
	int64_t last_shown; /* the id of the last row passed on */
	bool more;          /* a row past the page exists */
};

static int page_row(void *ctx, const struct run_record *r)
{
	struct page *p = ctx;
	if (p->left == 0) {
		p->more = true;
		return 1;
	}
	p->left--;
	p->last_shown = r->id;
	return p->fn(p->ctx, r);
}

static int sq_list(struct history *h, const char *job, const char *cursor, int limit, history_run_fn fn, void *ctx,
    char next[HISTORY_CURSOR_MAX])
{
	struct hsqlite *s = (struct hsqlite *)h;
	struct page p = {.fn = fn, .ctx = ctx, .left = limit};
	sqlite3_stmt *st;
	int64_t before;
	int rc;

	next[0] = '\0';
	if (cursor_parse(cursor, &before) < 0 || limit < 0)
		return -EINVAL;
	st = stmt(s, ST_LIST);
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, before);
	sqlite3_bind_int64(st, 3, (int64_t)limit + 1);
	rc = each_row(s, st, page_row, &p);
	if (rc < 0)
		return rc;
	/* The next page holds the rows before the last one shown, whatever became of that one meanwhile. */
	if (p.more)
		snprintf(next, HISTORY_CURSOR_MAX, "c%" PRId64, p.last_shown);
	return p.more ? 0 : rc;
}

static int sq_recent(struct history *h, enum history_recent kind, int limit, history_run_fn fn, void *ctx)
{
	struct hsqlite *s = (struct hsqlite *)h;
	sqlite3_stmt *st = stmt(s, kind == HISTORY_RECENT_FAILURES ? ST_RECENT_FAILURES : ST_RECENT_SKIPS);

	sqlite3_bind_int(st, 1, limit);
	return each_row(s, st, fn, ctx);
}

static int sq_window(struct history *h, int64_t from_ms, int64_t to_ms, int limit, history_run_fn fn, void *ctx)
{
	struct hsqlite *s = (struct hsqlite *)h;
	sqlite3_stmt *st = stmt(s, ST_WINDOW);

	sqlite3_bind_int64(st, 1, from_ms);
	sqlite3_bind_int64(st, 2, to_ms);
	sqlite3_bind_int(st, 3, limit);
	return each_row(s, st, fn, ctx);
}

static int sq_durations(struct history *h, const char *job, int max,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx)
{
	struct hsqlite *s = (struct hsqlite *)h;
	sqlite3_stmt *st = stmt(s, job ? ST_DURATIONS_JOB : ST_DURATIONS_ALL);
	int64_t *ms;
	char *current = NULL;
	int n = 0, rc;

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
	return rc == SQLITE_DONE ? 0 : failed(s, "reading run durations");
}

static void removed_clear(struct removed *r)
{
	for (size_t i = 0; i < r->n; i++) {
		free(r->task_id[i]);
		free(r->job[i]);
	}
	free(r->task_id);
	free(r->job);
	memset(r, 0, sizeof(*r));
}

/* Step a bound DELETE ... RETURNING task_id, job, keeping what it took in gone. 0 or a negative errno. */
static int delete_step(struct hsqlite *s, sqlite3_stmt *st, struct removed *gone)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (gone->n == gone->cap) {
			gone->cap = gone->cap ? 2 * gone->cap : 16;
			gone->task_id = xrealloc(gone->task_id, gone->cap * sizeof(*gone->task_id));
			gone->job = xrealloc(gone->job, gone->cap * sizeof(*gone->job));
		}
		gone->task_id[gone->n] = xstrdup((const char *)sqlite3_column_text(st, 0));
		gone->job[gone->n++] = xstrdup((const char *)sqlite3_column_text(st, 1));
	}
	rc = rc == SQLITE_DONE ? 0 : failed(s, "removing runs");
	sqlite3_reset(st);
	return rc;
}

/* What one removal does: bind statement id for its i-th step (of n). */
typedef void (*bind_fn)(sqlite3_stmt *st, const void *arg, size_t i);

/* Run n removals (statement id, bound by bind for each) in one transaction of its own; after its commit, tell
 * removed of each run they took, then done of how many. */
static int delete_rows(struct hsqlite *s, enum stmt id, size_t n, bind_fn bind, const void *arg,
    history_removed_fn removed, history_done_fn done, void *ctx)
{
	struct removed gone = {0};
	int rc;

	if (!sqlite3_get_autocommit(s->db)) {
		snprintf(s->error, sizeof(s->error), "a removal from the history cannot join the store's transaction");
		return -EBUSY;
	}
	if ((rc = step_done(s, ST_BEGIN, "removing runs")) < 0)
		return rc;
	for (size_t i = 0; rc == 0 && i < n; i++) {
		sqlite3_stmt *st = stmt(s, id);
		bind(st, arg, i);
		rc = delete_step(s, st, &gone);
	}
	if (rc == 0)
		rc = step_done(s, ST_COMMIT, "removing runs");
	if (rc < 0) {
		/* A COMMIT whose log write failed has rolled the transaction back already: another ROLLBACK would fail,
		 * and its message replace the cause in errmsg. */
		if (!sqlite3_get_autocommit(s->db))
			(void)step_done(s, ST_ROLLBACK, "rolling back a removal");
		removed_clear(&gone);
		return rc;
	}
	for (size_t i = 0; removed && i < gone.n; i++)
		removed(ctx, gone.task_id[i], gone.job[i]);
	if (done)
		done(ctx, (int)gone.n);
	removed_clear(&gone);
	return 0;
}

static void bind_retention(sqlite3_stmt *st, const void *arg, size_t i)
{
	const struct history_retention *keep = arg;

	if (keep->jobs)
		sqlite3_bind_text(st, 1, keep->jobs[i], -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, keep->older_than_ms == RUN_TIME_NONE ? INT64_MIN : keep->older_than_ms);
	sqlite3_bind_int64(st, 3, keep->keep > 0 ? keep->keep : INT64_MAX);
}

static int sq_prune(struct history *h, const struct history_retention *keep, history_removed_fn removed,
    history_done_fn done, void *ctx)
{
	struct hsqlite *s = (struct hsqlite *)h;

	return delete_rows(s, keep->jobs ? ST_PRUNE_JOB : ST_PRUNE_ALL, keep->jobs ? keep->n_jobs : 1, bind_retention,
	    keep, removed, done, ctx);
}

static void bind_job(sqlite3_stmt *st, const void *arg, size_t i)
{
	(void)i;
	sqlite3_bind_text(st, 1, arg, -1, SQLITE_STATIC);
}

static int sq_delete_job(struct history *h, const char *job, history_removed_fn removed, history_done_fn done,
    void *ctx)
{
	return delete_rows((struct hsqlite *)h, ST_DELETE_JOB, 1, bind_job, job, removed, done, ctx);
}

static const char *sq_errmsg(const struct history *h)
{
	const struct hsqlite *s = (const struct hsqlite *)h;
	return s->error[0] ? s->error : sqlite3_errmsg(s->db);
}

static void sq_free(struct history *h)
{
	struct hsqlite *s = (struct hsqlite *)h;

	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	free(s);
}

static const struct history_ops sqlite_ops = {
	.record = sq_record,
	.get = sq_get,
	.list = sq_list,
	.recent = sq_recent,
	.window = sq_window,
	.durations = sq_durations,
	.prune = sq_prune,
	.delete_job = sq_delete_job,
	.errmsg = sq_errmsg,
	.free = sq_free,
};

int history_sqlite_new(sqlite3 *db, struct history **out, char *err, size_t errlen)
{
	struct hsqlite *s = xcalloc(1, sizeof(*s));

	s->base.ops = &sqlite_ops;
	s->db = db;
	for (int i = 0; i < ST_COUNT; i++) {
		const char *sql = i == ST_RECORD ? run_row_upsert_sql : stmt_sql[i];
		if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "history: preparing '%s': %s", sql, sqlite3_errmsg(db));
			sq_free(&s->base);
			return -EIO;
		}
	}
	*out = &s->base;
	return 0;
}

int history_sqlite_legacy_task_id(struct history *h, int64_t id, char **task_id)
{
	struct hsqlite *s = (struct hsqlite *)h;
	sqlite3_stmt *st = stmt(s, ST_LEGACY);
	int rc;

	*task_id = NULL;
	sqlite3_bind_int64(st, 1, id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		*task_id = xstrdup((const char *)sqlite3_column_text(st, 0));
	sqlite3_reset(st);
	return *task_id ? 0 : rc == SQLITE_DONE ? -ENOENT : failed(s, "reading a run's task id");
}

int history_sqlite_each(struct history *h, history_run_fn fn, void *ctx)
{
	struct hsqlite *s = (struct hsqlite *)h;

	return each_row(s, stmt(s, ST_EACH), fn, ctx);
}
