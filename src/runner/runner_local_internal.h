/* Private to the embedded agent's files (runner_local.c: starts, events, kills; runner_local_recover.c: what a
 * restart finds in /proc and in work/). */
#ifndef GNOMON_RUNNER_RUNNER_LOCAL_INTERNAL_H
#define GNOMON_RUNNER_RUNNER_LOCAL_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "exec/exec.h"
#include "runner/runner.h"
#include "runner/runner_local.h"

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
	char *hostname;
	struct spawn_pool *pool;     /* NULL: one by one */
	struct workdirs *workdirs;
	struct local_task *tasks;    /* running or ended unheard, newest first */
	uint64_t epoch;              /* the highest seen */
};

/* A local_task as the interface's handle, and back. */
#define LOCAL_HANDLE(t) ((struct runner_task *)(void *)(t))
#define LOCAL_TASK(h) ((struct local_task *)(void *)(h))

/* Whether epoch may act (it is at least the highest seen, which it then becomes). */
bool local_epoch_ok(struct local *l, uint64_t epoch);

/* runner_local_recover.c */
void local_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids, size_t n,
    runner_reconciled_fn done, void *ctx);
/* Hand what a crash or a stop left in work/ to the work-dirs thread (runner_local_new()). */
void local_sweep_work_dirs(struct local *l, runner_past_fn past, run_legacy_fn legacy, void *ctx);

#endif
