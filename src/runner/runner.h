/* The engine's seam to execution (DESIGN.md's `runner`): start tasks, kill them, reconcile what is running with
 * what the engine expects, and hear how each task goes. The engine decides what runs and when; a runner decides
 * where and how. runner_local.h is the embedded agent, which runs tasks on this machine through exec; a remote
 * runner (agents over the network: per-agent queues, placement, leases) and the simulation's runner (random
 * durations, failures, hangs, lost tasks, restarts) implement the same operations.
 *
 * Names. A task is named by its task id (ct:<due ms>:<attempt>:<job>:<arguments>), the idempotency key on every
 * side. A task this runner accepted also has a handle (struct runner_task, opaque), valid until its ENDED event
 * has returned; the engine kills and adopts through the handle.
 *
 * Events. Every task that runner_start_many() accepts gets exactly one RUNNER_EVENT_ENDED, and before it at most one
 * RUNNER_EVENT_STARTING and one RUNNER_EVENT_RUNNING (none of them when the start reported it running already). Events come
 * on the loop thread, to the listener attached at that moment, and never from inside a call to the runner (the
 * engine may call the runner from its callbacks). An end that comes while no listener is attached is kept, and
 * the next runner_reconcile() reports it.
 *
 * Epochs. Every start carries the leader's epoch (standalone: kept in the store and raised at every start; DESIGN.md, "epochs and leases"): a runner
 * refuses a start or a reconciliation whose epoch is lower than the highest it has seen, so a deposed leader
 * cannot start anything once its successor has spoken.
 *
 * Threads: every call on the loop thread. */
#ifndef GNOMON_RUNNER_RUNNER_H
#define GNOMON_RUNNER_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "history/run_output.h"

struct runner;
struct runner_task; /* a backend's handle of one task, opaque */

/* One NAME=value pair of a task's environment (the layout of the job model's environmentVariables). */
struct runner_env {
	const char *name;
	const char *value;
};

/* One of a job's `constraints` (the layout of the job model's struct job_constraint and placement's). */
struct runner_constraint {
	const char *attribute;
	const char *op;
	const char *value;
};

/* What to run, and everything the task is told about itself. Borrowed for the call to runner_start_many():
 * nothing is referenced after it returns but ctx. */
struct runner_spec {
	const char *task_id;       /* names the task everywhere, its output and working directory too */
	uint64_t epoch;            /* of the leader that starts it */
	const char *job;           /* the job's name (CHRONOS_JOB_NAME) */
	const char *owner;         /* CHRONOS_JOB_OWNER */
	int64_t due_ms;            /* the slot's due time (CHRONOS_JOB_RUN_TIME) */
	int attempt;               /* CHRONOS_JOB_RUN_ATTEMPT */
	const char *parents;       /* task ids of the parent runs that triggered it, comma-separated, or "" */
	const char *command;       /* shell: the command line; else the executable */
	const char *const *args;   /* shell: appended to the command after a space each (Chronos); else its argv */
	size_t n_args;
	bool shell;
	const char *container;     /* the job's container as JSON, NULL when it has none */
	const struct runner_env *env; /* the job's environmentVariables */
	size_t n_env;
	const char *run_as_user;   /* NULL or "": the runner's own account */
	double cpus, mem, disk;    /* the job's resources (MiB for mem and disk) */
	const struct runner_constraint *constraints; /* where it may run (Chronos constraints) */
	size_t n_constraints;
	int64_t start_by_ms;       /* wall clock: a task still waiting for an agent then ends RUNNER_END_SKIPPED (a
	                            * slot's due time plus its job's epsilon); 0: it waits as long as it takes */
	uint64_t deadline_ms;      /* maxCompletionTime from its start; 0: none */
	uint64_t grace_ms;         /* SIGTERM to SIGKILL when the deadline passes */
	size_t output_cap;         /* bytes of each output stream kept from its start, and as many from its end */
	void *ctx;                 /* handed back in the task's events */
};

/* How runner_start_many() took one task. */
struct runner_start {
	int rc;                    /* 0: accepted; else a negative errno: it was not started, err says why */
	bool permanent;            /* rc < 0: starting it again cannot succeed (a container job where no agent has a
	                            * container engine): not worth a retry */
	bool running;              /* rc 0: running already (since start_ms, as pid): no RUNNING event follows */
	struct runner_task *task;  /* rc 0: its handle */
	int64_t start_ms;          /* running: wall clock when its process was spawned */
	int64_t pid;               /* running: its process on its machine, for the record and the log; 0: none */
	const char *agent, *host;  /* running: the name and hostname of the agent that runs it (the runner's
	                            * strings, valid until the next call to it) */
	char err[512];
};

enum runner_event_type {
	RUNNER_EVENT_STARTING, /* an agent took it and prepares it (an image pull, say) */
	RUNNER_EVENT_WAITING,  /* no agent can take it now: reason says why; it waits (more WAITING events may
	                        * follow when the reason changes) */
	RUNNER_EVENT_RUNNING,  /* its process runs: start_ms, pid, agent, host */
	RUNNER_EVENT_ENDED,    /* result */
	RUNNER_EVENT_LATE,     /* a result of a task the runner had already ended as lost (its agent fell silent and
	                        * came back): task NULL, ctx NULL, task_id, agent, result; for the record only */
};

/* How a task ended. */
enum runner_end {
	RUNNER_END_EXITED,       /* its process exited: exit_code (-1 when its status was lost: reason says so) */
	RUNNER_END_SIGNALLED,    /* a signal ended it, not one of runner_kill(): term_signal */
	RUNNER_END_TIMED_OUT,    /* its deadline passed and it was killed */
	RUNNER_END_KILLED,       /* runner_kill() ended it */
	RUNNER_END_LOST,         /* nobody can tell how it ended (its agent or an earlier server died): reason */
	RUNNER_END_START_FAILED, /* accepted, then it could not start: reason */
	RUNNER_END_SKIPPED,      /* it waited for an agent past its spec's start_by_ms and never started: reason */
};

struct runner_result {
	enum runner_end end;
	int exit_code;             /* 0-255, -1 when none */
	int term_signal;           /* 0 when none */
	bool core_dumped;
	int64_t start_ms, end_ms;  /* wall clock; 0 when not known */
	int64_t duration_us;       /* monotonic, spawn to reap; -1 when not known */
	int64_t bytes[2];          /* bytes written to stdout and stderr (all of them, also what the cap dropped) */
	int64_t user_cpu_us, system_cpu_us, max_rss_kib; /* resource use; -1 when not known */
	int64_t peak_mem_bytes;    /* the run's peak memory (its cgroup's, else the leader's max RSS); 0 or -1: not
	                            * known. With a cgroup the CPU times are the cgroup's too */
	char reason[256];          /* why, for LOST, START_FAILED and a lost exit status; else "" */
};

struct runner_event {
	enum runner_event_type type;
	struct runner_task *task;
	void *ctx;                 /* the spec's, or runner_adopt()'s; NULL for a task nobody adopted */
	const char *task_id;
	int64_t start_ms, pid;     /* RUNNING */
	const char *agent, *host;  /* RUNNING: the agent that runs it, by name, and its hostname */
	const char *reason;        /* WAITING */
	const struct runner_result *result; /* ENDED */
};

/* Who hears the events (the engine). data of on_output is valid during the call only. */
struct runner_listener {
	void (*on_event)(void *ctx, const struct runner_event *ev);
	/* Optional: each chunk of output as the task writes it, for live followers. */
	void (*on_output)(void *ctx, void *task_ctx, const char *task_id, enum run_stream s, const char *data,
	    size_t len);
	void *ctx;
};

/* What a runner knows of one task when asked to reconcile. */
enum runner_task_state {
	RUNNER_TASK_UNKNOWN, /* no trace of it */
	RUNNER_TASK_RUNNING, /* it runs and its ENDED event will come: adopt it (runner_adopt) to hear it */
	RUNNER_TASK_ENDED,   /* it ended and nobody heard it: result */
};

struct runner_report {
	const char *task_id;
	enum runner_task_state state;
	struct runner_task *task;            /* RUNNING */
	const struct runner_result *result;  /* ENDED */
	const char *agent, *host;            /* RUNNING, ENDED: where it ran (NULL: not known) */
	bool absent; /* UNKNOWN, and certainly never started: the remote agent it was given to answered this epoch's
	              * reconciliation without it (it refuses an older epoch's start from then on). A run that was
	              * only starting may run again */
};

/* The reports of one reconciliation, valid during the call. */
typedef void (*runner_reconciled_fn)(void *ctx, const struct runner_report *reports, size_t n);

/* How the engine recorded the end of a task, which decides what a runner keeps of it (runner_local: its
 * working directory, --keep-work-dirs). */
enum runner_outcome { RUNNER_OUTCOME_SUCCEEDED, RUNNER_OUTCOME_FAILED, RUNNER_OUTCOME_KILLED, RUNNER_OUTCOME_LOST };

/* A task by its names, for the calls that may concern a task that no runner of this process started. */
struct runner_ref {
	const char *task_id;
	const char *job;
};

/* What a backend implements; see the functions below. */
struct runner_ops {
	void (*attach)(struct runner *r, const struct runner_listener *l);
	void (*start_many)(struct runner *r, const struct runner_spec *specs, size_t n, struct runner_start *out);
	int (*kill)(struct runner *r, struct runner_task *t, uint64_t grace_ms);
	void (*reconcile)(struct runner *r, uint64_t epoch, const char *const *task_ids, const char *const *agents,
	    size_t n, runner_reconciled_fn done, void *ctx);
	void (*adopt)(struct runner *r, struct runner_task *t, void *ctx);
	void (*release)(struct runner *r, const struct runner_ref *ref, enum runner_outcome outcome);
	void (*purge)(struct runner *r, const struct runner_ref *ref);
	void (*free)(struct runner *r);
};

/* A backend's state starts with this. */
struct runner {
	const struct runner_ops *ops;
};

/* Send the events to l (copied) from now on; NULL: to nobody. Detaching forgets every task's ctx, and a
 * reconciliation still waiting (for agents) is dropped: its done is never called. */
void runner_attach(struct runner *r, const struct runner_listener *l);
/* Start n tasks, as one batch (runner_local spawns them in parallel on its spawn threads): out[i] says how
 * specs[i] was taken. Tasks refused here get no event. */
void runner_start_many(struct runner *r, const struct runner_spec *specs, size_t n, struct runner_start *out);
/* End a task: SIGTERM, then SIGKILL after grace_ms (0: at once); its ENDED event says RUNNER_END_KILLED, unless it
 * ended otherwise first. 0, or -ESRCH when it is ending already (a second call may only shorten the grace). */
int runner_kill(struct runner *r, struct runner_task *t, uint64_t grace_ms) __attribute__((warn_unused_result));
/* Say what the runner knows of the tasks named (the engine's open runs that were starting or running), one
 * report each, then of any other task it holds; done may be called before this returns (runner_local does) or
 * later (a remote runner waits for its agents, at least a lease). Surviving processes of the named tasks that
 * nobody can watch any more (an earlier server's) are killed and reported ENDED, RUNNER_END_LOST. epoch: the
 * reconciling leader's, at least the highest seen (a lower one gets no report at all). agents (NULL, or NULL
 * entries: not known) name the agent each task was recorded on, which a remote runner waits for (up to its agent
 * timeout) before it calls a task unknown. task_ids and agents are borrowed for the call: a runner that answers
 * later copies them. */
void runner_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids, const char *const *agents,
    size_t n, runner_reconciled_fn done, void *ctx);
/* Hear the events of a reported running task with ctx from now on. */
void runner_adopt(struct runner *r, struct runner_task *t, void *ctx);
/* The engine has recorded the end of a task that was started: the runner forgets what it kept of its end, and
 * cleans up after it by its outcome (runner_local: its working directory is removed, or kept per
 * --keep-work-dirs). Also for a task of an earlier server process. */
void runner_release(struct runner *r, const struct runner_ref *ref, enum runner_outcome outcome);
/* A task's record was removed from the history: remove what the runner still keeps of it (a kept working
 * directory). */
void runner_purge(struct runner *r, const struct runner_ref *ref);
/* Free the runner; tasks still running are ended (runner_local: SIGKILL to their process groups) without
 * events. Keep running the loop until their handles are closed. NULL is fine. */
void runner_free(struct runner *r);

#endif
