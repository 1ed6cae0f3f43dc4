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
	}
	return -EINVAL;
}
