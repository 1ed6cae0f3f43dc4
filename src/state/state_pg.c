/* The state's PostgreSQL backend (state_pg.h): transactions held as a state_log, sent as one fenced request at
 * their commit, applied to the copy in memory once committed. */
#include "state/state_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/state_log.h"
#include "store/mem_state.h"
#include "store/mem_store.h"
#include "store/pg_store.h"
#include "util/container.h"
#include "util/log.h"
#include "util/xmalloc.h"

struct pg_txn {
	struct state_txn base;
	struct state_log log;
};

/* A commit in flight. */
struct commit {
	struct state_pg *q; /* NULL: the state was freed, nobody is told */
	struct pg_txn *x;
	state_done_fn done;
	void *ctx;
	int *epoch_at; /* per raise of the epoch in x, in order: the index of its statement's result */
	int n_epochs;
	struct commit *next;
};

struct state_pg {
	struct state base;
	struct pg_store *p;
	struct pg_txn *making;         /* begun, neither committed nor aborted */
	struct commit *first, *last;   /* in flight, in the order made */
};

static const char sql_put_job[] = "INSERT INTO jobs (name, json) VALUES ($1, $2) ON CONFLICT (name) DO UPDATE "
				  "SET json = excluded.json";
static const char sql_forget_schedule[] = "UPDATE job_state SET schedule = NULL WHERE name = $1";
static const char sql_delete_job[] = "DELETE FROM jobs WHERE name = $1";
static const char sql_delete_state[] = "DELETE FROM job_state WHERE name = $1";
static const char sql_delete_rounds[] = "DELETE FROM rounds WHERE child = $1 OR parent = $1";
static const char sql_put_progress[] = "INSERT INTO job_state (name, last_due_ms, anchor_ms, anchor_index, schedule) "
				       "VALUES ($1, $2, $3, $4, $5) ON CONFLICT (name) DO UPDATE SET "
				       "last_due_ms = excluded.last_due_ms, anchor_ms = excluded.anchor_ms, "
				       "anchor_index = excluded.anchor_index, schedule = excluded.schedule";
static const char sql_put_outcome[] = "INSERT INTO job_state (name, last_due_ms, success_count, error_count, "
				      "errors_since_last_success, last_success_ms, last_error_ms, disabled) "
				      "VALUES ($1, 0, $2, $3, $4, $5, $6, $7) ON CONFLICT (name) DO UPDATE SET "
				      "success_count = excluded.success_count, error_count = excluded.error_count, "
				      "errors_since_last_success = excluded.errors_since_last_success, "
				      "last_success_ms = excluded.last_success_ms, last_error_ms = excluded.last_error_ms, "
				      "disabled = excluded.disabled";
static const char sql_round_put[] = "INSERT INTO rounds (child, parent, task_id) VALUES ($1, $2, $3) "
				    "ON CONFLICT (child, parent) DO UPDATE SET task_id = excluded.task_id";
static const char sql_round_clear_one[] = "DELETE FROM rounds WHERE child = $1 AND parent = $2";
static const char sql_round_clear_all[] = "DELETE FROM rounds WHERE child = $1";
/* the raise (state.h): max(stored + 1, at_least); past INT64_MAX the addition fails, and the commit with it */
static const char sql_raise_epoch[] = "INSERT INTO leader (id, epoch) VALUES (1, $1) ON CONFLICT (id) DO UPDATE "
				      "SET epoch = greatest(leader.epoch + 1, excluded.epoch) RETURNING epoch";

static const char sql_put_token[] = "INSERT INTO tokens (name, role, hash, created_ms) VALUES ($1, $2, $3, $4) "
				    "ON CONFLICT (name) DO UPDATE SET role = excluded.role, hash = excluded.hash, "
				    "created_ms = excluded.created_ms";
static const char sql_delete_token[] = "DELETE FROM tokens WHERE name = $1";
static const char sql_put_audit[] = "INSERT INTO audit (time_ms, actor, actor_kind, address, action, job, before, "
				    "after) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
static const char sql_prune_audit[] = "DELETE FROM audit WHERE time_ms < $1";

static struct state_pg *of(struct state *s)
{
	return container_of(s, struct state_pg, base);
}

static struct pg_txn *txn_of(struct state_txn *t)
{
	return container_of(t, struct pg_txn, base);
}

static struct state_log *log_of(struct state_txn *t)
{
	return &txn_of(t)->log;
}

static void txn_free(struct pg_txn *x)
{
	state_log_clear(&x->log);
	free(x);
}

static void commit_free(struct commit *c)
{
	txn_free(c->x);
	free(c->epoch_at);
	free(c);
}

static int pg_begin(struct state *s, struct state_txn **out)
{
	struct state_pg *q = of(s);

	if (q->making)
		return -EBUSY;
	q->making = xcalloc(1, sizeof(*q->making));
	q->making->base.state = s;
	*out = &q->making->base;
	return 0;
}

static void pg_abort(struct state_txn *t)
{
	of(t->state)->making = NULL;
	txn_free(txn_of(t));
}

/* The statements of write w into b. */
static void add_write(struct pg_batch *b, const struct state_write *w)
{
	char num[7][24];
	const char *a[7];
	struct pg_run_buf rb;
	const char *run[PG_RUN_PARAMS];

	switch (w->kind) {
	case STATE_W_PUT_JOB:
		pg_batch_add(b, sql_put_job, 2, (const char *const[]){w->arg[0], w->arg[1]});
		pg_batch_add(b, sql_forget_schedule, 1, (const char *const[]){w->arg[0]});
		break;
	case STATE_W_DELETE_JOB:
		pg_batch_add(b, sql_delete_job, 1, (const char *const[]){w->arg[0]});
		pg_batch_add(b, sql_delete_state, 1, (const char *const[]){w->arg[0]});
		pg_batch_add(b, sql_delete_rounds, 1, (const char *const[]){w->arg[0]});
		break;
	case STATE_W_PROGRESS:
		a[0] = w->arg[0];
		snprintf(num[1], sizeof(num[1]), "%" PRId64, w->progress.last_due_ms);
		a[1] = num[1];
		snprintf(num[2], sizeof(num[2]), "%" PRId64, w->progress.anchor_ms);
		snprintf(num[3], sizeof(num[3]), "%" PRId64, w->progress.anchor_index);
		a[2] = w->progress.has_anchor ? num[2] : NULL;
		a[3] = w->progress.has_anchor ? num[3] : NULL;
		a[4] = w->arg[1];
		pg_batch_add(b, sql_put_progress, 5, a);
		break;
	case STATE_W_OUTCOME:
		a[0] = w->arg[0];
		snprintf(num[1], sizeof(num[1]), "%" PRId64, w->outcome.success_count);
		snprintf(num[2], sizeof(num[2]), "%" PRId64, w->outcome.error_count);
		snprintf(num[3], sizeof(num[3]), "%" PRId64, w->outcome.errors_since_last_success);
		a[1] = num[1];
		a[2] = num[2];
		a[3] = num[3];
		a[4] = pg_time_param(w->outcome.last_success_ms, num[4]);
		a[5] = pg_time_param(w->outcome.last_error_ms, num[5]);
		a[6] = w->outcome.disabled ? "true" : "false";
		pg_batch_add(b, sql_put_outcome, 7, a);
		break;
	case STATE_W_CLAIM:
	case STATE_W_PUT_RUN:
	case STATE_W_END_RUN:
		pg_run_params(&w->run, &rb, run);
		pg_batch_add(b, w->kind == STATE_W_CLAIM ? pg_run_claim_sql : pg_run_upsert_sql, PG_RUN_PARAMS, run);
		break;
	case STATE_W_ROUND_PUT:
		pg_batch_add(b, sql_round_put, 3, (const char *const[]){w->arg[0], w->arg[1], w->arg[2]});
		break;
	case STATE_W_ROUND_CLEAR:
		if (w->arg[1])
			pg_batch_add(b, sql_round_clear_one, 2, (const char *const[]){w->arg[0], w->arg[1]});
		else
			pg_batch_add(b, sql_round_clear_all, 1, (const char *const[]){w->arg[0]});
		break;
	case STATE_W_EPOCH:
		snprintf(num[0], sizeof(num[0]), "%" PRIu64, w->at_least);
		pg_batch_add(b, sql_raise_epoch, 1, (const char *const[]){num[0]});
		break;
	case STATE_W_PUT_TOKEN:
		snprintf(num[0], sizeof(num[0]), "%" PRId64, w->created_ms);
		pg_batch_add(b, sql_put_token, 4, (const char *const[]){w->arg[0], w->arg[1], w->arg[2], num[0]});
		break;
	case STATE_W_DELETE_TOKEN:
		pg_batch_add(b, sql_delete_token, 1, (const char *const[]){w->arg[0]});
		break;
	case STATE_W_AUDIT:
		snprintf(num[0], sizeof(num[0]), "%" PRId64, w->audit->time_ms);
		pg_batch_add(b, sql_put_audit, 8, (const char *const[]){num[0], w->audit->actor, w->audit->actor_kind,
		    w->audit->address, w->audit->action, w->audit->job, w->audit->before, w->audit->after});
		break;
	case STATE_W_PRUNE_AUDIT:
		snprintf(num[0], sizeof(num[0]), "%" PRId64, w->created_ms);
		pg_batch_add(b, sql_prune_audit, 1, (const char *const[]){num[0]});
		break;
	}
}

/* Apply a committed transaction to the copy, and take the epochs its raises returned. */
static void apply(struct state_pg *q, struct commit *c, PGresult *const *res)
{
	struct state *ms = pg_store_mirror_state(q->p);
	struct state_log *l = &c->x->log;
	struct state_txn *t;
	int rc = state_begin(ms, &t), e = 0;

	for (size_t i = 0; rc == 0 && i < l->n; i++)
		if ((rc = state_log_replay(t, &l->w[i])) == -EEXIST)
			rc = 0; /* a claim the database found taken too: it inserted nothing either */
	if (rc == 0)
		rc = state_commit_now(t);
	else
		state_abort(t);
	if (rc < 0)
		log_warnx("state: the copy in memory refused a committed transaction (%s)", strerror(-rc));
	for (size_t i = 0; i < l->n; i++) {
		struct state_write *w = &l->w[i];
		uint64_t epoch;
		if (w->kind != STATE_W_EPOCH)
			continue;
		epoch = strtoull(PQgetvalue(res[c->epoch_at[e++]], 0, 0), NULL, 10);
		*w->epoch_out = epoch;
		mem_state_store(ms)->epoch = epoch;
		pg_store_set_epoch(q->p, epoch);
	}
}

static void on_committed(struct pg_store *p, void *ctx, int status, PGresult *const *res, int n)
{
	struct commit *c = ctx;
	struct state_pg *q = c->q;

	(void)p;
	(void)n;
	if (q == NULL) {
		commit_free(c);
		return;
	}
	/* answers come in order: c is the first in flight */
	q->first = c->next;
	if (q->first == NULL)
		q->last = NULL;
	if (status == 0)
		apply(q, c, res);
	if (c->done)
		c->done(c->ctx, status);
	commit_free(c);
}

/* Note what w changes in ch. */
static void note_change(struct pg_changes *ch, const struct state_write *w)
{
	switch (w->kind) {
	case STATE_W_PUT_JOB:
	case STATE_W_DELETE_JOB:
	case STATE_W_PROGRESS:
	case STATE_W_OUTCOME:
		pg_changes_add(ch, 'j', w->arg[0]);
		break;
	case STATE_W_CLAIM:
	case STATE_W_PUT_RUN:
	case STATE_W_END_RUN:
		pg_changes_add(ch, 'r', w->run.task_id);
		break;
	case STATE_W_ROUND_PUT:
	case STATE_W_ROUND_CLEAR:
		pg_changes_add(ch, 'd', w->arg[0]);
		break;
	case STATE_W_EPOCH:
		pg_changes_add(ch, 'e', "");
		break;
	case STATE_W_PUT_TOKEN:
	case STATE_W_DELETE_TOKEN:
		pg_changes_add(ch, 't', w->arg[0]); /* a kind the followers do not refresh by key: they load everything */
		break;
	case STATE_W_AUDIT:
	case STATE_W_PRUNE_AUDIT:
		break; /* the audit is read from the leader (its copy): the followers' copies need not follow it */
	}
}

static void pg_commit(struct state_txn *t, state_done_fn done, void *ctx)
{
	struct state_pg *q = of(t->state);
	struct commit *c = xcalloc(1, sizeof(*c));
	struct pg_batch b = {0};
	struct pg_changes *ch = xcalloc(1, sizeof(*ch));
	bool raises = false;
	int rc;

	q->making = NULL;
	*c = (struct commit){.q = q, .x = txn_of(t), .done = done, .ctx = ctx};
	c->epoch_at = xcalloc(c->x->log.n + 1, sizeof(*c->epoch_at));
	for (size_t i = 0; i < c->x->log.n; i++) {
		if (c->x->log.w[i].kind == STATE_W_EPOCH) {
			raises = true;
			c->epoch_at[c->n_epochs++] = b.n;
		}
		add_write(&b, &c->x->log.w[i]);
		note_change(ch, &c->x->log.w[i]);
	}
	pg_changes_notify(&b, ch);
	free(ch);
	if (b.n == 0) /* nothing to write: the request still orders the commit after those before it */
		pg_batch_add(&b, "SELECT 1", 0, NULL);
	rc = pg_store_send(q->p, b.st, b.n, !raises, on_committed, c);
	pg_batch_clear(&b);
	if (rc < 0) {
		commit_free(c);
		if (done)
			done(ctx, rc);
		return;
	}
	if (q->last)
		q->last->next = c;
	else
		q->first = c;
	q->last = c;
}

static int pg_put_job(struct state_txn *t, const char *name, const char *definition)
{
	state_log_add(log_of(t), STATE_W_PUT_JOB, name, definition, NULL);
	return 0;
}

static int pg_delete_job(struct state_txn *t, const char *name)
{
	state_log_add(log_of(t), STATE_W_DELETE_JOB, name, NULL, NULL);
	return 0;
}

static int pg_put_progress(struct state_txn *t, const char *name, const struct state_progress *p)
{
	state_log_progress(log_of(t), name, p);
	return 0;
}

static int pg_put_outcome(struct state_txn *t, const char *name, const struct state_outcome *o)
{
	state_log_add(log_of(t), STATE_W_OUTCOME, name, NULL, NULL)->outcome = *o;
	return 0;
}

static int pg_claim_run(struct state_txn *t, struct run_record *r)
{
	struct state_pg *q = of(t->state);
	bool taken = mem_store_run(mem_state_store(pg_store_mirror_state(q->p)), r->task_id) != NULL;

	for (const struct commit *c = q->first; c && !taken; c = c->next)
		taken = state_log_makes_run(&c->x->log, r->task_id);
	if (taken || state_log_makes_run(log_of(t), r->task_id))
		return -EEXIST;
	state_log_run(log_of(t), STATE_W_CLAIM, r);
	return 0;
}

static int pg_put_run(struct state_txn *t, struct run_record *r)
{
	state_log_run(log_of(t), STATE_W_PUT_RUN, r);
	return 0;
}

static int pg_end_run(struct state_txn *t, struct run_record *r)
{
	state_log_run(log_of(t), STATE_W_END_RUN, r);
	return 0;
}

static int pg_round_put(struct state_txn *t, const char *child, const char *parent, const char *task_id)
{
	state_log_add(log_of(t), STATE_W_ROUND_PUT, child, parent, task_id);
	return 0;
}

static int pg_round_clear(struct state_txn *t, const char *child, const char *parent)
{
	state_log_add(log_of(t), STATE_W_ROUND_CLEAR, child, parent, NULL);
	return 0;
}

/* The epoch is set when the commit completes: the database's (another server may have raised it). */
static int pg_raise_epoch(struct state_txn *t, uint64_t at_least, uint64_t *out)
{
	struct state_write *w = state_log_add(log_of(t), STATE_W_EPOCH, NULL, NULL, NULL);

	w->at_least = at_least;
	w->epoch_out = out;
	return 0;
}

/* The reads are the copy's. */
static int pg_load_jobs(struct state *s, state_job_fn fn, void *ctx)
{
	return state_load_jobs(pg_store_mirror_state(of(s)->p), fn, ctx);
}

static int pg_load_progress(struct state *s, state_progress_fn fn, void *ctx)
{
	return state_load_progress(pg_store_mirror_state(of(s)->p), fn, ctx);
}

static int pg_load_open_runs(struct state *s, state_run_fn fn, void *ctx)
{
	return state_load_open_runs(pg_store_mirror_state(of(s)->p), fn, ctx);
}

static int pg_list_open_runs(struct state *s, const char *job, state_run_fn fn, void *ctx)
{
	return state_list_open_runs(pg_store_mirror_state(of(s)->p), job, fn, ctx);
}

static int pg_get_open_run(struct state *s, const char *task_id, struct run_record *out)
{
	return state_get_open_run(pg_store_mirror_state(of(s)->p), task_id, out);
}

static int pg_load_rounds(struct state *s, state_round_fn fn, void *ctx)
{
	return state_load_rounds(pg_store_mirror_state(of(s)->p), fn, ctx);
}

static int pg_put_token(struct state_txn *t, const struct state_token *tok)
{
	state_log_token(log_of(t), tok);
	return 0;
}

static int pg_delete_token(struct state_txn *t, const char *name)
{
	state_log_add(log_of(t), STATE_W_DELETE_TOKEN, name, NULL, NULL);
	return 0;
}

static int pg_load_tokens(struct state *s, state_token_fn fn, void *ctx)
{
	return state_load_tokens(pg_store_mirror_state(of(s)->p), fn, ctx);
}

static int pg_put_audit(struct state_txn *t, const struct state_audit *a)
{
	state_log_audit(log_of(t), a);
	return 0;
}

static int pg_prune_audit(struct state_txn *t, int64_t older_than_ms)
{
	state_log_add(log_of(t), STATE_W_PRUNE_AUDIT, NULL, NULL, NULL)->created_ms = older_than_ms;
	return 0;
}

static int pg_list_audit(struct state *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx)
{
	return state_list_audit(pg_store_mirror_state(of(s)->p), q, fn, ctx);
}

static const char *pg_errmsg(const struct state *s)
{
	const struct state_pg *q = (const struct state_pg *)s; /* base is its first member */
	return pg_store_errmsg(q->p);
}

static void pg_free(struct state *s)
{
	struct state_pg *q = of(s);

	for (struct commit *c = q->first; c; c = c->next)
		c->q = NULL;
	if (q->making)
		txn_free(q->making);
	pg_store_unref(q->p);
	free(q);
}

static const struct state_ops pg_ops = {
	.begin = pg_begin,
	.commit = pg_commit,
	.abort = pg_abort,
	.put_job = pg_put_job,
	.delete_job = pg_delete_job,
	.put_progress = pg_put_progress,
	.put_outcome = pg_put_outcome,
	.claim_run = pg_claim_run,
	.put_run = pg_put_run,
	.end_run = pg_end_run,
	.round_put = pg_round_put,
	.round_clear = pg_round_clear,
	.raise_epoch = pg_raise_epoch,
	.load_jobs = pg_load_jobs,
	.load_progress = pg_load_progress,
	.load_open_runs = pg_load_open_runs,
	.list_open_runs = pg_list_open_runs,
	.get_open_run = pg_get_open_run,
	.load_rounds = pg_load_rounds,
	.put_token = pg_put_token,
	.delete_token = pg_delete_token,
	.load_tokens = pg_load_tokens,
	.put_audit = pg_put_audit,
	.prune_audit = pg_prune_audit,
	.list_audit = pg_list_audit,
	.errmsg = pg_errmsg,
	.free = pg_free,
};

struct state *state_pg_new(struct pg_store *p)
{
	struct state_pg *q = xcalloc(1, sizeof(*q));

	q->base.ops = &pg_ops;
	q->p = p;
	pg_store_ref(p);
	return &q->base;
}
