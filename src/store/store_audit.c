/* The audit trail's table of the SQLite store (store.h). */
#include <errno.h>

#include "store/store.h"
#include "store/store_db.h"

static const char sql_put[] = "INSERT INTO audit(time_ms, actor, actor_kind, address, action, job, before, after) "
			      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)";
static const char sql_prune[] = "DELETE FROM audit WHERE time_ms < ?1";
static const char sql_list[] = "SELECT id, time_ms, actor, actor_kind, address, action, job, before, after FROM audit "
			       "WHERE (?1 IS NULL OR job = ?1) AND time_ms >= ?2 AND (?3 = 0 OR id < ?3) "
			       "ORDER BY id DESC LIMIT ?4";

int store_put_audit(struct store *s, const struct state_audit *a)
{
	sqlite3_stmt *st = store_stmt(s, sql_put);
	const char *text[] = {a->actor, a->actor_kind, a->address, a->action, a->job, a->before, a->after};

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, a->time_ms);
	for (int i = 0; i < 7; i++) {
		if (text[i])
			sqlite3_bind_text(st, i + 2, text[i], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, i + 2);
	}
	return store_step_done(s, st);
}

int store_prune_audit(struct store *s, int64_t older_than_ms)
{
	sqlite3_stmt *st = store_stmt(s, sql_prune);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, older_than_ms);
	return store_step_done(s, st);
}

static const char *text_at(sqlite3_stmt *st, int col)
{
	return (const char *)sqlite3_column_text(st, col);
}

int store_list_audit(struct store *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_list);
	int rc, out = 0;

	if (st == NULL)
		return -EIO;
	if (q->job)
		sqlite3_bind_text(st, 1, q->job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, q->since_ms);
	sqlite3_bind_int64(st, 3, q->before_id);
	sqlite3_bind_int(st, 4, q->limit);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct state_audit a = {sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1), text_at(st, 2),
			text_at(st, 3), text_at(st, 4), text_at(st, 5), text_at(st, 6), text_at(st, 7), text_at(st, 8)};
		if ((out = fn(ctx, &a)) != 0)
			break;
	}
	if (out == 0 && rc != SQLITE_DONE)
		out = -EIO;
	sqlite3_reset(st);
	return out;
}
