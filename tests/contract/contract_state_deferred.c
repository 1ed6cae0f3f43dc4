/* contract_deferred's state (contract.h): the inner backend's, with each transaction's writes held as copies until
 * settle, which makes them again on the inner backend, one held commit after the other in the order they were
 * made, each in a transaction of its own, then calls the commit's done with what the inner commit said. Until
 * then the reads (the inner backend's) do not show them: a test that looks before done fails here. A claim is
 * answered at once, as a backend's unique key would: -EEXIST when the inner backend or a held write has the task
 * id. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "contract.h"
#include "state/state_log.h"
#include "util/container.h"
#include "util/xmalloc.h"

struct held_txn {
	struct state_txn base;
	struct state_log log;
	state_done_fn done;
	void *ctx;
	struct held_txn *next; /* the commit made after it */
};

struct held_state {
	struct state base;
	struct state *inner;
	struct history *inner_h;
	struct held_txn *making;       /* begun, neither committed nor aborted */
	struct held_txn *first, *last; /* committed, not settled yet, in the order made */
};

static struct held_state *of(struct state *s)
{
	return container_of(s, struct held_state, base);
}

static struct held_txn *txn_of(struct state_txn *t)
{
	return container_of(t, struct held_txn, base);
}

static void txn_free(struct held_txn *x)
{
	state_log_clear(&x->log);
	free(x);
}

/* Make x's writes in one transaction of the inner backend: its commit's final status. */
static int apply(struct held_state *q, struct held_txn *x)
{
	struct state_txn *t;
	int rc = state_begin(q->inner, &t);

	/* a claim's -EEXIST here: taken since it was answered, which must not be */
	for (size_t i = 0; rc == 0 && i < x->log.n; i++)
		rc = state_log_replay(t, &x->log.w[i]);
	if (rc < 0) {
		state_abort(t);
		return rc;
	}
	return state_commit_now(t);
}

bool contract_state_deferred_settle(struct state *s)
{
	struct held_state *q = of(s);
	bool any = q->first != NULL;

	/* one at a time from the front: a done may commit again, which is held after the others */
	while (q->first) {
		struct held_txn *x = q->first;
		int rc;

		q->first = x->next;
		if (q->first == NULL)
			q->last = NULL;
		rc = apply(q, x);
		if (x->done)
			x->done(x->ctx, rc);
		txn_free(x);
	}
	return any;
}

static int hs_begin(struct state *s, struct state_txn **out)
{
	struct held_state *q = of(s);
	struct held_txn *x;

	if (q->making)
		return -EBUSY; /* one at a time, as the inner backend */
	x = xcalloc(1, sizeof(*x));
	x->base.state = s;
	q->making = x;
	*out = &x->base;
	return 0;
}

static void hs_abort(struct state_txn *t)
{
	of(t->state)->making = NULL;
	txn_free(txn_of(t));
}

static void hs_commit(struct state_txn *t, state_done_fn done, void *ctx)
{
	struct held_state *q = of(t->state);
	struct held_txn *x = txn_of(t);

	q->making = NULL;
	x->done = done;
	x->ctx = ctx;
	if (q->last)
		q->last->next = x;
	else
		q->first = x;
	q->last = x;
}

static int hs_put_job(struct state_txn *t, const char *name, const char *definition)
{
	state_log_add(&txn_of(t)->log, STATE_W_PUT_JOB, name, definition, NULL);
	return 0;
}

static int hs_delete_job(struct state_txn *t, const char *name)
{
	state_log_add(&txn_of(t)->log, STATE_W_DELETE_JOB, name, NULL, NULL);
	return 0;
}

static int hs_put_progress(struct state_txn *t, const char *name, const struct state_progress *p)
{
	state_log_progress(&txn_of(t)->log, name, p);
	return 0;
}

static int hs_put_outcome(struct state_txn *t, const char *name, const struct state_outcome *o)
{
	state_log_add(&txn_of(t)->log, STATE_W_OUTCOME, name, NULL, NULL)->outcome = *o;
	return 0;
}

static int hs_claim_run(struct state_txn *t, struct run_record *r)
{
	struct held_state *q = of(t->state);
	struct run_record got;
	bool taken;

	run_record_init(&got);
	taken = state_get_open_run(q->inner, r->task_id, &got) == 0 || history_get(q->inner_h, r->task_id, &got) == 0;
	run_record_clear(&got);
	for (const struct held_txn *x = q->first; x && !taken; x = x->next)
		taken = state_log_makes_run(&x->log, r->task_id);
	if (taken || state_log_makes_run(&txn_of(t)->log, r->task_id))
		return -EEXIST;
	state_log_run(&txn_of(t)->log, STATE_W_CLAIM, r);
	return 0;
}

static int hs_put_run(struct state_txn *t, struct run_record *r)
{
	state_log_run(&txn_of(t)->log, STATE_W_PUT_RUN, r);
	return 0;
}

static int hs_end_run(struct state_txn *t, struct run_record *r)
{
	state_log_run(&txn_of(t)->log, STATE_W_END_RUN, r);
	return 0;
}

static int hs_round_put(struct state_txn *t, const char *child, const char *parent, const char *task_id)
{
	state_log_add(&txn_of(t)->log, STATE_W_ROUND_PUT, child, parent, task_id);
	return 0;
}

static int hs_round_clear(struct state_txn *t, const char *child, const char *parent)
{
	state_log_add(&txn_of(t)->log, STATE_W_ROUND_CLEAR, child, parent, NULL);
	return 0;
}

static int hs_raise_epoch(struct state_txn *t, uint64_t at_least, uint64_t *out)
{
	struct state_write *w = state_log_add(&txn_of(t)->log, STATE_W_EPOCH, NULL, NULL, NULL);
	w->at_least = at_least;
	w->epoch_out = out;
	return 0;
}

/* The reads are the inner backend's: what was settled. */
static int hs_load_jobs(struct state *s, state_job_fn fn, void *ctx)
{
	return state_load_jobs(of(s)->inner, fn, ctx);
}

static int hs_load_progress(struct state *s, state_progress_fn fn, void *ctx)
{
	return state_load_progress(of(s)->inner, fn, ctx);
}

static int hs_load_open_runs(struct state *s, state_run_fn fn, void *ctx)
{
	return state_load_open_runs(of(s)->inner, fn, ctx);
}

static int hs_list_open_runs(struct state *s, const char *job, state_run_fn fn, void *ctx)
{
	return state_list_open_runs(of(s)->inner, job, fn, ctx);
}

static int hs_get_open_run(struct state *s, const char *task_id, struct run_record *out)
{
	return state_get_open_run(of(s)->inner, task_id, out);
}

static int hs_load_rounds(struct state *s, state_round_fn fn, void *ctx)
{
	return state_load_rounds(of(s)->inner, fn, ctx);
}

static int hs_put_token(struct state_txn *t, const struct state_token *tok)
{
	state_log_token(&txn_of(t)->log, tok);
	return 0;
}

static int hs_delete_token(struct state_txn *t, const char *name)
{
	state_log_add(&txn_of(t)->log, STATE_W_DELETE_TOKEN, name, NULL, NULL);
	return 0;
}

static int hs_load_tokens(struct state *s, state_token_fn fn, void *ctx)
{
	return state_load_tokens(of(s)->inner, fn, ctx);
}

static int hs_put_audit(struct state_txn *t, const struct state_audit *a)
{
	state_log_audit(&txn_of(t)->log, a);
	return 0;
}

static int hs_prune_audit(struct state_txn *t, int64_t older_than_ms)
{
	state_log_add(&txn_of(t)->log, STATE_W_PRUNE_AUDIT, NULL, NULL, NULL)->created_ms = older_than_ms;
	return 0;
}

static int hs_list_audit(struct state *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx)
{
	return state_list_audit(of(s)->inner, q, fn, ctx);
}

static const char *hs_errmsg(const struct state *s)
{
	return state_errmsg(((const struct held_state *)s)->inner); /* base is its first member */
}

/* What is still held is dropped: the test failed before it settled. */
static void hs_free(struct state *s)
{
	struct held_state *q = of(s);

	if (q->making)
		txn_free(q->making);
	while (q->first) {
		struct held_txn *x = q->first;
		q->first = x->next;
		txn_free(x);
	}
	free(q);
}

static const struct state_ops held_ops = {
	.begin = hs_begin,
	.commit = hs_commit,
	.abort = hs_abort,
	.put_job = hs_put_job,
	.delete_job = hs_delete_job,
	.put_progress = hs_put_progress,
	.put_outcome = hs_put_outcome,
	.claim_run = hs_claim_run,
	.put_run = hs_put_run,
	.end_run = hs_end_run,
	.round_put = hs_round_put,
	.round_clear = hs_round_clear,
	.raise_epoch = hs_raise_epoch,
	.load_jobs = hs_load_jobs,
	.load_progress = hs_load_progress,
	.load_open_runs = hs_load_open_runs,
	.list_open_runs = hs_list_open_runs,
	.get_open_run = hs_get_open_run,
	.load_rounds = hs_load_rounds,
	.put_token = hs_put_token,
	.delete_token = hs_delete_token,
	.load_tokens = hs_load_tokens,
	.put_audit = hs_put_audit,
	.prune_audit = hs_prune_audit,
	.list_audit = hs_list_audit,
	.errmsg = hs_errmsg,
	.free = hs_free,
};

struct state *contract_state_deferred_new(struct state *inner, struct history *inner_h)
{
	struct held_state *q = xcalloc(1, sizeof(*q));

	q->base.ops = &held_ops;
	q->inner = inner;
	q->inner_h = inner_h;
	return &q->base;
}
