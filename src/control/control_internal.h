/* Private to the control's files (control.c: lifetime and reads; control_jobs.c: put and delete; control_runs.c:
 * run now, kill, mark success, task status). */
#ifndef GNOMON_CONTROL_CONTROL_INTERNAL_H
#define GNOMON_CONTROL_CONTROL_INTERNAL_H

#include "control/control.h"
#include "scheduler/events.h"

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

#endif
