/* What the PostgreSQL backends of the state (state/state_pg.h) and the history (history/history_pg.h) share, as
 * the SQLite backends share the store: the connection on the loop (pgconn.h), the leader's epoch that fences
 * their writes, and their copy in memory of what the database holds (store/mem_backend.h), which their reads
 * read: HA gnomon's durable state, DESIGN.md's "PostgreSQL holds every durable thing".
 *
 * Why a copy: state.h's and history.h's reads return at once, and the loop never waits for the network. Only the
 * leader writes (its epoch fences every write: pg_schema.h), so its copy, loaded when it starts leading
 * (pg_store_load, asynchronous, as the engine's recovery is) and then changed by its own writes once each is
 * committed, is what the database holds. A write is sent at once (a state transaction at its commit) as one
 * atomic request; once the database committed it, it is applied to the copy, then its done is called: the reads
 * see it no later than done, as the contracts ask. Writes complete in the order they were made (one connection,
 * answers in order).
 *
 * When the connection breaks with a write in flight, that write fails (-ECONNRESET, or -ETIMEDOUT) and whether
 * the database committed it is unknown: from then on the backends refuse writes (-ENOTCONN, "load again": an API
 * answers 503) until pg_store_load read the database again. Writes not sent yet wait for the connection
 * (pgconn.h) until their deadline (pg_store_set_timeout), then fail with -ENOTCONN, unsent (the backends go on). Nothing a done
 * acknowledged is lost: it was committed first.
 *
 * Costs of the copy: the ended runs are in memory too (bounded by the retention limits, --history-max-runs), and
 * the jobs' definitions twice (the registry's and the copy's). Reading the history's pages from the database (a
 * deferred answer, api/http.h) instead of the copy is the next step. A follower's copy follows the leader's
 * changes as they are announced (pg_changes, pg_store_refresh below). Runs' output is in the database too, written and read on a connection of its own
 * (history/run_output_pg.h).
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_STORE_PG_STORE_H
#define GNOMON_STORE_PG_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include "history/history.h"
#include "state/state.h"
#include "store/pgconn.h"

struct pg_store;

/* The store over c (borrowed: close it after freeing the backends), with an empty copy, and the caller's
 * reference to it; its state and history (state_pg_new, history_pg_new) each take one, and so does each write in
 * flight: the last one dropped frees it. Migrate the schema first (pg_schema_migrate), then load. */
struct pg_store *pg_store_new(struct pgconn *c);
void pg_store_ref(struct pg_store *p);
void pg_store_unref(struct pg_store *p);
/* Read the database into a new copy (in one request, after the writes sent before it), which replaces the old
 * one when it came: done(ctx, 0) then, or a negative errno (the old copy stays). Returns 0, or pgconn_send's
 * error (done not called). After it, writes are accepted again (see above). When a write's outcome is unknown, the
 * server process that had it (pgconn_backend_pid) is terminated first, and the load waits until it is gone: the
 * write cannot commit after the load read the database. */
int pg_store_load(struct pg_store *p, state_done_fn done, void *ctx) __attribute__((warn_unused_result));
/* What a follower reads again (pg_changes): jobs by name, runs by task id, the rounds of children by the child's
 * name. */
struct pg_refresh_keys {
	const char *const *jobs, *const *runs, *const *children;
	size_t n_jobs, n_runs, n_children;
};
/* Read again, in one snapshot, the rows of the keys of k (the strings are the caller's: keep them until done) into
 * the copy: a job gone is deleted from it, a run gone taken out, a child's rounds replaced by those read. A
 * follower's way to follow the changes the leader announced without loading everything; the copy is a leader's
 * otherwise (its writes change it), so only a follower calls it. done(ctx, 0) once the copy changed, or a negative
 * errno (the copy unchanged; load it again). Returns 0, or pgconn_send's error (done not called). */
int pg_store_refresh(struct pg_store *p, const struct pg_refresh_keys *k, state_done_fn done, void *ctx)
    __attribute__((warn_unused_result));
/* Fence every write from now on with epoch (0: none; state_raise_epoch sets it to the epoch raised). */
void pg_store_set_epoch(struct pg_store *p, uint64_t epoch);
uint64_t pg_store_epoch(const struct pg_store *p);
/* How long a write (or a load) may take, from when it is made to its end, waiting for a connection included
 * (0: PGCONN_TIMEOUT_DEFAULT_MS). */
void pg_store_set_timeout(struct pg_store *p, uint64_t ms);
/* The same for a load, which reads the whole database (0: as a write). */
void pg_store_set_load_timeout(struct pg_store *p, uint64_t ms);
/* A write failed: status (-ESTALE: a newer leader's epoch fenced it; -ECONNRESET, -ETIMEDOUT: its outcome is
 * unknown, writes are refused until a load; -ENOTCONN: no connection; ...) and the failure's message. Called after
 * the write's own done, on the loop. */
typedef void (*pg_store_failure_fn)(void *ctx, int status, const char *err);
/* Tell fn(ctx, ...) of every write that fails from now on (NULL: nobody); the server watches for a deposed
 * leader and for outages with it. */
void pg_store_on_failure(struct pg_store *p, pg_store_failure_fn fn, void *ctx);
/* Whether writes are refused until a load, a write's outcome being unknown. */
bool pg_store_unsure(const struct pg_store *p);
/* For the tests: the next write fails at the server (a statement that raises SQLSTATE 53100, as a full disk
 * would), which rolls its request back. */
void pg_store_fail_next(struct pg_store *p);
/* How many writes (and loads) were sent and have not ended yet. */
int pg_store_in_flight(const struct pg_store *p);

/* --- For state_pg.c and history_pg.c alone. --- */

/* A write's end, with the results of the statements it was given (not the fence's). */
typedef void (*pg_store_done_fn)(struct pg_store *p, void *ctx, int status, PGresult *const *res, int n);

/* Send the n statements as one write, fenced with the epoch when fence (and one is set); done (p, ...) gets its
 * end, with errmsg set on a failure. Returns 0, -ENOTCONN when writes are refused (a write's outcome is
 * unknown), or pgconn_send's error; done is not called then. */
int pg_store_send(struct pg_store *p, const struct pg_stmt *st, int n, bool fence, pg_store_done_fn done,
    void *ctx) __attribute__((warn_unused_result));
/* Statements being gathered into one write, with copies of their parameters. */
struct pg_batch {
	struct pg_stmt *st;
	int n, cap;
	void **owned; /* the copies */
	size_t n_owned, cap_owned;
};

/* Add a statement (sql: a string literal, kept as it is; the parameters are copied). */
void pg_batch_add(struct pg_batch *b, const char *sql, int n_params, const char *const *params);
/* Free what b holds, and empty it. */
void pg_batch_clear(struct pg_batch *b);

/* What a write changed, announced on PG_CHANGES_CHANNEL by a statement of the write itself (NOTIFY is
 * transactional: the followers hear of it once it committed, in commit order), for the followers to read those
 * rows again (server_pg.c). The payload is lines "KIND KEY": 'j' a job's definition or state (KEY its name), 'r' a
 * run (its task id), 'd' the rounds of a child job (its name), 'e' the epoch; or "*": read everything again (more
 * than PG_CHANGES_MAX bytes of keys). */
#define PG_CHANGES_CHANNEL "gnomon_changes"
#define PG_CHANGES_MAX 7900 /* PostgreSQL's payloads stop short of 8000 bytes */
struct pg_changes {
	char buf[PG_CHANGES_MAX + 1];
	size_t len;
	bool all;
};
void pg_changes_add(struct pg_changes *ch, char kind, const char *key);
/* Add the NOTIFY of what ch holds to b (nothing when it holds nothing). */
void pg_changes_notify(struct pg_batch *b, struct pg_changes *ch);

/* The copy: its state and history (the in-memory backend's). */
struct state *pg_store_mirror_state(struct pg_store *p);
struct history *pg_store_mirror_history(struct pg_store *p);
/* The last failure's message. */
const char *pg_store_errmsg(const struct pg_store *p);

/* The runs table's INSERT (claim: DO NOTHING on a taken task id; else an upsert of what a run learns as it goes,
 * as run_row_sqlite.h's), its parameters being r's fields as text in params (PG_RUN_PARAMS of them, pointing into
 * buf or r). */
#define PG_RUN_PARAMS 25
extern const char pg_run_claim_sql[];
extern const char pg_run_upsert_sql[];
struct pg_run_buf {
	char num[PG_RUN_PARAMS][24];
};
void pg_run_params(const struct run_record *r, struct pg_run_buf *buf, const char *params[PG_RUN_PARAMS]);
/* A number as text into buf (24 bytes), or NULL for none (RUN_TIME_NONE, INT64_MIN). */
const char *pg_time_param(int64_t v, char *buf);

#endif
