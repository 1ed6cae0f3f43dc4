/* The scheduling engine (leader only): fires scheduled slots from a min-heap of next fire times, queues and
 * starts runs through the runner (runner/runner.h), retries failures, records every attempt in the state (state/state.h)
 * before acting on it, and resumes after a crash from what the state holds and the runner reports. It owns the runtime
 * state of the jobs in the registry; everything runs on the loop thread. It knows no process, account, working
 * directory or output file: those are the runner's (and the output's, history/run_output.h). */
#ifndef GNOMON_SCHEDULER_ENGINE_H
#define GNOMON_SCHEDULER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "state/state.h"

struct clock;
struct engine;
struct events;
struct job;
struct jobrec;
struct state_progress;
struct metrics;
struct registry;
struct run_output;
struct history;
struct state;
struct state_txn;
struct run_record;
struct runner;
struct schedule;
struct schedule_zones;

struct engine_config {
	const char *hostname;        /* recorded as each run's host */
	int max_running;             /* runs at once; more wait in the queue (highPriority first) */
	int64_t failure_retry_ms;    /* delay before a retry (Chronos --failure_retry) */
	int disable_after_failures;  /* 0: never */
	int history_max_runs;        /* per job; 0: no count limit */
	int64_t history_max_age_ms;  /* 0: no age limit */
	int64_t audit_max_age_ms;    /* the audit trail's retention (state_prune_audit); 0: kept for ever */
	int64_t prune_interval_ms;   /* how often retention runs (history and audit); 0: hourly */
	int64_t kill_grace_ms;       /* SIGTERM to SIGKILL */
	size_t log_cap;              /* bytes kept at the head and at the tail of each output stream */
	struct clock *clock;         /* the time it decides by, and its timers (borrowed; clock_uv, or simulated) */
	uint64_t epoch;              /* the leader's epoch, carried by every start (state_raise_epoch) */
	struct runner *runner;       /* runs the tasks (borrowed; the engine listens to it from engine_start() to
	                              * engine_stop()) */
	struct history *history;     /* ended runs (the state's history: state_end_run records them), pruned
	                              * after the commit that recorded them (borrowed) */
	struct run_output *output;   /* the runs' captured output: removed with their records (borrowed) */
	struct metrics *metrics;     /* counters and histograms of runs (borrowed) */
	struct events *events;       /* told about runs and job outcomes (borrowed; NULL: nobody) */
	/* Whether the wall clock may be trusted now (NULL: always). Asked before each firing: false and nothing is
	 * fired, retried or skipped (the due slots wait, looked at again every ENGINE_CLOCK_RETRY_MS), so that a
	 * leader whose clock just stepped fires nothing early and skips nothing before it steps down. */
	bool (*clock_trusted)(void *ctx);
	void *clock_ctx;
};

#define ENGINE_CLOCK_RETRY_MS 100

/* An engine over the state (borrowed): it writes the open runs, the jobs' progress and outcomes, the rounds
 * and the ended runs there. */
struct engine *engine_new(struct registry *reg, struct state *state, struct schedule_zones *zones,
    const struct engine_config *cfg);
/* Resume from the store (open runs, cron progress) and the runner (what became of the tasks the store says
 * were running), then schedule every job. Returns 0 or a negative errno. */
int engine_start(struct engine *e) __attribute__((warn_unused_result));
/* Stop firing, stop listening to the runner (its tasks go on; freeing the runner ends them, and a restart
 * records them as lost), and free the engine (its clock's timers may need the loop to run to be closed). Not from
 * inside one of the engine's own calls. */
void engine_stop(struct engine *e);

/* Changes made outside the engine (jobs put or deleted, through control) are committed through it, one at a time
 * with its own, so that its memory and the state never disagree by more than one commit: begin answers 0 with
 * *t, -EAGAIN while a commit is in flight (try again: with SQLite it never is), or the state's error. */
int engine_change_begin(struct engine *e, struct state_txn **t) __attribute__((warn_unused_result));
/* Commit a change begun so: done(ctx, status) when it completes (maybe before this returns; -ECANCELED: the
 * engine stopped first). Returns the final status when it completed before returning, else 0. */
int engine_change_commit(struct engine *e, struct state_txn *t, void (*done)(void *ctx, int status), void *ctx)
    __attribute__((warn_unused_result));

/* A job's outcome (Chronos's counters and its disabled flag), as the state stores it; and the same put into a
 * job (a commit that failed, or a job loaded with its stored state). */
struct state_outcome engine_job_outcome(const struct job *j);
void engine_job_set_outcome(struct job *j, const struct state_outcome *o);

/* A job was created or replaced (already stored and in the registry): reschedule it. since_ms: when the change
 * was written (a new cron job counts its slots from then; its writer stored that as its progress, see
 * engine_job_progress_new). */
void engine_job_changed(struct engine *e, struct jobrec *rec, int64_t since_ms);
/* The same for n jobs at once (a bulk put): their schedule progress saved in one transaction. */
void engine_jobs_changed(struct engine *e, struct jobrec *const *recs, size_t n, int64_t since_ms);
/* The progress a job written at now_ms starts with, to store with it: a cron job that was not one before (prev
 * NULL: a new job; else the job it replaces) counts its slots from now_ms. Returns true when p is to be written. */
bool engine_job_progress_new(struct engine *e, const struct job *job, const struct jobrec *prev, int64_t now_ms,
    struct state_progress *p);
/* A job is about to be deleted: kill and forget its runs. */
void engine_job_removed(struct engine *e, struct jobrec *rec);

/* Run a job now with optional arguments (NULL: the job's own); does not move its schedule. The run is logged
 * as requested by `by` (the caller's address), before it starts. Returns 0, -EINVAL (arguments that do not split
 * into words) or the store's error (-ENOSPC: the disk is full), with err. */
/* What a command writes with its own writes, in its transaction (the audit trail's entry: control.h): fn(ctx, t,
 * task_id) with the task id the command made. NULL: nothing. */
struct engine_extra {
	int (*fn)(void *ctx, struct state_txn *t, const char *task_id);
	void *ctx;
};
int engine_run_now(struct engine *e, struct jobrec *rec, const char *arguments, const char *by,
    const struct engine_extra *extra, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Kill the job's running tasks and cancel its queued runs and retries; returns how many runs were ended. */
int engine_kill_job(struct engine *e, struct jobrec *rec);
/* Count a success for the job as if a run had succeeded (PUT /job/success/{name}). Returns 0, or the store's
 * error (-ENOSPC: the disk is full). */
int engine_mark_success(struct engine *e, struct jobrec *rec, const struct engine_extra *extra)
    __attribute__((warn_unused_result));
/* An async task reports its end (PUT /v1/scheduler/task/{taskId} {"statusCode": n}). -ENOENT: no such
 * running task. */
int engine_task_status(struct engine *e, const char *task_id, int status_code, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Up to n next fire times of a job as the engine will run them (the slot due now if it is within the job's
 * epsilon, then the coming ones, from its anchor or cron progress) into out; returns how many (0 for dependent,
 * disabled or exhausted jobs) or < 0. The times are in the zone of the job's parsed schedule. */
int engine_job_next_fires(struct engine *e, const struct jobrec *rec, int64_t *out, int n)
    __attribute__((warn_unused_result));

/* A job's runs started and not ended, and its runs queued (a slot waiting for the previous run included). */
void engine_job_load(const struct jobrec *rec, uint32_t *running, uint32_t *queued);
/* A job's parsed schedule (borrowed until the job changes), NULL when it has none (dependent, unparsable). */
const struct schedule *engine_job_schedule(const struct jobrec *rec);
/* True while the engine holds the run (queued, waiting, running or awaiting its async status). */
/* Whether the engine still waits for its runner's reconciliation (a remote runner waits for its agents): the
 * open runs it found at its start are not its own until then. */
bool engine_recovering(const struct engine *e);
bool engine_run_active(const struct engine *e, const char *task_id);
/* "idle", "queued", "running" or "<n> running", as Chronos's job states. */
const char *engine_job_state(const struct jobrec *rec, char *buf, size_t len);
/* Runs in progress (processes, and async tasks awaiting their status). */
int engine_running(const struct engine *e);
/* The next time a scheduled job fires (UTC ms), INT64_MAX when it is not scheduled. */
int64_t engine_job_next_fire(const struct jobrec *rec);
/* The next fires of all jobs, soonest first: up to n (at most 1000) jobs into recs and their times into at;
 * returns how many. */
size_t engine_upcoming(const struct engine *e, size_t n, struct jobrec **recs, int64_t *at);
/* The fires of the scheduled jobs in [from, to] as the engine will run them, soonest first: fire() for each of
 * those of the jobs want() takes, at most max. Walks the engine's heap of next fires, so jobs that do not fire
 * before to cost nothing. Returns 0 when all were given, 1 when it stopped short (max reached, or the bound on
 * the fire times it computes), fire()'s non-zero return, or < 0 when a schedule could not be computed. */
struct engine_fires_query {
	int64_t from, to;
	size_t max;
	bool (*want)(void *ctx, const struct jobrec *rec);
	int (*fire)(void *ctx, const struct jobrec *rec, int64_t at);
	void *ctx;
};
int engine_fires(struct engine *e, const struct engine_fires_query *q) __attribute__((warn_unused_result));
/* Call fn for every run the engine holds: queued, waiting for a retry or its slot, running. */
void engine_foreach_run(const struct engine *e, void (*fn)(void *ctx, const struct run_record *r), void *ctx);
/* Runs waiting in the queue (Chronos's TaskManager queue sizes). */
size_t engine_queue_size(const struct engine *e, int high_priority);

#endif
