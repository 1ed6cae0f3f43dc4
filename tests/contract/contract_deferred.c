/* contract_deferred (contract.h): a backend that completes at once, seen as one that completes later. Its state
 * is contract_state_deferred.c's, which holds each transaction's writes until settle. Each history write goes to
 * the inner backend when it is made; what the inner backend reported (the runs removed, the status) waits in a
 * queue that settle empties in order, as the answers of a database over the network arrive. A write the inner
 * backend refused is reported the same way, through done, as a network backend learns of a failure. So a history
 * write made while a commit is held takes effect before it: the tests settle a commit before they write to the
 * history. */
#include <errno.h>
#include <stdlib.h>

#include "contract.h"
#include "util/xmalloc.h"

/* One write's report, held until settle. */
struct held {
	history_done_fn done;
	void *ctx;
	int status;
	history_removed_fn removed;
	char **task_id, **job; /* the runs removed */
	size_t n;
};

/* Writes held at once at most: the tests settle after a few. */
#define HELD_MAX 64

struct deferred {
	struct history base; /* the history the tests get */
	struct state *s;     /* the state they get */
	const struct contract_backend *inner;
	void *inner_fx;
	struct state *inner_s;
	struct history *inner_h;
	struct held held[HELD_MAX];
	size_t n;
};

/* A new report of a write that removed and done (either may be NULL) wait for; NULL when the queue is full. */
static struct held *hold(struct deferred *d, history_removed_fn removed, history_done_fn done, void *ctx)
{
	struct held *e;

	if (d->n == HELD_MAX)
		return NULL;
	e = &d->held[d->n++];
	*e = (struct held){.removed = removed, .done = done, .ctx = ctx, .status = -EPROTO}; /* never told: -EPROTO */
	return e;
}

/* The inner backend's call for e returned rc: a refusal is reported as done's status. Returns 0: the write is
 * taken, whatever became of it. */
static int took(struct held *e, int rc)
{
	if (rc < 0)
		e->status = rc;
	return 0;
}

static void held_free(struct held *e)
{
	for (size_t i = 0; i < e->n; i++) {
		free(e->task_id[i]);
		free(e->job[i]);
	}
	free(e->task_id);
	free(e->job);
}

static void keep_status(void *ctx, int status)
{
	((struct held *)ctx)->status = status;
}

static void keep_removed(void *ctx, const char *task_id, const char *job)
{
	struct held *e = ctx;

	e->task_id = xrealloc(e->task_id, (e->n + 1) * sizeof(*e->task_id));
	e->job = xrealloc(e->job, (e->n + 1) * sizeof(*e->job));
	e->task_id[e->n] = xstrdup(task_id);
	e->job[e->n++] = xstrdup(job);
}

static int d_record(struct history *h, const struct run_record *r, history_done_fn done, void *ctx)
{
	struct deferred *d = (struct deferred *)h;
	struct held *e = hold(d, NULL, done, ctx);

	if (e == NULL)
		return -ENOSPC; /* no room: refused, as history.h allows */
	return took(e, history_record(d->inner_h, r, keep_status, e));
}

static int d_prune(struct history *h, const struct history_retention *keep, history_removed_fn removed,
    history_done_fn done, void *ctx)
{
	struct deferred *d = (struct deferred *)h;
	struct held *e = hold(d, removed, done, ctx);

	if (e == NULL)
		return -ENOSPC; /* no room: refused, as history.h allows */
	return took(e, history_prune(d->inner_h, keep, keep_removed, keep_status, e));
}

static int d_delete_job(struct history *h, const char *job, history_removed_fn removed, history_done_fn done,
    void *ctx)
{
	struct deferred *d = (struct deferred *)h;
	struct held *e = hold(d, removed, done, ctx);

	if (e == NULL)
		return -ENOSPC; /* no room: refused, as history.h allows */
	return took(e, history_delete_job(d->inner_h, job, keep_removed, keep_status, e));
}

/* The reads are the inner backend's, at once. */
static int d_get(struct history *h, const char *task_id, struct run_record *out)
{
	return history_get(((struct deferred *)h)->inner_h, task_id, out);
}

static int d_list(struct history *h, const char *job, const char *cursor, int limit, history_run_fn fn, void *ctx,
    char next[HISTORY_CURSOR_MAX])
{
	return history_list(((struct deferred *)h)->inner_h, job, cursor, limit, fn, ctx, next);
}

static int d_recent(struct history *h, enum history_recent kind, int limit, history_run_fn fn, void *ctx)
{
	return history_recent(((struct deferred *)h)->inner_h, kind, limit, fn, ctx);
}

static int d_window(struct history *h, int64_t from_ms, int64_t to_ms, int limit, history_run_fn fn, void *ctx)
{
	return history_window(((struct deferred *)h)->inner_h, from_ms, to_ms, limit, fn, ctx);
}

static int d_durations(struct history *h, const char *job, int max,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx)
{
	return history_durations(((struct deferred *)h)->inner_h, job, max, fn, ctx);
}

static const char *d_errmsg(const struct history *h)
{
	return history_errmsg(((const struct deferred *)h)->inner_h);
}

/* Nothing: the history is the fixture's, which d_close frees. */
static void d_free(struct history *h)
{
	(void)h;
}

static const struct history_ops deferred_ops = {
	.record = d_record,
	.get = d_get,
	.list = d_list,
	.recent = d_recent,
	.window = d_window,
	.durations = d_durations,
	.prune = d_prune,
	.delete_job = d_delete_job,
	.errmsg = d_errmsg,
	.free = d_free,
};

/* Complete the history writes held, in order; whether there were any. */
static bool settle_history(struct deferred *d)
{
	size_t n = d->n;

	/* by index: a callback may make a write, which is held after these (and settled here too) */
	for (size_t i = 0; i < d->n; i++) {
		struct held *e = &d->held[i];
		for (size_t k = 0; e->removed && k < e->n; k++)
			e->removed(e->ctx, e->task_id[k], e->job[k]);
		if (e->done)
			e->done(e->ctx, e->status);
		held_free(e);
	}
	d->n = 0;
	return n > 0;
}

/* Until neither holds anything: a callback of one may write to the other. */
static void d_settle(void *fx)
{
	struct deferred *d = fx;
	bool more;

	do {
		more = contract_state_deferred_settle(d->s);
		more |= settle_history(d);
	} while (more);
}

static void d_close(void *fx)
{
	struct deferred *d = fx;

	for (size_t i = 0; i < d->n; i++)
		held_free(&d->held[i]); /* never completed: the test failed before it settled */
	state_free(d->s);
	if (d->inner_fx)
		d->inner->close(d->inner_fx);
	free(d);
}

static int d_open(const void *arg, void **fx, struct state **s, struct history **h)
{
	struct deferred *d = xcalloc(1, sizeof(*d));
	int rc;

	d->base.ops = &deferred_ops;
	d->inner = arg;
	if ((rc = d->inner->open(d->inner->arg, &d->inner_fx, &d->inner_s, &d->inner_h)) < 0) {
		d->inner_fx = NULL;
		d_close(d);
		return rc;
	}
	d->s = contract_state_deferred_new(d->inner_s, d->inner_h);
	*fx = d;
	*s = d->s;
	*h = &d->base;
	return 0;
}

/* The rest is the inner backend's. */
static void d_fail_next_write(void *fx)
{
	struct deferred *d = fx;
	d->inner->fail_next_write(d->inner_fx);
}

static int d_open_reader(void *fx, void **rd, struct state **s, struct history **h)
{
	struct deferred *d = fx;
	return d->inner->open_reader(d->inner_fx, rd, s, h);
}

static void d_close_reader(void *fx, void *rd)
{
	struct deferred *d = fx;
	d->inner->close_reader(d->inner_fx, rd);
}

struct contract_backend contract_deferred(const struct contract_backend *inner, const char *name)
{
	return (struct contract_backend){
		.name = name,
		.arg = inner,
		.completes_at_once = false,
		.fail_message = inner->fail_message,
		.open = d_open,
		.close = d_close,
		.fail_next_write = d_fail_next_write,
		.settle = d_settle,
		.open_reader = inner->open_reader ? d_open_reader : NULL,
		.close_reader = inner->close_reader ? d_close_reader : NULL,
	};
}
