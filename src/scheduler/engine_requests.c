/* Requests from outside the engine about runs: a run claimed now (manual or dependency), a manual run, a success
 * marked without a run, an async task's status report; and the job outcome fields saved before a transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "job/job_words.h"
#include "job/task_id.h"
#include "schedule/schedule.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/container.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

struct run *run_claim_now(struct engine *e, struct state_txn *t, const struct jobrec *rec, enum run_trigger trigger,
    const char *arguments, const char *parents, int *rc)
{
	int64_t due = clock_now(e->clock), slot;
	for (int tries = 0; tries < 1000; tries++, due++) {
		struct run *r;
		/* Not the task id of one of the job's slots (the same instant, no arguments): that slot would find its
		 * id taken, as if it had been claimed before a restart, and never run. */
		if ((arguments == NULL || *arguments == '\0') && rec->rt->has_sched &&
		    schedule_next_after(e->zones, &rec->rt->sched, due - 1, &slot) == 0 && slot == due)
			continue;
		r = run_new(e, rec, due, 0, trigger, arguments);
		if (parents)
			run_record_set(&r->rec.parents, parents);
		*rc = state_claim_run(t, &r->rec);
		if (*rc == 0)
			return r;
		run_free(r);
		if (*rc != -EEXIST)
			return NULL;
	}
	return NULL;
}

/* A manual run being committed: queued once it is durable. */
struct run_now_commit {
	struct engine_commit base;
	struct run *r;
};

static void run_now_committed(struct engine *e, struct engine_commit *c, int status)
{
	struct run_now_commit *rc = container_of(c, struct run_now_commit, base);
	struct run *r = rc->r;

	free(rc);
	if (status < 0) {
		if (status != -ECANCELED)
			log_warnx_kv(LOG_FIELDS(.event = "store.error", .job = r->rec.job, .task_id = r->rec.task_id),
			    "run %s: could not record it (%s): it does not run", r->rec.task_id, strerror(-status));
		run_free(r);
		return;
	}
	run_enqueue(e, r);
	run_dispatch(e);
	engine_arm(e);
}

static int busy(char *err, size_t errlen)
{
	snprintf(err, errlen, "the scheduler is recording an earlier change; try again");
	return -EAGAIN;
}

int engine_run_now(struct engine *e, struct jobrec *rec, const char *arguments, const char *by,
    const struct engine_extra *extra, char *err, size_t errlen)
{
	struct run_now_commit *c;
	struct state_txn *t;
	struct run *r;
	int rc;

	if (arguments && !rec->job->shell) {
		/* An argv job's arguments must split into words before the run is recorded. */
		char *args = task_id_arguments(rec->job, arguments), **words;
		rc = job_words_split(args, &words, NULL, err, errlen);
		free(args);
		if (rc < 0)
			return rc;
		free(words);
	}
	if ((rc = engine_begin(e, &t)) == -EBUSY)
		return busy(err, errlen);
	r = rc < 0 ? NULL : run_claim_now(e, t, rec, TRIGGER_MANUAL, arguments, NULL, &rc);
	if (r && extra && (rc = extra->fn(extra->ctx, t, r->rec.task_id)) < 0) {
		state_abort(t);
		run_free(r);
		snprintf(err, errlen, "store: could not record the run: %s", state_errmsg(e->state));
		return rc;
	}
	if (r == NULL) {
		state_abort(t);
		if (rc == -EEXIST)
			snprintf(err, errlen, "could not find a free task id");
		else
			snprintf(err, errlen, "store: could not record the run: %s", state_errmsg(e->state));
		return rc;
	}
	log_info_kv(LOG_FIELDS(.event = "run.requested", .job = rec->job->name, .task_id = r->rec.task_id, .remote = by),
	    "job '%s': run %s requested by %s%s%s%s", rec->job->name, r->rec.task_id, by,
	    arguments ? " with arguments '" : "", arguments ? arguments : "", arguments ? "'" : "");
	c = xcalloc(1, sizeof(*c));
	c->base.finish = run_now_committed;
	c->r = r;
	if ((rc = engine_commit_answer(e, t, &c->base)) < 0)
		snprintf(err, errlen, "store: could not record the run: %s", state_errmsg(e->state));
	return rc;
}

int engine_task_status(struct engine *e, const char *task_id, int status_code, char *err, size_t errlen)
{
	struct run *r = strmap_get(e->runs, task_id);
	struct jobrec *rec = r ? run_jobrec(e, r) : NULL;

	if (r == NULL || rec == NULL || (r->task == NULL && !r->awaiting_async)) {
		snprintf(err, errlen, "taskId: no running task '%s'", task_id);
		return -ENOENT;
	}
	if (r->awaiting_async) {
		rec->rt->running--;
		heap_remove(&e->retries, &r->wait);
		r->rec.exit_code = status_code;
		r->rec.end_ms = clock_now(e->clock); /* the run ended when it said so, not when its process did */
		run_finish(e, r, status_code == 0 ? RUN_SUCCEEDED : RUN_FAILED, "status reported by the task");
		return 0;
	}
	r->async_reported = true;
	r->async_code = status_code;
	r->async_at_ms = clock_now(e->clock);
	return 0;
}

struct state_outcome engine_job_outcome(const struct job *j)
{
	return (struct state_outcome){j->success_count, j->error_count, j->errors_since_last_success,
		j->last_success_ms, j->last_error_ms, j->disabled};
}

void engine_job_set_outcome(struct job *j, const struct state_outcome *st)
{
	j->success_count = st->success_count;
	j->error_count = st->error_count;
	j->errors_since_last_success = st->errors_since_last_success;
	j->last_success_ms = st->last_success_ms;
	j->last_error_ms = st->last_error_ms;
	j->disabled = st->disabled;
}

/* A success marked without a run, being committed. */
struct marked_commit {
	struct engine_commit base;
	struct jobrec *rec;
	struct state_outcome before;
	struct run_list children;
};

static void marked_committed(struct engine *e, struct engine_commit *c, int status)
{
	struct marked_commit *mc = container_of(c, struct marked_commit, base);

	if (status < 0)
		engine_job_set_outcome(mc->rec->job, &mc->before);
	deps_release(e, &mc->children, status == 0);
	free(mc);
	if (status != -ECANCELED) {
		run_dispatch(e);
		engine_arm(e);
	}
}

int engine_mark_success(struct engine *e, struct jobrec *rec, const struct engine_extra *extra)
{
	struct marked_commit *mc;
	int64_t now = clock_now(e->clock);
	struct state_txn *t;
	char *marked;
	int rc;

	if ((rc = engine_begin(e, &t)) < 0)
		return rc == -EBUSY ? -EAGAIN : rc;
	mc = xcalloc(1, sizeof(*mc));
	mc->base.finish = marked_committed;
	mc->rec = rec;
	mc->before = engine_job_outcome(rec->job);
	rec->job->success_count++;
	rec->job->last_success_ms = now;
	rec->job->errors_since_last_success = 0;
	/* The children see this id among their GNOMON_PARENT_TASK_IDS: the success was marked, not run. */
	marked = task_id_format(now, 0, rec->job->name, "marked successful");
	rc = engine_save_outcome(e, t, rec);
	if (rc == 0)
		rc = deps_parent_done(e, t, rec, marked, &mc->children);
	if (rc == 0 && extra)
		rc = extra->fn(extra->ctx, t, marked);
	free(marked);
	if (rc < 0) {
		state_abort(t);
		marked_committed(e, &mc->base, rc);
		return rc;
	}
	return engine_commit_answer(e, t, &mc->base);
}

