/* Resuming after a restart: the open runs the store holds go back where they were (queued, waiting for their
 * retry, awaiting an async status); for the runs that were starting or running when the server stopped, the
 * runner says what became of their tasks (runner_reconcile): a task still running is adopted, one that ended is
 * recorded as it ended, one that certainly never started (it was starting) is queued again, and one that is gone
 * is recorded as lost (or killed, when a kill had been requested). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "history/history.h"
#include "job/task_id.h"
#include "runner/runner.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

/* The arguments a recovered run runs with: a manual run's (and its retries') when they are not the job's own. */
static char *recovered_override(const struct jobrec *rec, const struct run *r)
{
	char *own;
	bool same;

	if (r->origin != TRIGGER_MANUAL || rec == NULL || r->rec.arguments[0] == '\0')
		return NULL;
	own = task_id_arguments(rec->job, NULL);
	same = strcmp(own, r->rec.arguments) == 0;
	free(own);
	return same ? NULL : xstrdup(r->rec.arguments);
}

/* What triggered attempt 0 of a retry's slot (its record may have been pruned: then the retry's own). */
static enum run_trigger slot_origin(struct engine *e, const struct run_record *stored)
{
	struct run_record first;
	enum run_trigger t = stored->trigger;
	char *id;

	if (stored->trigger != TRIGGER_RETRY)
		return t;
	run_record_init(&first);
	id = task_id_format(stored->due_ms, 0, stored->job, stored->arguments);
	if (history_get(e->cfg.history, id, &first) == 0)
		t = first.trigger;
	free(id);
	run_record_clear(&first);
	return t;
}

/* The run of a stored record, held by nobody yet. */
static struct run *run_from_record(struct engine *e, const struct jobrec *rec, const struct run_record *stored)
{
	struct run *r = xcalloc(1, sizeof(*r));

	run_record_init(&r->rec);
	r->e = e;
	r->rec = *stored;
	r->rec.task_id = xstrdup(stored->task_id);
	r->rec.job = xstrdup(stored->job);
	r->rec.host = xstrdup(stored->host);
	r->rec.agent = xstrdup(stored->agent);
	r->rec.arguments = xstrdup(stored->arguments);
	r->rec.parents = xstrdup(stored->parents);
	r->rec.reason = xstrdup(stored->reason);
	r->origin = slot_origin(e, stored);
	r->override = recovered_override(rec, r);
	r->high = rec && rec->job->high_priority;
	heap_node_init(&r->wait);
	return r;
}

/* A run that was starting or running when the server stopped, whose task is gone (suffix: what the runner did
 * about it, "" for nothing): recorded as killed when a kill had been requested, else as lost (and retried per its
 * job's policy). */
static void recover_gone(struct engine *e, struct run *r, const char *suffix)
{
	bool starting = r->rec.status == RUN_STARTING;
	bool kill_requested = strcmp(r->rec.reason, RUN_KILL_REQUESTED) == 0;
	char reason[512];
	size_t len;

	if (kill_requested)
		len = (size_t)snprintf(reason, sizeof(reason), "killed on request; the server stopped before it ended");
	else
		len = (size_t)snprintf(reason, sizeof(reason), "the server stopped while it %s",
		    starting ? "was starting" : "ran");
	if (suffix[0])
		snprintf(reason + len, sizeof(reason) - len, "; %s", suffix);
	run_hold(e, r);
	run_finish(e, r, kill_requested ? RUN_KILLED : RUN_LOST, reason);
}

/* A run that was starting when the server stopped, whose task certainly never started (runner_report.absent):
 * queued again, to start now, unless a kill was asked for it or its slot is past its epsilon. Before, such a run
 * was recorded lost: a leader cut off or killed between recording a start and its agent taking it lost the slot
 * (the fault suite). True when it was queued. */
static bool recover_unstarted(struct engine *e, struct run *r)
{
	struct jobrec *rec = run_jobrec(e, r);
	int64_t late = clock_now(e->clock) - r->rec.due_ms;

	if (rec == NULL || r->rec.status != RUN_STARTING || strcmp(r->rec.reason, RUN_KILL_REQUESTED) == 0 ||
	    (r->rec.trigger == TRIGGER_SCHEDULE && late > job_epsilon_ms(rec->job)))
		return false;
	log_info_kv(LOG_FIELDS(.event = "run.requeued", .job = r->rec.job, .task_id = r->rec.task_id,
			.status = "queued"), "run %s: never started (its agent %s answered without it): queued again",
	    r->rec.task_id, r->rec.agent ? r->rec.agent : "?");
	r->rec.status = RUN_QUEUED;
	run_record_set(&r->rec.agent, NULL);
	run_record_set(&r->rec.reason, NULL);
	run_enqueue(e, r);
	return true;
}

/* A run that was starting or running, as its runner reports it (NULL: not at all). */
static void recover_interrupted(struct engine *e, struct run *r, const struct runner_report *rep)
{
	struct jobrec *rec = run_jobrec(e, r);

	if (rep == NULL || rep->state == RUNNER_TASK_UNKNOWN) {
		if (!(rep && rep->absent && recover_unstarted(e, r)))
			recover_gone(e, r, "");
		return;
	}
	if (rep->state == RUNNER_TASK_ENDED && rep->result->end == RUNNER_END_LOST) {
		recover_gone(e, r, rep->result->reason);
		return;
	}
	/* It is still the runner's: counted as running, and it ends as any started run does. */
	run_hold(e, r);
	if (rec)
		rec->rt->running++;
	e->running++;
	if (rep->state == RUNNER_TASK_ENDED) {
		run_ended(e, r, rep->result);
		return;
	}
	r->task = rep->task;
	runner_adopt(e->cfg.runner, r->task, r);
	/* a kill requested before the stop (recorded before it was sent): sent again, its grace goes on */
	if (strcmp(r->rec.reason, RUN_KILL_REQUESTED) == 0 &&
	    runner_kill(e->cfg.runner, r->task, (uint64_t)e->cfg.kill_grace_ms) < 0)
		log_debug("task %s: already ending", r->rec.task_id);
	if (r->rec.status != RUN_RUNNING) {
		r->rec.status = RUN_RUNNING;
		run_save(e, r);
	}
	log_info_kv(LOG_FIELDS(.event = "run.adopted", .job = r->rec.job, .task_id = r->rec.task_id, .status = "running"),
	    "run %s is still running: resumed", r->rec.task_id);
}

/* An async run whose process ended well: its status may still come, within maxCompletionTime. */
static bool awaits_status(const struct jobrec *rec, const struct run *r)
{
	return r->rec.status == RUN_RUNNING && rec && rec->job->async && r->rec.end_ms != RUN_TIME_NONE &&
	    r->rec.exit_code == 0;
}

/* Resume one open run, as the store held it. */
static void recover_one(struct engine *e, struct run *r, const struct strmap *reports)
{
	struct jobrec *rec = run_jobrec(e, r);

	switch (r->rec.status) {
	case RUN_QUEUED:
		run_enqueue(e, r);
		break;
	case RUN_WAITING: {
		/* a retry waiting for its delay, or a run that was waiting for an agent, which may have taken it since */
		const struct runner_report *rep = strmap_get(reports, r->rec.task_id);
		if (rep && rep->state != RUNNER_TASK_UNKNOWN) {
			recover_interrupted(e, r, rep);
			break;
		}
		run_hold(e, r);
		heap_set(&e->retries, &r->wait, r->rec.not_before_ms);
		break;
	}
	default:
		if (awaits_status(rec, r)) {
			run_hold(e, r);
			r->awaiting_async = true;
			rec->rt->running++;
			if (rec->job->max_completion_time > 0)
				heap_set(&e->retries, &r->wait, r->rec.start_ms + rec->job->max_completion_time * 1000);
			break;
		}
		recover_interrupted(e, r, strmap_get(reports, r->rec.task_id));
		break;
	}
}

/* The open runs, read in full before any is resumed: resuming writes to the table being read. */
struct open_runs {
	struct engine *e;
	struct run **v;
	size_t n, cap;
};

static int collect(void *ctx, const struct run_record *stored)
{
	struct open_runs *o = ctx;

	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 64;
		o->v = xrealloc(o->v, o->cap * sizeof(*o->v));
	}
	o->v[o->n++] = run_from_record(o->e, registry_get(o->e->reg, stored->job), stored);
	return 0;
}

/* A recovery waiting for its runner's reports. */
struct recovery {
	struct engine *e;
	struct open_runs open;
	size_t asked;               /* those of them the runner was asked about */
	void (*resumed)(struct engine *e);
};

/* A task the runner holds that no open run knows: it cannot be anyone's run any more, so it is ended (its end
 * then goes to nobody), or released when it has ended (the runner forgets it: an agent drops its result). */
static void stray_task(struct engine *e, const struct runner_report *rep)
{
	struct task_id id;
	struct runner_ref ref = {.task_id = rep->task_id, .job = ""};

	log_warnx_kv(LOG_FIELDS(.event = "run.stray", .task_id = rep->task_id), "task %s: the runner has it but no "
	    "open run does; %s", rep->task_id, rep->state == RUNNER_TASK_RUNNING ? "it is killed" : "it is forgotten");
	if (rep->state == RUNNER_TASK_RUNNING) {
		if (runner_kill(e->cfg.runner, rep->task, 0) < 0)
			log_debug("task %s: already ending", rep->task_id);
		return;
	}
	if (task_id_parse(rep->task_id, &id) == 0)
		ref.job = id.job_name;
	runner_release(e->cfg.runner, &ref, RUNNER_OUTCOME_LOST);
}

/* The jobs of the open runs are busy while the reconciliation goes on (job_busy()), and its asked runs count as
 * running (on); or no more (off). */
static void mark_recovering(struct recovery *rc, bool on)
{
	struct engine *e = rc->e;

	for (size_t i = 0; i < rc->open.n; i++) {
		struct jobrec *rec = run_jobrec(e, rc->open.v[i]);
		if (rec)
			rec->rt->recovering = on;
	}
	e->recovering = on ? (int)rc->asked : 0;
}

static void on_reconciled(void *ctx, const struct runner_report *reports, size_t n)
{
	struct recovery *rc = ctx;
	struct engine *e = rc->e;
	struct strmap *by_id = strmap_new(), *open = strmap_new();
	char **jobs = xcalloc(rc->open.n + 1, sizeof(*jobs));

	for (size_t i = 0; i < rc->open.n; i++)
		strmap_put(open, rc->open.v[i]->rec.task_id, rc->open.v[i]);
	for (size_t i = 0; i < n; i++) {
		if (strmap_get(open, reports[i].task_id))
			strmap_put(by_id, reports[i].task_id, (void *)(uintptr_t)&reports[i]);
		else if (reports[i].state != RUNNER_TASK_UNKNOWN)
			stray_task(e, &reports[i]);
	}
	mark_recovering(rc, false);
	for (size_t i = 0; i < rc->open.n; i++)
		jobs[i] = xstrdup(rc->open.v[i]->rec.job);
	for (size_t i = 0; i < rc->open.n; i++)
		recover_one(e, rc->open.v[i], by_id);
	/* a slot that fired meanwhile waits for its job's recovered runs as for any previous run */
	for (size_t i = 0; i < rc->open.n; i++) {
		struct jobrec *rec = registry_get(e->reg, jobs[i]);
		if (rec)
			run_job_next(e, rec);
		free(jobs[i]);
	}
	free(jobs);
	strmap_free(open);
	strmap_free(by_id);
	free(rc->open.v);
	e->recovery = NULL;
	rc->resumed(e);
	free(rc);
}

void run_recover_cancel(struct engine *e)
{
	struct recovery *rc = e->recovery;

	if (rc == NULL)
		return;
	mark_recovering(rc, false);
	for (size_t i = 0; i < rc->open.n; i++)
		run_free(rc->open.v[i]);
	free(rc->open.v);
	free(rc);
	e->recovery = NULL;
}

int run_recover_all(struct engine *e, void (*resumed)(struct engine *e))
{
	struct recovery *rc = xcalloc(1, sizeof(*rc));
	const char **ids, **agents;
	size_t n = 0;
	int ret;

	rc->e = e;
	rc->open.e = e;
	rc->resumed = resumed;
	if ((ret = state_load_open_runs(e->state, collect, &rc->open)) < 0) {
		for (size_t i = 0; i < rc->open.n; i++)
			run_free(rc->open.v[i]);
		free(rc->open.v);
		free(rc);
		return ret;
	}
	/* The runner is asked about the runs that may have a task: those that were starting or running, and those
	 * waiting (for an agent, which may have taken it meanwhile; or a retry's delay: the runner knows none). */
	ids = xcalloc(rc->open.n, sizeof(*ids));
	agents = xcalloc(rc->open.n, sizeof(*agents));
	for (size_t i = 0; i < rc->open.n; i++) {
		struct run *r = rc->open.v[i];
		if (r->rec.status != RUN_QUEUED && !awaits_status(run_jobrec(e, r), r)) {
			agents[n] = r->rec.agent && r->rec.agent[0] ? r->rec.agent : NULL;
			ids[n++] = r->rec.task_id;
		}
	}
	e->recovery = rc;
	rc->asked = n;
	mark_recovering(rc, true);
	runner_reconcile(e->cfg.runner, e->cfg.epoch, ids, agents, n, on_reconciled, rc);
	free(agents);
	free(ids);
	return 0;
}
