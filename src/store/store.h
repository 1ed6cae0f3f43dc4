/* The SQLite database in the data directory (WAL mode), under the state's and the history's SQLite backends
 * (state/state_sqlite.h, history/history_sqlite.h), which alone use it besides the server that opens it.
 * Every call runs on the loop thread; a call that returns 0 has committed (or is inside a transaction the
 * caller commits), so a change acknowledged afterwards survives a kill -9 of the server. */
#ifndef GNOMON_STORE_STORE_H
#define GNOMON_STORE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/state.h"

struct store;

/* Open (creating if needed) DIR/gnomon.db and take an exclusive lock on the directory, so two servers never
 * share one data dir. Returns 0 or a negative errno with a message. */
int store_open(const char *dir, struct store **out, char *err, size_t errlen) __attribute__((warn_unused_result));
void store_close(struct store *s);

/* Group several changes into one atomic transaction. */
int store_begin(struct store *s) __attribute__((warn_unused_result));
int store_commit(struct store *s) __attribute__((warn_unused_result));
void store_rollback(struct store *s);

/* Insert or replace a job's JSON; a replaced job keeps its place in the listing order, and its progress schedule
 * is forgotten (the definition's holds again). */
int store_put_job(struct store *s, const char *name, const char *json) __attribute__((warn_unused_result));
/* Delete a job, its progress and outcome, and the dependency rounds it is in (as child or parent). */
int store_delete_job(struct store *s, const char *name) __attribute__((warn_unused_result));
/* Call fn for each stored job in creation order, with its progress and outcome; stops and returns fn's value
 * when it is non-zero. */
int store_load_jobs(struct store *s, int (*fn)(void *ctx, const struct state_job *job), void *ctx)
    __attribute__((warn_unused_result));

/* A job's progress and outcome (state/state.h), each written on its own. */
int store_put_progress(struct store *s, const char *name, const struct state_progress *p)
    __attribute__((warn_unused_result));
int store_put_outcome(struct store *s, const char *name, const struct state_outcome *o)
    __attribute__((warn_unused_result));
/* Every job's progress (the jobs that have one). */
int store_load_progress(struct store *s, int (*fn)(void *ctx, const char *name, const struct state_progress *p),
    void *ctx) __attribute__((warn_unused_result));

/* Raise the leader's epoch to max(stored + 1, at_least) (at_least when none is stored; 1 <= at_least <= INT64_MAX,
 * else -EINVAL; -EOVERFLOW when it is INT64_MAX already), in the transaction being made; *out: the new epoch. */
int store_raise_epoch(struct store *s, uint64_t at_least, uint64_t *out) __attribute__((warn_unused_result));

/* API tokens (state.h's state_put_token, state_delete_token, state_load_tokens; store_tokens.c). */
int store_put_token(struct store *s, const struct state_token *tok) __attribute__((warn_unused_result));
int store_delete_token(struct store *s, const char *name) __attribute__((warn_unused_result));
int store_load_tokens(struct store *s, state_token_fn fn, void *ctx) __attribute__((warn_unused_result));

/* The audit trail (state.h's state_put_audit, state_prune_audit, state_list_audit; store_audit.c). */
int store_put_audit(struct store *s, const struct state_audit *a) __attribute__((warn_unused_result));
int store_prune_audit(struct store *s, int64_t older_than_ms) __attribute__((warn_unused_result));
int store_list_audit(struct store *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx)
    __attribute__((warn_unused_result));

/* The store's SQLite connection, for the history's SQLite backend (history/history_sqlite.h), which shares it:
 * what the history writes inside a store transaction commits or rolls back with it. */
struct sqlite3 *store_connection(struct store *s);

/* The last error of a call that failed (SQLite's message, with the system's for an I/O error), for messages. A
 * write that fails because the disk is full returns -ENOSPC ("database or disk is full"); other failures -EIO. */
const char *store_errmsg(const struct store *s);

#endif
