/* The fleet's reconciliation (runner_reconcile): the embedded agent answers at once; a task recorded on a remote
 * agent is settled by that agent's registration (what it reports), or called unknown once the agent timeout
 * since this fleet started has passed without it. Tasks agents reported that nobody asked about are reported
 * too (the engine kills them). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "runner/runner_remote_internal.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

struct remote_reconcile {
	runner_reconciled_fn done;
	void *ctx;
	size_t n;
	char **ids;
	char **agents;         /* the remote agent each waits for; NULL once settled or when none */
	struct rtask **found;  /* settled: its task, or NULL (unknown) */
	bool *settled;
	bool *absent;          /* settled as unknown by its agent's own answer (runner_report.absent) */
	size_t unsettled;
	uint64_t deadline;     /* uv_now() */
	struct strmap *by_id;  /* task id -> index + 1 */
};

bool remote_reconcile_awaits(const struct remote *f, const char *task_id)
{
	struct remote_reconcile *rc = f->rec;
	uintptr_t i;

	if (rc == NULL || (i = (uintptr_t)strmap_get(rc->by_id, task_id)) == 0)
		return false;
	return !rc->settled[i - 1];
}

static void settle(struct remote_reconcile *rc, size_t i, struct rtask *t)
{
	if (rc->settled[i])
		return;
	rc->settled[i] = true;
	rc->found[i] = t;
	rc->unsettled--;
}

/* Settled as unknown by the word of the agent it was given to: it never started there. */
static void settle_absent(struct remote_reconcile *rc, size_t i)
{
	if (!rc->settled[i])
		rc->absent[i] = true;
	settle(rc, i, NULL);
}

static void free_rec(struct remote_reconcile *rc)
{
	for (size_t i = 0; i < rc->n; i++) {
		free(rc->ids[i]);
		free(rc->agents[i]);
	}
	free(rc->ids);
	free(rc->agents);
	free(rc->found);
	free(rc->settled);
	free(rc->absent);
	strmap_free(rc->by_id);
	free(rc);
}

static void report_of(struct runner_report *rep, struct rtask *t)
{
	rep->task_id = t->task_id;
	if (t->agent) {
		rep->agent = t->agent->name;
		rep->host = t->agent->hostname;
	}
	if (t->st == T_ENDED) {
		rep->state = RUNNER_TASK_ENDED;
		rep->result = t->result;
		t->heard = true;
	} else {
		rep->state = RUNNER_TASK_RUNNING;
		rep->task = (struct runner_task *)t;
	}
}

/* Everything is settled: report, the asked tasks first, then those nobody asked about. */
static void finish(struct remote *f)
{
	struct remote_reconcile *rc = f->rec;
	size_t cap = rc->n + strmap_count(f->tasks), k = 0;
	struct runner_report *reps = xcalloc(cap + 1, sizeof(*reps));

	f->rec = NULL;
	for (size_t i = 0; i < rc->n; i++) {
		reps[k].task_id = rc->ids[i];
		if (rc->found[i]) {
			report_of(&reps[k], rc->found[i]);
		} else {
			reps[k].state = RUNNER_TASK_UNKNOWN;
			reps[k].absent = rc->absent[i];
		}
		k++;
	}
	for (struct rtask *t = f->all; t && k < cap; t = t->next) {
		uintptr_t i = (uintptr_t)strmap_get(rc->by_id, t->task_id);
		if (i == 0 && t->ctx == NULL && t->st != T_WAITING)
			report_of(&reps[k++], t);
	}
	f->reconciled = true;
	rc->done(rc->ctx, reps, k);
	free(reps);
	free_rec(rc);
	remote_kick(f);
}

/* The task an agent holds for this id, wrapped as one of the fleet's. */
static struct rtask *wrap_local(struct remote *f, const struct runner_report *rep)
{
	struct rtask *t = strmap_get(f->tasks, rep->task_id);

	if (t)
		return t;
	t = remote_task_new(f, rep->task_id);
	t->agent = f->agents;
	if (rep->state == RUNNER_TASK_ENDED) {
		t->st = T_ENDED;
		t->result = xmalloc(sizeof(*t->result));
		*t->result = *rep->result;
	} else {
		t->st = T_RUNNING;
		t->local = rep->task;
		runner_adopt(f->local, rep->task, t); /* its events come to the fleet, whoever adopts it upstream */
	}
	return t;
}

struct local_ask {
	struct remote *f;
	struct remote_reconcile *rc;
};

static void on_local_reports(void *ctx, const struct runner_report *reports, size_t n)
{
	struct local_ask *ask = ctx;
	struct remote *f = ask->f;
	struct remote_reconcile *rc = ask->rc;
	const char *local_name = f->local && f->agents ? f->agents->name : NULL;

	for (size_t i = 0; i < n; i++) {
		uintptr_t k;
		if (reports[i].state == RUNNER_TASK_UNKNOWN)
			continue;
		struct rtask *t = wrap_local(f, &reports[i]);
		if ((k = (uintptr_t)strmap_get(rc->by_id, reports[i].task_id)) != 0)
			settle(rc, k - 1, t);
	}
	for (size_t i = 0; i < rc->n; i++) {
		struct rtask *t;
		struct ragent *a;
		if (rc->settled[i])
			continue;
		if ((t = strmap_get(f->tasks, rc->ids[i])) != NULL) {
			settle(rc, i, t); /* an agent reported it already */
			continue;
		}
		if (rc->agents[i] == NULL) {
			settle(rc, i, NULL); /* given to no agent the store knows of: it may be anywhere, or nowhere */
			continue;
		}
		if (local_name && strcmp(rc->agents[i], local_name) == 0) {
			/* the embedded agent has no trace of it; not called absent: a crash in the middle of its spawn
			 * may leave an executor that starts it yet */
			settle(rc, i, NULL);
			continue;
		}
		if ((a = remote_agent_find(f, rc->agents[i])) != NULL && a->up) {
			if (a->epoch_told >= f->epoch)
				settle_absent(rc, i); /* where it was given, nobody has it, nor can it be given it any more */
			else
				settle(rc, i, NULL); /* its agent has not got it, though it registered under an older epoch */
			continue;
		}
		log_info_kv(LOG_FIELDS(.task_id = rc->ids[i]), "task %s: waiting for its agent %s to come back (up to %"
		    PRIu64 " s)", rc->ids[i], rc->agents[i], (rc->deadline - uv_now(f->loop)) / 1000);
	}
}

void remote_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids, const char *const *agents,
    size_t n, runner_reconciled_fn done, void *ctx)
{
	struct remote *f = REMOTE(r);
	struct remote_reconcile *rc;
	struct local_ask ask = {.f = f};

	if (epoch < f->epoch) {
		log_warnx("reconciliation of epoch %" PRIu64 " refused: this runner has seen %" PRIu64, epoch, f->epoch);
		return;
	}
	f->epoch = epoch;
	remote_reconcile_free(f); /* a newer one replaces one still waiting, whose engine stopped */
	rc = xcalloc(1, sizeof(*rc));
	rc->done = done;
	rc->ctx = ctx;
	rc->n = n;
	rc->ids = xcalloc(n + 1, sizeof(*rc->ids));
	rc->agents = xcalloc(n + 1, sizeof(*rc->agents));
	rc->found = xcalloc(n + 1, sizeof(*rc->found));
	rc->settled = xcalloc(n + 1, sizeof(*rc->settled));
	rc->absent = xcalloc(n + 1, sizeof(*rc->absent));
	rc->unsettled = n;
	rc->by_id = strmap_new();
	/* Counted from now, not from this runner's start: a server elected long after it started (HA) knows none of
	 * the agents of the runs the leader before it opened, and they need the time to find it. */
	rc->deadline = uv_now(f->loop) + f->agent_timeout_ms;
	for (size_t i = 0; i < n; i++) {
		rc->ids[i] = xstrdup(task_ids[i]);
		rc->agents[i] = agents && agents[i] && agents[i][0] ? xstrdup(agents[i]) : NULL;
		strmap_put(rc->by_id, rc->ids[i], (void *)(uintptr_t)(i + 1));
	}
	f->rec = rc;
	ask.rc = rc;
	if (f->local) {
		runner_reconcile(f->local, epoch, (const char *const *)rc->ids, NULL, n, on_local_reports, &ask);
	} else {
		on_local_reports(&ask, NULL, 0);
	}
	if (f->rec == rc && rc->unsettled == 0)
		finish(f);
}

void remote_reconcile_agent_came(struct remote *f, struct ragent *a)
{
	struct remote_reconcile *rc = f->rec;

	if (rc == NULL)
		return;
	for (size_t i = 0; i < rc->n; i++) {
		struct rtask *t;
		if (rc->settled[i])
			continue;
		if ((t = strmap_get(f->tasks, rc->ids[i])) != NULL)
			settle(rc, i, t);
		else if (rc->agents[i] && (strcmp(rc->agents[i], a->name) == 0 || strcmp(rc->agents[i], a->id) == 0))
			settle_absent(rc, i); /* its agent is back without it */
	}
	if (rc->unsettled == 0)
		finish(f);
}

void remote_reconcile_tick(struct remote *f)
{
	struct remote_reconcile *rc = f->rec;

	if (rc == NULL || uv_now(f->loop) < rc->deadline)
		return;
	for (size_t i = 0; i < rc->n; i++) {
		if (!rc->settled[i]) {
			log_warnx_kv(LOG_FIELDS(.task_id = rc->ids[i]), "task %s: its agent %s did not come back within %" PRIu64
			    " s", rc->ids[i], rc->agents[i] ? rc->agents[i] : "?", f->agent_timeout_ms / 1000);
			settle(rc, i, NULL);
		}
	}
	finish(f);
}

void remote_reconcile_free(struct remote *f)
{
	if (f->rec)
		free_rec(f->rec);
	f->rec = NULL;
}
