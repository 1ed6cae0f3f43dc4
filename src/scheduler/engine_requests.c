/* Requests from outside the engine about runs: a run claimed now (manual or dependency), a manual run, a success
 * marked without a run, an async task's status report; and the job outcome fields saved before a transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "job/job.h"
#include "job/job_words.h"
#include "job/task_id.h"
#include "schedule/schedule.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strmap.h"

struct run *run_claim_now(struct engine *e, const struct jobrec *rec, enum run_trigger trigger,
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
		*rc = store_claim_run(e->store, &r->rec);
		if (*rc == 0)
			return r;
		run_free(r);
		if (*rc != -EEXIST)
			return NULL;
	}
	return NULL;
}

int engine_run_now(struct engine *e, struct jobrec *rec, const char *arguments, const char *by, char *err,
    size_t errlen)
{
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
	r = run_claim_now(e, rec, TRIGGER_MANUAL, arguments, NULL, &rc);
	if (r == NULL) {
		if (rc == -EEXIST)
			snprintf(err, errlen, "could not find a free task id");
		else
			snprintf(err, errlen, "store: could not record the run: %s", store_errmsg(e->store));
		return rc;
	}
	log_info_kv(LOG_FIELDS(.event = "run.requested", .job = rec->job->name, .task_id = r->rec.task_id, .remote = by),
	    "job '%s': run %s requested by %s%s%s%s", rec->job->name, r->rec.task_id, by,
	    arguments ? " with arguments '" : "", arguments ? arguments : "", arguments ? "'" : "");
	run_enqueue(e, r);
	run_dispatch(e);
	engine_arm(e);
	return 0;
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

struct job_outcome_state job_outcome_save(const struct job *j)
{
	return (struct job_outcome_state){j->success_count, j->error_count, j->errors_since_last_success,
		j->last_success_ms, j->last_error_ms, j->disabled};
}

void job_outcome_restore(struct job *j, const struct job_outcome_state *st)
{
	j->success_count = st->success_count;
	j->error_count = st->error_count;
	j->errors_since_last_success = st->errors_since_last_success;
	j->last_success_ms = st->last_success_ms;
	j->last_error_ms = st->last_error_ms;
	j->disabled = st->disabled;
}

int engine_mark_success(struct engine *e, struct jobrec *rec)
{
	struct run_list children = {0};
	int64_t now = clock_now(e->clock);
	/* The children see this id among their GNOMON_PARENT_TASK_IDS: the success was marked, not run. */
	char *marked = task_id_format(now, 0, rec->job->name, "marked successful");
	struct job_outcome_state before = job_outcome_save(rec->job);
	int rc;

	rec->job->success_count++;
	rec->job->last_success_ms = now;
	rec->job->errors_since_last_success = 0;
	if ((rc = store_begin(e->store)) == 0) {
		if ((rc = engine_save_job(e, rec)) == 0 && (rc = deps_parent_done(e, rec, marked, &children)) == 0)
			rc = store_commit(e->store);
		if (rc < 0)
			store_rollback(e->store);
	}
	if (rc < 0)
		job_outcome_restore(rec->job, &before);
	free(marked);
	deps_release(e, &children, rc == 0);
	run_dispatch(e);
	engine_arm(e);
	return rc;
}
