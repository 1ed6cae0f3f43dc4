/* The engine's transactions, one at a time. Its memory runs ahead of the state by at most the one commit in flight,
 * whose continuation applies the effects (starts, notifications) once it is durable, or puts the memory back when
 * it failed. Nothing else that the continuation would put back changes meanwhile: the engine's other decisions
 * (a slot due, a run's end, a dispatch, a request) wait for it (engine_begin answers -EBUSY and the engine comes
 * back to them when the commit completes). With SQLite a commit completes before state_commit returns, so nothing
 * ever waits. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler/engine_internal.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/container.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* The backend's done context: outlives the engine when the engine stops with a commit in flight. */
struct commit_ticket {
	struct engine *e; /* NULL: the engine stopped; the completion is only logged */
	struct engine_commit *c;
	int *answer;      /* engine_commit_answer's caller, while it waits in the call */
	bool *answered;
};

int engine_begin(struct engine *e, struct state_txn **t)
{
	int rc;

	*t = NULL;
	if (e->inflight) {
		e->deferred = true;
		return -EBUSY;
	}
	if ((rc = state_begin(e->state, t)) == -EBUSY)
		e->deferred = true;
	return rc;
}

static void on_committed(void *ctx, int status)
{
	struct commit_ticket *tk = ctx;
	struct engine *e = tk->e;
	struct engine_commit *c = tk->c;

	if (tk->answer) {
		*tk->answer = status;
		*tk->answered = true;
	}
	free(tk);
	if (e == NULL) {
		if (status < 0)
			log_warnx("state: a commit of a stopped engine failed (%s)", strerror(-status));
		return;
	}
	e->inflight = NULL;
	c->finish(e, c, status);
	if (e->stopping)
		return;
	if (e->deferred) {
		/* what waited for this commit, on the next turn of the loop */
		e->deferred = false;
		clock_timer_start(e->kick, 0);
	} else {
		engine_arm(e);
	}
}

void engine_commit(struct engine *e, struct state_txn *t, struct engine_commit *c)
{
	struct commit_ticket *tk = xcalloc(1, sizeof(*tk));

	tk->e = e;
	tk->c = c;
	e->inflight = tk;
	state_commit(t, on_committed, tk);
}

int engine_commit_answer(struct engine *e, struct state_txn *t, struct engine_commit *c)
{
	struct commit_ticket *tk = xcalloc(1, sizeof(*tk));
	bool answered = false;
	int status = 0;

	tk->e = e;
	tk->c = c;
	tk->answer = &status;
	tk->answered = &answered;
	e->inflight = tk;
	state_commit(t, on_committed, tk);
	if (!answered) {
		/* completes later: the request was taken, and its continuation logs a failure */
		tk->answer = NULL;
		tk->answered = NULL;
		return 0;
	}
	return status;
}

void engine_commit_cancel(struct engine *e)
{
	struct commit_ticket *tk = e->inflight;

	if (tk == NULL)
		return;
	e->inflight = NULL;
	tk->e = NULL;
	tk->c->finish(e, tk->c, -ECANCELED);
}

static void quiet_done(void *ctx, int status)
{
	char *what = ctx;
	if (status < 0)
		log_warnx_kv(LOG_FIELDS(.event = "store.error"), "could not record %s (%s); a restart reconciles it",
		    what, strerror(-status));
	free(what);
}

void engine_commit_quiet(struct state_txn *t, const char *what)
{
	state_commit(t, quiet_done, xstrdup(what));
}

/* A change of control's: its own continuation. */
struct change {
	struct engine_commit base;
	void (*done)(void *ctx, int status);
	void *ctx;
};

static void change_committed(struct engine *e, struct engine_commit *c, int status)
{
	struct change *ch = container_of(c, struct change, base);
	(void)e;
	ch->done(ch->ctx, status);
	free(ch);
}

int engine_change_begin(struct engine *e, struct state_txn **t)
{
	int rc = engine_begin(e, t);
	return rc == -EBUSY ? -EAGAIN : rc;
}

int engine_change_commit(struct engine *e, struct state_txn *t, void (*done)(void *ctx, int status), void *ctx)
{
	struct change *ch = xcalloc(1, sizeof(*ch));
	ch->base.finish = change_committed;
	ch->done = done;
	ch->ctx = ctx;
	return engine_commit_answer(e, t, &ch->base);
}
