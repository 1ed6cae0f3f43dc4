/* Private to the engine's files (engine.c: slots and recovery; engine_run.c: queue, starts and outcomes). */
#ifndef GNOMON_SCHEDULER_ENGINE_INTERNAL_H
#define GNOMON_SCHEDULER_ENGINE_INTERNAL_H

#include <stdbool.h>

#include "scheduler/engine.h"
#include "scheduler/heap.h"
#include "store/runs.h"

struct exec_task;
struct strmap;

/* A run the engine holds: queued, waiting for a retry, running, or an async task awaiting its status. */
struct run {
	struct run_record rec;      /* as stored */
	struct engine *e;
	struct exec_task *task;     /* while the process runs */
	struct heap_node wait;      /* retry delay: keyed by rec.not_before_ms in engine.retries */
	struct run *next;           /* run queue link */
	struct run *all_prev, *all_next; /* every run the engine holds */
	char *override;             /* a manual run's arguments, NULL: the job's own */
	bool high;                  /* highPriority */
	bool queued;                /* in the run queue */
	bool awaiting_async;        /* the process ended with 0; the task reports its status itself */
	bool async_reported;        /* the task reported its status before its process ended */
	int async_code;
};

struct engine {
	uv_loop_t *loop;
	uv_timer_t timer;
	uv_timer_t prune_timer;     /* history retention, hourly */
	int open_handles;
	struct registry *reg;
	struct store *store;
	struct schedule_zones *zones;
	struct engine_config cfg;
	struct heap jobs;           /* struct jobrec.fire: next fire time of each scheduled job */
	struct heap retries;        /* struct run.wait */
	struct strmap *runs;        /* task id -> struct run, every run the engine holds */
	struct run *all;            /* the same runs, as a list */
	char *user, *home;          /* the server's own account, for tasks that run as it */
	struct run *queue_head[2], *queue_tail[2]; /* [1]: highPriority */
	size_t queue_len[2];
	int running;
	int64_t armed_ms;           /* when the timer fires next, INT64_MAX when idle */
	bool stopping;
	bool dispatching;
};

int64_t engine_now_ms(void);
/* Re-arm the timer for the earliest of the next fire time and the next retry. */
void engine_arm(struct engine *e);
/* Save a job (after its counters, schedule or disabled flag changed) in the open transaction or on its own. */
int engine_save_job(struct engine *e, struct jobrec *rec) __attribute__((warn_unused_result));

/* engine_run.c */
struct run *run_new(struct engine *e, const struct jobrec *rec, int64_t due_ms, int attempt,
    enum run_trigger trigger, const char *arguments);
void run_free(struct run *r);
/* Put a claimed run in the queue (or as the job's pending slot) and start what can start. */
void run_enqueue(struct engine *e, struct run *r);
/* Start queued runs while runners are free. */
void run_dispatch(struct engine *e);
/* Retries whose delay has passed move to the queue. */
void run_release_retries(struct engine *e, int64_t now);
/* Resume one open run found in the store at start-up. */
void run_recover(struct engine *e, const struct run_record *rec);
void run_stop_all(struct engine *e);
/* Apply the history retention to every job's runs and remove the pruned runs' files. */
void run_prune_history(struct engine *e);

#endif
