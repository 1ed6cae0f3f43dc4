/* Dependent jobs: a child runs once every parent has succeeded in the current round (Chronos's fan-in), with
 * the round kept in the store so that a restart in the middle of one changes nothing (Chronos #811). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "store/rounds.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

static struct round_entry *round_find(struct jobrec *child, const char *parent)
{
	for (uint32_t i = 0; i < child->nround; i++)
		if (strcmp(child->round[i].parent, parent) == 0)
			return &child->round[i];
	return NULL;
}

static void round_set(struct jobrec *child, const char *parent, const char *task_id)
{
	struct round_entry *entry = round_find(child, parent);
	if (entry == NULL) {
		child->round = xrealloc(child->round, (child->nround + 1) * sizeof(*child->round));
		entry = &child->round[child->nround++];
		entry->parent = xstrdup(parent);
		entry->task_id = NULL;
	}
	free(entry->task_id);
	entry->task_id = xstrdup(task_id);
}

static void round_reset(struct jobrec *child)
{
	for (uint32_t i = 0; i < child->nround; i++) {
		free(child->round[i].parent);
		free(child->round[i].task_id);
	}
	free(child->round);
	child->round = NULL;
	child->nround = 0;
}

/* The parents' task ids of a complete round, in the order the child lists its parents, comma-separated; the
 * caller frees it. */
static char *round_task_ids(struct jobrec *child)
{
	struct buf b;
	buf_init(&b, 0);
	for (uint32_t i = 0; i < child->job->n_parents; i++) {
		struct round_entry *entry = round_find(child, child->job->parents[i]);
		if (entry && (buf_puts(&b, b.len ? "," : "") < 0 || buf_puts(&b, entry->task_id) < 0))
			fatalx("unbounded buffer refused data");
	}
	return buf_steal(&b, NULL);
}

static bool round_complete(struct jobrec *child)
{
	for (uint32_t i = 0; i < child->job->n_parents; i++)
		if (round_find(child, child->job->parents[i]) == NULL)
			return false;
	return true;
}

static void list_add(struct run_list *l, struct run *r)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = r;
}

/* Claim the run of a child whose round is complete, and start a new round. */
static int trigger(struct engine *e, struct jobrec *child, struct run_list *out)
{
	char *parents = round_task_ids(child);
	int rc;
	struct run *r = run_claim_now(e, child, TRIGGER_DEPENDENCY, NULL, parents, &rc);

	free(parents);
	if (r == NULL)
		return rc;
	if (child->nround > 0 && (rc = store_round_clear(e->store, child->job->name, NULL)) < 0) {
		run_free(r);
		return rc;
	}
	/* Nothing in its way: recorded as starting in this transaction, spawned right after its commit. */
	if (run_can_start_now(e, child) && e->running + (int)out->starting < e->cfg.max_running) {
		r->rec.status = RUN_STARTING;
		r->rec.start_ms = r->rec.due_ms;
		if ((rc = store_put_run(e->store, &r->rec)) < 0) {
			run_free(r);
			return rc;
		}
		out->starting++;
	}
	round_reset(child);
	list_add(out, r);
	return 0;
}

int deps_parent_done(struct engine *e, struct jobrec *parent, const char *task_id, struct run_list *out)
{
	for (uint32_t i = 0; i < parent->nchildren; i++) {
		struct jobrec *child = parent->children[i];
		int rc;
		if (child->job->disabled) {
			log_info_kv(LOG_FIELDS(.job = child->job->name), "job '%s' is disabled: not triggered by '%s'",
			    child->job->name, parent->job->name);
			continue;
		}
		if (child->job->n_parents > 1) {
			if ((rc = store_round_put(e->store, child->job->name, parent->job->name, task_id)) < 0)
				return rc;
			round_set(child, parent->job->name, task_id);
			if (!round_complete(child))
				continue;
		} else {
			round_set(child, parent->job->name, task_id);
		}
		if ((rc = trigger(e, child, out)) < 0)
			return rc;
	}
	return 0;
}

void deps_release(struct engine *e, struct run_list *list, bool committed)
{
	size_t starting = 0, queued = 0;

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
		round_set(rec, parent, task_id);
	return 0;
}

int deps_load(struct engine *e)
{
	return store_load_rounds(e->store, load_entry, e);
}

void deps_job_changed(struct engine *e, struct jobrec *rec)
{
	for (uint32_t i = 0; i < rec->nround;) {
		bool still = false;
		for (uint32_t k = 0; k < rec->job->n_parents && !still; k++)
			still = strcmp(rec->job->parents[k], rec->round[i].parent) == 0;
		if (still) {
			i++;
			continue;
		}
		if (store_round_clear(e->store, rec->job->name, rec->round[i].parent) < 0)
			log_warnx_kv(LOG_FIELDS(.event = "store.error", .job = rec->job->name),
			    "job '%s': could not forget the round entry of '%s'", rec->job->name,
			    rec->round[i].parent);
		free(rec->round[i].parent);
		free(rec->round[i].task_id);
		rec->round[i] = rec->round[--rec->nround];
	}
}
