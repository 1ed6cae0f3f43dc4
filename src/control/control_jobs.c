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
#include "state/state.h"
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

/* Check a parsed job as a post is checked (known_parents: its parents must be in the registry); returns it, or
 * NULL (freed) with the message. */
static struct job *check_posted(struct control *c, struct job *job, enum control_put_kind kind, bool known_parents,
    char *err, size_t errlen)
{
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
		if (known_parents && registry_check_parents(c->cfg.reg, job, err, errlen) < 0)
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

/* Parse and check a posted job; returns the job, or NULL with the message. */
static struct job *parse_posted(struct control *c, const char *body, size_t len, enum control_put_kind kind,
    char *err, size_t errlen)
{
	return check_posted(c, job_from_json(body, len, c->cfg.defaults, clock_now(c->cfg.clock), err, errlen), kind,
	    true, err, errlen);
}

struct job *control_parse_job_value(struct control *c, json_t *root, char *err, size_t errlen)
{
	return check_posted(c, job_from_json_value(root, c->cfg.defaults, clock_now(c->cfg.clock), err, errlen),
	    CONTROL_PUT_ANY, false, err, errlen);
}

/* Write a job's definition and its outcome (the counters a client may post) in t. A new job posted without
 * counters has no outcome yet (its definition's zeros hold): one row less to write. */
int control_write_job(struct control *c, struct state_txn *t, const struct job *job, int64_t now)
{
	struct state_progress p;
	struct state_outcome o = engine_job_outcome(job);
	bool fresh = registry_get(c->cfg.reg, job->name) == NULL && o.success_count == 0 && o.error_count == 0 &&
	    o.errors_since_last_success == 0 && o.last_success_ms == JOB_TIME_NONE && o.last_error_ms == JOB_TIME_NONE;
	char *json = job_to_json_string_sparse(job);
	int rc = state_put_job(t, job->name, json);

	free(json);
	/* a new cron job's progress goes with it: a restart counts its slots from the same instant */
	if (rc == 0 && engine_job_progress_new(c->cfg.engine, job, registry_get(c->cfg.reg, job->name), now, &p))
		rc = state_put_progress(t, job->name, &p);
	return rc < 0 || fresh ? rc : state_put_outcome(t, job->name, &o);
}

int control_audit_job_put(const struct control *c, struct state_txn *t, const struct control_who *who,
    const struct job *job)
{
	const struct jobrec *prev = registry_get(c->cfg.reg, job->name);
	char *before = prev ? job_to_json_string_sparse(prev->job) : NULL, *after = job_to_json_string_sparse(job);
	const char *action = prev == NULL ? "job.create" :
	    prev->job->disabled != job->disabled ? (job->disabled ? "job.disable" : "job.enable") :
						   "job.update";
	int rc = control_audit(c, t, who, action, job->name, before, after);

	free(before);
	free(after);
	return rc;
}

/* A job put, being committed: scheduled once it is durable. */
struct put {
	struct control *c;
	struct job *job;
	char *by;
	int64_t now; /* when it was written */
	control_answer_fn answer;
	void *actx;
};

struct jobrec *control_job_stored(struct control *c, struct job *job, const char *by, enum event_type *type)
{
	*type = registry_get(c->cfg.reg, job->name) ? EVENT_JOB_UPDATED : EVENT_JOB_CREATED;
	log_info_kv(LOG_FIELDS(.event = *type == EVENT_JOB_CREATED ? "job.created" : "job.updated", .job = job->name,
			.remote = by), "job '%s' %s by %s", job->name, *type == EVENT_JOB_CREATED ? "created" : "updated",
	    by);
	return registry_put(c->cfg.reg, job);
}

void control_job_saved(struct control *c, struct job *job, int64_t now, const char *by)
{
	enum event_type type;
	struct jobrec *rec = control_job_stored(c, job, by, &type);

	engine_job_changed(c->cfg.engine, rec, now);
	control_tell_job(c, type, rec->job);
}

static void put_done(void *ctx, int status)
{
	struct put *p = ctx;

	if (status < 0) {
		log_warnx_kv(LOG_FIELDS(.event = "store.error", .job = p->job->name, .remote = p->by),
		    "job '%s' from %s could not be saved (%s)", p->job->name, p->by, strerror(-status));
		job_free(p->job);
	} else {
		control_job_saved(p->c, p->job, p->now, p->by);
	}
	if (p->answer)
		p->answer(p->actx, status);
	free(p->by);
	free(p);
}

int control_put_job(struct control *c, const char *body, size_t len, enum control_put_kind kind,
    const struct control_who *by, char *err, size_t errlen)
{
	int rc = control_put_job_then(c, body, len, kind, by, err, errlen, NULL, NULL);
	return rc == -EBUSY ? -EAGAIN : rc;
}

int control_put_job_then(struct control *c, const char *body, size_t len, enum control_put_kind kind,
    const struct control_who *by, char *err, size_t errlen, control_answer_fn answer, void *actx)
{
	struct state_txn *t = NULL;
	struct job *job;
	struct put *p;
	int64_t now;
	int rc;

	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	if ((job = parse_posted(c, body, len, kind, err, errlen)) == NULL)
		return -EINVAL;
	now = clock_now(c->cfg.clock);
	if ((rc = engine_change_begin(c->cfg.engine, &t)) < 0 || (rc = control_write_job(c, t, job, now)) < 0 ||
	    (rc = control_audit_job_put(c, t, by, job)) < 0) {
		if (t)
			state_abort(t);
		control_state_error(c, rc, "save the job", err, errlen);
		job_free(job);
		return rc == -EAGAIN ? -EBUSY : rc; /* (the engine's earlier commit in flight) */
	}
	p = xcalloc(1, sizeof(*p));
	p->c = c;
	p->job = job;
	p->by = xstrdup(by->remote);
	p->now = now;
	p->answer = answer;
	p->actx = actx;
	if ((rc = engine_change_commit(c->cfg.engine, t, put_done, p)) < 0)
		control_state_error(c, rc, "save the job", err, errlen);
	return rc;
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

/* A deletion, being committed: its children re-parented, then the job removed, once it is durable. */
struct deletion {
	struct control *c;
	char *name;
	char *by;
	struct job **children; /* the re-parented children, n */
	uint32_t n;
	int64_t now;           /* when it was written */
	control_answer_fn answer;
	void *actx;
};

/* Tell the answer (status), then free d. */
static void deletion_free(struct deletion *d, int status)
{
	if (d->answer)
		d->answer(d->actx, status);
	for (uint32_t i = 0; i < d->n; i++)
		job_free(d->children[i]);
	free(d->children);
	free(d->name);
	free(d->by);
	free(d);
}

static void deletion_done(void *ctx, int status)
{
	struct deletion *d = ctx;
	struct control *c = d->c;
	struct jobrec *rec = registry_get(c->cfg.reg, d->name);
	const char *by = d->by;

	if (status < 0 || rec == NULL) {
		if (status < 0)
			log_warnx_kv(LOG_FIELDS(.event = "store.error", .job = d->name, .remote = by),
			    "job '%s' could not be deleted (%s)", d->name, strerror(-status));
		deletion_free(d, status);
		return;
	}
	for (uint32_t i = 0; i < d->n; i++) {
		struct job *child = d->children[i];
		const struct log_fields *f = LOG_FIELDS(.event = "job.updated", .job = child->name, .remote = by);
		if (child->dependent)
			log_info_kv(f, "job '%s' deleted: its child '%s' now runs after %u parent(s)", d->name, child->name,
			    child->n_parents);
		else
			log_info_kv(f, "job '%s' deleted: its child '%s' takes over its schedule '%s'", d->name,
			    child->name, child->schedule);
	}
	/* Re-parent from the copy: registry_put changes rec's child list. */
	for (uint32_t i = 0; i < d->n; i++) {
		struct jobrec *child = registry_put(c->cfg.reg, d->children[i]);
		engine_job_changed(c->cfg.engine, child, d->now);
		control_tell_job(c, EVENT_JOB_UPDATED, child->job);
	}
	d->n = 0;
	log_info_kv(LOG_FIELDS(.event = "job.deleted", .job = d->name, .remote = by), "job '%s' deleted by %s", d->name,
	    by);
	control_tell_job(c, EVENT_JOB_DELETED, rec->job);
	engine_job_removed(c->cfg.engine, rec);
	registry_remove(c->cfg.reg, d->name);
	deletion_free(d, 0);
}

int control_delete_job(struct control *c, const char *name, const struct control_who *by, char *err, size_t errlen)
{
	int rc = control_delete_job_then(c, name, by, err, errlen, NULL, NULL);
	return rc == -EBUSY ? -EAGAIN : rc;
}

int control_delete_job_then(struct control *c, const char *name, const struct control_who *by, char *err,
    size_t errlen, control_answer_fn answer, void *actx)
{
	struct jobrec *rec = control_find(c, name, err, errlen);
	struct deletion *d;
	struct state_txn *t;
	int rc;

	if (rec == NULL)
		return -ENOENT;
	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	if ((rc = engine_change_begin(c->cfg.engine, &t)) < 0) {
		control_state_error(c, rc, "delete the job", err, errlen);
		return rc == -EAGAIN ? -EBUSY : rc; /* (the engine's earlier commit in flight) */
	}
	/* The re-parented children and the deletion, in one transaction. */
	d = xcalloc(1, sizeof(*d));
	d->c = c;
	d->name = xstrdup(name);
	d->by = xstrdup(by->remote);
	d->now = clock_now(c->cfg.clock);
	d->children = rec->node.nchildren ? xcalloc(rec->node.nchildren, sizeof(*d->children)) : NULL;
	for (; d->n < rec->node.nchildren && rc == 0; d->n++) {
		struct job *child = reparented(registry_rec(graph_children(&rec->node)[d->n])->job, rec->job);
		d->children[d->n] = child;
		rc = control_write_job(c, t, child, d->now);
	}
	if (rc == 0)
		rc = state_delete_job(t, name);
	if (rc == 0) {
		char *before = job_to_json_string_sparse(rec->job);
		rc = control_audit(c, t, by, "job.delete", name, before, NULL);
		free(before);
	}
	if (rc < 0) {
		state_abort(t);
		deletion_free(d, 0); /* (no answer yet: none is told) */
	} else {
		d->answer = answer;
		d->actx = actx;
		rc = engine_change_commit(c->cfg.engine, t, deletion_done, d);
	}
	if (rc < 0)
		control_state_error(c, rc, "delete the job", err, errlen);
	return rc;
}
