/* The SQLite `runs` table's row codec, shared by the two SQLite backends over that one table: the store's open
 * runs (store/runs.c) and the history's ended runs (history_sqlite.c). Nothing but those two includes it.
 *
 * One table holds both because a run moves from open to ended by an UPDATE of its row, in the transaction that
 * records its outcome with its job's counters; the history's statements only ever see rows whose status is final
 * (RUN_ROW_ENDED), the store's open-run statements only the others. */
#ifndef GNOMON_HISTORY_RUN_ROW_SQLITE_H
#define GNOMON_HISTORY_RUN_ROW_SQLITE_H

#include <sqlite3.h>

#include "history/run_record.h"

#define RUN_ROW_COLUMNS                                                                                            \
	"id, task_id, job, due_ms, attempt, trigger, status, not_before_ms, start_ms, end_ms, exit_code, signal, "  \
	"pid, stdout_bytes, stderr_bytes, host, arguments, parents, reason, skipped_from_ms, skipped_to_ms, "       \
	"skipped_slots, agent, cpu_user_us, cpu_system_us, peak_memory_bytes"
/* The SQL condition of a row of an ended run. */
#define RUN_ROW_ENDED "status NOT IN ('queued', 'waiting', 'starting', 'running')"
/* A run that has not ended, and one that failed or was lost: the conditions of the partial indexes runs_open and
 * runs_failures, written with ORs (an IN list costs an ephemeral table at every insert and update; store.c),
 * which a query must repeat as they are to use the index. */
#define RUN_ROW_OPEN "(status = 'queued' OR status = 'waiting' OR status = 'starting' OR status = 'running')"
#define RUN_ROW_FAILED "(status = 'failed' OR status = 'lost')"

/* INSERT ... ON CONFLICT(task_id) DO UPDATE (the status and everything a run learns as it goes): bind with
 * run_row_bind. No RETURNING: SQLite builds an ephemeral table for one, whose pages are allocated and freed at
 * every step (half of the deterministic simulation's time went to the heap growing and shrinking). */
extern const char run_row_upsert_sql[];
/* The same, DO NOTHING on conflict (claiming a slot). */
extern const char run_row_claim_sql[];

/* Bind r to the parameters ?1.. of run_row_upsert_sql or run_row_claim_sql (r's strings must outlive the step). */
void run_row_bind(sqlite3_stmt *st, const struct run_record *r);
/* A time parameter or column: NULL stands for RUN_TIME_NONE (INT64_MIN, also "never" in a job's outcome). */
void run_row_bind_time(sqlite3_stmt *st, int col, int64_t v);
int64_t run_row_column_time(sqlite3_stmt *st, int col);
/* Fill r (initialised) from the current row of a SELECT RUN_ROW_COLUMNS. */
void run_row_read(sqlite3_stmt *st, struct run_record *r);

#endif
