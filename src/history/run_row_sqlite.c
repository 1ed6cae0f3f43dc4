#include "history/run_row_sqlite.h"

#include "util/xmalloc.h"

#define INSERT                                                                                                     \
	"INSERT INTO runs(task_id, job, due_ms, attempt, trigger, status, not_before_ms, start_ms, end_ms, exit_code," \
	" signal, pid, stdout_bytes, stderr_bytes, host, arguments, parents, reason, skipped_from_ms, skipped_to_ms," \
	" skipped_slots, agent, cpu_user_us, cpu_system_us, peak_memory_bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8," \
	" ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)"

const char run_row_upsert_sql[] = INSERT
	" ON CONFLICT(task_id) DO UPDATE SET status = excluded.status, not_before_ms = excluded.not_before_ms,"
	" start_ms = excluded.start_ms, end_ms = excluded.end_ms, exit_code = excluded.exit_code,"
	" signal = excluded.signal, pid = excluded.pid, stdout_bytes = excluded.stdout_bytes,"
	" stderr_bytes = excluded.stderr_bytes, host = excluded.host, reason = excluded.reason,"
	" skipped_from_ms = excluded.skipped_from_ms, skipped_to_ms = excluded.skipped_to_ms,"
	" skipped_slots = excluded.skipped_slots, agent = excluded.agent, cpu_user_us = excluded.cpu_user_us,"
	" cpu_system_us = excluded.cpu_system_us, peak_memory_bytes = excluded.peak_memory_bytes";
const char run_row_claim_sql[] = INSERT " ON CONFLICT(task_id) DO NOTHING";

void run_row_bind_time(sqlite3_stmt *st, int col, int64_t v)
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

/* A count that may be unknown (-1): NULL then. */
static void bind_known(sqlite3_stmt *st, int col, int64_t v)
{
	if (v < 0)
		sqlite3_bind_null(st, col);
	else
		sqlite3_bind_int64(st, col, v);
}

static int64_t column_known(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

void run_row_bind(sqlite3_stmt *st, const struct run_record *r)
{
	sqlite3_bind_text(st, 1, r->task_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->job, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, r->due_ms);
	sqlite3_bind_int(st, 4, r->attempt);
	sqlite3_bind_text(st, 5, run_trigger_name(r->trigger), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, run_status_name(r->status), -1, SQLITE_STATIC);
	run_row_bind_time(st, 7, r->not_before_ms);
	run_row_bind_time(st, 8, r->start_ms);
	run_row_bind_time(st, 9, r->end_ms);
	sqlite3_bind_int(st, 10, r->exit_code);
	sqlite3_bind_int(st, 11, r->signal);
	sqlite3_bind_int64(st, 12, r->pid);
	sqlite3_bind_int64(st, 13, r->stdout_bytes);
	sqlite3_bind_int64(st, 14, r->stderr_bytes);
	sqlite3_bind_text(st, 15, str(r->host), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 16, str(r->arguments), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 17, str(r->parents), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 18, str(r->reason), -1, SQLITE_STATIC);
	run_row_bind_time(st, 19, r->skipped_from_ms);
	run_row_bind_time(st, 20, r->skipped_to_ms);
	if (r->skipped_slots > 0)
		sqlite3_bind_int64(st, 21, r->skipped_slots);
	else
		sqlite3_bind_null(st, 21);
	sqlite3_bind_text(st, 22, str(r->agent), -1, SQLITE_STATIC);
	bind_known(st, 23, r->cpu_user_us);
	bind_known(st, 24, r->cpu_system_us);
	bind_known(st, 25, r->peak_memory_bytes);
}

int64_t run_row_column_time(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? RUN_TIME_NONE : sqlite3_column_int64(st, col);
}

static char *column_str(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	return xstrdup(t ? (const char *)t : "");
}

void run_row_read(sqlite3_stmt *st, struct run_record *r)
{
	r->id = sqlite3_column_int64(st, 0);
	r->task_id = column_str(st, 1);
	r->job = column_str(st, 2);
	r->due_ms = sqlite3_column_int64(st, 3);
	r->attempt = sqlite3_column_int(st, 4);
	if (run_trigger_parse((const char *)sqlite3_column_text(st, 5), &r->trigger) < 0)
		r->trigger = TRIGGER_SCHEDULE;
	if (run_status_parse((const char *)sqlite3_column_text(st, 6), &r->status) < 0)
		r->status = RUN_LOST;
	r->not_before_ms = run_row_column_time(st, 7);
	r->start_ms = run_row_column_time(st, 8);
	r->end_ms = run_row_column_time(st, 9);
	r->exit_code = sqlite3_column_int(st, 10);
	r->signal = sqlite3_column_int(st, 11);
	r->pid = sqlite3_column_int64(st, 12);
	r->stdout_bytes = sqlite3_column_int64(st, 13);
	r->stderr_bytes = sqlite3_column_int64(st, 14);
	r->host = column_str(st, 15);
	r->arguments = column_str(st, 16);
	r->parents = column_str(st, 17);
	r->reason = column_str(st, 18);
	r->skipped_from_ms = run_row_column_time(st, 19);
	r->skipped_to_ms = run_row_column_time(st, 20);
	r->skipped_slots = sqlite3_column_int64(st, 21);
	r->agent = column_str(st, 22);
	r->cpu_user_us = column_known(st, 23);
	r->cpu_system_us = column_known(st, 24);
	r->peak_memory_bytes = column_known(st, 25);
}
