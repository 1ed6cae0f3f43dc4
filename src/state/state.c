#include "state/state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

int state_begin(struct state *s, struct state_txn **out)
{
	*out = NULL;
	return s->ops->begin(s, out);
}

void state_commit(struct state_txn *t, state_done_fn done, void *ctx)
{
	t->state->ops->commit(t, done, ctx);
}

void state_abort(struct state_txn *t)
{
	if (t)
		t->state->ops->abort(t);
}

/* What state_commit_now learns. Allocated: a backend that completes later calls back after it returned. */
struct now {
	bool done, abandoned;
	int status;
};

static void now_done(void *ctx, int status)
{
	struct now *n = ctx;
	if (n->abandoned) {
		if (status < 0)
			log_warnx("state: a commit answered before it completed has failed (%s)", strerror(-status));
		free(n);
		return;
	}
	n->done = true;
	n->status = status;
}

int state_commit_now(struct state_txn *t)
{
	struct now *n = xcalloc(1, sizeof(*n));
	int rc;

	t->state->ops->commit(t, now_done, n);
	if (!n->done) {
		n->abandoned = true;
		return -EINPROGRESS;
	}
	rc = n->status;
	free(n);
	return rc;
}

int state_put_job(struct state_txn *t, const char *name, const char *definition)
{
	return t->state->ops->put_job(t, name, definition);
}

int state_delete_job(struct state_txn *t, const char *name)
{
	return t->state->ops->delete_job(t, name);
}

int state_put_progress(struct state_txn *t, const char *name, const struct state_progress *p)
{
	return t->state->ops->put_progress(t, name, p);
}

int state_put_outcome(struct state_txn *t, const char *name, const struct state_outcome *o)
{
	return t->state->ops->put_outcome(t, name, o);
}

int state_claim_run(struct state_txn *t, struct run_record *r)
{
	if (run_status_is_final(r->status) && r->status != RUN_SKIPPED)
		return -EINVAL;
	return t->state->ops->claim_run(t, r);
}

int state_put_run(struct state_txn *t, struct run_record *r)
{
	if (run_status_is_final(r->status))
		return -EINVAL;
	return t->state->ops->put_run(t, r);
}

int state_end_run(struct state_txn *t, struct run_record *r)
{
	if (!run_status_is_final(r->status))
		return -EINVAL;
	return t->state->ops->end_run(t, r);
}

int state_round_put(struct state_txn *t, const char *child, const char *parent, const char *task_id)
{
	return t->state->ops->round_put(t, child, parent, task_id);
}

int state_round_clear(struct state_txn *t, const char *child, const char *parent)
{
	return t->state->ops->round_clear(t, child, parent);
}

int state_raise_epoch(struct state_txn *t, uint64_t at_least, uint64_t *out)
{
	if (at_least == 0 || at_least > INT64_MAX)
		return -EINVAL; /* refused before the backend sees it: t stays usable */
	return t->state->ops->raise_epoch(t, at_least, out);
}

int state_stored_epoch(struct state *s, uint64_t *out)
{
	struct state_txn *t;
	uint64_t next = 0;
	int rc;

	if ((rc = state_begin(s, &t)) < 0)
		return rc;
	rc = state_raise_epoch(t, 1, &next); /* max(stored + 1, 1), or 1 when none is stored */
	state_abort(t);
	if (rc == 0 && next == 0)
		rc = -EIO; /* a backend that answers at its commit */
	if (rc == 0)
		*out = next - 1;
	return rc;
}

int state_load_jobs(struct state *s, state_job_fn fn, void *ctx)
{
	return s->ops->load_jobs(s, fn, ctx);
}

int state_load_progress(struct state *s, state_progress_fn fn, void *ctx)
{
	return s->ops->load_progress(s, fn, ctx);
}

int state_load_open_runs(struct state *s, state_run_fn fn, void *ctx)
{
	return s->ops->load_open_runs(s, fn, ctx);
}

int state_list_open_runs(struct state *s, const char *job, state_run_fn fn, void *ctx)
{
	return s->ops->list_open_runs(s, job, fn, ctx);
}

int state_get_open_run(struct state *s, const char *task_id, struct run_record *out)
{
	return s->ops->get_open_run(s, task_id, out);
}

int state_load_rounds(struct state *s, state_round_fn fn, void *ctx)
{
	return s->ops->load_rounds(s, fn, ctx);
}

int state_put_token(struct state_txn *t, const struct state_token *tok)
{
	if (t->state->ops->put_token == NULL)
		return -EOPNOTSUPP;
	return t->state->ops->put_token(t, tok);
}

int state_delete_token(struct state_txn *t, const char *name)
{
	if (t->state->ops->delete_token == NULL)
		return -EOPNOTSUPP;
	return t->state->ops->delete_token(t, name);
}

int state_load_tokens(struct state *s, state_token_fn fn, void *ctx)
{
	if (s->ops->load_tokens == NULL)
		return -EOPNOTSUPP;
	return s->ops->load_tokens(s, fn, ctx);
}

int state_put_audit(struct state_txn *t, const struct state_audit *a)
{
	if (t->state->ops->put_audit == NULL)
		return -EOPNOTSUPP;
	return t->state->ops->put_audit(t, a);
}

int state_prune_audit(struct state_txn *t, int64_t older_than_ms)
{
	if (t->state->ops->prune_audit == NULL)
		return -EOPNOTSUPP;
	return t->state->ops->prune_audit(t, older_than_ms);
}

int state_list_audit(struct state *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx)
{
	if (s->ops->list_audit == NULL)
		return -EOPNOTSUPP;
	return s->ops->list_audit(s, q, fn, ctx);
}

const char *state_errmsg(const struct state *s)
{
	return s->ops->errmsg(s);
}

void state_free(struct state *s)
{
	if (s)
		s->ops->free(s);
}
