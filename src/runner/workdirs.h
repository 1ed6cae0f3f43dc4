/* Runs' working directories (DATA_DIR/work/<name>, the name made from the task id by history/run_name.h, with
 * the task id in DATA_DIR/work/<name>.task and its executor's journal, <name>.pid and <name>.result, beside it) once their runs end (--keep-work-dirs): removed at once,
 * or kept within a size cap (--keep-work-dirs-max-size), the oldest kept removed first past it. A thread of its
 * own removes and measures them (a run may leave a million files; the loop never waits for that), through
 * util/rmtree: links are never followed out of a directory. What is still queued when the server stops or
 * crashes stays on disk; the embedded agent (runner_local.c) hands it back at the next start-up. */
#ifndef GNOMON_RUNNER_WORKDIRS_H
#define GNOMON_RUNNER_WORKDIRS_H

#include <stdbool.h>
#include <stdint.h>

#define WORKDIRS_NAME_MAX 128         /* a directory's name, with its NUL (history/run_name.h: RUN_NAME_MAX) */
#define WORKDIRS_TASK_SUFFIX ".task"  /* the file beside a directory that holds its run's task id */
/* The executor's journal beside it (exec.h: the journal prefix is work/<name>): removed with the directory. */
#define WORKDIRS_PID_SUFFIX ".pid"
#define WORKDIRS_RESULT_SUFFIX ".result"
#define WORKDIRS_STOPPED_SUFFIX ".stopped" /* the server killed the task when it stopped (--stop-tasks-on-exit) */
#define WORKDIRS_CONTAINER_SUFFIX ".container" /* the task runs a container, named in it (runner_local_container.c) */

enum workdirs_keep {
	WORKDIRS_KEEP_NEVER,  /* remove every run's directory when it ends (the default) */
	WORKDIRS_KEEP_FAILED, /* keep those of runs that ended failed or lost */
	WORKDIRS_KEEP_ALWAYS, /* keep every one */
};

/* "never", "failed" or "always"; returns 0 or -EINVAL. */
int workdirs_keep_parse(const char *name, enum workdirs_keep *out) __attribute__((warn_unused_result));

struct workdirs;

/* Start the thread for the directories under work_dir (which exists). max_bytes: the most the kept ones may
 * use on disk together, 0 for no cap. 0 with *out, or a negative errno (logged). */
int workdirs_new(const char *work_dir, enum workdirs_keep keep, int64_t max_bytes, struct workdirs **out)
    __attribute__((warn_unused_result));
/* Stop the thread once the directory it is on is done, and free everything (the directories still queued
 * stay on disk). NULL is fine. */
void workdirs_free(struct workdirs *w);

/* A run ended (failed: failed or lost): its directory `name` (and its task file) is removed, or kept (measured and
 * counted against the cap). job and task_id name it in the log. At start-up, call it for the directories found of
 * runs that ended, oldest first. */
void workdirs_ended(struct workdirs *w, const char *name, bool failed, const char *job, const char *task_id);
/* Remove a run's directory, kept or not (its history record is gone). */
void workdirs_remove(struct workdirs *w, const char *name);

#endif
