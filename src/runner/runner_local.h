/* The embedded agent: a runner (runner/runner.h) that runs the engine's tasks on this machine, as child processes
 * of the server, through exec (posix_spawn in a process group of their own, capped capture, deadline, kill). It
 * holds what the engine does not know: the server's own account and the runAsUser check, each task's argv and
 * environment, its working directory (DATA_DIR/work/<name>, history/run_name.h, removed or kept as --keep-work-dirs
 * says, on the work-dirs thread), its output files (the writer's side of history/run_output_files.h), its process,
 * and after a restart the processes an earlier server left behind (found in /proc by the GNOMON_TASK_ID and
 * GNOMON_DATA_DIR of their environment; they cannot be watched any more, so reconciling kills them). It keeps the
 * ends that come while no listener is attached in memory, for the next reconciliation; it has no journal on disk
 * yet, so after a crash of the server what it can say of a task is what /proc still shows. Container jobs run
 * through the runtime given (runner_local_container.c); without one they are refused at once, as permanent. */
#ifndef GNOMON_RUNNER_RUNNER_LOCAL_H
#define GNOMON_RUNNER_RUNNER_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "exec/container.h"
#include "history/run_name.h"
#include "runner/runner.h"
#include "runner/workdirs.h"

/* What became of a run whose working directory a crash or a stop left in work/, as the history says. */
struct runner_past {
	bool ended;                 /* it ended (else it is still open: its recovery handles it) */
	enum runner_outcome outcome; /* ended */
	char *job, *task_id;        /* ended: for the log, allocated by the callback, freed by the runner */
};

/* 0 with *out filled, -ENOENT when the history has no such run, or another negative errno when it cannot tell
 * (the directory then stays). */
typedef int (*runner_past_fn)(void *ctx, const char *task_id, struct runner_past *out);

struct runner_local_config {
	const char *data_dir;       /* work/ is created there; logs/ must exist (run_output_files_new()) */
	const char *executor;       /* the gnomon-executor binary; NULL: the one beside this process's binary */
	bool stop_tasks_on_exit;    /* runner_free() kills the running tasks (--stop-tasks-on-exit); else they go on
	                             * under their executors, and the next runner on this data directory adopts them */
	const char *hostname;       /* HOST in each task's environment */
	const char *agent_id;       /* GNOMON_AGENT in each task's environment (NULL or "": not set) */
	unsigned spawn_threads;     /* the tasks of one batch are spawned this many at a time (0 or 1: one by one,
	                             * on the loop thread) */
	enum workdirs_keep keep_work_dirs;  /* whose working directories are kept when they end */
	int64_t keep_work_dirs_max; /* bytes the kept ones may use together (0: no cap) */
	runner_past_fn past;        /* asked about what work/ holds at start-up (NULL: nothing is swept) */
	run_legacy_fn legacy;       /* the task ids of earlier releases' work/<row id> directories, which the sweep
	                             * renames (NULL: they are left alone) */
	void *past_ctx;             /* of past and legacy */
	const struct container_runtime *containers; /* what runs container tasks (copied); NULL: nothing */
	bool enforce_resources;     /* each task in a cgroup of its own with its job's mem and cpus as limits
	                             * (exec/cgroup.h), where the host allows (--enforce-resources) */
	uint64_t task_pids_max;     /* the pids limit of each task's cgroup (--task-pids-max; 0: none) */
	const char *lease_file;     /* a gnomon agent's lease (exec_lease.h): each task is killed when it lapses, and
	                             * ends lost; NULL: none (the embedded agent) */
};

/* Create the runner: work/ (0711: each task's account reaches its own directory), the server's account, the
 * spawn threads and the work-dirs thread, which gets what a crash or a stop left in work/ (the directories of
 * ended runs are removed or kept as if those runs had just ended, oldest first; those of runs the history no
 * longer has are removed; those of open runs wait for their recovery; a directory without its task file stays;
 * those of earlier releases, named by row id, are renamed first when cfg->legacy is set). 0, or a
 * negative errno with a message in err. */
int runner_local_new(uv_loop_t *loop, const struct runner_local_config *cfg, struct runner **out, char *err,
    size_t errlen) __attribute__((warn_unused_result));

struct cgroup_host;
/* How r (of runner_local_new()) enforces resources: the cgroups it found at start-up (version CGROUP_NONE when
 * its tasks get none: why says why, "--enforce-resources=false" when turned off). */
void runner_local_cgroups(const struct runner *r, struct cgroup_host *out);

#endif
