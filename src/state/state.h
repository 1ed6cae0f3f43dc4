/* The live state: what the leader needs to go on scheduling after a restart or a failover. DESIGN.md's `state`
 * component:
 * - the jobs' definitions (as clients wrote them, nothing else: a definition is written only when a client
 *   changes it);
 * - per job, its progress (the cron slot last handled, the ISO schedule's anchor and the schedule as its firings
 *   moved it on) and its outcome (Chronos's counters `successCount`, `errorCount`, `errorsSinceLastSuccess`,
 *   `lastSuccess`, `lastError`, and `disabled` when the engine disabled it);
 * - the open runs (claimed slots: queued, waiting for a retry, starting, running), keyed by task id;
 * - the dependency rounds (which parents of a fan-in child have succeeded since it last ran, and with which run).
 * Ended runs are the history's (history/history.h); a backend comes with its history backend, and ending a run
 * here (state_end_run) hands it to that history in the same transaction.
 *
 * Every change is made in a transaction: state_begin, the writes, then state_commit, whose done callback gets the
 * final status once the transaction is durable or failed, exactly once, on the loop thread. A backend over the
 * network completes it later (the loop never blocks on it); SQLite completes it before state_commit returns. A
 * transaction whose commit failed left nothing behind. Commits complete in the order they were made.
 *
 * A write returns 0 when the backend took it, or a negative errno: then the transaction is doomed (its commit
 * fails; abort it). state_claim_run returns -EEXIST when the task id is taken (an open or ended run has it), which
 * leaves the transaction usable: that is how a slot claimed before a restart is skipped.
 *
 * Reads see what was committed (and, in SQLite, the transaction being made), and return at once. Backends:
 * state_sqlite.h (standalone) and state_pg.h (HA: PostgreSQL, whose reads read a copy in memory that its commits
 * change once the database committed them, store/pg_store.h); tests/contract runs the same tests against each.
 *
 * Threads: the loop thread only. */
#ifndef GNOMON_STATE_STATE_H
#define GNOMON_STATE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/run_record.h"

struct state;
struct state_txn;

/* A commit's final status: 0, or a negative errno (-ENOSPC: no room; -ESTALE: fenced by a newer leader; -EIO). */
typedef void (*state_done_fn)(void *ctx, int status);

/* A job's progress. schedule is borrowed; NULL when the definition's schedule holds (a cron or dependent job, or
 * an ISO job that has not fired since a client wrote it). */
struct state_progress {
	int64_t last_due_ms;  /* cron: the last slot handled (0: none) */
	bool has_anchor;      /* ISO with a wall-clock period: */
	int64_t anchor_ms;    /* the start its occurrences count from */
	int64_t anchor_index; /* the index of the current start from it */
	const char *schedule; /* ISO: the schedule moved on by its firings */
};

/* A job's outcome: what its runs left, shown in its Chronos JSON. */
struct state_outcome {
	int64_t success_count, error_count, errors_since_last_success;
	int64_t last_success_ms, last_error_ms; /* UTC epoch ms, INT64_MIN when never */
	bool disabled;
};

/* A stored job, borrowed for the call of a load. The progress and outcome are absent (has_* false) for a job
 * written by a release before these moved out of the definition, whose JSON still holds them. */
struct state_job {
	const char *name;
	const char *definition; /* the JSON as stored */
	size_t len;
	bool has_progress;
	struct state_progress progress;
	bool has_outcome;
	struct state_outcome outcome;
};

typedef int (*state_job_fn)(void *ctx, const struct state_job *job);
typedef int (*state_progress_fn)(void *ctx, const char *name, const struct state_progress *p);
typedef int (*state_run_fn)(void *ctx, const struct run_record *r);
typedef int (*state_round_fn)(void *ctx, const char *child, const char *parent, const char *task_id);

/* An API token (README, "Access"): its name, role ("viewer", "operator", "admin"), the SHA-256 of its secret (hex;
 * the secret itself is never stored) and when it was made (UTC epoch ms). Borrowed for the call of a load. */
struct state_token {
	const char *name;
	const char *role;
	const char *hash;
	int64_t created_ms;
};
typedef int (*state_token_fn)(void *ctx, const struct state_token *tok);

/* An audit entry (README, "Audit"): a change, who made it, from where, when, and what it changed. actor_kind is
 * "token", "basic", "session", "agent" or "anonymous"; job NULL when the change is not a job's (tokens, agents);
 * before and after are JSON text (NULL: none). id orders the entries (newest highest) and pages them; a put
 * ignores it (the backend gives one). Borrowed for the call of a read. */
struct state_audit {
	int64_t id;
	int64_t time_ms; /* UTC epoch ms */
	const char *actor, *actor_kind, *address, *action, *job, *before, *after;
};
typedef int (*state_audit_fn)(void *ctx, const struct state_audit *a);

/* Which entries a listing walks: those of job (NULL: every one), made at since_ms or later (INT64_MIN: any), with
 * an id below before_id (0: any), newest first, at most limit (> 0). */
struct state_audit_query {
	const char *job;
	int64_t since_ms;
	int64_t before_id;
	int limit;
};

/* What a backend implements; see the functions below. */
struct state_ops {
	int (*begin)(struct state *s, struct state_txn **out);
	void (*commit)(struct state_txn *t, state_done_fn done, void *ctx);
	void (*abort)(struct state_txn *t);
	int (*put_job)(struct state_txn *t, const char *name, const char *definition);
	int (*delete_job)(struct state_txn *t, const char *name);
	int (*put_progress)(struct state_txn *t, const char *name, const struct state_progress *p);
	int (*put_outcome)(struct state_txn *t, const char *name, const struct state_outcome *o);
	int (*claim_run)(struct state_txn *t, struct run_record *r);
	int (*put_run)(struct state_txn *t, struct run_record *r);
	int (*end_run)(struct state_txn *t, struct run_record *r);
	int (*round_put)(struct state_txn *t, const char *child, const char *parent, const char *task_id);
	int (*round_clear)(struct state_txn *t, const char *child, const char *parent);
	int (*raise_epoch)(struct state_txn *t, uint64_t at_least, uint64_t *out);
	int (*load_jobs)(struct state *s, state_job_fn fn, void *ctx);
	int (*load_progress)(struct state *s, state_progress_fn fn, void *ctx);
	int (*load_open_runs)(struct state *s, state_run_fn fn, void *ctx);
	int (*list_open_runs)(struct state *s, const char *job, state_run_fn fn, void *ctx);
	int (*get_open_run)(struct state *s, const char *task_id, struct run_record *out);
	int (*load_rounds)(struct state *s, state_round_fn fn, void *ctx);
	int (*put_token)(struct state_txn *t, const struct state_token *tok); /* NULL: no tokens (-EOPNOTSUPP) */
	int (*delete_token)(struct state_txn *t, const char *name);
	int (*load_tokens)(struct state *s, state_token_fn fn, void *ctx);
	int (*put_audit)(struct state_txn *t, const struct state_audit *a); /* NULL: no audit (-EOPNOTSUPP) */
	int (*prune_audit)(struct state_txn *t, int64_t older_than_ms);
	int (*list_audit)(struct state *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx);
	const char *(*errmsg)(const struct state *s);
	void (*free)(struct state *s);
};

/* A backend's state starts with this, and its transactions with a struct state_txn. */
struct state {
	const struct state_ops *ops;
};

struct state_txn {
	struct state *state;
};

/* Start a transaction into *out: 0, -EBUSY when the backend takes one at a time and one is being made, or another
 * negative errno. */
int state_begin(struct state *s, struct state_txn **out) __attribute__((warn_unused_result));
/* Commit t (which is gone afterwards); done (NULL: nobody) gets the final status, maybe before this returns. */
void state_commit(struct state_txn *t, state_done_fn done, void *ctx);
/* Drop t and everything written in it. */
void state_abort(struct state_txn *t);
/* Commit t, for callers that answer at once: the final status when the backend completed the commit before
 * returning (SQLite), else -EINPROGRESS (the outcome is then only logged). */
int state_commit_now(struct state_txn *t) __attribute__((warn_unused_result));

/* Insert or replace a job's definition (a replaced job keeps its place in the listing order). The job's
 * progress schedule is forgotten: the definition's holds again. */
int state_put_job(struct state_txn *t, const char *name, const char *definition) __attribute__((warn_unused_result));
/* Delete a job with its progress, its outcome and the rounds it is in (as child or parent). Its ended runs stay
 * in the history (retention removes them). */
int state_delete_job(struct state_txn *t, const char *name) __attribute__((warn_unused_result));
int state_put_progress(struct state_txn *t, const char *name, const struct state_progress *p)
    __attribute__((warn_unused_result));
int state_put_outcome(struct state_txn *t, const char *name, const struct state_outcome *o)
    __attribute__((warn_unused_result));

/* Claim a slot: insert the open run r only when no run (open or ended) has its task id: 0, or -EEXIST. r may
 * also be a skipped record (the slots that will not run, named by the first one's task id), which goes straight
 * to the history. */
int state_claim_run(struct state_txn *t, struct run_record *r) __attribute__((warn_unused_result));
/* Update an open run (its status, start, ...); r->status must not be final (-EINVAL). */
int state_put_run(struct state_txn *t, struct run_record *r) __attribute__((warn_unused_result));
/* A run ended (r->status final, else -EINVAL): it leaves the open runs and is recorded in the history (inserted
 * when it was never open: a skipped slot). */
int state_end_run(struct state_txn *t, struct run_record *r) __attribute__((warn_unused_result));

/* Record that parent's run task_id counts for child's current round (replacing an earlier one of parent). */
int state_round_put(struct state_txn *t, const char *child, const char *parent, const char *task_id)
    __attribute__((warn_unused_result));
/* Forget one parent's entry (the edge is gone) or, with parent NULL, the child's whole round. */
int state_round_clear(struct state_txn *t, const char *child, const char *parent) __attribute__((warn_unused_result));

/* Take the leader's epoch (DESIGN.md, "epochs and leases"): the stored epoch becomes max(stored + 1, at_least)
 * (at_least when none is stored yet), and *out says which; it holds once t commits. 1 <= at_least <= INT64_MAX
 * (else -EINVAL, and t stays usable); -EOVERFLOW once it is INT64_MAX. Every election raises it (standalone: every start of the server), so every leader's epoch is
 * higher than all before it, across restarts too. */
int state_raise_epoch(struct state_txn *t, uint64_t at_least, uint64_t *out) __attribute__((warn_unused_result));
/* The stored epoch into *out (0: none), read as the raise a transaction would make, which is then dropped: for a
 * backend whose raise answers at once (SQLite, the in-memory copy; not state_pg, whose answers come at its
 * commit). 0 or a negative errno. */
int state_stored_epoch(struct state *s, uint64_t *out) __attribute__((warn_unused_result));

/* The reads: fn is called for each item (borrowed for the call); a non-zero return stops the walk and is
 * returned. Otherwise 0 or a negative errno. */

/* Every job, in the order they were created. */
int state_load_jobs(struct state *s, state_job_fn fn, void *ctx) __attribute__((warn_unused_result));
/* Every job's progress (the jobs that have one), without their definitions: what the engine reads when it
 * starts. */
int state_load_progress(struct state *s, state_progress_fn fn, void *ctx) __attribute__((warn_unused_result));
/* Every open run, oldest first. */
int state_load_open_runs(struct state *s, state_run_fn fn, void *ctx) __attribute__((warn_unused_result));
/* The open runs of one job, newest first. */
int state_list_open_runs(struct state *s, const char *job, state_run_fn fn, void *ctx)
    __attribute__((warn_unused_result));
/* The open run with task_id into out (cleared first): 0, -ENOENT (none open: see the history) or an errno. */
int state_get_open_run(struct state *s, const char *task_id, struct run_record *out)
    __attribute__((warn_unused_result));
/* Every round entry. */
int state_load_rounds(struct state *s, state_round_fn fn, void *ctx) __attribute__((warn_unused_result));

/* Insert or replace the token named tok->name. */
int state_put_token(struct state_txn *t, const struct state_token *tok) __attribute__((warn_unused_result));
/* Delete the token called name (nothing when there is none). */
int state_delete_token(struct state_txn *t, const char *name) __attribute__((warn_unused_result));
/* Every token, by name. */
int state_load_tokens(struct state *s, state_token_fn fn, void *ctx) __attribute__((warn_unused_result));

/* Record an audit entry in t: it is durable with the change it records, or gone with it. */
int state_put_audit(struct state_txn *t, const struct state_audit *a) __attribute__((warn_unused_result));
/* Remove the audit entries made before older_than_ms (retention). */
int state_prune_audit(struct state_txn *t, int64_t older_than_ms) __attribute__((warn_unused_result));
/* The audit entries q asks for, newest first. */
int state_list_audit(struct state *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx)
    __attribute__((warn_unused_result));

/* The last failure's message, for an answer or a log line. */
const char *state_errmsg(const struct state *s);
/* Free the backend (no transaction may be open); NULL is fine. */
void state_free(struct state *s);

#endif
