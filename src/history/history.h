/* The history: runs that have ended (succeeded, failed, killed, lost, skipped), with their outcome, durations and
 * output, paged newest first, kept within the retention limits. DESIGN.md's `history` component; the open runs
 * (queued, waiting, starting, running) are the state's (state/state.h), never the history's: a run that ends
 * enters the history through state_end_run(), in the transaction that records its outcome.
 *
 * Runs are named by their task id here and everywhere outside a backend. A page of a job's runs is asked for
 * with an opaque cursor that the backend made (HISTORY_CURSOR_MAX bytes at most): a client passes it back as it
 * got it; it stays valid when the run it came after is pruned.
 *
 * Backends: history_sqlite.h (standalone; the store's database), history_pg.h (HA: PostgreSQL). A backend that
 * talks over the network completes writes later: every write takes a done callback, which a backend calls with
 * the write's final status once it is durable (SQLite: before the call returns), on the loop thread. Reads return
 * at once (the SQLite backend reads its file; the PostgreSQL one a copy in memory, store/pg_store.h; a network
 * backend may later be read from a deferred HTTP answer, api/http.h). The run's output has its own interface, run_output.h, whose files are named by
 * run_name.h.
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_HISTORY_HISTORY_H
#define GNOMON_HISTORY_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "history/run_record.h"

#define HISTORY_CURSOR_MAX 32

struct history;

/* A run, borrowed for the call; a non-zero return stops the walk (and is returned by it). */
typedef int (*history_run_fn)(void *ctx, const struct run_record *r);
/* A run removed from the history (pruned, or its job deleted): what it left (output, a kept working directory)
 * goes too. Called after the removal is durable. */
typedef void (*history_removed_fn)(void *ctx, const char *task_id, const char *job);
/* A write's final status: >= 0 (for a removal, how many runs went), or a negative errno. */
typedef void (*history_done_fn)(void *ctx, int status);

enum history_recent { HISTORY_RECENT_FAILURES, HISTORY_RECENT_SKIPS };

/* What retention keeps of a job: its newest keep runs (0: no count limit; its open runs count among them, and
 * stay), and no ended run that ended before older_than_ms (RUN_TIME_NONE: no age limit). jobs NULL: every job's
 * runs, else those of the n_jobs jobs named. */
struct history_retention {
	const char *const *jobs;
	size_t n_jobs;
	int keep;
	int64_t older_than_ms;
};

/* What a backend implements; see the functions below. */
struct history_ops {
	int (*record)(struct history *h, const struct run_record *r, history_done_fn done, void *ctx);
	int (*get)(struct history *h, const char *task_id, struct run_record *out);
	int (*list)(struct history *h, const char *job, const char *cursor, int limit, history_run_fn fn, void *ctx,
	    char next[HISTORY_CURSOR_MAX]);
	int (*recent)(struct history *h, enum history_recent kind, int limit, history_run_fn fn, void *ctx);
	int (*window)(struct history *h, int64_t from_ms, int64_t to_ms, int limit, history_run_fn fn, void *ctx);
	int (*durations)(struct history *h, const char *job, int max,
	    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx);
	int (*prune)(struct history *h, const struct history_retention *keep, history_removed_fn removed,
	    history_done_fn done, void *ctx);
	int (*delete_job)(struct history *h, const char *job, history_removed_fn removed, history_done_fn done,
	    void *ctx);
	const char *(*errmsg)(const struct history *h);
	void (*free)(struct history *h);
};

/* A backend's state starts with this. */
struct history {
	const struct history_ops *ops;
};

/* Record a run that ended (r->status final; -EINVAL otherwise), or replace its record (by task id). Returns 0 when
 * the backend took it, and done (may be NULL) then gets the final status; or a negative errno (-ENOSPC: no room),
 * and done is not called. SQLite: written at once, inside the store's transaction when one is open (it commits or
 * rolls back with it). */
int history_record(struct history *h, const struct run_record *r, history_done_fn done, void *ctx)
    __attribute__((warn_unused_result));
/* The ended run with task_id into out (cleared first): 0, -ENOENT (none, or not ended: the store has it) or
 * another negative errno. */
int history_get(struct history *h, const char *task_id, struct run_record *out) __attribute__((warn_unused_result));
/* Call fn for at most limit ended runs of job, newest first, from the start (cursor NULL or "") or after the run a
 * cursor was made for. next gets the cursor of the page that follows ("" when this page reached the oldest run).
 * Also accepted until the next release: a run's numeric `id` as the cursor, meaning the runs before it (the
 * API's old `before=`). 0, -EINVAL for a cursor this backend did not make, or another negative errno. */
int history_list(struct history *h, const char *job, const char *cursor, int limit, history_run_fn fn, void *ctx,
    char next[HISTORY_CURSOR_MAX]) __attribute__((warn_unused_result));
/* Call fn for the newest failed or lost (or skipped) runs of any job, newest first, at most limit. */
int history_recent(struct history *h, enum history_recent kind, int limit, history_run_fn fn, void *ctx)
    __attribute__((warn_unused_result));
/* Call fn for the ended runs of every job that overlap [from_ms, to_ms]: ended at or after from_ms (a run without
 * an end is in no window), begun (started, or due when it never started) at or before to_ms; the latest ended
 * first (of one end, the newest run first), at most limit (fn's non-zero return stops the walk, and is returned).
 * The cost is that of the runs that ended since from_ms, not of the jobs (SQLite reads its index runs_by_end; the
 * copy in memory that PostgreSQL's backend reads walks its ended runs). 0 or a negative errno. */
int history_window(struct history *h, int64_t from_ms, int64_t to_ms, int limit, history_run_fn fn, void *ctx)
    __attribute__((warn_unused_result));
/* Durations (end - due, in ms: Chronos's run-time histogram) of the newest succeeded runs of job, newest first,
 * at most max; job NULL: every job's, one call of fn per job. 0 or a negative errno. */
int history_durations(struct history *h, const char *job, int max,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx) __attribute__((warn_unused_result));
/* Apply retention: remove the ended runs beyond keep, in one transaction of its own (never inside the store's:
 * SQLite answers -EBUSY there), then call removed for each (in no particular order), then done with how many
 * went. Returns 0 when the
 * backend took it, or a negative errno (done is not called then). */
int history_prune(struct history *h, const struct history_retention *keep, history_removed_fn removed,
    history_done_fn done, void *ctx) __attribute__((warn_unused_result));
/* Remove every ended run of job (it was deleted), as history_prune does. */
int history_delete_job(struct history *h, const char *job, history_removed_fn removed, history_done_fn done,
    void *ctx) __attribute__((warn_unused_result));
/* The last failure's message, for an answer or a log line. */
const char *history_errmsg(const struct history *h);
/* Free the backend; NULL is fine. */
void history_free(struct history *h);

#endif
