/* The history's SQLite backend, over the store's database and connection (store_connection()): ended runs are
 * the rows of the `runs` table whose status is final (history/run_row_sqlite.h says why one table holds open and
 * ended runs). A record written while the store's transaction is open is part of it, which is how the engine
 * records a run's end with its job's counters atomically; retention and deletions run in transactions of their
 * own. Create it after store_open() (which migrates the schema), free it before store_close(). */
#ifndef GNOMON_HISTORY_HISTORY_SQLITE_H
#define GNOMON_HISTORY_HISTORY_SQLITE_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "history/history.h"

/* A backend over db (borrowed: it must outlive the backend). 0, or a negative errno with a message in err. */
int history_sqlite_new(sqlite3 *db, struct history **out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* For data dirs of earlier releases, whose runs' files were named by row id: the task id of the run with row id
 * (allocated into *task_id), 0, -ENOENT (no such run: it was pruned) or another negative errno. Start-up only (the
 * migrations of run_output_files.h and runner_local.h). h must be a SQLite backend. */
int history_sqlite_legacy_task_id(struct history *h, int64_t id, char **task_id) __attribute__((warn_unused_result));

/* Call fn for every ended run, oldest (lowest row id) first, whatever its job (a deleted job's runs too); stops at
 * fn's first non-zero value and returns it. For `gnomon migrate` (server/server_migrate.h). h must be a SQLite
 * backend. */
int history_sqlite_each(struct history *h, history_run_fn fn, void *ctx) __attribute__((warn_unused_result));

#endif
