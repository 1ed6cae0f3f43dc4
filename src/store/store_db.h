/* Private to src/store/: the SQLite handle and a cache of prepared statements for the store's files. */
#ifndef GNOMON_STORE_STORE_DB_H
#define GNOMON_STORE_STORE_DB_H

#include <sqlite3.h>

struct store;

sqlite3 *store_db(struct store *s);
/* The prepared statement for sql (a string literal: cached by its address), reset and unbound; NULL on error
 * (logged). */
sqlite3_stmt *store_stmt(struct store *s, const char *sql);
/* Step a statement that returns no rows and reset it; returns 0 or what store_failed says (logged). */
int store_step_done(struct store *s, sqlite3_stmt *st);
/* Just after a failed SQLite call on s's connection: keep its message for store_errmsg and return -ENOSPC when
 * the disk, a quota or the file size limit is full (SQLITE_FULL, or an I/O error with ENOSPC, EDQUOT or EFBIG),
 * else -EIO. */
int store_failed(struct store *s);

#endif
