/* Private to the engine's files (engine.c: slots and recovery; engine_run.c: queue and starts; engine_finish.c:
 * outcomes; engine_commit.c: transactions; engine_retention.c: history retention). */
#ifndef GNOMON_SCHEDULER_ENGINE_INTERNAL_H
#define GNOMON_SCHEDULER_ENGINE_INTERNAL_H

#include <assert.h>
#include <stdbool.h>

#include "graph/graph.h"
#include "schedule/schedule.h"
#include "scheduler/engine.h"
#include "scheduler/heap.h"
#include "scheduler/registry.h"
#include "history/run_record.h"

struct clock;
struct clock_timer;
struct job;
struct runner_event;
struct runner_result;
struct runner_start;
struct runner_task;
struct state_txn;
struct commit_ticket;
struct strmap;

/* --history-max-runs is applied to the jobs whose runs ended within this long, together. */
#define PRUNE_SOON_MS 1000

/* How long the engine waits before it tries a store write again that failed (the disk was full, the database
 * could not be reached). */
#define RETRY_AFTER_STORE_ERROR_MS 1000

/* A run the engine holds: queued, waiting for a retry, running, or an async task awaiting its status. */
struct run {
	struct run_record rec;      /* as stored */
	struct engine *e;
	struct runner_task *task;   /* from its start (accepted by the runner) to its end */
	struct heap_node wait;      /* in engine.retries: a retry's delay (rec.not_before_ms), or the deadline of
	                             * an async task awaiting its status (start + maxCompletionTime) */
	struct run *next;           /* run queue link, or engine.blocked link */
	struct run *all_prev, *all_next; /* every run the engine holds */
	char *override;             /* a manual run's arguments (and its retries'), NULL: the job's own */
	enum run_trigger origin;    /* what triggered attempt 0 of the slot: a retry of a manual run is manual */
	bool high;                  /* highPriority */
	bool queued;                /* in the run queue */
	bool orphan;                /* its job was deleted (a new job may take the name): it ends on its own */
	bool blocked;               /* a due retry of a non-concurrent job waiting in engine.blocked for it to be free */
	bool no_retry;              /* it failed in a way a retry cannot change (a container job where none can run) */
	bool awaiting_async;        /* the process ended with 0; the task reports its status itself */
	bool async_reported;        /* the task reported its status before its process ended */
	bool unrecorded;            /* it ended (rec.status, rec.reason), but the commit of its end failed: it waits
	                             * in engine.retries to be recorded again, and its runner keeps its result */
	bool ending;                /* the commit of its end is in flight: nothing else may end it */
	int async_code;
	int64_t async_at_ms;        /* when it reported */
};

/* The engine's runtime state of one job (struct jobrec.rt), in the room its record has for it: set up and cleared
 * through registry_set_runtime()'s hooks. */
struct job_rt {
	struct heap_node fire;      /* in engine.jobs: next fire time of a scheduled job */
	struct schedule sched;      /* parsed schedule, valid when has_sched */
	int64_t cron_last_due;      /* cron: the last slot handled (persisted) */
	int64_t last_fired;         /* when it last fired (ISO with a zero period: each firing is its own slot); while
	                             * fresh, when it was written instead */
	struct run *pending;        /* a non-concurrent job's slot waiting for the previous run */
	uint32_t running : 29;      /* runs started and not ended */
	uint32_t recovering : 1;    /* it has open runs the start's reconciliation has not given back yet: a
	                             * non-concurrent job is busy until then, other jobs run meanwhile */
	uint32_t has_sched : 1;
	uint32_t fresh : 1;         /* created or changed since it last fired: slots due before last_fired were never
	                             * missed */
	uint32_t queued;            /* runs in the run queue */
	struct graph_round round;   /* dependent job: the parents that succeeded since it last ran */
};
static_assert(sizeof(struct job_rt) <= REGISTRY_RT_BYTES && _Alignof(struct job_rt) <= _Alignof(struct jobrec),
    "a job's runtime state fits in its record's room for it");

struct engine {
	struct clock *clock;        /* cfg.clock */
	struct clock_timer *timer;  /* the next fire time or retry (armed_ms); started with 0 while due jobs wait for
	                             * the next turn of the loop (more) */
	struct clock_timer *prune_timer; /* history retention, hourly */
	bool more;                  /* due jobs wait for the next turn of the loop */
	struct clock_timer *prune_soon; /* --history-max-runs for the jobs whose runs just ended, within PRUNE_SOON_MS */
	char **prune_jobs;          /* those jobs (owned), each once */
	struct strmap *prune_set;   /* the same names, to find them (keys borrowed from prune_jobs) */
	size_t n_prune_jobs, cap_prune_jobs;
	struct registry *reg;
	struct state *state;
	struct commit_ticket *inflight; /* the engine's commit in flight (engine_commit.c), NULL: none */
	bool deferred;              /* something waited for it: kick runs once it completed */
	struct clock_timer *kick;   /* fires what waited for a commit (fire_due) */
	struct schedule_zones *zones;
	struct engine_config cfg;
	struct heap jobs;           /* struct job_rt.fire: next fire time of each scheduled job */
	struct heap retries;        /* struct run.wait */
	struct strmap *runs;        /* task id -> struct run, every run the engine holds */
	struct run *all;            /* the same runs, as a list */
	struct run *queue_head[2], *queue_tail[2]; /* [1]: highPriority */
	size_t queue_len[2];
	struct run *blocked;        /* due retries of busy non-concurrent jobs, oldest first */
	int running;
	int64_t armed_ms;           /* when the timer fires next, INT64_MAX when idle */
	bool stopping;
	struct recovery *recovery;  /* the start's reconciliation, while the runner has not answered (engine_recover.c) */
	int recovering;             /* the open runs it asked the runner about: counted as running until it answers */
	bool dispatching;
};

/* Re-arm the timer for the earliest of the next fire time and the next retry. */
void engine_arm(struct engine *e);
/* Write a job's outcome (counters, disabled) in t. */
int engine_save_outcome(struct engine *e, struct state_txn *t, const struct jobrec *rec)
    __attribute__((warn_unused_result));

/* engine_commit.c: the engine's transactions, one in flight at a time. A commit's continuation: finish gets the
 * final status (-ECANCELED: the engine stops; free what it holds and touch nothing else) and frees c. */
struct engine_commit {
	void (*finish)(struct engine *e, struct engine_commit *c, int status);
};
/* Begin the engine's next transaction: 0, -EBUSY when one is in flight (the caller comes back to its work when
 * the kick timer fires: a slot's fire is retried, a run's end recorded again), or the state's error. */
int engine_begin(struct engine *e, struct state_txn **t) __attribute__((warn_unused_result));
/* Commit t; c->finish is called when it completes (maybe before this returns). */
void engine_commit(struct engine *e, struct state_txn *t, struct engine_commit *c);
/* engine_commit for a request answered at once: the commit's final status when it completed before this returns
 * (SQLite), else 0 (taken; the continuation logs a failure). */
int engine_commit_answer(struct engine *e, struct state_txn *t, struct engine_commit *c)
    __attribute__((warn_unused_result));
/* The engine stops: the commit in flight (if any) is finished with -ECANCELED now, and its completion ignored. */
void engine_commit_cancel(struct engine *e);
/* Commit a write nothing waits for and nothing puts back (a run's status, a kill request): its failure is logged
 * with what, and a restart reconciles. */
void engine_commit_quiet(struct state_txn *t, const char *what);


/* engine_run.c: the runs held, the queue, starts; engine_finish.c: a run's end (run_finish()) */
struct run *run_new(struct engine *e, const struct jobrec *rec, int64_t due_ms, int attempt,
    enum run_trigger trigger, const char *arguments);
void run_free(struct run *r);
/* The job of a run, NULL when it was deleted (even if another job now has its name). */
struct jobrec *run_jobrec(const struct engine *e, const struct run *r);
/* Claim (in t) a run due now that is not tied to a slot (manual, dependency): a task id already taken moves it
 * to the next millisecond. NULL with *rc (-EEXIST: no free id, -EIO) when it could not be recorded. */
struct run *run_claim_now(struct engine *e, struct state_txn *t, const struct jobrec *rec, enum run_trigger trigger,
    const char *arguments, const char *parents, int *rc);
/* Put a claimed run in the queue (or as the job's pending slot) and start what can start. */
void run_enqueue(struct engine *e, struct run *r);
/* Whether a run of rec claimed now could start at once: a runner is free, nothing waits in the queue, the job is
 * not busy. Its claim may then record it as starting, and run_start_claimed spawn it without another commit. */
bool run_can_start_now(const struct engine *e, const struct jobrec *rec);
/* Spawn runs claimed (committed) as starting, one after the other, then record them as running in one
 * transaction. runs is reordered. */
void run_start_claimed(struct engine *e, struct run **runs, size_t n);
/* Start queued runs while runners are free. */
void run_dispatch(struct engine *e);
/* Retries whose delay has passed move to the queue. */
void run_release_retries(struct engine *e, int64_t now);
/* Stop holding a run (it ended, and its end is recorded). */
void run_forget(struct engine *e, struct run *r);
/* A run of rec left (ended, or gave its runner back): its job's waiting slot or blocked retry may go. */
void run_job_next(struct engine *e, struct jobrec *rec);
/* Record a run's status change in a transaction of its own that nothing waits for (a failure is logged). */
void run_save(struct engine *e, struct run *r);
/* Start holding a run: findable by task id and in the list of runs. */
void run_hold(struct engine *e, struct run *r);
/* Record a run's end with its job's new counters (and a retry) in one transaction, then let the job's next
 * run and the queue move; the runner is told, for a run that was started. Frees r. */
void run_finish(struct engine *e, struct run *r, enum run_status status, const char *reason);
/* The runner says a started run ended (it counts as running until then): record it. Frees r (or keeps it
 * awaiting an async job's status). */
void run_ended(struct engine *e, struct run *r, const struct runner_result *res);
/* The runner's events (struct runner_listener's on_event). */
void run_on_runner_event(void *ctx, const struct runner_event *ev);

/* engine_launch.c: start n runs through the runner as one batch; out[i] says how runs[i] was taken (the
 * events of each task carry its run as ctx). */
void run_launch_many(struct engine *e, struct run *const *runs, size_t n, struct runner_start *out);

/* The reason of a running run whose kill was requested, stored before its process is signalled: a restart then
 * records it as killed, not lost. */
#define RUN_KILL_REQUESTED "kill requested"

/* engine_recover.c: resume every open run found in the store at start-up: queued runs and retries wait again;
 * for runs that were starting or running, the runner is asked what became of their tasks (reconciled): one
 * still running is adopted, one that ended is recorded as it ended, one that is gone is recorded as lost (or
 * killed, when a kill had been requested). Then resumed(e) is called (from inside, with runner_local; later with a
 * runner that waits for its agents). Returns 0 or -EIO (resumed is not called then). */
int run_recover_all(struct engine *e, void (*resumed)(struct engine *e)) __attribute__((warn_unused_result));
/* The engine stops while its recovery waits for the runner (which, detached, will not answer): forget it. */
void run_recover_cancel(struct engine *e);
/* Forget every run (the engine stops; their tasks are the runner's). */
void run_stop_all(struct engine *e);
/* engine_retention.c: history retention. */
/* Apply the history retention to every job's runs and remove what the pruned runs left (output, kept working
 * directory). */
void run_prune_history(struct engine *e);
/* Apply the audit trail's retention (audit_max_age_ms), in a transaction of its own beside the engine's; when the
 * state cannot take one now, the next round does. */
void run_prune_audit(struct engine *e);
/* Apply --history-max-runs to a job whose run just ended: within PRUNE_SOON_MS, after the transaction that
 * recorded the end, in one prune with the other jobs whose runs ended meanwhile. */
void run_prune_job_soon(struct engine *e, const char *job);
/* The prune_soon timer's callback (ctx: the engine): --history-max-runs for the jobs run_prune_job_soon() named. */
void run_prune_soon(void *ctx);

/* engine_events.c: what the subscribers of cfg.events are told. */
/* A run was queued or started (and its job's state changed). */
void engine_tell_run(struct engine *e, const struct jobrec *rec, const struct run_record *run);
/* A run ended; rec NULL when its job is gone. retrying: a retry is scheduled; was_disabled and errors_before:
 * the job's disabled flag and errors since its last success before the outcome was applied. */
void engine_tell_outcome(struct engine *e, const struct jobrec *rec, const struct run_record *run, bool retrying,
    bool was_disabled, int64_t errors_before);
/* A finite schedule's last slot was missed: the job is now disabled. */
void engine_tell_exhausted(struct engine *e, const struct jobrec *rec);
/* Slots were recorded as skipped without ever being held (missed while the server was down or busy). */
void engine_tell_skipped(struct engine *e, const struct jobrec *rec, const struct run_record *run);

/* engine_deps.c: dependency rounds. */
struct round_undo;
struct run_list {
	struct run **v;
	size_t n, cap;
	size_t starting; /* of them claimed as starting: spawned right after the commit */
	struct round_undo *undo; /* the children's rounds as they were, put back if the commit fails */
	size_t n_undo, cap_undo;
};
/* parent's run task_id counts as a success for its children: inside the open transaction, record it in each
 * enabled child's round and claim a run for every child whose round it completes (added to out, to enqueue after
 * the commit). Returns 0 or -EIO. */
int deps_parent_done(struct engine *e, struct state_txn *t, struct jobrec *parent, const char *task_id,
    struct run_list *out) __attribute__((warn_unused_result));
/* Enqueue (after a commit) or free (after a rollback) the claimed child runs, and empty the list. */
void deps_release(struct engine *e, struct run_list *list, bool committed);
/* Load the stored rounds into the jobs (start-up). */
int deps_load(struct engine *e) __attribute__((warn_unused_result));
/* A job's parents may have changed: forget round entries of parents it no longer has. */
void deps_job_changed(struct engine *e, struct jobrec *rec);

#endif
