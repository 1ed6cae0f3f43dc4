/* Job and run commands: the one place where the API (and, later, the leader proxy and the tests) apply changes
 * to jobs and runs, and the reads of what the engine holds that the handlers need. No handler writes the state
 * or holds the engine: they call these.
 *
 * Errors are HTTP-independent: 0, or a negative errno with a message in err naming the field or the job:
 * -ENOENT no such job (or running task), -EINVAL a refused request (bad job, arguments or status), else the
 * store's error (-ENOSPC: the disk is full; -EIO).
 *
 * Changes are committed to the state (state/state.h) through the engine (engine_change_begin), one at a time
 * with the engine's own; with a backend whose commits complete later, a command answers once its commit was
 * taken, and applies it (or logs its failure) when it completes. Everything runs on the loop thread. */
#ifndef GNOMON_CONTROL_CONTROL_H
#define GNOMON_CONTROL_CONTROL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct control;
struct engine;
struct events;
struct job_defaults;
struct jobrec;
struct registry;
struct run_record;
struct schedule;
struct schedule_zones;
struct state;
struct state_txn;

/* What a control applies changes to; all borrowed, and must outlive it. */
struct control_config {
	struct registry *reg;
	struct state *state;
	struct engine *engine;
	struct schedule_zones *zones;
	const struct job_defaults *defaults;
	struct events *events; /* told about the jobs created, changed and deleted (NULL: nobody) */
	struct clock *clock;   /* the engine's: "now" for parsing the jobs put */
};

struct control *control_new(const struct control_config *cfg);
void control_free(struct control *c);
/* The engine of the moment: NULL while this server does not lead (it stepped down, or another server leads):
 * the commands then fail with -EAGAIN, and the reads see no runs, no next fires and every job idle. */
void control_set_engine(struct control *c, struct engine *e);

/* Who asks for a change: the audit trail's actor (README, "Audit") and the client's address (also the logs'). */
struct control_who {
	const char *actor;   /* a token's name, the Basic user's, an agent's; NULL: "anonymous" */
	const char *kind;    /* "token", "basic", "session", "agent"; NULL: "anonymous" */
	const char *address; /* the client's IP address, the audit's */
	const char *remote;  /* the connection's peer (address:port), the logs' */
};

/* Record in t (the change's own transaction: durable with it or not at all) that who made the change action
 * ("job.create", "job.update", "job.enable", "job.disable", "job.delete", "job.run", "job.kill", "job.success",
 * "token.create", "token.revoke", "agent.drain", "agent.undrain") to job (NULL: none), with before and after (JSON
 * text, NULL: none), at the control's clock's now. A backend without an audit trail (state.h) records nothing. */
int control_audit(const struct control *c, struct state_txn *t, const struct control_who *who, const char *action,
    const char *job, const char *before, const char *after) __attribute__((warn_unused_result));
/* The same in a transaction of its own, committed beside the engine's (as its quiet writes: a kill request), for a
 * change that is not the state's (an agent drained) or spans several of the engine's (a kill): 0 once the commit
 * was made (its failure is logged), -EAGAIN when no engine leads here, or the state's error. */
int control_audit_alone(struct control *c, const struct control_who *who, const char *action, const char *job,
    const char *before, const char *after) __attribute__((warn_unused_result));

/* The commands. `by` names who asks, for the log and the audit trail. */

/* Where a job is posted: Chronos's POST/PUT /iso8601 (either kind of job) or /dependency (a dependent job). */
enum control_put_kind {
	CONTROL_PUT_ANY,
	CONTROL_PUT_DEPENDENT,
};

/* Create or replace the job in the JSON body (Chronos's semantics): parsed with the defaults, validated (a
 * dependent job needs known parents and no cycle, a scheduled one a schedule that parses), stored (committed),
 * then scheduled. */
int control_put_job(struct control *c, const char *body, size_t len, enum control_put_kind kind,
    const struct control_who *by, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Delete a job, re-parenting its children in the same transaction (Chronos's rule: a child of a dependent job
 * inherits its parents; a child of a scheduled job takes over its schedule), and kill its runs. */
int control_delete_job(struct control *c, const char *name, const struct control_who *by, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* The end of a change once its commit completed: 0 (durable, and the registry and the engine changed), or the
 * commit's error (-ECANCELED: the engine stopped first). */
typedef void (*control_answer_fn)(void *ctx, int status);
/* control_put_job and control_delete_job, with answer(actx, ...) told once the change is durable: what a client is
 * acknowledged after (a network store commits after the command returned). answer is called once when the
 * commit was made: from inside the call (SQLite; the call then returns the same error) or later (PostgreSQL);
 * not at all when the call failed before (its error returned). -EBUSY (not -EAGAIN) while the engine's earlier
 * commit is in flight: call again shortly. */
int control_put_job_then(struct control *c, const char *body, size_t len, enum control_put_kind kind,
    const struct control_who *by, char *err, size_t errlen, control_answer_fn answer, void *actx)
    __attribute__((warn_unused_result));
int control_delete_job_then(struct control *c, const char *name, const struct control_who *by, char *err,
    size_t errlen, control_answer_fn answer, void *actx) __attribute__((warn_unused_result));
/* Many jobs at once (a restore, an import; POST /api/v1/jobs): jobs is a JSON array of Chronos jobs, checked
 * together (a dependent job's parents may be in the array, before or after it; no name twice; no dependency cycle
 * with the jobs there are), then written in one transaction, parents first, and scheduled once durable. Nothing
 * is written when one is refused: -EINVAL, with every refused job's message in err ("jobs[3] 'x': schedule: ...",
 * the first few and how many more). dry_run: checked only. answer(actx, status, results, n) is told once the
 * write is durable (or, dry, at once), as control_put_job_then's answer is, with each job's result in the
 * array's order. -EBUSY as there. */
struct control_bulk_result {
	const char *name;
	bool created; /* else it replaced a job of that name */
};
typedef void (*control_bulk_answer_fn)(void *ctx, int status, const struct control_bulk_result *results, size_t n);
#define CONTROL_BULK_MAX 100000 /* jobs in one call */
int control_put_jobs_then(struct control *c, const char *body, size_t len, bool dry_run,
    const struct control_who *by, char *err, size_t errlen, control_bulk_answer_fn answer, void *actx)
    __attribute__((warn_unused_result));
/* Run a job now with arguments (NULL: its own), leaving its schedule alone. */
int control_run_now(struct control *c, const char *name, const char *arguments, const struct control_who *by,
    char *err, size_t errlen) __attribute__((warn_unused_result));
/* Kill a job's running tasks and cancel its queued runs and retries; *killed: how many runs were ended. */
int control_kill(struct control *c, const char *name, const struct control_who *by, int *killed, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* Count a success for the job as if a run had succeeded (its children's rounds included). -EIO when it could not
 * be recorded (Chronos answers "false"), -ENOSPC when the disk is full. */
int control_mark_success(struct control *c, const char *name, const struct control_who *by, char *err,
    size_t errlen) __attribute__((warn_unused_result));
/* An async task reports its end with status_code (0: success). -ENOENT: no such task awaiting its status. */
int control_task_status(struct control *c, const char *task_id, int status_code, const struct control_who *by,
    char *err, size_t errlen) __attribute__((warn_unused_result));

/* The reads: what the engine holds, read-only. */

/* What the engine says of one job. */
struct control_job_view {
	uint32_t running;              /* runs started and not ended */
	uint32_t queued;               /* runs in the queue, plus a slot waiting for the previous run */
	int64_t next_fire;             /* UTC ms; INT64_MAX when it is not scheduled */
	const struct schedule *sched;  /* its parsed schedule (borrowed until the job changes), NULL when none */
};
void control_job_view(const struct control *c, const struct jobrec *rec, struct control_job_view *out);
/* "idle", "queued", "running" or "<n> running", as Chronos's job states. */
const char *control_job_state(const struct control *c, const struct jobrec *rec, char *buf, size_t len);
/* Up to n next fire times of the job as the engine will run them into out; how many, or < 0. */
int control_job_next_fires(const struct control *c, const struct jobrec *rec, int64_t *out, int n)
    __attribute__((warn_unused_result));
/* The next fires of all jobs, soonest first: up to n (at most 1000) jobs into recs, their times into at. */
size_t control_upcoming(const struct control *c, size_t n, struct jobrec **recs, int64_t *at);
/* The coming fires in [from, to] of the jobs want() takes, soonest first: fire() for each, at most max. Jobs that
 * do not fire before to cost nothing (the engine's heap of next fires). 0 when all were given, 1 when it stopped
 * short (max, or a bound on the fire times computed), fire()'s non-zero return, or < 0. */
struct control_fires_query {
	int64_t from, to;
	size_t max;
	bool (*want)(void *ctx, const struct jobrec *rec);
	int (*fire)(void *ctx, const struct jobrec *rec, int64_t at);
	void *ctx;
};
int control_fires(const struct control *c, const struct control_fires_query *q) __attribute__((warn_unused_result));
/* Call fn for every run the engine holds: queued, waiting for a retry or its slot, running. */
void control_foreach_run(const struct control *c, void (*fn)(void *ctx, const struct run_record *r), void *ctx);
/* True while the engine holds the run (queued, waiting, running or awaiting its async status). */
bool control_run_active(const struct control *c, const char *task_id);
/* Runs in progress (processes, and async tasks awaiting their status). */
int control_running(const struct control *c);
/* Runs waiting in the queue (high_priority: the highPriority queue). */
size_t control_queue_size(const struct control *c, bool high_priority);

#endif
