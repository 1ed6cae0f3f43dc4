/* Pure builders of a task's environment and argv, as Chronos gave them to its tasks. No I/O, no clock. */
#ifndef GNOMON_EXEC_EXEC_ENV_H
#define GNOMON_EXEC_EXEC_ENV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One NAME=value pair; the same layout as the job model's environmentVariables entries. */
struct exec_env_var {
	const char *name;
	const char *value;
};

/* Everything the environment of one task is made of; NULL strings count as "". */
struct exec_env_input {
	const char *task_id;   /* mesos_task_id, MESOS_TASK_ID, GNOMON_TASK_ID */
	const char *job_name;  /* CHRONOS_JOB_NAME */
	const char *job_owner; /* CHRONOS_JOB_OWNER */
	const char *hostname;  /* HOST */
	double mem, cpus, disk;     /* CHRONOS_RESOURCE_MEM, _CPU, _DISK, as Java's Double.toString */
	int64_t run_time_ms;        /* CHRONOS_JOB_RUN_TIME: the due millis of the task id */
	uint32_t attempt;           /* CHRONOS_JOB_RUN_ATTEMPT */
	const char *user;           /* USER and LOGNAME: the run-as user */
	const char *home;           /* HOME of that user; NULL or "": "/" */
	const struct exec_env_var *extra; /* more fixed variables (GNOMON_PARENT_TASK_IDS, ...) */
	size_t n_extra;
	const struct exec_env_var *job_env; /* the job's environmentVariables */
	size_t n_job_env;
};

/* Build a task's environment, in this order:
 * 1. fixed: Chronos's variables, GNOMON_TASK_ID, then the extra variables;
 * 2. defaults: PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin, HOME, USER, LOGNAME,
 *    LANG=C.UTF-8;
 * 3. the job's variables. A job variable named like a fixed variable is ignored (Chronos); one named like a
 *    default replaces it (Mesos tasks inherited PATH, HOME, ... from the agent, and jobs set them); a later job
 *    variable replaces an earlier one of the same name; names that are empty or contain '=' are ignored.
 * Returns a NULL-terminated envp in ONE allocation the caller frees with free(). */
char **exec_env_build(const struct exec_env_input *in);

/* Build a job's argv in ONE allocation the caller frees with free(). shell: {"/bin/sh", "-c", "command args..."}
 * with the arguments appended after a space each (Chronos); else {command, args...}, command being the
 * executable (exec_start() looks it up in the task's PATH when it has no slash). */
char **exec_argv_build(const char *command, const char *const *args, size_t nargs, bool shell);

/* Format a double as Java's Double.toString does: "128.0", "0.1", "1.0E-4", "1.5E7". out needs 32 bytes. */
void exec_format_double(double v, char *out, size_t outlen);

#endif
