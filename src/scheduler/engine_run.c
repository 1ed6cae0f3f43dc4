/* The run half of the engine: the run queue (a non-concurrent job's waiting slot and blocked retries, epsilon
 * at start), starting runs (engine_launch.c) in batches, their outcomes (counters, retries, disabling), kills,
 * manual runs and async completions. Resuming open runs after a restart is engine_recover.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "history/run_output.h"
#include "job/job.h"
#include "job/job_words.h"
#include "job/task_id.h"
#include "runner/runner.h"
#include "schedule/schedule.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/container.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

struct run *run_new(struct engine *e, const struct jobrec *rec, int64_t due_ms, int attempt,
    enum run_trigger trigger, const char *arguments)
{
	struct run *r = xcalloc(1, sizeof(*r));
	char *args = task_id_arguments(rec->job, arguments);

	run_record_init(&r->rec);
	r->e = e;
	r->rec.task_id = task_id_format(due_ms, attempt, rec->job->name, args);
	run_record_set(&r->rec.job, rec->job->name);
	run_record_set(&r->rec.host, e->cfg.hostname);
	r->rec.arguments = args;
	r->rec.due_ms = due_ms;
	r->rec.attempt = attempt;
	r->rec.trigger = trigger;
	r->rec.status = RUN_QUEUED;
	r->origin = trigger;
	/* What runs is what the task id says: the arguments with every ';' removed (Chronos), so a manual run's
	 * arguments cannot chain another command. */
	r->override = arguments ? xstrdup(args) : NULL;
	r->high = rec->job->high_priority;
	heap_node_init(&r->wait);
	return r;
}

struct jobrec *run_jobrec(const struct engine *e, const struct run *r)
{
	return r->orphan ? NULL : registry_get(e->reg, r->rec.job);
}

void run_free(struct run *r)
{
	run_record_clear(&r->rec);
	free(r->override);
	free(r);
}

void run_hold(struct engine *e, struct run *r)
{
	strmap_put(e->runs, r->rec.task_id, r);
	r->all_next = e->all;
	r->all_prev = NULL;
	if (e->all)
		e->all->all_prev = r;
	e->all = r;
}

void run_forget(struct engine *e, struct run *r)
{
	strmap_remove(e->runs, r->rec.task_id);
	if (r->all_prev)
		r->all_prev->all_next = r->all_next;
	else
		e->all = r->all_next;
	if (r->all_next)
		r->all_next->all_prev = r->all_prev;
}

static void queue_push(struct engine *e, struct jobrec *rec, struct run *r)
{
	int q = r->high ? 1 : 0;
	r->next = NULL;
	if (e->queue_tail[q])
		e->queue_tail[q]->next = r;
	else
		e->queue_head[q] = r;
	e->queue_tail[q] = r;
	e->queue_len[q]++;
	r->queued = true;
	rec->rt->queued++;
}

static struct run *queue_pop(struct engine *e)
{
	for (int q = 1; q >= 0; q--) {
		struct run *r = e->queue_head[q];
		if (r == NULL)
			continue;
		e->queue_head[q] = r->next;
		if (e->queue_head[q] == NULL)
			e->queue_tail[q] = NULL;
		e->queue_len[q]--;
		r->queued = false;
		return r;
	}
	return NULL;
}

static void queue_unlink(struct engine *e, struct run *r)
{
	int q = r->high ? 1 : 0;
	struct run *prev = NULL;
	for (struct run *x = e->queue_head[q]; x; prev = x, x = x->next) {
		if (x != r)
			continue;
		if (prev)
			prev->next = x->next;
		else
			e->queue_head[q] = x->next;
		if (e->queue_tail[q] == x)
			e->queue_tail[q] = prev;
		e->queue_len[q]--;
		r->queued = false;
		return;
	}
}

/* A non-concurrent job with a run in a process, awaiting its status, in the queue or still being reconciled. */
static bool job_busy(const struct jobrec *rec)
{
	return !rec->job->concurrent && (rec->rt->running > 0 || rec->rt->queued > 0 || rec->rt->recovering > 0);
}

/* Park a due retry of a busy non-concurrent job until the job is free. */
static void block(struct engine *e, struct run *r)
{
	struct run **p = &e->blocked;
	while (*p)
		p = &(*p)->next;
	r->next = NULL;
	r->blocked = true;
	*p = r;
}

static void unblock(struct engine *e, struct run *r)
{
	for (struct run **p = &e->blocked; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			r->blocked = false;
			return;
		}
	}
}

/* The oldest blocked retry of a job, taken off the list; NULL when it has none. */
static struct run *take_blocked(struct engine *e, const struct jobrec *rec)
{
	for (struct run *r = e->blocked; r; r = r->next) {
		if (strcmp(r->rec.job, rec->job->name) == 0) {
			unblock(e, r);
			return r;
		}
	}
	return NULL;
}

/* A slot run (trigger schedule) that would start more than its job's epsilon after its due time is recorded as
 * skipped instead: true, with the reason in why. Retries, manual and dependency runs have no epsilon. */
static bool too_late(const struct jobrec *rec, const struct run *r, int64_t now, const char *waited_for,
    char *why, size_t len)
{
	int64_t eps;

	if (r->rec.trigger != TRIGGER_SCHEDULE)
		return false;
	eps = job_epsilon_ms(rec->job);
	if (now - r->rec.due_ms <= eps)
		return false;
	snprintf(why, len, "not started: it waited %s until %.1f s after its due time, more than epsilon %s",
	    waited_for, (double)(now - r->rec.due_ms) / 1000, rec->job->epsilon);
	return true;
}

/* The job may have become free: its oldest blocked retry goes to the queue, else its waiting slot (unless that
 * is now later than its epsilon). */
void run_job_next(struct engine *e, struct jobrec *rec)
{
	struct run *r;
	char why[256];

	while (!job_busy(rec) && ((r = take_blocked(e, rec)) != NULL || (r = rec->rt->pending) != NULL)) {
		if (r == rec->rt->pending)
			rec->rt->pending = NULL;
		r->rec.status = RUN_QUEUED;
		if (too_late(rec, r, clock_now(e->clock), "for the previous run", why, sizeof(why))) {
			run_finish(e, r, RUN_SKIPPED, why);
			continue;
		}
		queue_push(e, rec, r);
	}
}

void run_enqueue(struct engine *e, struct run *r)
{
	struct jobrec *rec = run_jobrec(e, r);

	run_hold(e, r);
	if (rec == NULL) {
		run_finish(e, r, RUN_LOST, "its job no longer exists");
		return;
	}
	if (r->rec.trigger == TRIGGER_RETRY && job_busy(rec)) {
		block(e, r);
		return;
	}
	if (r->rec.trigger != TRIGGER_RETRY && job_busy(rec)) {
		if (rec->rt->pending == NULL) {
			rec->rt->pending = r;
			engine_tell_run(e, rec, &r->rec);
			return;
		}
		run_finish(e, r, RUN_SKIPPED, "the previous run was still going and another slot was already waiting");
		return;
	}
	queue_push(e, rec, r);
	engine_tell_run(e, rec, &r->rec);
}

/* Write runs' status changes in a transaction of their own that nothing waits for: a failure is logged, and a
 * restart reconciles the runs with the runner. */
static void save_runs(struct engine *e, struct run *const *runs, size_t n, const char *what)
{
	struct state_txn *t;
	int rc = state_begin(e->state, &t);

	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = state_put_run(t, &runs[i]->rec);
	if (rc < 0) {
		state_abort(t);
		log_warnx_kv(LOG_FIELDS(.event = "store.error"), "could not record %s (%s); a restart reconciles it", what,
		    state_errmsg(e->state));
		return;
	}
	engine_commit_quiet(t, what);
}

void run_save(struct engine *e, struct run *r)
{
	save_runs(e, &r, 1, "a run's status");
}

/* Where a run runs, as its runner says (NULL: unchanged). */
static void run_placed(struct run *r, const char *agent, const char *host)
{
	if (agent)
		run_record_set(&r->rec.agent, agent);
	if (host && host[0])
		run_record_set(&r->rec.host, host);
}

#define START_BATCH 64 /* runs started per round of run_dispatch: one commit before their spawns, one after */

/* A runner is taken for a run from the moment it leaves the queue, so that nothing else of a non-concurrent job
 * starts beside it (a run ending meanwhile may enqueue one); given back if it does not start. */
static void reserve(struct engine *e, struct jobrec *rec)
{
	rec->rt->running++;
	e->running++;
}

static void unreserve(struct engine *e, struct jobrec *rec)
{
	if (rec)
		rec->rt->running--;
	e->running--;
}

static void launch_batch(struct engine *e, struct run **batch, size_t n);

/* A batch of runs whose start is being recorded before they are spawned. */
struct start_commit {
	struct engine_commit base;
	size_t n;
	struct run *batch[START_BATCH];
};

static void start_committed(struct engine *e, struct engine_commit *c, int status)
{
	struct start_commit *sc = container_of(c, struct start_commit, base);

	if (status == -ECANCELED) {
		free(sc); /* the runs are the engine's */
		return;
	}
	if (status < 0) {
		for (size_t i = 0; i < sc->n; i++) {
			unreserve(e, run_jobrec(e, sc->batch[i]));
			run_finish(e, sc->batch[i], RUN_LOST, "could not record its start");
		}
	} else {
		launch_batch(e, sc->batch, sc->n);
	}
	free(sc);
	run_dispatch(e);
	engine_arm(e);
}

/* Start a batch of reserved runs: all recorded as starting in one transaction before any is spawned (unless
 * recorded says they already are), then all that started recorded as running, with their pids, in one more. A
 * crash in between leaves them "starting", which a restart reconciles with the runner. A run the runner took
 * without starting it at once (a remote agent's) stays "starting" until its RUNNING event. */
static void start_batch(struct engine *e, struct run **batch, size_t n, bool recorded)
{
	struct start_commit *sc;
	struct state_txn *t;
	int64_t now;
	int rc;

	if (recorded) {
		launch_batch(e, batch, n);
		return;
	}
	sc = xcalloc(1, sizeof(*sc));
	sc->base.finish = start_committed;
	sc->n = n;
	now = clock_now(e->clock);
	for (size_t i = 0; i < n; i++) {
		sc->batch[i] = batch[i];
		batch[i]->rec.status = RUN_STARTING;
		batch[i]->rec.start_ms = now;
	}
	rc = engine_begin(e, &t);
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = state_put_run(t, &batch[i]->rec);
	if (rc < 0) {
		state_abort(t);
		start_committed(e, &sc->base, rc);
		return;
	}
	engine_commit(e, t, &sc->base);
}

/* Spawn a batch of runs recorded as starting, then record those that started as running. */
static void launch_batch(struct engine *e, struct run **batch, size_t n)
{
	struct runner_start st[START_BATCH];
	size_t started = 0;

	run_launch_many(e, batch, n, st);
	for (size_t i = 0; i < n; i++) {
		struct run *r = batch[i];
		if (st[i].rc < 0) {
			r->rec.start_ms = clock_now(e->clock);
			r->no_retry = st[i].permanent;
			unreserve(e, run_jobrec(e, r));
			run_finish(e, r, RUN_FAILED, st[i].err);
			continue;
		}
		r->task = st[i].task;
		if (!st[i].running)
			continue;
		r->rec.start_ms = st[i].start_ms; /* its spawn */
		if (e->cfg.metrics && r->rec.trigger == TRIGGER_SCHEDULE)
			metrics_histogram(e->cfg.metrics, "gnomon.runs.start_lateness_ms", r->rec.start_ms - r->rec.due_ms);
		r->rec.status = RUN_RUNNING;
		r->rec.pid = st[i].pid;
		run_placed(r, st[i].agent, st[i].host);
		batch[started++] = r;
	}
	if (started == 0)
		return;
	save_runs(e, batch, started, "that runs are running");
	for (size_t i = 0; i < started; i++) {
		log_info_kv(LOG_FIELDS(.event = "run.started", .job = batch[i]->rec.job, .task_id = batch[i]->rec.task_id,
				.status = "running"), "run %s started (pid %" PRId64 ", %s)", batch[i]->rec.task_id,
		    batch[i]->rec.pid, run_trigger_name(batch[i]->rec.trigger));
		engine_tell_run(e, run_jobrec(e, batch[i]), &batch[i]->rec);
	}
}

bool run_can_start_now(const struct engine *e, const struct jobrec *rec)
{
	return !e->stopping && !e->dispatching && e->running + e->recovering < e->cfg.max_running &&
	    e->queue_len[0] == 0 &&
	    e->queue_len[1] == 0 && !job_busy(rec) && rec->rt->pending == NULL;
}

void run_start_claimed(struct engine *e, struct run **runs, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++) {
		struct run *r = runs[i];
		struct jobrec *rec = run_jobrec(e, r);
		run_hold(e, r);
		if (rec == NULL) {
			run_finish(e, r, RUN_LOST, "its job no longer exists");
			continue;
		}
		reserve(e, rec);
		runs[kept++] = r;
	}
	for (size_t i = 0; i < kept; i += START_BATCH)
		start_batch(e, runs + i, kept - i < START_BATCH ? kept - i : START_BATCH, true);
}

void run_dispatch(struct engine *e)
{
	struct run *batch[START_BATCH], *r;
	char why[256];
	size_t n;

	/* While the start's reconciliation waits for agents (up to --agent-timeout), the jobs without an open run
	 * run: only those with one wait for it (job_busy), so a failover costs other jobs no slot. */
	if (e->dispatching)
		return; /* finish() inside the loop below: the loop goes on */
	if (e->inflight) {
		e->deferred = true; /* a start is recorded before its spawn: once the commit in flight completes */
		return;
	}
	e->dispatching = true;
	do {
		n = 0;
		while (!e->stopping && !e->inflight && e->running + e->recovering < e->cfg.max_running && n < START_BATCH &&
		    (r = queue_pop(e)) != NULL) {
			struct jobrec *rec = run_jobrec(e, r);
			if (rec == NULL) {
				run_finish(e, r, RUN_LOST, "its job no longer exists");
				continue;
			}
			rec->rt->queued--;
			/* An operator's manual run of a disabled job runs, and so do its retries. */
			if (rec->job->disabled && r->origin != TRIGGER_MANUAL) {
				run_finish(e, r, RUN_SKIPPED, "the job is disabled");
				continue;
			}
			if (too_late(rec, r, clock_now(e->clock), "in the queue", why, sizeof(why))) {
				run_finish(e, r, RUN_SKIPPED, why);
				continue;
			}
			reserve(e, rec);
			batch[n++] = r;
		}
		if (n > 0)
			start_batch(e, batch, n, false);
	} while (n > 0);
	if (e->inflight)
		e->deferred = true;
	e->dispatching = false;
}

void run_ended(struct engine *e, struct run *r, const struct runner_result *res)
{
	struct jobrec *rec = run_jobrec(e, r);
	bool lost = res->end == RUNNER_END_LOST || res->end == RUNNER_END_START_FAILED ||
	    res->end == RUNNER_END_SKIPPED;
	char reason[256] = "";

	r->task = NULL;
	e->running--;
	if (!lost) {
		r->rec.end_ms = res->end_ms;
		r->rec.exit_code = res->exit_code;
		r->rec.signal = res->term_signal;
		r->rec.stdout_bytes = res->bytes[RUN_STDOUT];
		r->rec.stderr_bytes = res->bytes[RUN_STDERR];
		r->rec.cpu_user_us = res->user_cpu_us >= 0 ? res->user_cpu_us : -1;
		r->rec.cpu_system_us = res->system_cpu_us >= 0 ? res->system_cpu_us : -1;
		r->rec.peak_memory_bytes = res->peak_mem_bytes > 0 ? res->peak_mem_bytes : -1;
	}
	run_record_set(&r->rec.reason, NULL); /* a kill request that came too late */
	if (rec && rec->job->async && res->end == RUNNER_END_EXITED && res->exit_code == 0 && !r->async_reported) {
		/* Chronos 2 async job: it ends when it reports its status, within maxCompletionTime of its start. */
		r->awaiting_async = true;
		run_save(e, r);
		if (rec->job->max_completion_time > 0)
			heap_set(&e->retries, &r->wait, r->rec.start_ms + rec->job->max_completion_time * 1000);
		run_dispatch(e);
		engine_arm(e);
		return;
	}
	if (rec)
		rec->rt->running--;
	if (res->end == RUNNER_END_TIMED_OUT) {
		snprintf(reason, sizeof(reason), "maxCompletionTime of %" PRId64 " s exceeded", rec ?
		    rec->job->max_completion_time : 0);
		run_finish(e, r, RUN_FAILED, reason);
	} else if (res->end == RUNNER_END_KILLED) {
		run_finish(e, r, RUN_KILLED, "killed on request");
	} else if (r->async_reported) {
		r->rec.exit_code = r->async_code;
		r->rec.end_ms = r->async_at_ms; /* the run ended when it said so */
		run_finish(e, r, r->async_code == 0 ? RUN_SUCCEEDED : RUN_FAILED, "status reported by the task");
	} else if (res->end == RUNNER_END_LOST) {
		run_finish(e, r, RUN_LOST, res->reason);
	} else if (res->end == RUNNER_END_SKIPPED) {
		run_finish(e, r, RUN_SKIPPED, res->reason);
	} else if (res->end == RUNNER_END_START_FAILED) {
		run_finish(e, r, RUN_FAILED, res->reason);
	} else if (res->end == RUNNER_END_EXITED && res->exit_code == 0) {
		run_finish(e, r, RUN_SUCCEEDED, NULL);
	} else {
		if (res->reason[0]) /* out of memory, a lost status */
			snprintf(reason, sizeof(reason), "%s", res->reason);
		else if (res->end == RUNNER_END_SIGNALLED)
			snprintf(reason, sizeof(reason), "ended by signal %d (%s)", res->term_signal,
			    strsignal(res->term_signal));
		else
			snprintf(reason, sizeof(reason), "exited with status %d", res->exit_code);
		run_finish(e, r, RUN_FAILED, reason);
	}
}

/* No agent can take a run now: it waits, with the reason in its record. */
static void run_waiting(struct engine *e, struct run *r, const struct runner_event *ev)
{
	const char *reason = ev->reason ? ev->reason : "";

	if (r->rec.status == RUN_WAITING && r->rec.reason && strcmp(r->rec.reason, reason) == 0)
		return;
	r->rec.status = RUN_WAITING;
	r->rec.not_before_ms = clock_now(e->clock);
	run_record_set(&r->rec.reason, reason);
	run_save(e, r);
	log_info_kv(LOG_FIELDS(.event = "run.waiting", .job = r->rec.job, .task_id = r->rec.task_id, .status = "waiting"),
	    "run %s waits for an agent: %s", r->rec.task_id, reason);
	engine_tell_run(e, run_jobrec(e, r), &r->rec);
}

/* A run the runner took without starting it at once now runs. */
static void run_running(struct engine *e, struct run *r, const struct runner_event *ev)
{
	r->rec.status = RUN_RUNNING;
	r->rec.start_ms = ev->start_ms;
	r->rec.pid = ev->pid;
	run_placed(r, ev->agent, ev->host);
	if (r->rec.reason && strcmp(r->rec.reason, RUN_KILL_REQUESTED) != 0)
		run_record_set(&r->rec.reason, NULL); /* the waiting's */
	if (e->cfg.metrics && r->rec.trigger == TRIGGER_SCHEDULE)
		metrics_histogram(e->cfg.metrics, "gnomon.runs.start_lateness_ms", r->rec.start_ms - r->rec.due_ms);
	run_save(e, r);
	log_info_kv(LOG_FIELDS(.event = "run.started", .job = r->rec.job, .task_id = r->rec.task_id, .status = "running"),
	    "run %s started (pid %" PRId64 ", %s)", r->rec.task_id, r->rec.pid, run_trigger_name(r->rec.trigger));
	engine_tell_run(e, run_jobrec(e, r), &r->rec);
}

/* How a result reads in a record's reason. */
static void result_words(const struct runner_result *res, char *out, size_t len)
{
	switch (res->end) {
	case RUNNER_END_EXITED:
		snprintf(out, len, "exited with status %d", res->exit_code);
		break;
	case RUNNER_END_SIGNALLED:
		snprintf(out, len, "was ended by signal %d (%s)", res->term_signal, strsignal(res->term_signal));
		break;
	case RUNNER_END_TIMED_OUT:
		snprintf(out, len, "passed its maxCompletionTime and was killed");
		break;
	case RUNNER_END_KILLED:
		snprintf(out, len, "was killed");
		break;
	default:
		snprintf(out, len, "ended without a status (%.200s)", res->reason);
		break;
	}
}

/* A result came for a run already recorded lost with its agent: it is added to the record's reason, and counts
 * for nothing (its retry, if any, is the run that counts). */
static void run_late(struct engine *e, const struct runner_event *ev)
{
	struct run_record rec;
	char words[256], *reason;
	int rc;

	run_record_init(&rec);
	if (e->cfg.history == NULL || history_get(e->cfg.history, ev->task_id, &rec) < 0 || rec.status != RUN_LOST) {
		run_record_clear(&rec);
		return;
	}
	result_words(ev->result, words, sizeof(words));
	reason = xasprintf("%s; its agent %s reported later that it %s (recorded, not counted)", rec.reason,
	    ev->agent ? ev->agent : "?", words);
	free(rec.reason);
	rec.reason = reason;
	if ((rc = history_record(e->cfg.history, &rec, NULL, NULL)) < 0)
		log_warnx("task %s: could not record its late result (%s)", ev->task_id, strerror(-rc));
	else
		log_info_kv(LOG_FIELDS(.event = "run.late", .job = rec.job, .task_id = rec.task_id, .status = "lost"),
		    "run %s: its agent %s reported later that it %s; it stays lost", rec.task_id,
		    ev->agent ? ev->agent : "?", words);
	run_record_clear(&rec);
}

void run_on_runner_event(void *ctx, const struct runner_event *ev)
{
	struct engine *e = ctx;
	struct run *r = ev->ctx;

	if (ev->type == RUNNER_EVENT_LATE) {
		run_late(e, ev);
		return;
	}
	if (r == NULL) {
		/* A task the engine did not adopt (reconciliation found it and had it killed). */
		log_debug_kv(LOG_FIELDS(.task_id = ev->task_id), "task %s: an event of a task no run holds", ev->task_id);
		return;
	}
	switch (ev->type) {
	case RUNNER_EVENT_STARTING:
		/* an agent has it: recorded, so that a restart asks that agent about it */
		run_placed(r, ev->agent, ev->host);
		if (r->rec.status == RUN_WAITING) {
			r->rec.status = RUN_STARTING;
			run_record_set(&r->rec.reason, NULL);
		}
		run_save(e, r);
		engine_tell_run(e, run_jobrec(e, r), &r->rec);
		break;
	case RUNNER_EVENT_WAITING:
		run_waiting(e, r, ev);
		break;
	case RUNNER_EVENT_RUNNING:
		run_running(e, r, ev);
		break;
	case RUNNER_EVENT_ENDED:
		run_ended(e, r, ev->result);
		break;
	case RUNNER_EVENT_LATE:
		break;
	}
}

/* An async task did not report its status within maxCompletionTime of its start: it failed. */
static void async_timed_out(struct engine *e, struct run *r, int64_t now)
{
	struct jobrec *rec = run_jobrec(e, r);
	char reason[256];

	if (rec)
		rec->rt->running--;
	r->awaiting_async = false;
	r->rec.end_ms = now;
	snprintf(reason, sizeof(reason), "maxCompletionTime of %" PRId64 " s passed without the task reporting its "
	    "status (async job)", rec ? rec->job->max_completion_time : 0);
	run_finish(e, r, RUN_FAILED, reason);
}

void run_release_retries(struct engine *e, int64_t now)
{
	struct heap_node *n;
	while ((n = heap_min(&e->retries)) != NULL && n->key <= now) {
		struct run *r = container_of(n, struct run, wait);
		struct jobrec *rec = run_jobrec(e, r);
		if (e->inflight) {
			e->deferred = true; /* the rest once the commit in flight completes */
			break;
		}
		heap_remove(&e->retries, n);
		if (r->unrecorded) {
			run_finish(e, r, r->rec.status, NULL);
			continue;
		}
		if (r->awaiting_async) {
			async_timed_out(e, r, now);
			continue;
		}
		if (rec == NULL) {
			run_finish(e, r, RUN_LOST, "its job no longer exists");
			continue;
		}
		if (job_busy(rec)) {
			block(e, r); /* its job's previous run goes on: it goes first once that ends */
			continue;
		}
		r->rec.status = RUN_QUEUED;
		queue_push(e, rec, r);
	}
}

/* End a run the engine holds that is not in a process: queued, pending, waiting or awaiting its status. */
static void cancel(struct engine *e, struct jobrec *rec, struct run *r, const char *reason)
{
	if (r->queued) {
		queue_unlink(e, r);
		rec->rt->queued--;
	}
	if (rec->rt->pending == r)
		rec->rt->pending = NULL;
	if (r->blocked)
		unblock(e, r);
	heap_remove(&e->retries, &r->wait);
	if (r->awaiting_async)
		rec->rt->running--;
	run_finish(e, r, RUN_KILLED, reason);
}

/* Record the kill request in the job's running runs, in one transaction before any is signalled: if the
 * server dies before they end, the restart records them as killed. (A backend whose commit completes later
 * records it while the signals go: a crash in between records those runs as lost.) */
static void save_kill_requests(struct engine *e, struct jobrec *rec)
{
	struct run *batch[START_BATCH];
	size_t n = 0;

	for (struct run *r = e->all; r; r = r->all_next) {
		if (r->task && strcmp(r->rec.job, rec->job->name) == 0) {
			run_record_set(&r->rec.reason, RUN_KILL_REQUESTED);
			batch[n++] = r;
			if (n == START_BATCH) {
				save_runs(e, batch, n, "a kill request");
				n = 0;
			}
		}
	}
	if (n > 0)
		save_runs(e, batch, n, "a kill request");
}

int engine_kill_job(struct engine *e, struct jobrec *rec)
{
	int n = 0;
	/* Processes first: their end arrives later as a loop event. */
	save_kill_requests(e, rec);
	for (struct run *r = e->all; r; r = r->all_next) {
		if (r->task && strcmp(r->rec.job, rec->job->name) == 0) {
			n++;
			if (runner_kill(e->cfg.runner, r->task, (uint64_t)e->cfg.kill_grace_ms) < 0)
				log_debug_kv(LOG_FIELDS(.job = r->rec.job, .task_id = r->rec.task_id), "run %s: already ending",
				    r->rec.task_id);
		}
	}
	/* Then what has no process; cancel() changes the list, so look again from the start each time. */
	for (;;) {
		struct run *r = e->all;
		while (r && (r->task || r->unrecorded || r->ending || strcmp(r->rec.job, rec->job->name) != 0))
			r = r->all_next;
		if (r == NULL)
			break;
		cancel(e, rec, r, "killed before it started");
		n++;
	}
	return n;
}

void run_stop_all(struct engine *e)
{
	struct run *r = e->all, *next;
	for (; r; r = next) {
		next = r->all_next;
		heap_remove(&e->retries, &r->wait); /* a waiting retry or an async deadline: the heap outlives r */
		run_forget(e, r);
		run_free(r);
	}
	for (size_t i = 0; i < registry_slots(e->reg); i++) {
		struct jobrec *rec = registry_slot(e->reg, i);
		if (rec) {
			rec->rt->pending = NULL;
			rec->rt->running = rec->rt->queued = 0;
		}
	}
	e->queue_head[0] = e->queue_head[1] = e->queue_tail[0] = e->queue_tail[1] = NULL;
	e->blocked = NULL;
	e->queue_len[0] = e->queue_len[1] = 0;
}
