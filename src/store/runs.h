/* The open runs in the store: claimed slots (queued, waiting for a retry, starting, running), keyed by their
 * Chronos task id, which a restarted server resumes from. A run that ends moves to the history
 * (history/history.h) in the transaction that records its outcome; the record type is the history's
 * (history/run_record.h), and both SQLite backends share one table (history/run_row_sqlite.h says why). */
#ifndef GNOMON_STORE_RUNS_H
#define GNOMON_STORE_RUNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/run_record.h"

struct store;

/* Insert or update the run with r->task_id; fills r->id on insert. */
int store_put_run(struct store *s, struct run_record *r) __attribute__((warn_unused_result));
/* Insert only when no run has that task id (claiming a slot); returns 0, or -EEXIST when it is taken. */
int store_claim_run(struct store *s, struct run_record *r) __attribute__((warn_unused_result));
/* Load one run by task id into r (cleared first), open or ended (a claim's check); returns 0, -ENOENT or -EIO. */
int store_get_run(struct store *s, const char *task_id, struct run_record *r) __attribute__((warn_unused_result));
/* Call fn for every run that has not ended, oldest first. fn's record is borrowed for the call. */
int store_load_open_runs(struct store *s, int (*fn)(void *ctx, const struct run_record *r), void *ctx)
    __attribute__((warn_unused_result));
/* Call fn for the open runs of one job, newest first; stops at fn's first non-zero value. */
int store_list_open_runs(struct store *s, const char *job, int (*fn)(void *ctx, const struct run_record *r),
    void *ctx) __attribute__((warn_unused_result));

#endif
