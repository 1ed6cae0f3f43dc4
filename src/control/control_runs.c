/* Commands on a job's runs: run now, kill, mark success, an async task's status. */
#include <errno.h>
#include <stdio.h>

#include "control/control_internal.h"
#include "job/job.h"
#include "job/task_id.h"
#include "scheduler/engine.h"
#include "scheduler/registry.h"
#include "util/log.h"

int control_run_now(struct control *c, const char *name, const char *arguments, const char *by, char *err,
    size_t errlen)
{
	struct jobrec *rec = control_find(c, name, err, errlen);
	if (rec == NULL)
		return -ENOENT;
	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	return engine_run_now(c->cfg.engine, rec, arguments, by, err, errlen);
}

int control_kill(struct control *c, const char *name, const char *by, int *killed, char *err, size_t errlen)
{
	struct jobrec *rec = control_find(c, name, err, errlen);
	*killed = 0;
	if (rec == NULL)
		return -ENOENT;
	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	*killed = engine_kill_job(c->cfg.engine, rec);
	log_info_kv(LOG_FIELDS(.event = "job.killed", .job = rec->job->name, .remote = by),
	    "job '%s': %d run(s) killed on request of %s", rec->job->name, *killed, by);
	return 0;
}

int control_mark_success(struct control *c, const char *name, const char *by, char *err, size_t errlen)
{
	struct jobrec *rec = control_find(c, name, err, errlen);
	int rc;

	if (rec == NULL)
		return -ENOENT;
	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	if ((rc = engine_mark_success(c->cfg.engine, rec)) < 0) {
		control_state_error(c, rc, "record the success", err, errlen);
		return rc;
	}
	log_info_kv(LOG_FIELDS(.event = "job.marked_success", .job = rec->job->name, .remote = by),
	    "job '%s' marked successful by %s", rec->job->name, by);
	control_tell_job(c, EVENT_JOB_STATE, rec->job);
	return 0;
}

int control_task_status(struct control *c, const char *task_id, int status_code, const char *by, char *err,
    size_t errlen)
{
	struct task_id id;
	int rc;

	if (control_need_engine(c, err, errlen) < 0)
		return -EAGAIN;
	rc = engine_task_status(c->cfg.engine, task_id, status_code, err, errlen);
	if (rc == 0)
		log_info_kv(LOG_FIELDS(.event = "run.status_reported", .job = task_id_parse(task_id, &id) == 0 ?
				id.job_name : NULL, .task_id = task_id, .remote = by),
		    "run %s reported status %d from %s", task_id, status_code, by);
	return rc;
}
