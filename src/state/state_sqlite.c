#include "state/state_sqlite.h"

#include <errno.h>
#include <stdlib.h>

#include "store/rounds.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/container.h"
#include "util/xmalloc.h"

struct state_sqlite {
	struct state base;
	struct store *store;
	struct state_txn txn; /* the one transaction */
	bool open;
	bool doomed; /* a write of the open transaction failed: its commit fails */
	int failure; /* that write's errno */
};

static struct state_sqlite *of(struct state *s)
{
	return container_of(s, struct state_sqlite, base);
}

static struct state_sqlite *of_txn(struct state_txn *t)
{
	return container_of(t, struct state_sqlite, txn);
}

static int sq_begin(struct state *s, struct state_txn **out)
{
	struct state_sqlite *q = of(s);
	int rc;

	if (q->open)
		return -EBUSY;
	if ((rc = store_begin(q->store)) < 0)
		return rc;
	q->open = true;
	q->doomed = false;
	q->failure = 0;
	*out = &q->txn;
	return 0;
}

static void sq_abort(struct state_txn *t)
{
	struct state_sqlite *q = of_txn(t);
	store_rollback(q->store);
	q->open = false;
}

static void sq_commit(struct state_txn *t, state_done_fn done, void *ctx)
{
	struct state_sqlite *q = of_txn(t);
	int rc = q->doomed ? q->failure : store_commit(q->store);

	if (rc < 0)
		store_rollback(q->store);
	q->open = false;
	if (done)
		done(ctx, rc);
}

/* A write's result; a failure dooms the transaction (SQLite may have rolled it back already). */
static int wrote(struct state_txn *t, int rc)
{
	struct state_sqlite *q = of_txn(t);
	if (rc < 0 && rc != -EEXIST && !q->doomed) {
		q->doomed = true;
		q->failure = rc;
	}
	return rc;
}

static int sq_put_job(struct state_txn *t, const char *name, const char *definition)
{
	return wrote(t, store_put_job(of_txn(t)->store, name, definition));
}

static int sq_delete_job(struct state_txn *t, const char *name)
{
	return wrote(t, store_delete_job(of_txn(t)->store, name));
}

static int sq_put_progress(struct state_txn *t, const char *name, const struct state_progress *p)
{
	return wrote(t, store_put_progress(of_txn(t)->store, name, p));
}

static int sq_put_outcome(struct state_txn *t, const char *name, const struct state_outcome *o)
{
	return wrote(t, store_put_outcome(of_txn(t)->store, name, o));
}

static int sq_claim_run(struct state_txn *t, struct run_record *r)
{
	return wrote(t, store_claim_run(of_txn(t)->store, r));
}

static int sq_put_run(struct state_txn *t, struct run_record *r)
{
	return wrote(t, store_put_run(of_txn(t)->store, r));
}

static int sq_round_put(struct state_txn *t, const char *child, const char *parent, const char *task_id)
{
	return wrote(t, store_round_put(of_txn(t)->store, child, parent, task_id));
}

static int sq_round_clear(struct state_txn *t, const char *child, const char *parent)
{
	return wrote(t, store_round_clear(of_txn(t)->store, child, parent));
}

static int sq_raise_epoch(struct state_txn *t, uint64_t at_least, uint64_t *out)
{
	return wrote(t, store_raise_epoch(of_txn(t)->store, at_least, out));
}

static int sq_load_jobs(struct state *s, state_job_fn fn, void *ctx)
{
	return store_load_jobs(of(s)->store, fn, ctx);
}

static int sq_load_progress(struct state *s, state_progress_fn fn, void *ctx)
{
	return store_load_progress(of(s)->store, fn, ctx);
}

static int sq_load_open_runs(struct state *s, state_run_fn fn, void *ctx)
{
	return store_load_open_runs(of(s)->store, fn, ctx);
}

static int sq_list_open_runs(struct state *s, const char *job, state_run_fn fn, void *ctx)
{
	return store_list_open_runs(of(s)->store, job, fn, ctx);
}

static int sq_get_open_run(struct state *s, const char *task_id, struct run_record *out)
{
	int rc = store_get_run(of(s)->store, task_id, out);
	if (rc == 0 && run_status_is_final(out->status)) {
		run_record_clear(out);
		run_record_init(out);
		return -ENOENT;
	}
	return rc;
}

static int sq_load_rounds(struct state *s, state_round_fn fn, void *ctx)
{
	return store_load_rounds(of(s)->store, fn, ctx);
}

static int sq_put_token(struct state_txn *t, const struct state_token *tok)
{
	return wrote(t, store_put_token(of_txn(t)->store, tok));
}

static int sq_delete_token(struct state_txn *t, const char *name)
{
	return wrote(t, store_delete_token(of_txn(t)->store, name));
}

static int sq_load_tokens(struct state *s, state_token_fn fn, void *ctx)
{
	return store_load_tokens(of(s)->store, fn, ctx);
}

static int sq_put_audit(struct state_txn *t, const struct state_audit *a)
{
	return wrote(t, store_put_audit(of_txn(t)->store, a));
}

static int sq_prune_audit(struct state_txn *t, int64_t older_than_ms)
{
	return wrote(t, store_prune_audit(of_txn(t)->store, older_than_ms));
}

static int sq_list_audit(struct state *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx)
{
	return store_list_audit(of(s)->store, q, fn, ctx);
}

static const char *sq_errmsg(const struct state *s)
{
	const struct state_sqlite *q = (const struct state_sqlite *)s; /* base is its first member */
	return store_errmsg(q->store);
}

static void sq_free(struct state *s)
{
	free(of(s));
}

static const struct state_ops sqlite_ops = {
	.begin = sq_begin,
	.commit = sq_commit,
	.abort = sq_abort,
	.put_job = sq_put_job,
	.delete_job = sq_delete_job,
	.put_progress = sq_put_progress,
	.put_outcome = sq_put_outcome,
	.claim_run = sq_claim_run,
	.put_run = sq_put_run,
	.end_run = sq_put_run, /* the same row, now final: the history's */
	.round_put = sq_round_put,
	.round_clear = sq_round_clear,
	.raise_epoch = sq_raise_epoch,
	.load_jobs = sq_load_jobs,
	.load_progress = sq_load_progress,
	.load_open_runs = sq_load_open_runs,
	.list_open_runs = sq_list_open_runs,
	.get_open_run = sq_get_open_run,
	.load_rounds = sq_load_rounds,
	.put_token = sq_put_token,
	.delete_token = sq_delete_token,
	.load_tokens = sq_load_tokens,
	.put_audit = sq_put_audit,
	.prune_audit = sq_prune_audit,
	.list_audit = sq_list_audit,
	.errmsg = sq_errmsg,
	.free = sq_free,
};

struct state *state_sqlite_new(struct store *store)
{
	struct state_sqlite *q = xcalloc(1, sizeof(*q));
	q->base.ops = &sqlite_ops;
	q->store = store;
	q->txn.state = &q->base;
	return &q->base;
}
