/* Chronos task ids, `ct:<dueMillis>:<attempt>:<jobName>:<arguments>`: the idempotency key of one attempt of
 * one run slot, used by the store, the agents and the task's environment. */
#ifndef GNOMON_JOB_TASK_ID_H
#define GNOMON_JOB_TASK_ID_H

#include <stdint.h>

#include "job/job.h"

struct task_id {
	int64_t due_ms;
	int attempt;
	char job_name[JOB_NAME_MAX + 1];
	const char *arguments;  /* points into the parsed id string; "" when none */
};

/* Returns `ct:<due_ms>:<attempt>:<job_name>:<arguments>` with every ';' removed from arguments (NULL means
 * none); the caller frees it. */
char *task_id_format(int64_t due_ms, int attempt, const char *job_name, const char *arguments);
/* Returns the arguments of a run of j, the caller frees them: override when non-NULL (a manual run's
 * `arguments`), else the job's arguments joined by spaces; every ';' removed either way. */
char *task_id_arguments(const struct job *j, const char *override);
/* Remove every ';' from s in place; returns s. */
char *task_id_strip_semicolons(char *s);
/* Parse an id with Chronos's full-match regex `ct:(\d+):(\d+):([\w\.-]+):?(.*)?`. Returns 0, or -EINVAL when
 * it does not match (or the numbers overflow, or the name is longer than JOB_NAME_MAX). out->arguments
 * borrows from id. */
int task_id_parse(const char *id, struct task_id *out) __attribute__((warn_unused_result));

#endif
