#include "store/rounds.h"

#include <errno.h>

#include "store/store.h"
#include "store/store_db.h"
#include "util/log.h"

static const char sql_put[] = "INSERT INTO rounds(child, parent, task_id) VALUES(?1, ?2, ?3) "
			      "ON CONFLICT(child, parent) DO UPDATE SET task_id = excluded.task_id";
static const char sql_clear_one[] = "DELETE FROM rounds WHERE child = ?1 AND parent = ?2";
static const char sql_clear_all[] = "DELETE FROM rounds WHERE child = ?1";
static const char sql_load[] = "SELECT child, parent, task_id FROM rounds ORDER BY child";

int store_round_put(struct store *s, const char *child, const char *parent, const char *task_id)
{
	sqlite3_stmt *st = store_stmt(s, sql_put);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, parent, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, task_id, -1, SQLITE_STATIC);
	return store_step_done(s, st);
}

int store_round_clear(struct store *s, const char *child, const char *parent)
{
	sqlite3_stmt *st = store_stmt(s, parent ? sql_clear_one : sql_clear_all);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, child, -1, SQLITE_STATIC);
	if (parent)
		sqlite3_bind_text(st, 2, parent, -1, SQLITE_STATIC);
	return store_step_done(s, st);
}

int store_load_rounds(struct store *s, int (*fn)(void *ctx, const char *child, const char *parent,
    const char *task_id), void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_load);
	int rc, out = 0;
	if (st == NULL)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if ((out = fn(ctx, (const char *)sqlite3_column_text(st, 0), (const char *)sqlite3_column_text(st, 1),
			 (const char *)sqlite3_column_text(st, 2))) != 0)
			break;
	if (out == 0 && rc != SQLITE_DONE) {
		log_warnx("store: loading dependency rounds: %s", sqlite3_errmsg(store_db(s)));
		out = -EIO;
	}
	sqlite3_reset(st);
	return out;
}
