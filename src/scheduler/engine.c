#include "scheduler/engine.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "job/job.h"
#include "job/job_json.h"
#include "job/task_id.h"
#include "runner/runner.h"
#include "schedule/schedule.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/container.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define FIRE_SLICE_NS ((uint64_t)5 * 1000 * 1000) /* firing due jobs at most this long per turn of the loop */
/* Missed slots are counted exactly for ISO schedules (arithmetic on the period, however many there are: PT1S
 * over 700 days is 60 million), one by one for cron up to this many, whose count in a record then reads "at
 * least N" rather than costing the loop a walk over a long downtime. */
#define CRON_MISSED_COUNT_CAP 1000
#define PRUNE_INTERVAL_MS (3600 * 1000)

static void rt_init(void *ctx, struct jobrec *rec)
{
	(void)ctx;
	heap_node_init(&rec->rt->fire);
}

static void rt_fini(void *ctx, struct jobrec *rec)
{
	(void)ctx;
	graph_round_reset(&rec->rt->round);
}

static void on_timer(void *ctx);
static void on_prune_timer(void *ctx);

struct engine *engine_new(struct registry *reg, struct state *state, struct schedule_zones *zones,
    const struct engine_config *cfg)
{
	struct engine *e = xcalloc(1, sizeof(*e));
	e->clock = cfg->clock;
	e->reg = reg;
	e->state = state;
	e->zones = zones;
	e->cfg = *cfg;
	registry_set_runtime(reg, rt_init, rt_fini, e);
	heap_init(&e->jobs);
	heap_init(&e->retries);
	e->runs = strmap_new();
	e->armed_ms = INT64_MAX;
	e->timer = clock_timer_new(e->clock, on_timer, e);
	e->kick = clock_timer_new(e->clock, on_timer, e);
	e->prune_timer = clock_timer_new(e->clock, on_prune_timer, e);
	e->prune_soon = clock_timer_new(e->clock, run_prune_soon, e);
	e->prune_set = strmap_new();
	return e;
}

int engine_save_outcome(struct engine *e, struct state_txn *t, const struct jobrec *rec)
{
	struct state_outcome o = engine_job_outcome(rec->job);
	(void)e;
	return state_put_outcome(t, rec->job->name, &o);
}

/* The next time a scheduled job needs attention, INT64_MAX when never. */
static int64_t next_fire(struct engine *e, struct jobrec *rec)
{
	int64_t t = INT64_MAX;

	if (!rec->rt->has_sched || rec->job->disabled)
		return INT64_MAX;
	if (schedule_kind(&rec->rt->sched) == SCHEDULE_ISO8601) {
		if (schedule_repeat(&rec->rt->sched) == 0)
			return INT64_MAX;
		if (schedule_period_is_zero(&rec->rt->sched) && rec->rt->last_fired >= schedule_start(&rec->rt->sched))
			return rec->rt->last_fired + 1;
		return schedule_start(&rec->rt->sched);
	}
	if (schedule_next_after(e->zones, &rec->rt->sched, rec->rt->cron_last_due, &t) < 0 || t == SCHEDULE_NEVER)
		return INT64_MAX;
	return t;
}

static void reschedule(struct engine *e, struct jobrec *rec)
{
	int64_t t = next_fire(e, rec);
	if (t == INT64_MAX)
		heap_remove(&e->jobs, &rec->rt->fire);
	else
		heap_set(&e->jobs, &rec->rt->fire, t);
}

void engine_arm(struct engine *e)
{
	struct heap_node *j = heap_min(&e->jobs), *r = heap_min(&e->retries);
	int64_t when = INT64_MAX, now;

	if (e->stopping || e->more || e->inflight)
		return; /* more is due already: fire_due arms the timer when it is done (or the commit in flight, when it
		         * completes) */
	if (j)
		when = j->key;
	if (r && r->key < when)
		when = r->key;
	if (when == e->armed_ms)
		return;
	e->armed_ms = when;
	if (when == INT64_MAX) {
		clock_timer_stop(e->timer);
		return;
	}
	now = clock_now(e->clock);
	clock_timer_start(e->timer, when > now ? (uint64_t)(when - now) : 0);
}

/* Parse a job's schedule into its record; dependent jobs and (impossible) bad schedules have none. */
static void load_schedule(struct engine *e, struct jobrec *rec, int64_t now)
{
	char err[512];
	rec->rt->has_sched = false;
	if (rec->job->dependent)
		return;
	if (schedule_parse(e->zones, rec->job->schedule, rec->job->schedule_time_zone, now, &rec->rt->sched, err,
		sizeof(err)) < 0) {
		log_warnx_kv(LOG_FIELDS(.event = "job.unschedulable", .job = rec->job->name), "job '%s' will not run: %s",
		    rec->job->name, err);
		return;
	}
	rec->rt->has_sched = true;
}

/* Write a job's progress in t: the cron slot last handled, the anchor of s (none when s is NULL) and the schedule
 * moved on by its firings (NULL: the definition's). */
static int save_progress(struct state_txn *t, const struct jobrec *rec, const struct schedule *s,
    int64_t cron_last_due, const char *moved)
{
	struct state_progress p = {.last_due_ms = cron_last_due, .schedule = moved};

	p.has_anchor = s != NULL && schedule_anchor(s, &p.anchor_ms, &p.anchor_index);
	return state_put_progress(t, rec->job->name, &p);
}

bool engine_job_progress_new(struct engine *e, const struct job *job, const struct jobrec *prev, int64_t now_ms,
    struct state_progress *p)
{
	struct schedule s;
	char err[256];

	if (job->dependent || (prev && prev->rt && prev->rt->cron_last_due != 0) ||
	    schedule_parse(e->zones, job->schedule, job->schedule_time_zone, now_ms, &s, err, sizeof(err)) < 0 ||
	    schedule_kind(&s) != SCHEDULE_CRON)
		return false;
	*p = (struct state_progress){.last_due_ms = now_ms};
	return true;
}

/* engine_job_changed's work for one job; a schedule progress to save goes into *t (begun when it is NULL; NULL
 * again when it cannot be). */
static void job_changed(struct engine *e, struct jobrec *rec, int64_t since_ms, struct state_txn **t)
{
	int64_t now = clock_now(e->clock), anchor, index;
	struct schedule old = rec->rt->sched;
	bool had = rec->rt->has_sched, save = false, same;

	load_schedule(e, rec, now);
	/* The same schedule (a client posting back what it read, or changing something else): its slots go on being
	 * counted, a due one that is late included. */
	same = had && rec->rt->has_sched &&
	    (schedule_kind(&old) == SCHEDULE_CRON
		    ? schedule_kind(&rec->rt->sched) == SCHEDULE_CRON && old.zone == rec->rt->sched.zone &&
			memcmp(&old.u.cron, &rec->rt->sched.u.cron, sizeof(old.u.cron)) == 0
		    : schedule_keep_anchor(&rec->rt->sched, &old));
	deps_job_changed(e, rec);
	if (rec->rt->has_sched && schedule_kind(&rec->rt->sched) == SCHEDULE_CRON && rec->rt->cron_last_due == 0) {
		/* A new cron job counts its slots from when it was written: earlier ones were never missed. */
		rec->rt->cron_last_due = since_ms;
		save = true;
	}
	/* A job posted back as it was read keeps its anchor; any other schedule counts from its own start (and
	 * replaces or clears the saved anchor). */
	if (!(same && schedule_kind(&old) == SCHEDULE_ISO8601) &&
	    ((rec->rt->has_sched && schedule_anchor(&rec->rt->sched, &anchor, &index)) ||
		(had && schedule_anchor(&old, &anchor, &index))))
		save = true;
	if (save) {
		if ((*t == NULL && state_begin(e->state, t) < 0) ||
		    save_progress(*t, rec, rec->rt->has_sched ? &rec->rt->sched : NULL, rec->rt->cron_last_due, NULL) < 0) {
			state_abort(*t);
			*t = NULL;
			log_warnx("job '%s': could not save its schedule progress", rec->job->name);
		}
	}
	if (!same) {
		rec->rt->fresh = true;
		rec->rt->last_fired = since_ms;
	}
	reschedule(e, rec);
}

void engine_job_changed(struct engine *e, struct jobrec *rec, int64_t since_ms)
{
	engine_jobs_changed(e, &rec, 1, since_ms);
}

void engine_jobs_changed(struct engine *e, struct jobrec *const *recs, size_t n, int64_t since_ms)
{
	struct state_txn *t = NULL;

	for (size_t i = 0; i < n; i++)
		job_changed(e, recs[i], since_ms, &t);
	if (t)
		engine_commit_quiet(t, n == 1 ? "a job's schedule progress" : "the jobs' schedule progress");
	engine_arm(e);
}

/* The skipped records a firing wrote, told to the subscribers once they are committed (at most one per reason). */
struct missed {
	struct run_record r[2];
	int n;
};

static void missed_clear(struct missed *m)
{
	for (int i = 0; i < m->n; i++)
		run_record_clear(&m->r[i]);
	m->n = 0;
}

/* A record of the slots of a job that came due too late to run (or while its previous run went on), kept in
 * out when it is new. */
static int record_skipped(struct engine *e, struct state_txn *t, const struct jobrec *rec, int64_t first,
    int64_t last, int64_t n, const char *why, struct missed *out)
{
	char from[SCHEDULE_INSTANT_MAX], to[SCHEDULE_INSTANT_MAX], reason[512];
	struct run_record r;
	int rc;

	if (schedule_format_instant(e->zones, rec->rt->sched.zone, first, from, sizeof(from)) < 0)
		snprintf(from, sizeof(from), "%" PRId64, first);
	if (schedule_format_instant(e->zones, rec->rt->sched.zone, last, to, sizeof(to)) < 0)
		snprintf(to, sizeof(to), "%" PRId64, last);
	if (n == 1)
		snprintf(reason, sizeof(reason), "slot %s %s", from, why);
	else
		snprintf(reason, sizeof(reason), "%s%" PRId64 " slots from %s to %s %s",
		    schedule_kind(&rec->rt->sched) == SCHEDULE_CRON && n >= CRON_MISSED_COUNT_CAP ? "at least " : "", n, from,
		    to, why);
	run_record_init(&r);
	r.task_id = task_id_format(first, 0, rec->job->name, NULL);
	run_record_set(&r.job, rec->job->name);
	run_record_set(&r.reason, reason);
	r.due_ms = first;
	r.status = RUN_SKIPPED;
	r.skipped_from_ms = first;
	r.skipped_to_ms = last;
	r.skipped_slots = n;
	r.end_ms = clock_now(e->clock);
	rc = state_claim_run(t, &r);
	if (rc == 0)
		log_info_kv(LOG_FIELDS(.event = "run.skipped", .job = rec->job->name, .task_id = r.task_id,
				.status = "skipped"), "job '%s': %s", rec->job->name, reason);
	if (rc == 0 && out->n < 2)
		out->r[out->n++] = r;
	else
		run_record_clear(&r);
	return rc == -EEXIST ? 0 : rc;
}

/* Record the slots in (from, last] that will not run, one record per reason: those more than eps late at now
 * (all of them when last does not run), and those within eps before last, collapsed into its run. */
static int record_missed(struct engine *e, struct state_txn *t, const struct jobrec *rec, int64_t from,
    int64_t last, int64_t now, int64_t eps, bool run_it, struct missed *out)
{
	const struct schedule *s = &rec->rt->sched;
	int64_t cut = run_it ? now - eps - 1 : last, n, first, end;
	int64_t cap = schedule_kind(s) == SCHEDULE_CRON ? CRON_MISSED_COUNT_CAP : INT64_MAX;
	char why[SCHEDULE_INSTANT_MAX + 160], at[SCHEDULE_INSTANT_MAX];
	int rc;

	if (schedule_count_between(e->zones, s, from, cut, cap, &n) == 0 && n > 0 &&
	    schedule_next_after(e->zones, s, from, &first) == 0 &&
	    schedule_last_at_or_before(e->zones, s, cut, &end) == 0) {
		snprintf(why, sizeof(why), "missed: more than epsilon %s late (the server was down or busy)",
		    rec->job->epsilon);
		if ((rc = record_skipped(e, t, rec, first, end, n, why, out)) < 0)
			return rc;
	}
	if (cut < from)
		cut = from;
	if (!run_it || schedule_count_between(e->zones, s, cut, last - 1, cap, &n) < 0 || n == 0 ||
	    schedule_next_after(e->zones, s, cut, &first) < 0 ||
	    schedule_last_at_or_before(e->zones, s, last - 1, &end) < 0)
		return 0;
	if (schedule_format_instant(e->zones, s->zone, last, at, sizeof(at)) < 0)
		snprintf(at, sizeof(at), "%" PRId64, last);
	snprintf(why, sizeof(why), "collapsed into the late run of slot %s (the server was down or busy)", at);
	return record_skipped(e, t, rec, first, end, n, why, out);
}

/* A firing being committed: what it changed in memory, to put back if the commit fails, and what it does once
 * the commit is durable. */
struct fire_commit {
	struct engine_commit base;
	struct jobrec *rec;
	struct schedule next;   /* ISO: the schedule moved on */
	bool iso;
	int64_t last, now;
	char *saved_schedule;   /* ISO: the job's schedule text before (the job holds the new one) */
	bool disabled_now;      /* the firing disabled the job (its finite schedule ran out) */
	bool start_now;         /* r was claimed as starting */
	struct missed missed;
	struct run *r;          /* the run claimed, NULL: none */
};

static void fire_free(struct fire_commit *fc)
{
	missed_clear(&fc->missed);
	free(fc->saved_schedule);
	if (fc->r)
		run_free(fc->r);
	free(fc);
}

/* Put back what the firing changed in the job (the registry's, which outlives the engine). */
static void fire_undo(struct fire_commit *fc)
{
	struct job *j = fc->rec->job;

	if (fc->disabled_now)
		j->disabled = false;
	if (fc->saved_schedule)
		job_set_string(&j->schedule, fc->saved_schedule);
}

/* The firing could not be recorded: nothing of it happened; the job tries again soon. */
static void fire_failed(struct engine *e, struct fire_commit *fc)
{
	struct job *j = fc->rec->job;

	fire_undo(fc);
	log_warnx_kv(LOG_FIELDS(.event = "store.error", .job = j->name),
	    "job '%s': could not record its due slot, trying again in %d ms", j->name, RETRY_AFTER_STORE_ERROR_MS);
	heap_set(&e->jobs, &fc->rec->rt->fire, fc->now + RETRY_AFTER_STORE_ERROR_MS);
	fire_free(fc);
}

static void fire_committed(struct engine *e, struct engine_commit *c, int status)
{
	struct fire_commit *fc = container_of(c, struct fire_commit, base);
	struct jobrec *rec = fc->rec;
	struct run *r = fc->r;

	if (status == -ECANCELED) {
		/* the engine stops: the job is left as the state had it before (the next engine reads it from there;
		 * if this commit still lands, its claim makes the slot's firing again a no-op) */
		fire_undo(fc);
		fire_free(fc);
		return;
	}
	if (status < 0) {
		fire_failed(e, fc);
		return;
	}
	if (fc->iso)
		rec->rt->sched = fc->next;
	else
		rec->rt->cron_last_due = fc->last;
	rec->rt->last_fired = fc->now;
	rec->rt->fresh = false;
	reschedule(e, rec);
	for (int i = 0; i < fc->missed.n; i++)
		engine_tell_skipped(e, rec, &fc->missed.r[i]);
	if (fc->disabled_now) {
		log_info_kv(LOG_FIELDS(.event = "job.disabled", .job = rec->job->name),
		    "job '%s' has exhausted all of its recurrences and is now disabled", rec->job->name);
		engine_tell_exhausted(e, rec);
	}
	fc->r = NULL;
	if (r && fc->start_now)
		run_start_claimed(e, &r, 1);
	else if (r)
		run_enqueue(e, r);
	fire_free(fc);
}

/* Handle the slots of a scheduled job that are due at now: run the last one if it is within the job's epsilon,
 * record the others as skipped, and move the schedule on; all in one transaction before anything runs. */
static void fire_job(struct engine *e, struct jobrec *rec, int64_t now)
{
	struct job *j = rec->job;
	int64_t eps = job_epsilon_ms(j), from, last = SCHEDULE_NONE, anchor, index;
	bool run_it;
	char text[SCHEDULE_FORMAT_MAX];
	struct fire_commit *fc;
	struct state_txn *t;
	int rc;

	fc = xcalloc(1, sizeof(*fc));
	fc->base.finish = fire_committed;
	fc->rec = rec;
	fc->now = now;
	fc->next = rec->rt->sched;
	fc->iso = schedule_kind(&rec->rt->sched) == SCHEDULE_ISO8601;
	if (fc->iso && schedule_period_is_zero(&rec->rt->sched)) {
		/* R5/x/PT0S: five runs, one after the other; each firing is a slot of its own. */
		from = now - 1;
		last = now;
	} else if (fc->iso) {
		from = schedule_start(&rec->rt->sched) - 1;
		if (schedule_last_at_or_before(e->zones, &rec->rt->sched, now, &last) < 0 || last == SCHEDULE_NONE)
			last = from + 1;
	} else {
		from = rec->rt->cron_last_due;
		if (schedule_last_at_or_before(e->zones, &rec->rt->sched, now, &last) < 0 || last == SCHEDULE_NONE) {
			reschedule(e, rec);
			free(fc);
			return;
		}
	}
	fc->last = last;
	run_it = now - last <= eps;
	if (fc->iso && ((rc = schedule_advance(e->zones, &fc->next, now, last)) < 0 ||
			   (rc = schedule_format(e->zones, &fc->next, text, sizeof(text))) < 0)) {
		/* Not the store's fault: trying again would fail the same way every time. */
		log_warnx_kv(LOG_FIELDS(.event = "job.unschedulable", .job = j->name), "job '%s' will not run until it is "
		    "changed: its schedule '%s' cannot move past its slot due at %" PRId64 " ms (%s)", j->name, j->schedule,
		    last, strerror(-rc));
		free(fc);
		return;
	}

	if ((rc = engine_begin(e, &t)) == -EBUSY) {
		/* a commit is in flight: fired again when it completes */
		heap_set(&e->jobs, &rec->rt->fire, now);
		free(fc);
		return;
	}
	if (rc < 0) {
		fire_failed(e, fc);
		return;
	}
	if (fc->iso) {
		fc->saved_schedule = xstrdup(j->schedule);
		job_set_string(&j->schedule, text);
		/* The last slot of a finite schedule missed: nothing is left to run, so the job ends disabled, as
		 * after a last run. */
		if (!run_it && schedule_repeat(&fc->next) == 0 && !j->disabled) {
			j->disabled = true;
			fc->disabled_now = true;
		}
		/* The anchor goes with the moved schedule, so that a restart finds them consistent. */
		if ((fc->disabled_now && engine_save_outcome(e, t, rec) < 0) ||
		    save_progress(t, rec, schedule_anchor(&fc->next, &anchor, &index) ? &fc->next : NULL,
			rec->rt->cron_last_due, text) < 0)
			goto rollback;
	} else if (save_progress(t, rec, NULL, last, NULL) < 0) {
		goto rollback;
	}
	/* Slots due before a job was written were never missed; those since were, however late this firing is (a
	 * busy engine, a slow store). */
	if (rec->rt->fresh && from < rec->rt->last_fired)
		from = rec->rt->last_fired;
	if (record_missed(e, t, rec, from, last, now, eps, run_it, &fc->missed) < 0)
		goto rollback;
	if (run_it) {
		struct run *r = run_new(e, rec, last, 0, TRIGGER_SCHEDULE, NULL);
		r->rec.not_before_ms = now;
		/* Nothing in its way: claimed as starting, so it is spawned right after this commit. */
		if ((fc->start_now = run_can_start_now(e, rec))) {
			r->rec.status = RUN_STARTING;
			r->rec.start_ms = now;
		}
		rc = state_claim_run(t, &r->rec);
		if (rc == -EEXIST)
			run_free(r);
		else if (rc < 0) {
			run_free(r);
			goto rollback;
		} else {
			fc->r = r;
		}
	}
	engine_commit(e, t, &fc->base);
	return;
rollback:
	state_abort(t);
	fire_failed(e, fc);
}

/* Fire what is due, for at most FIRE_SLICE_NS: when more is due (thousands of jobs at once), the rest waits for
 * the next turn of the loop (the idle handle), so that requests and ending runs are served in between. */
static void fire_due(struct engine *e)
{
	uint64_t until = clock_mono_ns(e->clock) + FIRE_SLICE_NS;
	int64_t now = clock_now(e->clock);
	struct heap_node *n;
	unsigned fired = 0;

	if (e->cfg.clock_trusted && !e->cfg.clock_trusted(e->cfg.clock_ctx)) {
		e->armed_ms = INT64_MAX;
		clock_timer_start(e->timer, ENGINE_CLOCK_RETRY_MS);
		return;
	}
	run_release_retries(e, now);
	while ((n = heap_min(&e->jobs)) != NULL && n->key <= now) {
		struct jobrec *rec = registry_rt_rec(container_of(n, struct job_rt, fire));
		if (e->inflight) {
			e->deferred = true; /* the rest once the commit in flight completes */
			break;
		}
		if (++fired % 16 == 0 && clock_mono_ns(e->clock) > until) {
			/* 0: on the next turn of the loop, after the requests and ends that came meanwhile */
			e->more = true;
			e->armed_ms = INT64_MAX;
			clock_timer_start(e->timer, 0);
			run_dispatch(e);
			return;
		}
		heap_remove(&e->jobs, n);
		fire_job(e, rec, now);
	}
	run_dispatch(e);
	engine_arm(e);
}

static void on_timer(void *ctx)
{
	struct engine *e = ctx;
	e->more = false;
	e->armed_ms = INT64_MAX;
	fire_due(e);
}

static void on_prune_timer(void *ctx)
{
	struct engine *e = ctx;
	run_prune_history(e);
	run_prune_audit(e);
	clock_timer_start(e->prune_timer, e->cfg.prune_interval_ms > 0 ? (uint64_t)e->cfg.prune_interval_ms :
									  PRUNE_INTERVAL_MS);
}

/* A job's stored progress: its cron slot, and its anchor when that still leads to the stored schedule's start
 * (otherwise the job was re-posted before its new anchor was saved: it counts from its start). */
static int load_state(void *ctx, const char *name, const struct state_progress *st)
{
	struct engine *e = ctx;
	struct jobrec *rec = registry_get(e->reg, name);

	if (rec == NULL)
		return 0;
	rec->rt->cron_last_due = st->last_due_ms;
	if (st->has_anchor && rec->rt->has_sched &&
	    schedule_set_anchor(e->zones, &rec->rt->sched, st->anchor_ms, st->anchor_index) < 0)
		log_info("job '%s': its saved anchor does not lead to its schedule's start, which it counts from",
		    name);
	return 0;
}

/* The rest of the start, once the runner has said what became of the tasks of the open runs. */
static void resumed(struct engine *e)
{
	/* Retention applies to old records too: now, then every hour (--prune-interval). */
	run_prune_history(e);
	run_prune_audit(e);
	clock_timer_start(e->prune_timer, e->cfg.prune_interval_ms > 0 ? (uint64_t)e->cfg.prune_interval_ms :
									  PRUNE_INTERVAL_MS);
	run_dispatch(e);
	engine_arm(e);
}

int engine_start(struct engine *e)
{
	struct runner_listener listener = {.on_event = run_on_runner_event, .ctx = e};
	int64_t now = clock_now(e->clock);
	int rc;

	for (size_t i = 0; i < registry_slots(e->reg); i++)
		if (registry_slot(e->reg, i) != NULL)
			load_schedule(e, registry_slot(e->reg, i), now);
	if ((rc = state_load_progress(e->state, load_state, e)) < 0 || (rc = deps_load(e)) < 0)
		return rc;
	for (size_t i = 0; i < registry_slots(e->reg); i++) {
		struct jobrec *rec = registry_slot(e->reg, i);
		int64_t period;
		if (rec == NULL)
			continue;
		if (rec->rt->has_sched && job_schedule_period_ms(rec->job->schedule, &period) == 0 && period > 0 &&
		    period < JOB_PERIOD_MIN_MS)
			log_warnx_kv(LOG_FIELDS(.job = rec->job->name), "job '%s': its period is shorter than one second "
			    "('%s'), which the API no longer accepts; it runs, one slot at a time", rec->job->name,
			    rec->job->schedule);
		if (rec->rt->has_sched && schedule_kind(&rec->rt->sched) == SCHEDULE_CRON && rec->rt->cron_last_due == 0)
			rec->rt->cron_last_due = now;
		reschedule(e, rec);
	}
	runner_attach(e->cfg.runner, &listener);
	if ((rc = run_recover_all(e, resumed)) < 0) {
		runner_attach(e->cfg.runner, NULL);
		return rc;
	}
	if (e->recovery)
		engine_arm(e); /* the runner waits for its agents: the jobs without open runs fire meanwhile */
	return 0;
}

void engine_job_removed(struct engine *e, struct jobrec *rec)
{
	heap_remove(&e->jobs, &rec->rt->fire);
	engine_kill_job(e, rec);
	/* Processes being killed end later, maybe after a new job took the name: they must not count for it. */
	for (struct run *r = e->all; r; r = r->all_next)
		if (strcmp(r->rec.job, rec->job->name) == 0)
			r->orphan = true;
	engine_arm(e);
}

void engine_stop(struct engine *e)
{
	if (e == NULL)
		return;
	e->stopping = true;
	engine_commit_cancel(e);
	clock_timer_free(e->timer);
	clock_timer_free(e->kick);
	clock_timer_free(e->prune_timer);
	runner_attach(e->cfg.runner, NULL); /* its tasks go on without the engine; a reconciliation is not answered */
	run_recover_cancel(e);
	run_stop_all(e);
	heap_free(&e->jobs);
	heap_free(&e->retries);
	clock_timer_free(e->prune_soon);
	strmap_free(e->prune_set);
	for (size_t i = 0; i < e->n_prune_jobs; i++)
		free(e->prune_jobs[i]);
	free(e->prune_jobs);
	registry_set_runtime(e->reg, NULL, NULL, NULL); /* the jobs' heap nodes, counts and rounds were this engine's */
	strmap_free(e->runs);
	free(e);
}

const char *engine_job_state(const struct jobrec *rec, char *buf, size_t len)
{
	if (rec->rt == NULL)
		snprintf(buf, len, "idle"); /* no engine runs here (this server does not lead) */
	else if (rec->rt->running > 0)
		snprintf(buf, len, "%u running", (unsigned)rec->rt->running);
	else if (rec->rt->queued > 0 || rec->rt->pending)
		snprintf(buf, len, "queued");
	else
		snprintf(buf, len, "idle");
	return buf;
}

size_t engine_queue_size(const struct engine *e, int high_priority)
{
	return e->queue_len[high_priority ? 1 : 0];
}

bool engine_recovering(const struct engine *e)
{
	return e->recovery != NULL;
}

bool engine_run_active(const struct engine *e, const char *task_id)
{
	return strmap_get(e->runs, task_id) != NULL;
}

int engine_running(const struct engine *e)
{
	return e->running;
}

int engine_job_next_fires(struct engine *e, const struct jobrec *rec, int64_t *out, int n)
{
	if (!rec->rt->has_sched || rec->job->disabled)
		return 0;
	return schedule_upcoming(e->zones, &rec->rt->sched, rec->rt->cron_last_due, clock_now(e->clock),
	    job_epsilon_ms(rec->job), out, n);
}
