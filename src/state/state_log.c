/* A transaction's writes held as copies (state_log.h). */
#include "state/state_log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

void state_log_init(struct state_log *l)
{
	memset(l, 0, sizeof(*l));
}

void state_log_clear(struct state_log *l)
{
	for (size_t i = 0; i < l->n; i++) {
		for (int k = 0; k < 3; k++)
			free(l->w[i].arg[k]);
		run_record_clear(&l->w[i].run);
		state_audit_free(l->w[i].audit);
	}
	free(l->w);
	state_log_init(l);
}

static char *copy_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

struct state_write *state_log_add(struct state_log *l, enum state_write_kind kind, const char *a, const char *b,
    const char *c)
{
	struct state_write *w;

	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 8;
		l->w = xrealloc(l->w, l->cap * sizeof(*l->w));
	}
	w = &l->w[l->n++];
	memset(w, 0, sizeof(*w));
	w->kind = kind;
	w->arg[0] = copy_or_null(a);
	w->arg[1] = copy_or_null(b);
	w->arg[2] = copy_or_null(c);
	run_record_init(&w->run);
	return w;
}

void state_log_progress(struct state_log *l, const char *name, const struct state_progress *p)
{
	struct state_write *w = state_log_add(l, STATE_W_PROGRESS, name, p->schedule, NULL);

	w->progress = *p;
	w->progress.schedule = w->arg[1];
}

void state_log_run(struct state_log *l, enum state_write_kind kind, const struct run_record *r)
{
	run_record_copy(&state_log_add(l, kind, NULL, NULL, NULL)->run, r);
}

void state_log_token(struct state_log *l, const struct state_token *tok)
{
	state_log_add(l, STATE_W_PUT_TOKEN, tok->name, tok->role, tok->hash)->created_ms = tok->created_ms;
}

/* Copy src (NULL: none) to *at, moving it on; where it went, or NULL. */
static const char *place(char **at, const char *src)
{
	char *out = *at;
	size_t n;

	if (src == NULL)
		return NULL;
	n = strlen(src) + 1;
	memcpy(out, src, n);
	*at += n;
	return out;
}

struct state_audit *state_audit_dup(const struct state_audit *a)
{
	const char *text[] = {a->actor, a->actor_kind, a->address, a->action, a->job, a->before, a->after};
	size_t room = sizeof(struct state_audit);
	struct state_audit *c;
	char *at;

	for (size_t i = 0; i < sizeof(text) / sizeof(text[0]); i++)
		room += text[i] ? strlen(text[i]) + 1 : 0;
	c = xmalloc(room); /* one block: the entry, then its strings */
	at = (char *)(c + 1);
	*c = (struct state_audit){a->id, a->time_ms, place(&at, a->actor), place(&at, a->actor_kind),
		place(&at, a->address), place(&at, a->action), place(&at, a->job), place(&at, a->before),
		place(&at, a->after)};
	return c;
}

void state_audit_free(struct state_audit *a)
{
	free(a);
}

void state_log_audit(struct state_log *l, const struct state_audit *a)
{
	state_log_add(l, STATE_W_AUDIT, NULL, NULL, NULL)->audit = state_audit_dup(a);
}

bool state_log_makes_run(const struct state_log *l, const char *task_id)
{
	for (size_t i = 0; i < l->n; i++)
		if ((l->w[i].kind == STATE_W_CLAIM || l->w[i].kind == STATE_W_END_RUN) &&
		    strcmp(l->w[i].run.task_id, task_id) == 0)
			return true;
	return false;
}

int state_log_replay(struct state_txn *t, struct state_write *w)
{
	switch (w->kind) {
	case STATE_W_PUT_JOB:
		return state_put_job(t, w->arg[0], w->arg[1]);
	case STATE_W_DELETE_JOB:
		return state_delete_job(t, w->arg[0]);
	case STATE_W_PROGRESS:
		return state_put_progress(t, w->arg[0], &w->progress);
	case STATE_W_OUTCOME:
		return state_put_outcome(t, w->arg[0], &w->outcome);
	case STATE_W_CLAIM:
		return state_claim_run(t, &w->run);
	case STATE_W_PUT_RUN:
		return state_put_run(t, &w->run);
	case STATE_W_END_RUN:
		return state_end_run(t, &w->run);
	case STATE_W_ROUND_PUT:
		return state_round_put(t, w->arg[0], w->arg[1], w->arg[2]);
	case STATE_W_ROUND_CLEAR:
		return state_round_clear(t, w->arg[0], w->arg[1]);
	case STATE_W_EPOCH:
		return state_raise_epoch(t, w->at_least, w->epoch_out);
	case STATE_W_PUT_TOKEN:
		return state_put_token(t, &(struct state_token){w->arg[0], w->arg[1], w->arg[2], w->created_ms});
	case STATE_W_DELETE_TOKEN:
		return state_delete_token(t, w->arg[0]);
	case STATE_W_AUDIT:
		return state_put_audit(t, w->audit);
	case STATE_W_PRUNE_AUDIT:
		return state_prune_audit(t, w->created_ms);
	}
	return -EINVAL;
}
