#include "sim_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "sim_clock.h"
#include "sim_rng.h"
#include "state/state.h"
#include "util/container.h"
#include "util/xmalloc.h"

enum op_kind { OP_PUT_JOB, OP_DELETE_JOB, OP_PROGRESS, OP_OUTCOME, OP_CLAIM, OP_PUT_RUN, OP_END_RUN, OP_ROUND_PUT,
	OP_ROUND_CLEAR, OP_EPOCH };

/* One write held until its transaction commits. */
struct op {
	enum op_kind kind;
	char *a, *b, *c; /* names, definition, task id: as the kind says */
	struct state_progress progress; /* its schedule is c */
	struct state_outcome outcome;
	struct run_record rec;
	uint64_t at_least;  /* OP_EPOCH: the new epoch goes to *epoch_out when it is applied */
	uint64_t *epoch_out;
	struct op *next;
};

struct sim_txn {
	struct state_txn base;
	struct op *ops, **tail;
	int failure;          /* a write was refused: the commit fails with it */
	state_done_fn done;
	void *ctx;
	struct sim_txn *next; /* in flight, in commit order */
};

struct sim_state {
	struct state base;
	struct state *inner;
	struct history *history;
	struct sim_clock *clock;
	struct sim_rng *rng;
	struct sim_state_config cfg;
	struct sim_txn *head, *last; /* committed, not yet completed */
	int64_t last_at;             /* when the last one in flight completes: they complete in order */
	uint64_t delayed, failed;
};

static struct sim_state *of(struct state *s)
{
	return container_of(s, struct sim_state, base);
}

static struct sim_txn *txn_of(struct state_txn *t)
{
	return container_of(t, struct sim_txn, base);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static struct op *add(struct state_txn *t, enum op_kind kind, const char *a, const char *b, const char *c)
{
	struct sim_txn *x = txn_of(t);
	struct op *op = xcalloc(1, sizeof(*op));
	op->kind = kind;
	op->a = dup_or_null(a);
	op->b = dup_or_null(b);
	op->c = dup_or_null(c);
	run_record_init(&op->rec);
	*x->tail = op;
	x->tail = &op->next;
	return op;
}

static void txn_free(struct sim_txn *x)
{
	struct op *op = x->ops, *next;
	for (; op; op = next) {
		next = op->next;
		free(op->a);
		free(op->b);
		free(op->c);
		run_record_clear(&op->rec);
		free(op);
	}
	free(x);
}

static int ss_begin(struct state *s, struct state_txn **out)
{
	struct sim_txn *x = xcalloc(1, sizeof(*x));
	x->base.state = s;
	x->tail = &x->ops;
	*out = &x->base;
	return 0;
}

static void ss_abort(struct state_txn *t)
{
	txn_free(txn_of(t));
}

/* Apply a transaction's writes to the inner backend, in one of its transactions. */
static int apply(struct sim_state *q, struct sim_txn *x)
{
	struct state_txn *t;
	int rc = state_begin(q->inner, &t);

	for (struct op *op = x->ops; rc == 0 && op; op = op->next) {
		switch (op->kind) {
		case OP_PUT_JOB: rc = state_put_job(t, op->a, op->b); break;
		case OP_DELETE_JOB: rc = state_delete_job(t, op->a); break;
		case OP_PROGRESS:
			op->progress.schedule = op->c;
			rc = state_put_progress(t, op->a, &op->progress);
			break;
		case OP_OUTCOME: rc = state_put_outcome(t, op->a, &op->outcome); break;
		case OP_CLAIM: rc = state_claim_run(t, &op->rec); break;
		case OP_PUT_RUN: rc = state_put_run(t, &op->rec); break;
		case OP_END_RUN: rc = state_end_run(t, &op->rec); break;
		case OP_ROUND_PUT: rc = state_round_put(t, op->a, op->b, op->c); break;
		case OP_ROUND_CLEAR: rc = state_round_clear(t, op->a, op->b); break;
		case OP_EPOCH: rc = state_raise_epoch(t, op->at_least, op->epoch_out); break;
		}
		if (rc == -EEXIST)
			rc = 0; /* a claim that lost its race: not written, as in the real backend */
	}
	if (rc < 0) {
		state_abort(t);
		return rc;
	}
	return state_commit_now(t);
}

/* Complete the oldest commit in flight. */
static void complete_next(void *ctx)
{
	struct sim_state *q = ctx;
	struct sim_txn *x = q->head;
	int rc;

	if (x == NULL)
		return; /* fenced meanwhile */
	q->head = x->next;
	if (q->head == NULL)
		q->last = NULL;
	rc = x->failure ? x->failure : sim_rng_chance(q->rng, q->cfg.p_fail) ? -EIO : apply(q, x);
	if (rc < 0)
		q->failed++;
	if (x->done)
		x->done(x->ctx, rc);
	txn_free(x);
}

static void ss_commit(struct state_txn *t, state_done_fn done, void *ctx)
{
	struct sim_state *q = of(t->state);
	struct sim_txn *x = txn_of(t);
	int64_t now = sim_clock_now(q->clock), at;

	x->done = done;
	x->ctx = ctx;
	if (q->head == NULL && sim_rng_chance(q->rng, 1.0 / 3)) {
		/* at once, as SQLite does */
		q->head = q->last = x;
		complete_next(q);
		return;
	}
	at = now + sim_rng_range(q->rng, 0, q->cfg.max_delay_ms);
	if (q->head && at < q->last_at)
		at = q->last_at;
	q->last_at = at;
	if (q->last)
		q->last->next = x;
	else
		q->head = x;
	q->last = x;
	q->delayed++;
	sim_clock_post(q->clock, at - now, complete_next, q);
}

static int ss_put_job(struct state_txn *t, const char *name, const char *definition)
{
	add(t, OP_PUT_JOB, name, definition, NULL);
	return 0;
}

static int ss_delete_job(struct state_txn *t, const char *name)
{
	add(t, OP_DELETE_JOB, name, NULL, NULL);
	return 0;
}

static int ss_put_progress(struct state_txn *t, const char *name, const struct state_progress *p)
{
	struct op *op = add(t, OP_PROGRESS, name, NULL, p->schedule);
	op->progress = *p;
	return 0;
}

static int ss_put_outcome(struct state_txn *t, const char *name, const struct state_outcome *o)
{
	add(t, OP_OUTCOME, name, NULL, NULL)->outcome = *o;
	return 0;
}

static bool claimed_in(const struct sim_txn *x, const char *task_id)
{
	for (const struct op *op = x->ops; op; op = op->next)
		if (op->kind == OP_CLAIM && strcmp(op->rec.task_id, task_id) == 0)
			return true;
	return false;
}

/* Whether a run has the task id: committed (open or ended), or claimed by a write in flight or in this one. */
static bool taken(struct sim_state *q, struct sim_txn *self, const char *task_id)
{
	struct run_record r;
	bool yes;

	run_record_init(&r);
	yes = state_get_open_run(q->inner, task_id, &r) == 0 || history_get(q->history, task_id, &r) == 0;
	run_record_clear(&r);
	for (const struct sim_txn *x = q->head; x && !yes; x = x->next)
		yes = claimed_in(x, task_id);
	return yes || claimed_in(self, task_id);
}

static int ss_claim_run(struct state_txn *t, struct run_record *r)
{
	if (taken(of(t->state), txn_of(t), r->task_id))
		return -EEXIST;
	run_record_copy(&add(t, OP_CLAIM, NULL, NULL, NULL)->rec, r);
	return 0;
}

static int ss_put_run(struct state_txn *t, struct run_record *r)
{
	run_record_copy(&add(t, OP_PUT_RUN, NULL, NULL, NULL)->rec, r);
	return 0;
}

static int ss_end_run(struct state_txn *t, struct run_record *r)
{
	run_record_copy(&add(t, OP_END_RUN, NULL, NULL, NULL)->rec, r);
	return 0;
}

static int ss_round_put(struct state_txn *t, const char *child, const char *parent, const char *task_id)
{
	add(t, OP_ROUND_PUT, child, parent, task_id);
	return 0;
}

static int ss_round_clear(struct state_txn *t, const char *child, const char *parent)
{
	add(t, OP_ROUND_CLEAR, child, parent, NULL);
	return 0;
}

static int ss_raise_epoch(struct state_txn *t, uint64_t at_least, uint64_t *out)
{
	struct op *op = add(t, OP_EPOCH, NULL, NULL, NULL);
	op->at_least = at_least;
	op->epoch_out = out; /* set when the commit is applied, before its done */
	return 0;
}

/* The reads see what was committed: the inner backend's. */
static int ss_load_jobs(struct state *s, state_job_fn fn, void *ctx)
{
	return state_load_jobs(of(s)->inner, fn, ctx);
}

static int ss_load_progress(struct state *s, state_progress_fn fn, void *ctx)
{
	return state_load_progress(of(s)->inner, fn, ctx);
}

static int ss_load_open_runs(struct state *s, state_run_fn fn, void *ctx)
{
	return state_load_open_runs(of(s)->inner, fn, ctx);
}

static int ss_list_open_runs(struct state *s, const char *job, state_run_fn fn, void *ctx)
{
	return state_list_open_runs(of(s)->inner, job, fn, ctx);
}

static int ss_get_open_run(struct state *s, const char *task_id, struct run_record *out)
{
	return state_get_open_run(of(s)->inner, task_id, out);
}

static int ss_load_rounds(struct state *s, state_round_fn fn, void *ctx)
{
	return state_load_rounds(of(s)->inner, fn, ctx);
}

static const char *ss_errmsg(const struct state *s)
{
	return state_errmsg(((const struct sim_state *)s)->inner); /* base is its first member */
}

static void ss_free(struct state *s)
{
	sim_state_fence(s);
	free(of(s));
}

static const struct state_ops sim_ops = {
	.begin = ss_begin,
	.commit = ss_commit,
	.abort = ss_abort,
	.put_job = ss_put_job,
	.delete_job = ss_delete_job,
	.put_progress = ss_put_progress,
	.put_outcome = ss_put_outcome,
	.claim_run = ss_claim_run,
	.put_run = ss_put_run,
	.end_run = ss_end_run,
	.round_put = ss_round_put,
	.round_clear = ss_round_clear,
	.raise_epoch = ss_raise_epoch,
	.load_jobs = ss_load_jobs,
	.load_progress = ss_load_progress,
	.load_open_runs = ss_load_open_runs,
	.list_open_runs = ss_list_open_runs,
	.get_open_run = ss_get_open_run,
	.load_rounds = ss_load_rounds,
	.errmsg = ss_errmsg,
	.free = ss_free,
};

struct state *sim_state_new(struct state *inner, struct history *history, struct sim_clock *clock,
    struct sim_rng *rng, const struct sim_state_config *cfg)
{
	struct sim_state *q = xcalloc(1, sizeof(*q));
	q->base.ops = &sim_ops;
	q->inner = inner;
	q->history = history;
	q->clock = clock;
	q->rng = rng;
	q->cfg = *cfg;
	return &q->base;
}

void sim_state_fence(struct state *s)
{
	struct sim_state *q = of(s);
	while (q->head) {
		q->head->failure = -ESTALE;
		complete_next(q);
	}
}

bool sim_state_in_flight(const struct state *s)
{
	return ((const struct sim_state *)s)->head != NULL;
}

uint64_t sim_state_delayed(const struct state *s)
{
	return ((const struct sim_state *)s)->delayed;
}

uint64_t sim_state_failed(const struct state *s)
{
	return ((const struct sim_state *)s)->failed;
}
