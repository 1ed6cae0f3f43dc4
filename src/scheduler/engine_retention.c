/* History retention (--history-max-runs, --history-max-age) and the audit trail's (--audit-retention-days): at
 * start-up and hourly (--prune-interval) over the whole history, and
 * for the jobs whose runs just ended, batched, after the transaction that recorded their ends. What a pruned run
 * left (its output, a kept working directory) goes once its record's removal has committed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "history/run_output.h"
#include "runner/runner.h"
#include "scheduler/engine_internal.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

/* A run's record was pruned (and that is committed): what its run left goes too (its output, and a kept working
 * directory). */
static void on_pruned(void *ctx, const char *task_id, const char *job)
{
	struct engine *e = ctx;

	run_output_remove(e->cfg.output, &(struct run_output_key){task_id});
	runner_purge(e->cfg.runner, &(struct runner_ref){task_id, job});
}

static void on_retention_done(void *ctx, int n)
{
	(void)ctx;
	if (n > 0)
		log_info("history retention removed %d run(s)", n);
}

void run_prune_history(struct engine *e)
{
	struct history_retention keep = {
		.keep = e->cfg.history_max_runs,
		.older_than_ms = e->cfg.history_max_age_ms > 0 ? clock_now(e->clock) - e->cfg.history_max_age_ms : RUN_TIME_NONE,
	};
	if (history_prune(e->cfg.history, &keep, on_pruned, on_retention_done, e) < 0)
		log_warnx("history retention failed (%s); it is tried again in an hour", history_errmsg(e->cfg.history));
}

static void audit_pruned(void *ctx, int status)
{
	(void)ctx;
	if (status < 0)
		log_warnx("audit retention failed (%s); it is tried again at the next round", strerror(-status));
}

void run_prune_audit(struct engine *e)
{
	struct state_txn *t;
	int rc;

	/* beside the engine's commits, as its quiet writes: the engine's gate stays open for its own work */
	if (e->cfg.audit_max_age_ms <= 0 || (rc = state_begin(e->state, &t)) < 0)
		return;
	if ((rc = state_prune_audit(t, clock_now(e->clock) - e->cfg.audit_max_age_ms)) < 0) {
		state_abort(t);
		if (rc != -EOPNOTSUPP)
			log_warnx("audit retention failed (%s)", strerror(-rc));
		return;
	}
	state_commit(t, audit_pruned, NULL);
}

void run_prune_soon(void *ctx)
{
	struct engine *e = ctx;
	struct history_retention keep = {.jobs = (const char *const *)e->prune_jobs, .n_jobs = e->n_prune_jobs,
	    .keep = e->cfg.history_max_runs, .older_than_ms = RUN_TIME_NONE};

	if (history_prune(e->cfg.history, &keep, on_pruned, NULL, e) < 0)
		log_warnx("could not prune the history of %zu job(s) whose runs ended (%s); their next run's end or the "
		    "hourly retention tries again", e->n_prune_jobs, history_errmsg(e->cfg.history));
	for (size_t i = 0; i < e->n_prune_jobs; i++) {
		strmap_remove(e->prune_set, e->prune_jobs[i]);
		free(e->prune_jobs[i]);
	}
	e->n_prune_jobs = 0;
}

void run_prune_job_soon(struct engine *e, const char *job)
{
	char *name;

	if (e->cfg.history_max_runs <= 0 || e->stopping || strmap_get(e->prune_set, job))
		return;
	if (e->n_prune_jobs == e->cap_prune_jobs) {
		e->cap_prune_jobs = e->cap_prune_jobs ? 2 * e->cap_prune_jobs : 16;
		e->prune_jobs = xrealloc(e->prune_jobs, e->cap_prune_jobs * sizeof(*e->prune_jobs));
	}
	name = e->prune_jobs[e->n_prune_jobs++] = xstrdup(job);
	strmap_put(e->prune_set, name, name);
	/* One prune, in a transaction of its own, for every job whose runs ended within PRUNE_SOON_MS: a prune per
	 * run end cost a commit each (a sixth of the launch rate at 8 runs at once, bench/throughput). */
	if (e->n_prune_jobs == 1)
		clock_timer_start(e->prune_soon, PRUNE_SOON_MS);
}
