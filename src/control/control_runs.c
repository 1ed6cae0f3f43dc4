/* Commands on a job's runs: run now, kill, mark success, an async task's status. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "control/control_internal.h"
#include "history/run_record.h"
#include "job/job.h"
#include "job/task_id.h"
#include "scheduler/engine.h"
#include "scheduler/registry.h"
#include "util/json_text.h"
#include "util/log.h"

/* A command's audit entry, written by the engine in the command's transaction once it knows the task id. */
struct run_audit {
	const struct control *c;
	const struct control_who *who;
	const char *action, *job, *arguments;
};

static int write_run_audit(void *ctx, struct state_txn *t, const char *task_id)
{
	struct run_audit *a = ctx;
	json_t *o = json_pack("{s:o}", "taskId", json_text(task_id));
	char *after;
	int rc;

	if (a->arguments)
		json_object_set_new(o, "arguments", json_text(a->arguments));
	after = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rc = after ? control_audit(a->c, t, a->who, a->action, a->job, NULL, after) : -ENOMEM;
	free(after);
	return rc;
}

int control_run_now(struct control *c, const char *name, const char *arguments, const struct control_who *by,
    char *err, size_t errlen)
{
	struct jobrec *rec = control_find(c, name, err, errlen);
	struct run_audit a = {c, by, "job.run", name, arguments};

	if (rec == NULL)
		return -ENOENT;
	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	return engine_run_now(c->cfg.engine, rec, arguments, by->remote, &(struct engine_extra){write_run_audit, &a},
	    err, errlen);
}

/* The task ids of a job's runs the engine holds, as a JSON array. */
struct held_runs {
	const char *job;
	json_t *ids;
};

static void add_held_run(void *ctx, const struct run_record *r)
{
	struct held_runs *h = ctx;
	if (strcmp(r->job, h->job) == 0)
		json_array_append_new(h->ids, json_text(r->task_id));
}

int control_kill(struct control *c, const char *name, const struct control_who *by, int *killed, char *err,
    size_t errlen)
{
	struct jobrec *rec = control_find(c, name, err, errlen);
	struct held_runs held = {name, NULL};
	json_t *o;
	char *before;
	int rc;

	*killed = 0;
	if (rec == NULL)
		return -ENOENT;
	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	/* Its entry first, in a transaction of its own: the kill's ends are the engine's, in several. */
	held.ids = json_array();
	control_foreach_run(c, add_held_run, &held);
	o = json_pack("{s:o}", "taskIds", held.ids); /* takes held.ids */
	before = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	rc = before ? control_audit_alone(c, by, "job.kill", name, before, NULL) : -ENOMEM;
	free(before);
	if (rc < 0) {
		control_state_error(c, rc, "record the kill", err, errlen);
		return rc;
	}
	*killed = engine_kill_job(c->cfg.engine, rec);
	log_info_kv(LOG_FIELDS(.event = "job.killed", .job = rec->job->name, .remote = by->remote),
	    "job '%s': %d run(s) killed on request of %s", rec->job->name, *killed, by->remote);
	return 0;
}

int control_mark_success(struct control *c, const char *name, const struct control_who *by, char *err,
    size_t errlen)
{
	struct jobrec *rec = control_find(c, name, err, errlen);
	struct run_audit a = {c, by, "job.success", name, NULL};
	int rc;

	if (rec == NULL)
		return -ENOENT;
	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	if ((rc = engine_mark_success(c->cfg.engine, rec, &(struct engine_extra){write_run_audit, &a})) < 0) {
		control_state_error(c, rc, "record the success", err, errlen);
		return rc;
	}
	log_info_kv(LOG_FIELDS(.event = "job.marked_success", .job = rec->job->name, .remote = by->remote),
	    "job '%s' marked successful by %s", rec->job->name, by->remote);
	control_tell_job(c, EVENT_JOB_STATE, rec->job);
	return 0;
}

int control_task_status(struct control *c, const char *task_id, int status_code, const struct control_who *by,
    char *err, size_t errlen)
{
	struct task_id id;
	int rc;

	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	rc = engine_task_status(c->cfg.engine, task_id, status_code, err, errlen);
	if (rc == 0)
		log_info_kv(LOG_FIELDS(.event = "run.status_reported", .job = task_id_parse(task_id, &id) == 0 ?
				id.job_name : NULL, .task_id = task_id, .remote = by->remote),
		    "run %s reported status %d from %s", task_id, status_code, by->remote);
	return rc;
}
