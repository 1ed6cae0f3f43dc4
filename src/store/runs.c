#include "store/runs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/run_row_sqlite.h"
#include "store/store.h"
#include "store/store_db.h"
#include "util/log.h"

#define OPEN RUN_ROW_OPEN /* the condition of the index runs_open */

static const char sql_get[] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE task_id = ?1";
static const char sql_open[] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE " OPEN " ORDER BY id";
static const char sql_open_job[] = "SELECT " RUN_ROW_COLUMNS " FROM runs WHERE " OPEN " AND job = ?1 ORDER BY id DESC";

/* Step a bound INSERT of run_row_sqlite.h; 0, -EEXIST when it inserted nothing (a claim whose task id is taken),
 * or what store_failed says. A row inserted gives r its id; an upsert that updated a row whose id r lacks looks
 * it up. */
static int insert_run(struct store *s, sqlite3_stmt *st, struct run_record *r, bool claim)
{
	static const char sql_id[] = "SELECT id FROM runs WHERE task_id = ?1";
	sqlite3 *db = store_db(s);
	sqlite3_stmt *q;
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		rc = store_failed(s);
		log_warnx("store: saving run %s: %s", r->task_id, store_errmsg(s));
		return rc;
	}
	if (claim) {
		if (sqlite3_changes(db) == 0)
			return -EEXIST;
		r->id = sqlite3_last_insert_rowid(db);
		return 0;
	}
	if (r->id > 0)
		return 0;
	/* an upsert of a run whose id r does not know yet: inserted or updated, its row has it */
	if ((q = store_stmt(s, sql_id)) == NULL)
		return -EIO;
	sqlite3_bind_text(q, 1, r->task_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW)
		r->id = sqlite3_column_int64(q, 0);
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 0 : store_failed(s);
}

int store_put_run(struct store *s, struct run_record *r)
{
	sqlite3_stmt *st = store_stmt(s, run_row_upsert_sql);
	if (st == NULL)
		return -EIO;
	run_row_bind(st, r);
	return insert_run(s, st, r, false);
}

int store_claim_run(struct store *s, struct run_record *r)
{
	sqlite3_stmt *st = store_stmt(s, run_row_claim_sql);
	if (st == NULL)
		return -EIO;
	run_row_bind(st, r);
	return insert_run(s, st, r, true);
}

/* Step a SELECT RUN_ROW_COLUMNS, calling fn per row; stops at fn's first non-zero value and returns it. */
static int each_record(struct store *s, sqlite3_stmt *st, int (*fn)(void *ctx, const struct run_record *r),
    void *ctx)
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
	if (out == 0 && rc != SQLITE_DONE) {
		log_warnx("store: reading runs: %s", sqlite3_errmsg(store_db(s)));
		out = -EIO;
	}
	sqlite3_reset(st);
	return out;
}

static int copy_one(void *ctx, const struct run_record *r)
{
	run_record_copy(ctx, r);
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

int store_load_open_runs(struct store *s, int (*fn)(void *ctx, const struct run_record *r), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_open);
	return st ? each_record(s, st, fn, ctx) : -EIO;
}

int store_list_open_runs(struct store *s, const char *job, int (*fn)(void *ctx, const struct run_record *r),
    void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_open_job);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, job, -1, SQLITE_STATIC);
	return each_record(s, st, fn, ctx);
}
