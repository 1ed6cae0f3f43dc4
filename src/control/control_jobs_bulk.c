/* Many jobs in one transaction (control_put_jobs_then): each job checked as a post is, their parents and cycles
 * checked against the jobs as they will be (the array's over the registry's), written parents first. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/control_internal.h"
#include "job/job.h"
#include "scheduler/engine.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define REFUSALS_SHOWN 5 /* refused jobs whose messages err holds; the others are counted */

struct bulk {
	struct control *c;
	struct job **jobs; /* in the array's order; NULL once given to the registry */
	size_t n;
	size_t *order;     /* indexes into jobs, parents first */
	size_t ordered;
	struct control_bulk_result *results;
	struct strmap *index; /* name -> index + 1, while the request's JSON lives */
	char *by;
	int64_t now;
	control_bulk_answer_fn answer;
	void *actx;
};

static void bulk_free(struct bulk *b)
{
	for (size_t i = 0; i < b->n; i++)
		job_free(b->jobs[i]);
	free(b->jobs);
	free(b->order);
	free(b->results);
	strmap_free(b->index);
	free(b->by);
	free(b);
}

/* The messages of refused jobs, gathered into the caller's err. */
struct refusals {
	char *err;
	size_t errlen, used, count;
};

static void refuse(struct refusals *r, size_t i, const char *name, const char *msg)
{
	int n;

	if (r->count++ >= REFUSALS_SHOWN || r->used >= r->errlen)
		return;
	if (name)
		n = snprintf(r->err + r->used, r->errlen - r->used, "%sjobs[%zu] '%s': %s", r->used ? "; " : "", i, name,
		    msg);
	else
		n = snprintf(r->err + r->used, r->errlen - r->used, "%sjobs[%zu]: %s", r->used ? "; " : "", i, msg);
	r->used = n < 0 ? r->errlen : r->used + (size_t)n;
}

static int refused(struct refusals *r)
{
	if (r->count > REFUSALS_SHOWN && r->used < r->errlen)
		snprintf(r->err + r->used, r->errlen - r->used, "; and %zu more refused", r->count - REFUSALS_SHOWN);
	return r->count ? -EINVAL : 0;
}

/* The job name will be once the array is written (the array's, else the registry's); NULL when there is none.
 * *refused: the array names it, but refused it (its children are not refused for it too). */
static const struct job *will_be(const struct bulk *b, const char *name, bool *refused)
{
	uintptr_t at = (uintptr_t)strmap_get(b->index, name);
	const struct jobrec *rec;

	*refused = at && b->jobs[at - 1] == NULL;
	if (at)
		return b->jobs[at - 1];
	rec = registry_get(b->c->cfg.reg, name);
	return rec ? rec->job : NULL;
}

/* Parse the array and check each job on its own; the names into the index. */
static int parse_all(struct bulk *b, json_t *root, struct refusals *r)
{
	char msg[512];

	b->n = json_array_size(root);
	b->jobs = xcalloc(b->n ? b->n : 1, sizeof(*b->jobs));
	for (size_t i = 0; i < b->n; i++) {
		json_t *name = json_object_get(json_array_get(root, i), "name");
		struct job *j = control_parse_job_value(b->c, json_array_get(root, i), msg, sizeof(msg));
		uintptr_t twin;

		if (j == NULL) {
			refuse(r, i, json_is_string(name) ? json_string_value(name) : NULL, msg);
			if (json_is_string(name) && strmap_get(b->index, json_string_value(name)) == NULL)
				strmap_put(b->index, json_string_value(name), (void *)(uintptr_t)(i + 1)); /* (root lives on) */
			continue;
		}
		b->jobs[i] = j;
		if ((twin = (uintptr_t)strmap_put(b->index, j->name, (void *)(uintptr_t)(i + 1))) != 0) {
			snprintf(msg, sizeof(msg), "name: also the name of jobs[%zu]", (size_t)twin - 1);
			refuse(r, i, j->name, msg);
		}
	}
	return r->count ? -EINVAL : 0;
}

/* One step of the walk over parents: a job, and the next of its parents to look at. */
struct frame {
	const struct job *job;
	uint32_t next;
};

#define GRAY ((void *)1)  /* on the walk's path */
#define BLACK ((void *)2) /* done: its ancestors have no cycle */

/* "a -> b -> a": the path's jobs from the one named to, then to again. */
static void cycle_path(const struct frame *stack, size_t depth, const char *to, char *out, size_t len)
{
	size_t from = depth, used = 0;

	while (from > 0 && strcmp(stack[from - 1].job->name, to) != 0)
		from--;
	for (size_t k = from ? from - 1 : 0; k < depth && used < len; k++)
		used += (size_t)snprintf(out + used, len - used, "%s -> ", stack[k].job->name);
	if (used < len)
		snprintf(out + used, len - used, "%s", to);
}

/* Walk up from the array's job i (iteratively: chains may be long): unknown parents and cycles refused, the
 * array's jobs appended to the order as they are done, so parents come first. */
static void walk(struct bulk *b, size_t i, struct strmap *color, struct frame **stack, size_t *cap,
    struct refusals *r)
{
	char msg[768], path[512];
	size_t depth = 0;
	bool told = false, refused_parent;

	if (b->jobs[i] == NULL || strmap_get(color, b->jobs[i]->name))
		return;
	(*stack)[depth++] = (struct frame){b->jobs[i], 0};
	strmap_put(color, b->jobs[i]->name, GRAY);
	while (depth > 0) {
		struct frame *f = &(*stack)[depth - 1];
		const struct job *p;
		const char *pname;
		void *seen;

		if (f->next == f->job->n_parents) {
			uintptr_t at = (uintptr_t)strmap_get(b->index, f->job->name);
			strmap_put(color, f->job->name, BLACK);
			if (at && b->jobs[at - 1] == f->job)
				b->order[b->ordered++] = at - 1;
			depth--;
			continue;
		}
		pname = f->job->parents[f->next++];
		if ((p = will_be(b, pname, &refused_parent)) == NULL) {
			if (!refused_parent && !told) {
				snprintf(msg, sizeof(msg), "parents: job '%s' has unknown parent '%s'", f->job->name, pname);
				refuse(r, i, b->jobs[i]->name, msg);
				told = true;
			}
			continue;
		}
		if ((seen = strmap_get(color, p->name)) == BLACK)
			continue;
		if (seen == GRAY) {
			if (!told) {
				cycle_path(*stack, depth, p->name, path, sizeof(path));
				snprintf(msg, sizeof(msg), "parents: a dependency cycle: %s", path);
				refuse(r, i, b->jobs[i]->name, msg);
				told = true;
			}
			continue;
		}
		if (depth == *cap) {
			*cap *= 2;
			*stack = xrealloc(*stack, *cap * sizeof(**stack));
		}
		(*stack)[depth++] = (struct frame){p, 0};
		strmap_put(color, p->name, GRAY);
	}
}

/* The parents and cycles of every job, and the order to write them in. */
static int order_all(struct bulk *b, struct refusals *r)
{
	struct strmap *color = strmap_new();
	size_t cap = 64;
	struct frame *stack = xcalloc(cap, sizeof(*stack));

	b->order = xcalloc(b->n ? b->n : 1, sizeof(*b->order));
	for (size_t i = 0; i < b->n; i++)
		walk(b, i, color, &stack, &cap, r);
	free(stack);
	strmap_free(color);
	return refused(r);
}

static void tell(struct bulk *b, int status)
{
	if (b->answer)
		b->answer(b->actx, status, status < 0 ? NULL : b->results, status < 0 ? 0 : b->n);
}

static void bulk_done(void *ctx, int status)
{
	struct bulk *b = ctx;
	struct jobrec **recs;
	enum event_type *types;

	if (status < 0) {
		log_warnx_kv(LOG_FIELDS(.event = "store.error", .remote = b->by), "%zu jobs from %s could not be saved (%s)",
		    b->n, b->by, strerror(-status));
		tell(b, status);
		bulk_free(b);
		return;
	}
	/* into the registry parents first, then the engine at once (their schedule progress in one transaction),
	 * then told */
	recs = xcalloc(b->ordered ? b->ordered : 1, sizeof(*recs));
	types = xcalloc(b->ordered ? b->ordered : 1, sizeof(*types));
	for (size_t k = 0; k < b->ordered; k++) {
		size_t i = b->order[k];
		recs[k] = control_job_stored(b->c, b->jobs[i], b->by, &types[k]);
		b->jobs[i] = NULL;
		b->results[i] = (struct control_bulk_result){recs[k]->job->name, types[k] == EVENT_JOB_CREATED};
	}
	engine_jobs_changed(b->c->cfg.engine, recs, b->ordered, b->now);
	for (size_t k = 0; k < b->ordered; k++)
		control_tell_job(b->c, types[k], recs[k]->job);
	free(types);
	free(recs);
	tell(b, 0);
	bulk_free(b);
}

int control_put_jobs_then(struct control *c, const char *body, size_t len, bool dry_run,
    const struct control_who *by, char *err, size_t errlen, control_bulk_answer_fn answer, void *actx)
{
	struct refusals r = {.err = err, .errlen = errlen};
	struct state_txn *t;
	json_error_t jerr;
	json_t *root;
	struct bulk *b;
	int rc;

	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	if ((root = json_loadb(body, len, 0, &jerr)) == NULL) {
		snprintf(err, errlen, "invalid JSON at line %d, column %d: %s", jerr.line, jerr.column, jerr.text);
		return -EINVAL;
	}
	if (!json_is_array(root) || json_array_size(root) > CONTROL_BULK_MAX) {
		snprintf(err, errlen, "jobs: expected an array of at most %d jobs", CONTROL_BULK_MAX);
		json_decref(root);
		return -EINVAL;
	}
	b = xcalloc(1, sizeof(*b));
	*b = (struct bulk){.c = c, .index = strmap_new(), .by = xstrdup(by->remote), .now = clock_now(c->cfg.clock),
		.answer = answer, .actx = actx};
	(void)parse_all(b, root, &r);
	rc = order_all(b, &r); /* the refused too: every message at once */
	strmap_free(b->index); /* (it borrows names from root) */
	b->index = NULL;
	json_decref(root);
	if (rc < 0) {
		bulk_free(b);
		return rc;
	}
	b->results = xcalloc(b->n ? b->n : 1, sizeof(*b->results));
	if (dry_run || b->n == 0) {
		for (size_t i = 0; i < b->n; i++)
			b->results[i] = (struct control_bulk_result){b->jobs[i]->name,
				registry_get(c->cfg.reg, b->jobs[i]->name) == NULL};
		tell(b, 0);
		bulk_free(b);
		return 0;
	}
	if ((rc = engine_change_begin(c->cfg.engine, &t)) < 0) {
		control_state_error(c, rc, "save the jobs", err, errlen);
		bulk_free(b);
		return rc == -EAGAIN ? -EBUSY : rc; /* (the engine's earlier commit in flight) */
	}
	for (size_t k = 0; k < b->ordered && rc == 0; k++) {
		rc = control_write_job(c, t, b->jobs[b->order[k]], b->now);
		if (rc == 0)
			rc = control_audit_job_put(c, t, by, b->jobs[b->order[k]]);
	}
	if (rc < 0) {
		state_abort(t);
		control_state_error(c, rc, "save the jobs", err, errlen);
		bulk_free(b);
		return rc;
	}
	if ((rc = engine_change_commit(c->cfg.engine, t, bulk_done, b)) < 0)
		control_state_error(c, rc, "save the jobs", err, errlen);
	return rc;
}
