/* A transaction's writes held as copies (state.h's writes, in the order they were made), to be made again later
 * on a transaction of another backend: what a backend that commits later keeps of a transaction until its commit
 * completes (the PostgreSQL backend, state_pg.h, applies it to its copy in memory then), and what the contract
 * suite's deferred state holds until it settles. */
#ifndef GNOMON_STATE_STATE_LOG_H
#define GNOMON_STATE_STATE_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/state.h"

enum state_write_kind { STATE_W_PUT_JOB, STATE_W_DELETE_JOB, STATE_W_PROGRESS, STATE_W_OUTCOME, STATE_W_CLAIM,
	STATE_W_PUT_RUN, STATE_W_END_RUN, STATE_W_ROUND_PUT, STATE_W_ROUND_CLEAR, STATE_W_EPOCH, STATE_W_PUT_TOKEN,
	STATE_W_DELETE_TOKEN, STATE_W_AUDIT, STATE_W_PRUNE_AUDIT };

/* One write: its kind and copies of its arguments. */
struct state_write {
	enum state_write_kind kind;
	char *arg[3];                   /* its strings in order (name, definition; child, parent, task id), or NULL */
	struct state_progress progress; /* STATE_W_PROGRESS; its schedule is arg[1] */
	struct state_outcome outcome;   /* STATE_W_OUTCOME */
	struct run_record run;          /* STATE_W_CLAIM, STATE_W_PUT_RUN, STATE_W_END_RUN */
	uint64_t at_least;              /* STATE_W_EPOCH, whose epoch goes to *epoch_out when it is made */
	uint64_t *epoch_out;
	int64_t created_ms;             /* STATE_W_PUT_TOKEN: name, role, hash in arg; STATE_W_PRUNE_AUDIT: the cut */
	struct state_audit *audit;      /* STATE_W_AUDIT: a copy (state_audit_dup) */
};

struct state_log {
	struct state_write *w;
	size_t n, cap;
};

/* An empty log (a zeroed one is empty too); clear frees what it holds and empties it. */
void state_log_init(struct state_log *l);
void state_log_clear(struct state_log *l);

/* Hold a new write of kind with copies of a, b and c (each may be NULL), at the end of l: the caller fills the
 * rest (progress, outcome, run, epoch). Returned for that; valid until the next write. */
struct state_write *state_log_add(struct state_log *l, enum state_write_kind kind, const char *a, const char *b,
    const char *c);
/* The same for progress p of name, and for a run write (claim, put, end) of a copy of r. */
void state_log_progress(struct state_log *l, const char *name, const struct state_progress *p);
void state_log_run(struct state_log *l, enum state_write_kind kind, const struct run_record *r);

/* The same for a token. */
void state_log_token(struct state_log *l, const struct state_token *tok);

/* The same for an audit entry. */
void state_log_audit(struct state_log *l, const struct state_audit *a);
/* A deep copy of a (freed with state_audit_free, which takes NULL). */
struct state_audit *state_audit_dup(const struct state_audit *a);
void state_audit_free(struct state_audit *a);

/* Whether a write of l makes a run with task_id (a claim, or the end of a run that was never open). */
bool state_log_makes_run(const struct state_log *l, const char *task_id);

/* Make w again in t: the write's return (state.h). */
int state_log_replay(struct state_txn *t, struct state_write *w) __attribute__((warn_unused_result));

#endif
