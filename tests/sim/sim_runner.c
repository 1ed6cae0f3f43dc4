#include "sim_runner.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "history/history.h"
#include "runner/runner.h"
#include "sim_check.h"
#include "sim_clock.h"
#include "sim_rng.h"
#include "state/state.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

enum task_phase { PHASE_STARTING, PHASE_RUNNING, PHASE_ENDED };

struct runner_task {
	struct sim_runner *sr;
	char *task_id;
	char *job;
	char *slot;               /* "job\ndue": its key in sim_runner.slots (whose keys are borrowed) */
	int64_t due_ms;
	int attempt;
	enum task_phase phase;
	bool killing;
	bool heard;               /* its end went to a listener */
	bool released;
	void *ctx;                /* the listener's, NULL after a detach until adopted */
	uint64_t end_gen;         /* bumps when a kill replaces the planned end */
	int64_t start_ms;
	int64_t start_by_ms;      /* a waiting task is skipped past it */
	const char *agent;        /* the simulated agent it runs on */
	struct runner_result result;
};

static const char *const agent_names[] = {"sim-agent-0", "sim-agent-1", "sim-agent-2"};

/* A reconciliation answered later (its agents come back). */
struct late_reconcile {
	struct sim_runner *sr;
	char **ids;
	size_t n;
	runner_reconciled_fn done;
	void *ctx;
	bool cancelled;
};

/* One posted event: the task and the end it is for. */
struct pending {
	struct runner_task *t;
	uint64_t gen;
	enum runner_end end;
	int exit_code;
};

struct sim_runner {
	struct runner base;
	struct sim_clock *clock;
	struct sim_rng *rng;
	struct sim_check *check;
	struct sim_runner_config cfg;
	struct state *state;      /* what is committed: the backend under the simulation's delays */
	struct history *history;
	struct runner_listener listener;
	bool attached;
	uint64_t epoch;
	struct strmap *tasks;     /* task id -> struct runner_task, every task ever started */
	struct strmap *slots;     /* "job\ndue" -> the newest attempt's task */
	struct runner_task **all;
	size_t n, cap;
	struct pending **pend;    /* every end posted */
	size_t npend, cappend;
	struct late_reconcile *late;          /* the reconciliation waiting, or NULL */
	struct late_reconcile **lates;        /* every one, freed with the runner (the clock may hold them) */
	size_t nlates;
	uint64_t running;
};

static struct sim_runner *of(struct runner *r)
{
	return (struct sim_runner *)(void *)r;
}

static void deliver(struct sim_runner *sr, struct runner_event *ev)
{
	if (sr->attached)
		sr->listener.on_event(sr->listener.ctx, ev);
}

static void end_task(struct runner_task *t, enum runner_end end, int exit_code, const char *reason)
{
	struct sim_runner *sr = t->sr;
	int64_t now = sim_clock_now(sr->clock);

	t->phase = PHASE_ENDED;
	sr->running--;
	memset(&t->result, 0, sizeof(t->result));
	t->result.end = end;
	t->result.exit_code = exit_code;
	t->result.start_ms = t->start_ms;
	t->result.end_ms = now;
	t->result.duration_us = (now - t->start_ms) * 1000;
	t->result.user_cpu_us = t->result.system_cpu_us = t->result.max_rss_kib = -1;
	snprintf(t->result.reason, sizeof(t->result.reason), "%s", reason ? reason : "");
	if (sr->attached) {
		struct runner_event ev = {.type = RUNNER_EVENT_ENDED, .task = t, .ctx = t->ctx, .task_id = t->task_id,
			.result = &t->result};
		t->heard = true;
		deliver(sr, &ev);
	}
}

static void on_running(void *ctx)
{
	struct runner_task *t = ctx;
	struct runner_event ev = {.type = RUNNER_EVENT_RUNNING, .task = t, .task_id = t->task_id};

	if (t->phase != PHASE_STARTING)
		return;
	t->phase = PHASE_RUNNING;
	t->start_ms = sim_clock_now(t->sr->clock);
	ev.ctx = t->ctx;
	ev.start_ms = t->start_ms;
	ev.pid = 1000;
	ev.agent = t->agent;
	ev.host = "sim-host";
	deliver(t->sr, &ev);
}

static void on_waiting(void *ctx)
{
	struct runner_task *t = ctx;
	struct runner_event ev = {.type = RUNNER_EVENT_WAITING, .task = t, .task_id = t->task_id, .ctx = t->ctx,
		.reason = "no simulated agent has room"};

	if (t->phase == PHASE_STARTING)
		deliver(t->sr, &ev);
}

/* A waiting task found its agent: it is skipped when that is past its start_by, else it starts. */
static void on_placed(void *ctx)
{
	struct runner_task *t = ctx;
	struct runner_event ev = {.type = RUNNER_EVENT_STARTING, .task = t, .task_id = t->task_id, .ctx = t->ctx,
		.agent = t->agent, .host = "sim-host"};

	if (t->phase != PHASE_STARTING || t->killing)
		return;
	if (t->start_by_ms > 0 && sim_clock_now(t->sr->clock) > t->start_by_ms) {
		t->end_gen++; /* its planned end is void */
		end_task(t, RUNNER_END_SKIPPED, -1, "not started: it waited for a simulated agent past its epsilon");
		return;
	}
	deliver(t->sr, &ev);
}

static void on_end(void *ctx)
{
	struct pending *p = ctx;
	struct runner_task *t = p->t;

	if (p->gen == t->end_gen && t->phase != PHASE_ENDED)
		end_task(t, p->end, p->exit_code, p->end == RUNNER_END_LOST ? "the simulated agent was lost" : NULL);
}

static void post_end(struct runner_task *t, int64_t delay_ms, enum runner_end end, int exit_code)
{
	struct sim_runner *sr = t->sr;
	struct pending *p = xcalloc(1, sizeof(*p));
	if (sr->npend == sr->cappend) {
		sr->cappend = sr->cappend ? sr->cappend * 2 : 1024;
		sr->pend = xrealloc(sr->pend, sr->cappend * sizeof(*sr->pend));
	}
	sr->pend[sr->npend++] = p; /* freed with the runner: the clock may still hold it then */
	p->t = t;
	p->gen = ++t->end_gen;
	p->end = end;
	p->exit_code = exit_code;
	sim_clock_post(t->sr->clock, delay_ms, on_end, p);
}

static void sr_attach(struct runner *r, const struct runner_listener *l)
{
	struct sim_runner *sr = of(r);
	sr->attached = l != NULL;
	if (l) {
		sr->listener = *l;
		return;
	}
	for (size_t i = 0; i < sr->n; i++)
		sr->all[i]->ctx = NULL;
	if (sr->late)
		sr->late->cancelled = true; /* its engine stopped: never answered */
	sr->late = NULL;
}

/* Is the task claimed, committed, in the state (open) or the history (ended)? */
static bool claimed(struct sim_runner *sr, const char *task_id)
{
	struct run_record r;
	bool found;

	run_record_init(&r);
	found = state_get_open_run(sr->state, task_id, &r) == 0 || history_get(sr->history, task_id, &r) == 0;
	run_record_clear(&r);
	return found;
}

/* The checks a start must pass; and the task's slot key into key. */
static void check_start(struct sim_runner *sr, const struct runner_spec *s, char *key, size_t keylen)
{
	struct runner_task *prev;
	int retries;

	snprintf(key, keylen, "%s\n%" PRId64, s->job, s->due_ms);
	if (strmap_get(sr->tasks, s->task_id))
		sim_violation(sr->check, "task %s started twice", s->task_id);
	if (!claimed(sr, s->task_id))
		sim_violation(sr->check, "task %s started before its claim was committed", s->task_id);
	if (s->epoch < sr->epoch)
		sim_violation(sr->check, "task %s started with epoch %" PRIu64 " after epoch %" PRIu64 " spoke",
		    s->task_id, s->epoch, sr->epoch);
	retries = sr->cfg.retries_of ? sr->cfg.retries_of(sr->cfg.ctx, s->job) : -1;
	if (retries >= 0 && s->attempt > retries)
		sim_violation(sr->check, "task %s: attempt %d of a job with %d retries", s->task_id, s->attempt, retries);
	prev = strmap_get(sr->slots, key);
	if (s->attempt > 0 && prev) {
		if (prev->attempt >= s->attempt)
			sim_violation(sr->check, "task %s: attempt %d after attempt %d of its slot", s->task_id, s->attempt,
			    prev->attempt);
		else if (prev->phase != PHASE_ENDED)
			sim_violation(sr->check, "task %s started while attempt %d of its slot still runs", s->task_id,
			    prev->attempt);
		else if (prev->result.end == RUNNER_END_KILLED)
			sim_violation(sr->check, "task %s: a retry of a killed run (%s)", s->task_id, prev->task_id);
		else if (prev->result.end == RUNNER_END_EXITED && prev->result.exit_code == 0)
			sim_violation(sr->check, "task %s: a retry of a run that succeeded (%s)", s->task_id, prev->task_id);
	}
}

static void sr_start_many(struct runner *r, const struct runner_spec *specs, size_t n, struct runner_start *out)
{
	struct sim_runner *sr = of(r);

	for (size_t i = 0; i < n; i++) {
		const struct runner_spec *s = &specs[i];
		struct runner_task *t;
		char key[1024];
		int64_t dur, wait;

		memset(&out[i], 0, sizeof(out[i]));
		check_start(sr, s, key, sizeof(key));
		if (s->epoch > sr->epoch)
			sr->epoch = s->epoch;
		if (sim_rng_chance(sr->rng, sr->cfg.p_refuse)) {
			out[i].rc = -EAGAIN;
			snprintf(out[i].err, sizeof(out[i].err), "the simulated agent refused it");
			continue;
		}
		t = xcalloc(1, sizeof(*t));
		t->sr = sr;
		t->task_id = xstrdup(s->task_id);
		t->job = xstrdup(s->job);
		t->slot = xstrdup(key);
		t->due_ms = s->due_ms;
		t->attempt = s->attempt;
		t->ctx = s->ctx;
		t->start_ms = sim_clock_now(sr->clock);
		t->start_by_ms = s->start_by_ms;
		t->agent = agent_names[sim_rng_range(sr->rng, 0, 2)];
		if (sr->n == sr->cap) {
			sr->cap = sr->cap ? sr->cap * 2 : 1024;
			sr->all = xrealloc(sr->all, sr->cap * sizeof(*sr->all));
		}
		sr->all[sr->n++] = t;
		strmap_put(sr->tasks, t->task_id, t);
		strmap_put(sr->slots, t->slot, t);
		sr->running++;
		out[i].task = t;
		wait = 0;
		if (sim_rng_chance(sr->rng, sr->cfg.p_wait)) {
			wait = sim_rng_range(sr->rng, 1, 180) * 1000;
			sim_clock_post(sr->clock, 0, on_waiting, t);
			sim_clock_post(sr->clock, wait, on_placed, t);
		}
		sim_clock_post(sr->clock, wait + sim_rng_range(sr->rng, 0, 50), on_running, t);
		/* how it ends */
		dur = sim_rng_chance(sr->rng, 0.05)
		    ? sim_rng_range(sr->rng, sr->cfg.max_ms / 10, sr->cfg.max_ms)
		    : sim_rng_range(sr->rng, 100, sr->cfg.max_ms / 100 + 100);
		if (sim_rng_chance(sr->rng, sr->cfg.p_hang)) {
			if (s->deadline_ms > 0)
				post_end(t, wait + (int64_t)s->deadline_ms + 50, RUNNER_END_TIMED_OUT, -1);
			/* else it runs until it is killed */
		} else if (sim_rng_chance(sr->rng, sr->cfg.p_lost)) {
			post_end(t, wait + dur, RUNNER_END_LOST, -1);
		} else if (s->deadline_ms > 0 && (uint64_t)dur > s->deadline_ms) {
			post_end(t, wait + (int64_t)s->deadline_ms, RUNNER_END_TIMED_OUT, -1);
		} else {
			post_end(t, wait + dur, RUNNER_END_EXITED, sim_rng_chance(sr->rng, sr->cfg.p_fail) ? 1 : 0);
		}
	}
}

static int sr_kill(struct runner *r, struct runner_task *t, uint64_t grace_ms)
{
	(void)r;
	if (t->phase == PHASE_ENDED || t->killing)
		return -ESRCH;
	t->killing = true;
	post_end(t, sim_rng_range(t->sr->rng, 0, grace_ms > 0 ? (int64_t)grace_ms : 0), RUNNER_END_KILLED, -1);
	return 0;
}

static void report(struct sim_runner *sr, const char *const *task_ids, size_t n, runner_reconciled_fn done,
    void *ctx);

/* The agents of a late reconciliation came back: it is answered with what is known now. */
static void on_late(void *ctx)
{
	struct late_reconcile *lr = ctx;

	if (lr->cancelled)
		return;
	lr->sr->late = NULL;
	report(lr->sr, (const char *const *)lr->ids, lr->n, lr->done, lr->ctx);
}

static void sr_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids,
    const char *const *agents, size_t n, runner_reconciled_fn done, void *ctx)
{
	struct sim_runner *sr = of(r);

	(void)agents;
	if (epoch < sr->epoch)
		return; /* a deposed leader hears nothing */
	sr->epoch = epoch;
	if (sr->late)
		sr->late->cancelled = true; /* replaced: its engine stopped */
	sr->late = NULL;
	if (sim_rng_chance(sr->rng, sr->cfg.p_late)) {
		struct late_reconcile *lr = xcalloc(1, sizeof(*lr));
		lr->sr = sr;
		lr->n = n;
		lr->ids = xcalloc(n + 1, sizeof(*lr->ids));
		for (size_t i = 0; i < n; i++)
			lr->ids[i] = xstrdup(task_ids[i]);
		lr->done = done;
		lr->ctx = ctx;
		sr->lates = xrealloc(sr->lates, (sr->nlates + 1) * sizeof(*sr->lates));
		sr->lates[sr->nlates++] = lr;
		sr->late = lr;
		sim_clock_post(sr->clock, sim_rng_range(sr->rng, 1, 60) * 1000, on_late, lr);
		return;
	}
	report(sr, task_ids, n, done, ctx);
}

/* Say what became of the tasks named. */
static void report(struct sim_runner *sr, const char *const *task_ids, size_t n, runner_reconciled_fn done,
    void *ctx)
{
	struct runner_report *reports;
	size_t m = 0;

	reports = xcalloc(n + sr->n + 1, sizeof(*reports));
	for (size_t i = 0; i < n; i++) {
		struct runner_task *t = strmap_get(sr->tasks, task_ids[i]);
		reports[m].task_id = task_ids[i];
		if (t == NULL || t->released) {
			reports[m].state = RUNNER_TASK_UNKNOWN;
		} else if (t->phase == PHASE_ENDED) {
			reports[m].state = RUNNER_TASK_ENDED;
			reports[m].result = &t->result;
			t->heard = true;
		} else {
			reports[m].state = RUNNER_TASK_RUNNING;
			reports[m].task = t;
		}
		m++;
	}
	done(ctx, reports, m);
	free(reports);
}

static void sr_adopt(struct runner *r, struct runner_task *t, void *ctx)
{
	(void)r;
	t->ctx = ctx;
}

static void sr_release(struct runner *r, const struct runner_ref *ref, enum runner_outcome outcome)
{
	struct runner_task *t = strmap_get(of(r)->tasks, ref->task_id);
	(void)outcome;
	if (t)
		t->released = true;
}

static void sr_purge(struct runner *r, const struct runner_ref *ref)
{
	(void)r;
	(void)ref;
}

static void sr_free(struct runner *r)
{
	struct sim_runner *sr = of(r);
	for (size_t i = 0; i < sr->n; i++) {
		free(sr->all[i]->task_id);
		free(sr->all[i]->job);
		free(sr->all[i]->slot);
		free(sr->all[i]);
	}
	free(sr->all);
	for (size_t i = 0; i < sr->npend; i++)
		free(sr->pend[i]);
	free(sr->pend);
	for (size_t i = 0; i < sr->nlates; i++) {
		for (size_t k = 0; k < sr->lates[i]->n; k++)
			free(sr->lates[i]->ids[k]);
		free(sr->lates[i]->ids);
		free(sr->lates[i]);
	}
	free(sr->lates);
	strmap_free(sr->tasks);
	strmap_free(sr->slots);
	free(sr);
}

static const struct runner_ops sim_runner_ops = {
	.attach = sr_attach,
	.start_many = sr_start_many,
	.kill = sr_kill,
	.reconcile = sr_reconcile,
	.adopt = sr_adopt,
	.release = sr_release,
	.purge = sr_purge,
	.free = sr_free,
};

struct runner *sim_runner_new(struct sim_clock *clock, struct sim_rng *rng, struct sim_check *check,
    struct state *state, struct history *history, const struct sim_runner_config *cfg)
{
	struct sim_runner *sr = xcalloc(1, sizeof(*sr));
	sr->base.ops = &sim_runner_ops;
	sr->clock = clock;
	sr->rng = rng;
	sr->check = check;
	sr->cfg = *cfg;
	sr->tasks = strmap_new();
	sr->slots = strmap_new();
	sr->state = state;
	sr->history = history;
	return &sr->base;
}

uint64_t sim_runner_started(const struct runner *r)
{
	return ((const struct sim_runner *)(const void *)r)->n;
}

uint64_t sim_runner_running(const struct runner *r)
{
	return ((const struct sim_runner *)(const void *)r)->running;
}
