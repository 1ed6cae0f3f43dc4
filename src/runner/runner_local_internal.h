/* Private to the embedded agent's files (runner_local.c: starts, events, kills; runner_local_recover.c: what a
 * restart finds in /proc and in work/). */
#ifndef GNOMON_RUNNER_RUNNER_LOCAL_INTERNAL_H
#define GNOMON_RUNNER_RUNNER_LOCAL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/container.h"
#include "exec/cgroup.h"
#include "exec/exec.h"
#include "runner/runner.h"
#include "runner/runner_local.h"

struct ctr_proc;
struct spawn_pool;
struct workdirs;

/* One task it started: running, or ended while nobody listened. Its struct runner_task * is this. */
struct local_task {
	struct local *l;
	struct exec_task *exec;      /* while its process runs */
	char *task_id;
	void *ctx;                   /* the listener's, NULL once detached */
	bool ended;                  /* ended unheard: result is kept until runner_release() */
	struct runner_result result;
	struct local_task *prev, *next;
};

struct local {
	struct runner base;
	uv_loop_t *loop;
	struct runner_listener listener;
	bool listening;
	struct exec_user self;       /* the server's account, looked up once (spawn threads read it) */
	char *data_dir;
	char *data_dir_abs;          /* GNOMON_DATA_DIR of every task: a restart kills only this server's tasks */
	char *executor;              /* the gnomon-executor binary every task runs under */
	char *hostname;
	char *agent_id;             /* GNOMON_AGENT, "" for none */
	char *lease_file;            /* every task's executor checks this lease (exec_lease.h); NULL: none */
	struct spawn_pool *pool;     /* NULL: one by one */
	struct workdirs *workdirs;
	struct local_task *tasks;    /* running or ended unheard, newest first */
	bool stop_tasks_on_exit;
	uint64_t epoch;              /* the highest seen */
	struct container_runtime ctr; /* how it runs container tasks (kind NONE: it cannot, ctr.why says why) */
	struct ctr_proc *ctr_procs;  /* the runtime's rm and ps it waits for (runner_local_container.c) */
	struct cgroup_host cg;       /* the tasks' cgroups (version NONE: none), fixed since the start */
	uint64_t pids_max;           /* of each task's cgroup */
};

/* A local_task as the interface's handle, and back. */
#define LOCAL_HANDLE(t) ((struct runner_task *)(void *)(t))
#define LOCAL_TASK(h) ((struct local_task *)(void *)(h))

/* Whether epoch may act (it is at least the highest seen, which it then becomes). */
bool local_epoch_ok(struct local *l, uint64_t epoch);
/* A task it holds, linked (newest first), with its listener's ctx. */
struct local_task *local_task_add(struct local *l, const char *task_id, void *ctx);
/* Unlink and free a task it holds (no exec task any more). */
void local_task_drop(struct local *l, struct local_task *t);
/* exec's callbacks of a task (ctx: its struct local_task). */
void local_on_exit(void *ctx, struct exec_task *task, const struct exec_result *res);
/* How exec saw a task end, in the interface's terms. */
void local_result_of(const struct exec_result *res, struct runner_result *out);
/* Beside a task's journal: its server killed it when it stopped (--stop-tasks-on-exit), so its KILLED result is
 * reported lost. */
#define LOCAL_STOPPED_SUFFIX WORKDIRS_STOPPED_SUFFIX
/* A task's journal prefix (exec.h): DATA_DIR/work/<name>, its .pid and .result beside its .task. */
void local_journal(const struct local *l, const char *task_id, char *out, size_t len);

/* runner_local_container.c */
#define LOCAL_CONTAINER_ENV_FILE ".container-env" /* in a container task's working directory */
/* Each volume's hostPath as it resolves on this host (symbolic links followed), against the host paths the agent
 * lets containers mount (container_run_argv() checks the path as given). 0, or -EACCES with err. */
int local_container_host_paths(const struct local *l, const char *container, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Write the variables of envp that go into the task's container (all but PATH, HOME, USER, LOGNAME and LANG,
 * unless the job sets them) to path (0600, the task's account's), one NAME=VALUE a line as --env-file reads
 * them, and make *clean the runtime's own environment (one allocation): PATH, LANG and XDG_RUNTIME_DIR of the
 * agent, the account's HOME, and GNOMON_TASK_ID and GNOMON_DATA_DIR (a restart finds its processes by them).
 * 0, or -errno with err (a value with a newline, which the file cannot hold: -EINVAL). */
int local_container_env(const struct runner_spec *s, const struct exec_account *account, char *const *envp,
    const char *path, char ***clean, char *err, size_t errlen) __attribute__((warn_unused_result));
/* What follows a task's end once its container is removed. */
typedef void (*local_then_fn)(struct local_task *t);
/* Mark a task as a container's (beside its journal), for its end and for a restarted agent. 0, or -errno. */
int local_container_mark(const struct local *l, const char *task_id, char *err, size_t errlen);
/* A container task ended: the runtime's own message goes into its result's reason when the runtime failed, its
 * container is removed, then then(t) runs (on the loop, later). false: not a container task (nothing done). */
bool local_container_ended(struct local *l, struct local_task *t, local_then_fn then);
/* Remove the containers of this data directory that no task here holds (their executor is gone). */
void local_container_sweep(struct local *l);
/* The runner goes: the removals still running finish without calling anything. */
void local_container_forget(struct local *l);

/* runner_local_recover.c */
void local_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids,
    const char *const *agents, size_t n, runner_reconciled_fn done, void *ctx);
/* Hand what a crash or a stop left in work/ to the work-dirs thread (runner_local_new()). */
void local_sweep_work_dirs(struct local *l, runner_past_fn past, run_legacy_fn legacy, void *ctx);

#endif
