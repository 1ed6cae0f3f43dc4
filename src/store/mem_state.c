/* The in-memory backend's state (mem_backend.h): a transaction is a list of writes, checked when made (a claim's
 * task id) and applied to the store (mem_store.h) when it commits, so that an abort or a failed commit leaves
 * nothing. One transaction at a time, as SQLite's; the reads see what was committed. */
#include "store/mem_backend.h"
#include "store/mem_state.h"
#include "store/mem_store.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "state/state_log.h"
#include "util/container.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

enum write_kind { W_PUT_JOB, W_DELETE_JOB, W_PROGRESS, W_OUTCOME, W_CLAIM, W_UPSERT, W_ROUND_PUT, W_ROUND_CLEAR,
	W_EPOCH, W_PUT_TOKEN, W_DELETE_TOKEN, W_AUDIT, W_PRUNE_AUDIT };

/* One write of a transaction, with copies of what it was given. */
struct write {
	enum write_kind kind;
	char *a, *b, *c; /* name, definition; child, parent, task id */
	struct state_progress p; /* its schedule in c */
	struct state_outcome o;
	struct run_record r;
	int64_t id; /* the run's, given when the write was made; a token's creation time */
	uint64_t epoch; /* W_EPOCH: the epoch it stores */
	struct state_audit *audit; /* W_AUDIT: a copy; W_PRUNE_AUDIT: the cut in id */
};

struct mem_txn {
	struct state_txn base;
	struct write *w;
	size_t n, cap;
	struct strmap *runs; /* task ids written so far (keys in the writes' records), for the claims */
	uint64_t epoch;      /* the epoch its writes raised it to, 0: none */
};

struct mem_state {
	struct state base;
	struct mem_store *m;
	struct mem_txn txn; /* the one transaction */
};

static struct mem_state *of(struct state *s)
{
	return container_of(s, struct mem_state, base);
}

static struct mem_txn *txn_of(struct state_txn *t)
{
	return container_of(t, struct mem_txn, base);
}

static struct mem_store *store_of(struct state_txn *t)
{
	return of(t->state)->m;
}

static struct write *add(struct mem_txn *t, enum write_kind kind)
{
	struct write *w;

	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->w = xrealloc(t->w, t->cap * sizeof(*t->w));
	}
	w = &t->w[t->n++];
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	run_record_init(&w->r);
	return w;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static void txn_clear(struct mem_txn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->w[i].a);
		free(t->w[i].b);
		free(t->w[i].c);
		run_record_clear(&t->w[i].r);
		state_audit_free(t->w[i].audit);
	}
	t->n = 0;
	t->epoch = 0;
	strmap_free(t->runs);
	t->runs = NULL;
}

static int ms_begin(struct state *s, struct state_txn **out)
{
	struct mem_state *q = of(s);

	if (q->m->txn)
		return -EBUSY;
	q->txn.runs = strmap_new();
	q->m->txn = &q->txn;
	*out = &q->txn.base;
	return 0;
}

static void ms_abort(struct state_txn *t)
{
	txn_clear(txn_of(t));
	store_of(t)->txn = NULL;
}

static void apply(struct mem_store *m, const struct write *w);

static void ms_commit(struct state_txn *t, state_done_fn done, void *ctx)
{
	struct mem_txn *x = txn_of(t);
	struct mem_store *m = store_of(t);
	int rc = 0;

	if (mem_store_take_failure(m))
		rc = -ENOSPC;
	for (size_t i = 0; rc == 0 && i < x->n; i++)
		apply(m, &x->w[i]);
	ms_abort(t);
	if (done)
		done(ctx, rc);
}

static int ms_put_job(struct state_txn *t, const char *name, const char *definition)
{
	struct write *w = add(txn_of(t), W_PUT_JOB);
	w->a = xstrdup(name);
	w->b = xstrdup(definition);
	return 0;
}

static int ms_delete_job(struct state_txn *t, const char *name)
{
	add(txn_of(t), W_DELETE_JOB)->a = xstrdup(name);
	return 0;
}

static int ms_put_progress(struct state_txn *t, const char *name, const struct state_progress *p)
{
	struct write *w = add(txn_of(t), W_PROGRESS);
	w->a = xstrdup(name);
	w->p = *p;
	w->c = dup_or_null(p->schedule);
	w->p.schedule = NULL;
	return 0;
}

static int ms_put_outcome(struct state_txn *t, const char *name, const struct state_outcome *o)
{
	struct write *w = add(txn_of(t), W_OUTCOME);
	w->a = xstrdup(name);
	w->o = *o;
	return 0;
}

/* A write of r (a claim or an upsert) with id; r gets its id when it had none. */
static void add_run(struct mem_txn *t, enum write_kind kind, struct run_record *r, int64_t id)
{
	struct write *w = add(t, kind);

	run_record_copy(&w->r, r);
	w->id = id;
	if (r->id == 0)
		r->id = id;
	strmap_put(t->runs, w->r.task_id, (void *)(intptr_t)id);
}

static int ms_claim_run(struct state_txn *t, struct run_record *r)
{
	struct mem_txn *x = txn_of(t);
	struct mem_store *m = store_of(t);

	if (strmap_get(x->runs, r->task_id) || mem_store_run(m, r->task_id))
		return -EEXIST;
	/* SQLite's last_insert_rowid: a claim always tells r its new id */
	r->id = 0;
	add_run(x, W_CLAIM, r, ++m->next_id);
	return 0;
}

static int ms_put_run(struct state_txn *t, struct run_record *r)
{
	struct mem_txn *x = txn_of(t);
	void *id = strmap_get(x->runs, r->task_id);

	add_run(x, W_UPSERT, r, id ? (int64_t)(intptr_t)id : mem_store_run_id(store_of(t), r->task_id));
	return 0;
}

void mem_txn_record(struct mem_txn *t, const struct run_record *r)
{
	struct run_record copy;

	run_record_init(&copy);
	run_record_copy(&copy, r);
	(void)ms_put_run(&t->base, &copy);
	run_record_clear(&copy);
}

static int ms_round_put(struct state_txn *t, const char *child, const char *parent, const char *task_id)
{
	struct write *w = add(txn_of(t), W_ROUND_PUT);
	w->a = xstrdup(child);
	w->b = xstrdup(parent);
	w->c = xstrdup(task_id);
	return 0;
}

static int ms_round_clear(struct state_txn *t, const char *child, const char *parent)
{
	struct write *w = add(txn_of(t), W_ROUND_CLEAR);
	w->a = xstrdup(child);
	w->b = dup_or_null(parent);
	return 0;
}

static int ms_put_token(struct state_txn *t, const struct state_token *tok)
{
	struct write *w = add(txn_of(t), W_PUT_TOKEN);
	w->a = xstrdup(tok->name);
	w->b = xstrdup(tok->role);
	w->c = xstrdup(tok->hash);
	w->id = tok->created_ms;
	return 0;
}

static int ms_delete_token(struct state_txn *t, const char *name)
{
	add(txn_of(t), W_DELETE_TOKEN)->a = xstrdup(name);
	return 0;
}

static int ms_put_audit(struct state_txn *t, const struct state_audit *a)
{
	add(txn_of(t), W_AUDIT)->audit = state_audit_dup(a);
	return 0;
}

static int ms_prune_audit(struct state_txn *t, int64_t older_than_ms)
{
	add(txn_of(t), W_PRUNE_AUDIT)->id = older_than_ms;
	return 0;
}

static int ms_raise_epoch(struct state_txn *t, uint64_t at_least, uint64_t *out)
{
	struct mem_txn *x = txn_of(t);
	uint64_t stored = x->epoch ? x->epoch : store_of(t)->epoch;
	struct write *w;

	if (stored == INT64_MAX)
		return -EOVERFLOW;
	w = add(x, W_EPOCH);
	w->epoch = stored == 0 ? at_least : (stored + 1 > at_least ? stored + 1 : at_least);
	x->epoch = *out = w->epoch;
	return 0;
}

/* The job_state row of name, made (as SQLite's upserts make it: last_due_ms 0, nothing else) when create. */
static struct mem_progress *progress_row(struct mem_store *m, const char *name, bool create)
{
	struct mem_progress *p = mem_set_get(&m->progress, name);

	if (p == NULL && create) {
		p = xcalloc(1, sizeof(*p));
		mem_set_add(&m->progress, &p->e, xstrdup(name));
	}
	return p;
}

static void apply_put_job(struct mem_store *m, const struct write *w)
{
	struct mem_job *j = mem_set_get(&m->jobs, w->a);
	struct mem_progress *p;

	if (j == NULL) {
		j = xcalloc(1, sizeof(*j));
		j->seq = ++m->next_seq;
		mem_set_add(&m->jobs, &j->e, xstrdup(w->a));
	}
	free(j->definition);
	j->definition = xstrdup(w->b);
	if ((p = progress_row(m, w->a, false)) != NULL) {
		free(p->schedule);
		p->schedule = NULL;
	}
}

static void remove_round(struct mem_store *m, struct mem_round *r)
{
	mem_set_remove(&m->rounds, &r->e);
	mem_round_free(&r->e);
}

/* Remove the rounds whose child is child (parent NULL), or whose child or parent is name. */
static void remove_rounds(struct mem_store *m, const char *child, const char *name)
{
	for (size_t i = m->rounds.n; i-- > 0;) {
		struct mem_round *r = (struct mem_round *)m->rounds.items[i];
		if ((child && strcmp(r->child, child) == 0) ||
		    (name && (strcmp(r->child, name) == 0 || strcmp(r->parent, name) == 0)))
			remove_round(m, r);
	}
}

static void apply_delete_job(struct mem_store *m, const struct write *w)
{
	struct mem_job *j = mem_set_get(&m->jobs, w->a);
	struct mem_progress *p = progress_row(m, w->a, false);

	if (j) {
		mem_set_remove(&m->jobs, &j->e);
		mem_job_free(&j->e);
	}
	if (p) {
		mem_set_remove(&m->progress, &p->e);
		mem_progress_free(&p->e);
	}
	remove_rounds(m, NULL, w->a);
}

static void apply_progress(struct mem_store *m, const struct write *w)
{
	struct mem_progress *p = progress_row(m, w->a, true);

	p->last_due_ms = w->p.last_due_ms;
	/* SQLite stores no anchor as NULLs, which read back as 0 */
	p->has_anchor = w->p.has_anchor;
	p->anchor_ms = w->p.has_anchor ? w->p.anchor_ms : 0;
	p->anchor_index = w->p.has_anchor ? w->p.anchor_index : 0;
	free(p->schedule);
	p->schedule = dup_or_null(w->c);
}

static void apply_round_put(struct mem_store *m, const struct write *w)
{
	char *key = xasprintf("%s\x1f%s", w->a, w->b);
	struct mem_round *r = mem_set_get(&m->rounds, key);

	if (r) {
		free(key);
		free(r->task_id);
	} else {
		r = xcalloc(1, sizeof(*r));
		r->child = xstrdup(w->a);
		r->parent = xstrdup(w->b);
		mem_set_add(&m->rounds, &r->e, key);
	}
	r->task_id = xstrdup(w->c);
}

static void apply_round_clear(struct mem_store *m, const struct write *w)
{
	char *key;
	struct mem_round *r;

	if (w->b == NULL) {
		remove_rounds(m, w->a, NULL);
		return;
	}
	key = xasprintf("%s\x1f%s", w->a, w->b);
	if ((r = mem_set_get(&m->rounds, key)) != NULL)
		remove_round(m, r);
	free(key);
}

static void apply_token(struct mem_store *m, const struct write *w)
{
	struct mem_token *tok = mem_set_get(&m->tokens, w->a);

	if (tok) {
		mem_set_remove(&m->tokens, &tok->e);
		mem_token_free(&tok->e);
	}
	if (w->kind == W_DELETE_TOKEN)
		return;
	tok = xcalloc(1, sizeof(*tok));
	tok->role = xstrdup(w->b);
	tok->hash = xstrdup(w->c);
	tok->created_ms = w->id;
	mem_set_add(&m->tokens, &tok->e, xstrdup(w->a));
}

static void apply(struct mem_store *m, const struct write *w)
{
	switch (w->kind) {
	case W_PUT_JOB:
		apply_put_job(m, w);
		break;
	case W_DELETE_JOB:
		apply_delete_job(m, w);
		break;
	case W_PROGRESS:
		apply_progress(m, w);
		break;
	case W_OUTCOME: {
		struct mem_progress *p = progress_row(m, w->a, true);
		p->has_outcome = true;
		p->outcome = w->o;
		break;
	}
	case W_CLAIM:
		mem_store_claim_run(m, &w->r, w->id);
		break;
	case W_UPSERT:
		mem_store_upsert_run(m, &w->r, w->id);
		break;
	case W_ROUND_PUT:
		apply_round_put(m, w);
		break;
	case W_ROUND_CLEAR:
		apply_round_clear(m, w);
		break;
	case W_EPOCH:
		m->epoch = w->epoch;
		break;
	case W_PUT_TOKEN:
	case W_DELETE_TOKEN:
		apply_token(m, w);
		break;
	case W_AUDIT:
		mem_store_add_audit(m, w->audit);
		break;
	case W_PRUNE_AUDIT:
		mem_store_prune_audit(m, w->id);
		break;
	}
}

static const char *ms_errmsg(const struct state *s)
{
	const struct mem_state *q = (const struct mem_state *)s; /* base is its first member */
	return q->m->error;
}

static void ms_free(struct state *s)
{
	struct mem_state *q = of(s);

	if (q->m->txn)
		ms_abort(&q->txn.base);
	free(q->txn.w);
	mem_store_unref(q->m);
	free(q);
}

static const struct state_ops mem_ops = {
	.begin = ms_begin,
	.commit = ms_commit,
	.abort = ms_abort,
	.put_job = ms_put_job,
	.delete_job = ms_delete_job,
	.put_progress = ms_put_progress,
	.put_outcome = ms_put_outcome,
	.claim_run = ms_claim_run,
	.put_run = ms_put_run,
	.end_run = ms_put_run, /* the same run, now final: the history's */
	.round_put = ms_round_put,
	.round_clear = ms_round_clear,
	.raise_epoch = ms_raise_epoch,
	.load_jobs = mem_state_load_jobs,
	.load_progress = mem_state_load_progress,
	.load_open_runs = mem_state_load_open_runs,
	.list_open_runs = mem_state_list_open_runs,
	.get_open_run = mem_state_get_open_run,
	.load_rounds = mem_state_load_rounds,
	.put_token = ms_put_token,
	.delete_token = ms_delete_token,
	.load_tokens = mem_state_load_tokens,
	.put_audit = ms_put_audit,
	.prune_audit = ms_prune_audit,
	.list_audit = mem_state_list_audit,
	.errmsg = ms_errmsg,
	.free = ms_free,
};

struct state *mem_state_new(struct mem_store *m)
{
	struct mem_state *q = xcalloc(1, sizeof(*q));

	q->base.ops = &mem_ops;
	q->m = m;
	q->txn.base.state = &q->base;
	return &q->base;
}

struct mem_store *mem_state_store(struct state *s)
{
	return of(s)->m;
}
