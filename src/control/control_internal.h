/* Private to the control's files (control.c: lifetime and reads; control_jobs.c: put and delete; control_runs.c:
 * run now, kill, mark success, task status). */
#ifndef GNOMON_CONTROL_CONTROL_INTERNAL_H
#define GNOMON_CONTROL_CONTROL_INTERNAL_H

#include <jansson.h>

#include "control/control.h"
#include "scheduler/events.h"

struct state_txn;

struct control {
	struct control_config cfg;
};

/* The job named name, or NULL with -ENOENT's message in err. */
struct jobrec *control_find(const struct control *c, const char *name, char *err, size_t errlen);
/* 0 while an engine leads here, else -EAGAIN with a message: commands need the scheduling role. */
int control_need_engine(const struct control *c, char *err, size_t errlen) __attribute__((warn_unused_result));
/* The message of a state error rc while trying to `what` ("save the job"), into err. */
void control_state_error(const struct control *c, int rc, const char *what, char *err, size_t errlen);
/* Tell the event hub about a job. */
void control_tell_job(const struct control *c, enum event_type type, const struct job *job);
/* A job parsed from a JSON value and checked as a post is, except its parents (which may be posted with it): the
 * job, or NULL with the message. */
struct job *control_parse_job_value(struct control *c, json_t *root, char *err, size_t errlen);
/* Write a job (its definition, a new cron job's progress, its posted counters) in t. */
int control_write_job(struct control *c, struct state_txn *t, const struct job *job, int64_t now)
    __attribute__((warn_unused_result));
/* The audit entry of job's put by who (job.create, job.update, job.enable or job.disable, before and after as
 * stored), in t; before the job goes into the registry. */
int control_audit_job_put(const struct control *c, struct state_txn *t, const struct control_who *who,
    const struct job *job) __attribute__((warn_unused_result));
/* A job's write is durable: it goes into the registry (taking job) and the engine, and is logged and told. */
void control_job_saved(struct control *c, struct job *job, int64_t now, const char *by);
/* The first part of that: logged and put into the registry (taking job); *type: created or updated. */
struct jobrec *control_job_stored(struct control *c, struct job *job, const char *by, enum event_type *type);

#endif
