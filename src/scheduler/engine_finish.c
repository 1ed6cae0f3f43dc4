/* A run's end: its outcome applied to its job (Chronos's counters, a retry, disabling), recorded with the retry
 * and its children's rounds in one transaction, and what follows once that is durable (the event hub, the
 * runner's release, retention, the retry held, the children queued). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "runner/runner.h"
#include "schedule/schedule.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/container.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/xmalloc.h"

/* Does the engine hold a run of the job other than r (waiting, blocked, pending, queued or running)? */
static bool job_has_other_runs(const struct engine *e, const struct jobrec *rec, const struct run *r)
{
	if (rec->rt->pending || rec->rt->queued > 0 || rec->rt->running > 0)
		return true;
	for (const struct run *x = e->all; x; x = x->all_next)
		if (x != r && strcmp(x->rec.job, rec->job->name) == 0)
			return true;
	return false;
}

/* At R0 the job is disabled after its last run (Chronos), whatever that run's outcome: once nothing of it is
 * left to run. */
static void disable_if_exhausted(const struct engine *e, struct jobrec *rec, const struct run *r)
{
	if (!rec->rt->has_sched || schedule_kind(&rec->rt->sched) != SCHEDULE_ISO8601 || schedule_repeat(&rec->rt->sched) != 0 ||
	    rec->job->disabled || job_has_other_runs(e, rec, r))
		return;
	rec->job->disabled = true;
	log_info_kv(LOG_FIELDS(.event = "job.disabled", .job = rec->job->name),
	    "job '%s' has exhausted all of its recurrences and is now disabled", rec->job->name);
}

/* Apply the job's outcome to its counters (Chronos's handleFinishedTask/handleFailedTask); returns the retry
 * to schedule, if any. */
static struct run *apply_outcome(struct engine *e, struct jobrec *rec, struct run *r, int64_t now)
{
	struct job *j = rec->job;
	struct run *retry = NULL;

	switch (r->rec.status) {
	case RUN_SUCCEEDED:
		j->success_count++;
		j->last_success_ms = now;
		j->errors_since_last_success = 0;
		break;
	case RUN_FAILED:
	case RUN_LOST:
		if (r->rec.attempt < j->retries && !r->no_retry) {
			retry = run_new(e, rec, r->rec.due_ms, r->rec.attempt + 1, TRIGGER_RETRY, r->override);
			retry->origin = r->origin;
			retry->rec.status = RUN_WAITING;
			retry->rec.not_before_ms = now + job_retry_delay_ms(j, r->rec.attempt + 1, e->cfg.failure_retry_ms);
			run_record_set(&retry->rec.parents, r->rec.parents);
			break;
		}
		j->error_count++;
		j->errors_since_last_success++;
		j->last_error_ms = now;
		if (e->cfg.disable_after_failures > 0 && j->errors_since_last_success >= e->cfg.disable_after_failures &&
		    !j->disabled) {
			j->disabled = true;
			log_info_kv(LOG_FIELDS(.event = "job.disabled", .job = j->name),
			    "job '%s' disabled after %" PRId64 " failures since its last success", j->name,
			    j->errors_since_last_success);
		}
		break;
	default:
		break;
	}
	if (retry == NULL)
		disable_if_exhausted(e, rec, r);
	return retry;
}

/* What the runner is told of how a started run ended. */
static enum runner_outcome runner_outcome_of(enum run_status status)
{
	switch (status) {
	case RUN_SUCCEEDED:
		return RUNNER_OUTCOME_SUCCEEDED;
	case RUN_KILLED:
		return RUNNER_OUTCOME_KILLED;
	case RUN_LOST:
		return RUNNER_OUTCOME_LOST;
	default:
		return RUNNER_OUTCOME_FAILED;
	}
}

/* A run's end being committed: what it changed in memory, to put back if the commit fails. */
struct finish_commit {
	struct engine_commit base;
	struct run *r;           /* its job: run_jobrec(), which a deletion meanwhile makes NULL */
	struct run *retry;
	struct run_list children;
	struct state_outcome before;
};

/* Nothing of the outcome happened: the run stays held (and its runner keeps its result, for a restart to find)
 * until its end is recorded. Forgetting it here would let a restart call a run that succeeded lost, and run it
 * again. */
static void finish_failed(struct engine *e, struct finish_commit *fc, int64_t retry_at)
{
	struct run *r = fc->r;
	struct jobrec *rec = run_jobrec(e, r);

	r->ending = false;
	if (rec)
		engine_job_set_outcome(rec->job, &fc->before);
	if (fc->retry)
		run_free(fc->retry);
	deps_release(e, &fc->children, false);
	if (retry_at > 0)
		log_warnx_kv(LOG_FIELDS(.event = "store.error", .job = r->rec.job, .task_id = r->rec.task_id),
		    "run %s: could not record its end (%s), trying again in %d ms", r->rec.task_id,
		    run_status_name(r->rec.status), RETRY_AFTER_STORE_ERROR_MS);
	r->unrecorded = true;
	heap_set(&e->retries, &r->wait, retry_at > 0 ? retry_at : clock_now(e->clock));
	if (rec)
		run_job_next(e, rec);
	free(fc);
	run_dispatch(e);
	engine_arm(e);
}

static void finish_committed(struct engine *e, struct engine_commit *c, int status)
{
	struct finish_commit *fc = container_of(c, struct finish_commit, base);
	struct run *r = fc->r, *retry = fc->retry;
	struct jobrec *rec = run_jobrec(e, r);

	r->ending = false;
	if (status == -ECANCELED) {
		/* r is the engine's, freed with its other runs; the job's counters are left as the state had them */
		if (rec)
			engine_job_set_outcome(rec->job, &fc->before);
		if (retry)
			run_free(retry);
		deps_release(e, &fc->children, false);
		free(fc);
		return;
	}
	if (status < 0) {
		finish_failed(e, fc, clock_now(e->clock) + RETRY_AFTER_STORE_ERROR_MS);
		return;
	}
	engine_tell_outcome(e, rec, &r->rec, retry != NULL, fc->before.disabled, fc->before.errors_since_last_success);
	/* Retention leaves the transaction that recorded the end: it is applied once that has committed. */
	if (rec)
		run_prune_job_soon(e, rec->job->name);
	log_info_kv(LOG_FIELDS(.event = "run.finished", .job = r->rec.job, .task_id = r->rec.task_id,
			.status = run_status_name(r->rec.status)),
	    "run %s %s%s%s", r->rec.task_id, run_status_name(r->rec.status), r->rec.reason[0] ? ": " : "",
	    r->rec.reason);
	if (e->cfg.metrics) {
		char name[64];
		snprintf(name, sizeof(name), "gnomon.runs.%s", run_status_name(r->rec.status));
		metrics_count(e->cfg.metrics, name, 1);
		if (r->rec.status == RUN_SUCCEEDED)
			metrics_histogram(e->cfg.metrics, "gnomon.runs.duration_ms", r->rec.end_ms - r->rec.start_ms);
	}
	/* Its end is recorded: the runner may forget it and clean up after it. */
	if (r->rec.start_ms != RUN_TIME_NONE)
		runner_release(e->cfg.runner, &(struct runner_ref){r->rec.task_id, r->rec.job},
		    runner_outcome_of(r->rec.status));
	run_forget(e, r);
	run_free(r);
	if (retry) {
		retry->orphan = rec == NULL; /* its job was deleted while the end was committed */
		run_hold(e, retry);
		heap_set(&e->retries, &retry->wait, retry->rec.not_before_ms);
		log_info_kv(LOG_FIELDS(.event = "run.retry", .job = retry->rec.job, .task_id = retry->rec.task_id),
		    "run %s will retry at attempt %d", retry->rec.task_id, retry->rec.attempt);
	}
	deps_release(e, &fc->children, true);
	free(fc);
	if (rec)
		run_job_next(e, rec);
	run_dispatch(e);
	engine_arm(e);
}

/* Record a run's end with its job's new counters (and a retry) in one transaction, then let the job's waiting
 * slot and the queue move. */
void run_finish(struct engine *e, struct run *r, enum run_status status, const char *reason)
{
	struct finish_commit *fc = xcalloc(1, sizeof(*fc));
	struct jobrec *rec = run_jobrec(e, r);
	int64_t now = clock_now(e->clock);
	struct state_txn *t;
	int rc;

	fc->base.finish = finish_committed;
	fc->r = r;
	fc->before = rec ? engine_job_outcome(rec->job) : (struct state_outcome){0};
	r->unrecorded = false;
	r->awaiting_async = false;
	r->rec.status = status;
	if (r->rec.end_ms == RUN_TIME_NONE)
		r->rec.end_ms = now;
	if (status == RUN_SKIPPED && r->rec.skipped_slots == 0) {
		/* a slot that came too late to run (or had to give way): it covers itself */
		r->rec.skipped_from_ms = r->rec.skipped_to_ms = r->rec.due_ms;
		r->rec.skipped_slots = 1;
	}
	if (reason)
		run_record_set(&r->rec.reason, reason);
	if ((rc = engine_begin(e, &t)) < 0) {
		/* -EBUSY: a commit is in flight; recorded as soon as it completes */
		finish_failed(e, fc, rc == -EBUSY ? 0 : now + RETRY_AFTER_STORE_ERROR_MS);
		return;
	}
	if (rec)
		fc->retry = apply_outcome(e, rec, r, now);
	rc = state_end_run(t, &r->rec);
	if (rc == 0 && rec)
		rc = engine_save_outcome(e, t, rec);
	if (rc == 0 && fc->retry)
		rc = state_claim_run(t, &fc->retry->rec);
	/* A success, or a softError job's final failure, counts for its children (Chronos). */
	if (rc == 0 && rec && (status == RUN_SUCCEEDED || (fc->retry == NULL && rec->job->soft_error &&
				  (status == RUN_FAILED || status == RUN_LOST))))
		rc = deps_parent_done(e, t, rec, r->rec.task_id, &fc->children);
	if (rc < 0) {
		state_abort(t);
		finish_failed(e, fc, now + RETRY_AFTER_STORE_ERROR_MS);
		return;
	}
	r->ending = true;
	engine_commit(e, t, &fc->base);
}

