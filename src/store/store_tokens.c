/* The API tokens' table of the SQLite store (store.h). */
#include <errno.h>

#include "store/store.h"
#include "store/store_db.h"

static const char sql_put[] = "INSERT INTO tokens(name, role, hash, created_ms) VALUES(?1, ?2, ?3, ?4) "
			      "ON CONFLICT(name) DO UPDATE SET role = excluded.role, hash = excluded.hash, "
			      "created_ms = excluded.created_ms";
static const char sql_delete[] = "DELETE FROM tokens WHERE name = ?1";
static const char sql_load[] = "SELECT name, role, hash, created_ms FROM tokens ORDER BY name";

int store_put_token(struct store *s, const struct state_token *tok)
{
	sqlite3_stmt *st = store_stmt(s, sql_put);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, tok->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, tok->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, tok->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, tok->created_ms);
	return store_step_done(s, st);
}

int store_delete_token(struct store *s, const char *name)
{
	sqlite3_stmt *st = store_stmt(s, sql_delete);

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return store_step_done(s, st);
}

int store_load_tokens(struct store *s, state_token_fn fn, void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_load);
	int rc, out = 0;

	if (st == NULL)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct state_token tok = {(const char *)sqlite3_column_text(st, 0),
			(const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
			sqlite3_column_int64(st, 3)};
		if ((out = fn(ctx, &tok)) != 0)
			break;
	}
	if (out == 0 && rc != SQLITE_DONE)
		out = -EIO;
	sqlite3_reset(st);
	return out;
}
