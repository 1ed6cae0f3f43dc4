/* Dependent jobs: a child runs once every parent has succeeded in the current round (Chronos's fan-in), with
 * the round kept in the store so that a restart in the middle of one changes nothing (Chronos #811). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/log.h"
#include "util/xmalloc.h"

/* The parents a child lists, as graph_round_* take them. */
static const char *const *parents_of(const struct jobrec *child)
{
	return (const char *const *)child->job->parents;
}

static void list_add(struct run_list *l, struct run *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = r;
}

/* A child's round as it was before a parent's success changed it. */
struct round_undo {
	char *child;
	struct graph_round round;
};

static void save_round(struct run_list *l, const struct jobrec *child)
{
	struct round_undo *u;

	for (size_t i = 0; i < l->n_undo; i++)
		if (strcmp(l->undo[i].child, child->job->name) == 0)
			return; /* the first state is the one to put back */
	if (l->n_undo == l->cap_undo) {
		l->cap_undo = l->cap_undo ? l->cap_undo * 2 : 4;
		l->undo = xrealloc(l->undo, l->cap_undo * sizeof(*l->undo));
	}
	u = &l->undo[l->n_undo++];
	u->child = xstrdup(child->job->name);
	u->round = (struct graph_round){0};
	for (uint32_t i = 0; i < child->rt->round.n; i++)
		graph_round_set(&u->round, child->rt->round.v[i].parent, child->rt->round.v[i].task_id);
}

/* Claim the run of a child whose round is complete, and start a new round. */
static int trigger(struct engine *e, struct state_txn *t, struct jobrec *child, struct run_list *out)
{
	char *parents = graph_round_task_ids(&child->rt->round, parents_of(child), child->job->n_parents);
	int rc;
	struct run *r = run_claim_now(e, t, child, TRIGGER_DEPENDENCY, NULL, parents, &rc);

	free(parents);
	if (r == NULL)
		return rc;
	if (child->rt->round.n > 0 && (rc = state_round_clear(t, child->job->name, NULL)) < 0) {
		run_free(r);
		return rc;
	}
	/* Nothing in its way: recorded as starting in this transaction, spawned right after its commit. */
	if (run_can_start_now(e, child) && e->running + e->recovering + (int)out->starting < e->cfg.max_running) {
		r->rec.status = RUN_STARTING;
		r->rec.start_ms = r->rec.due_ms;
		if ((rc = state_put_run(t, &r->rec)) < 0) {
			run_free(r);
			return rc;
		}
		out->starting++;
	}
	graph_round_reset(&child->rt->round);
	list_add(out, r);
	return 0;
}

int deps_parent_done(struct engine *e, struct state_txn *t, struct jobrec *parent, const char *task_id,
    struct run_list *out)
{
	for (uint32_t i = 0; i < parent->node.nchildren; i++) {
		struct jobrec *child = registry_rec(graph_children(&parent->node)[i]);
		int rc;
		if (child->job->disabled) {
			log_info_kv(LOG_FIELDS(.job = child->job->name), "job '%s' is disabled: not triggered by '%s'",
			    child->job->name, parent->job->name);
			continue;
		}
		save_round(out, child);
		if (child->job->n_parents > 1) {
			if ((rc = state_round_put(t, child->job->name, parent->job->name, task_id)) < 0)
				return rc;
			graph_round_set(&child->rt->round, parent->job->name, task_id);
			if (!graph_round_complete(&child->rt->round, parents_of(child), child->job->n_parents))
				continue;
		} else {
			graph_round_set(&child->rt->round, parent->job->name, task_id);
		}
		if ((rc = trigger(e, t, child, out)) < 0)
			return rc;
	}
	return 0;
}

void deps_release(struct engine *e, struct run_list *list, bool committed)
{
	size_t starting = 0, queued = 0;

	for (size_t i = 0; i < list->n_undo; i++) {
		struct round_undo *u = &list->undo[i];
		struct jobrec *child = committed ? NULL : registry_get(e->reg, u->child);
		if (child && child->rt) {
			/* what the store still holds */
			graph_round_reset(&child->rt->round);
			child->rt->round = u->round;
		} else {
			graph_round_reset(&u->round);
		}
		free(u->child);
	}
	free(list->undo);
	list->undo = NULL;
	list->n_undo = list->cap_undo = 0;
	if (!committed) {
		for (size_t i = 0; i < list->n; i++)
			run_free(list->v[i]);
	} else if (list->n > 0) {
		/* Those claimed as starting are spawned together, then the others are queued in their order. */
		struct run **later = xcalloc(list->n, sizeof(*later));
		for (size_t i = 0; i < list->n; i++) {
			if (list->v[i]->rec.status == RUN_STARTING)
				list->v[starting++] = list->v[i];
			else
				later[queued++] = list->v[i];
		}
		run_start_claimed(e, list->v, starting);
		for (size_t i = 0; i < queued; i++)
			run_enqueue(e, later[i]);
		free(later);
	}
	free(list->v);
	list->v = NULL;
	list->n = list->cap = list->starting = 0;
}

static int load_entry(void *ctx, const char *child, const char *parent, const char *task_id)
{
	struct engine *e = ctx;
	struct jobrec *rec = registry_get(e->reg, child);
	if (rec)
		graph_round_set(&rec->rt->round, parent, task_id);
	return 0;
}

int deps_load(struct engine *e)
{
	return state_load_rounds(e->state, load_entry, e);
}

struct forget {
	struct engine *e;
	struct state_txn *t; /* begun at the first entry to forget */
	const char *job;
	int rc;
};

static void forget_entry(void *ctx, const char *parent)
{
	struct forget *f = ctx;
	if (f->rc == 0 && f->t == NULL)
		f->rc = state_begin(f->e->state, &f->t);
	if (f->rc == 0)
		f->rc = state_round_clear(f->t, f->job, parent);
}

void deps_job_changed(struct engine *e, struct jobrec *rec)
{
	struct forget f = {e, NULL, rec->job->name, 0};
	graph_round_keep(&rec->rt->round, parents_of(rec), rec->job->n_parents, forget_entry, &f);
	if (f.rc < 0) {
		state_abort(f.t);
		log_warnx_kv(LOG_FIELDS(.event = "store.error", .job = f.job),
		    "job '%s': could not forget the round entries of its former parents", f.job);
	} else if (f.t) {
		engine_commit_quiet(f.t, "the round entries of a job's former parents");
	}
}
