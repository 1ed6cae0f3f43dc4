/* Creating, replacing and deleting jobs: validated, stored (committed) before they change what the engine
 * schedules, then told to the event hub. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control/control_internal.h"
#include "job/job.h"
#include "job/job_json.h"
#include "schedule/schedule.h"
#include "scheduler/engine.h"
#include "scheduler/registry.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

struct jobrec *control_find(const struct control *c, const char *name, char *err, size_t errlen)
{
	struct jobrec *rec = registry_get(c->cfg.reg, name);
	if (rec == NULL)
		snprintf(err, errlen, "Job '%s' not found", name);
	return rec;
}

void control_tell_job(const struct control *c, enum event_type type, const struct job *job)
{
	struct event ev = {.type = type, .job = job, .job_name = job->name};
	events_emit(c->cfg.events, &ev);
}

/* Parse and check a posted job; returns the job, or NULL with the message. */
static struct job *parse_posted(struct control *c, const char *body, size_t len, enum control_put_kind kind,
    char *err, size_t errlen)
{
	struct job *job = job_from_json(body, len, c->cfg.defaults, clock_now(c->cfg.clock), err, errlen);
	struct schedule sched;

	if (job == NULL)
		goto bad;
	job_drop_uris_mirror(job);
	if (job_validate(job, err, errlen) < 0)
		goto bad;
	if (kind == CONTROL_PUT_DEPENDENT && !job->dependent) {
		snprintf(err, errlen, "parents: required: a dependent job names the jobs it runs after");
		goto bad;
	}
	if (job->dependent) {
		if (job->n_parents == 0) {
			snprintf(err, errlen, "parents: a dependent job needs at least one parent");
			goto bad;
		}
		if (registry_check_parents(c->cfg.reg, job, err, errlen) < 0)
			goto bad;
	} else if (schedule_parse(c->cfg.zones, job->schedule, job->schedule_time_zone, clock_now(c->cfg.clock), &sched, err,
		       errlen) < 0) {
		goto bad;
	}
	return job;
bad:
	job_free(job);
	return NULL;
}

int control_put_job(struct control *c, const char *body, size_t len, enum control_put_kind kind, const char *by,
    char *err, size_t errlen)
{
	struct job *job;
	struct jobrec *rec;
	enum event_type type;
	char *json;
	int rc;

	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	if ((job = parse_posted(c, body, len, kind, err, errlen)) == NULL)
		return -EINVAL;
	json = job_to_json_string_sparse(job);
	rc = store_put_job(c->cfg.store, job->name, json);
	free(json);
	if (rc < 0) {
		snprintf(err, errlen, "store: could not save the job: %s", store_errmsg(c->cfg.store));
		job_free(job);
		return rc;
	}
	type = registry_get(c->cfg.reg, job->name) ? EVENT_JOB_UPDATED : EVENT_JOB_CREATED;
	log_info_kv(LOG_FIELDS(.event = type == EVENT_JOB_CREATED ? "job.created" : "job.updated", .job = job->name,
			.remote = by), "job '%s' %s by %s", job->name, type == EVENT_JOB_CREATED ? "created" : "updated", by);
	rec = registry_put(c->cfg.reg, job);
	engine_job_changed(c->cfg.engine, rec);
	control_tell_job(c, type, rec->job);
	return 0;
}

/* The job a child becomes when its parent `gone` is deleted (Chronos's re-parenting): a dependent parent's
 * parents are inherited; a scheduled parent's schedule and zone are taken over, whatever other parents the child
 * had (Chronos turns every dependency child of a deleted schedule-based job into a schedule-based one). */
static struct job *reparented(const struct job *child, const struct job *gone)
{
	struct job *j = job_dup(child);
	const char **parents;
	size_t n = 0;

	if (!gone->dependent) {
		job_set_schedule(j, gone->schedule, gone->schedule_time_zone);
		return j;
	}
	parents = xcalloc(child->n_parents + gone->n_parents + 1, sizeof(*parents));
	for (uint32_t i = 0; i < child->n_parents; i++)
		if (strcmp(child->parents[i], gone->name) != 0)
			parents[n++] = child->parents[i];
	for (uint32_t i = 0; i < gone->n_parents; i++)
		parents[n++] = gone->parents[i];
	job_set_parents(j, parents, n);
	free(parents);
	return j;
}

/* Store the re-parented children and the deletion in one transaction; *children gets the n new child jobs. */
static int store_deletion(struct control *c, const struct jobrec *rec, struct job ***children, uint32_t *n)
{
	struct store *store = c->cfg.store;
	uint32_t count = rec->node.nchildren;
	int rc;

	*children = count ? xcalloc(count, sizeof(**children)) : NULL;
	*n = 0;
	if ((rc = store_begin(store)) < 0)
		goto out;
	for (; *n < count && rc == 0; (*n)++) {
		struct job *child = reparented(registry_rec(rec->node.children[*n])->job, rec->job);
		char *json = job_to_json_string_sparse(child);
		(*children)[*n] = child;
		rc = store_put_job(store, child->name, json);
		free(json);
	}
	if (rc == 0)
		rc = store_delete_job(store, rec->job->name);
	if (rc == 0)
		rc = store_commit(store);
out:
	if (rc < 0) {
		store_rollback(store);
		for (uint32_t i = 0; i < *n; i++)
			job_free((*children)[i]);
		free(*children);
		*children = NULL;
		*n = 0;
	}
	return rc;
}

int control_delete_job(struct control *c, const char *name, const char *by, char *err, size_t errlen)
{
	struct jobrec *rec = control_find(c, name, err, errlen);
	struct job **children;
	uint32_t n;
	int rc;

	if (rec == NULL)
		return -ENOENT;
	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	if ((rc = store_deletion(c, rec, &children, &n)) < 0) {
		snprintf(err, errlen, "store: could not delete the job: %s", store_errmsg(c->cfg.store));
		return rc;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct job *child = children[i];
		const struct log_fields *f = LOG_FIELDS(.event = "job.updated", .job = child->name, .remote = by);
		if (child->dependent)
			log_info_kv(f, "job '%s' deleted: its child '%s' now runs after %u parent(s)", rec->job->name,
			    child->name, child->n_parents);
		else
			log_info_kv(f, "job '%s' deleted: its child '%s' takes over its schedule '%s'", rec->job->name,
			    child->name, child->schedule);
	}
	/* Re-parent from the copy: registry_put changes rec's child list. */
	for (uint32_t i = 0; i < n; i++) {
		struct jobrec *child = registry_put(c->cfg.reg, children[i]);
		engine_job_changed(c->cfg.engine, child);
		control_tell_job(c, EVENT_JOB_UPDATED, child->job);
	}
	free(children);
	log_info_kv(LOG_FIELDS(.event = "job.deleted", .job = rec->job->name, .remote = by), "job '%s' deleted by %s",
	    rec->job->name, by);
	control_tell_job(c, EVENT_JOB_DELETED, rec->job);
	engine_job_removed(c->cfg.engine, rec);
	registry_remove(c->cfg.reg, name);
	return 0;
}
