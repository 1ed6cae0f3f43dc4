/* The deterministic simulation of the engine (issue 11, point 9): the engine itself (src/scheduler) under a
 * simulated clock (sim_clock.h), a simulated runner (sim_runner.h: random durations, failures, hangs, lost tasks,
 * refused starts) and the real SQLite store in a temporary directory, over a random set of jobs (ISO 8601 in DST
 * zones, cron, dependencies with fan-in, retries with backoff, concurrent or not, epsilon, deadlines), with
 * random manual runs, kills, edits (retries changed, the schedule kept), deletions (children re-parented) and
 * engine restarts (a new engine with the next epoch on the same store and runner, after a random downtime), for a
 * simulated week or more. Jobs, edits, deletions, manual runs and kills go through src/control, as the API's do.
 * Everything random comes from one seed.
 *
 * Checked as it runs (by the runner, at every start): each task was claimed and committed first, no task id starts
 * twice, no start with an older epoch, an attempt only after the previous attempt of its slot failed (never after
 * a kill or a success), no attempt past the job's retries. Checked at the end, from the store: every due slot of
 * every scheduled job not deleted has exactly one final outcome (its last attempt's, or a skipped record that
 * covers it), or a run the engine still holds; no slot outside a job's schedule ran; every scheduled slot's
 * attempts are 0..n with no gap; a fan-in child ran once per round (no parent run counted twice, every parent in
 * each round; children whose parents changed are not checked). A deleted job's commands are refused as unknown.
 *
 * Usage: gnomon_sim [--seed S | --seeds N [--first S]] [--days D] [--jobs J] [--sqlite] [--no-store-faults] [--keep]
 *     [--verbose]
 * A failure prints the seed and the command that replays it; the exit status is 1. */

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "history/history.h"
#include "history/history_sqlite.h"
#include "history/run_output.h"
#include "history/run_output_files.h"
#include "control/control.h"
#include "job/job.h"
#include "job/job_json.h"
#include "store/mem_backend.h"
#include "runner/runner.h"
#include "schedule/schedule.h"
#include "scheduler/engine.h"
#include "scheduler/events.h"
#include "scheduler/registry.h"
#include "fail_vfs.h"
#include "sim_check.h"
#include "sim_clock.h"
#include "sim_rng.h"
#include "sim_runner.h"
#include "sim_state.h"
#include "state/state.h"
#include "state/state_sqlite.h"
#include "store/store.h"
#include "util/log.h"
#include "util/metrics.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

static const struct control_who sim_who = {"sim", "anonymous", "sim", "sim"};

#define DAY_MS INT64_C(86400000)
#define HOUR_MS INT64_C(3600000)
#define MIN_MS INT64_C(60000)

struct options {
	uint64_t first, count;
	bool store_faults;
	bool sqlite;              /* the SQLite backends under the delays, rather than the in-memory ones */
	bool keep;
	int days, jobs;
	bool verbose;
	const char *argv0;
};

/* One job as the simulation made it. */
struct sim_job {
	char name[32];
	char schedule[128];
	char zone[48];
	bool dependent;
	bool exists;              /* its creation was committed (told by the event hub) */
	bool deleted;             /* deleted by an action: no longer checked slot by slot */
	bool touched;             /* edited, or re-parented by a parent's deletion: its rounds are not checked */
	bool rescheduled;         /* its schedule was edited: its slots are not checked one by one */
	int retries;              /* the most retries it ever had */
	int64_t created_ms;       /* when the put that created it was made: the engine counts its slots from then */
	int64_t put_ms;           /* when the last put of it was made */
	char json[4096];          /* as last put */
};

struct sim {
	struct options opt;
	uint64_t seed;
	struct sim_rng rng;
	struct sim_check check;
	struct sim_clock *clock;
	char dir[64];
	struct store *store;
	struct state *inner;       /* the state's backend under state: in memory, or SQLite (--sqlite) */
	struct state *state;       /* sim_state.h: commits later, fails now and then */
	struct registry *reg;
	struct schedule_zones *zones;
	struct events *events;
	struct metrics *metrics;
	struct run_output *output;
	struct history *history;
	struct runner *runner;
	struct engine *engine;
	struct control *control;  /* over the engine of the moment */
	struct engine_config ecfg;
	struct sim_job *jobs;
	int njobs;
	struct strmap *by_name;   /* name -> struct sim_job */
	int64_t start_ms, end_ms;
	bool down;                /* between an engine's stop and the next one's start */
	uint64_t restarts, manual, kills, edits, deletes, mem_faults;
};

static const char *const ZONES[] = {"America/New_York", "Europe/London", "Australia/Lord_Howe", "UTC",
	"Asia/Kolkata", "America/Sao_Paulo", "Europe/Berlin", "Pacific/Chatham"};
static const char *const PERIODS[] = {"PT30M", "PT1H", "PT1H", "PT6H", "PT6H", "P1D", "P1D", "P1D", "P1D", "P1W"};
static const char *const CRONS[] = {"0 * * * *", "*/30 * * * *", "15 3 * * *", "30 2 * * *", "0 2 * * 0",
	"45 1 * * 1-5", "0 */4 * * *"};

static int64_t sim_now(void *ctx)
{
	return sim_clock_now(((struct sim *)ctx)->clock);
}

static int retries_of(void *ctx, const char *name)
{
	struct sim_job *j = strmap_get(((struct sim *)ctx)->by_name, name);
	return j ? j->retries : -1;
}

/* A local wall-clock time in a zone as ISO 8601 with its offset, from a UTC instant (through the schedule
 * module's own formatting). */
static void format_start(struct sim *s, const char *zone, int64_t ms, char *out, size_t len)
{
	uint16_t z;
	char err[256];
	if (schedule_zones_intern(s->zones, zone, &z, err, sizeof(err)) < 0 ||
	    schedule_format_instant(s->zones, z, ms, out, len) < 0) {
		fprintf(stderr, "sim: cannot format a start in %s: %s\n", zone, err);
		exit(2);
	}
}

/* What the event hub tells: which jobs were created and deleted (commits complete later than the commands). */
static void on_event(void *ctx, const struct event *ev)
{
	struct sim *s = ctx;
	struct sim_job *sj = strmap_get(s->by_name, ev->job_name);

	if (sj == NULL)
		return;
	if (ev->type == EVENT_JOB_CREATED) {
		sj->exists = true;
		sj->created_ms = sj->put_ms; /* the attempts are one after the other: the last one's commit completed */
	} else if (ev->type == EVENT_JOB_DELETED) {
		sj->deleted = true;
	}
}

/* Create a job, waiting for its commit: busy (a commit in flight) or failed, it is put again. */
static void add_job(struct sim *s, struct sim_job *sj, const char *json)
{
	char err[512];

	for (int tries = 0; tries < 10000 && !sj->exists; tries++) {
		int rc;
		sj->put_ms = sim_clock_now(s->clock);
		rc = control_put_job(s->control, json, strlen(json), CONTROL_PUT_ANY, &sim_who, err, sizeof(err));
		if (rc < 0 && rc != -EAGAIN && rc != -EIO && rc != -ENOSPC) {
			fprintf(stderr, "sim: job %s refused: %s\n%s\n", sj->name, err, json);
			exit(2);
		}
		while (!sj->exists && sim_state_in_flight(s->state))
			sim_clock_step(s->clock, s->end_ms);
	}
	if (!sj->exists) {
		fprintf(stderr, "sim: job %s could not be created\n", sj->name);
		exit(2);
	}
}

/* The job set: about 45% ISO 8601, 30% cron, 25% dependent on 1-3 earlier scheduled jobs. */
static void make_jobs(struct sim *s)
{
	s->njobs = s->opt.jobs;
	s->jobs = xcalloc((size_t)s->njobs, sizeof(*s->jobs));
	for (int i = 0; i < s->njobs; i++) {
		struct sim_job *sj = &s->jobs[i];
		char json[2048], parents[256] = "", start[64];
		int kind = (int)sim_rng_range(&s->rng, 0, 99);
		const char *retry_delay = sim_rng_chance(&s->rng, 0.5) ? "PT30S" : "PT5M";
		int64_t eps_min = sim_rng_chance(&s->rng, 0.5) ? 1 : 30;
		bool concurrent = sim_rng_chance(&s->rng, 0.2);
		int64_t deadline = sim_rng_chance(&s->rng, 0.3) ? sim_rng_range(&s->rng, 60, 3600) : 0;

		snprintf(sj->name, sizeof(sj->name), "job%04d", i);
		sj->retries = (int)sim_rng_range(&s->rng, 0, 3);
		if (kind < 25 && i >= 10) {
			int np = (int)sim_rng_range(&s->rng, 1, 3);
			size_t len = 0;
			sj->dependent = true;
			for (int k = 0; k < np; k++) {
				struct sim_job *p = &s->jobs[sim_rng_range(&s->rng, 0, i - 1)];
				if (strstr(parents, p->name))
					continue;
				len += (size_t)snprintf(parents + len, sizeof(parents) - len, "%s\"%s\"", len ? "," : "",
				    p->name);
			}
			snprintf(json, sizeof(json),
			    "{\"name\":\"%s\",\"command\":\"true\",\"parents\":[%s],\"retries\":%d,\"retryDelay\":\"%s\","
			    "\"retryBackoff\":2,\"concurrent\":%s,\"maxCompletionTime\":%" PRId64 ",\"owner\":\"sim@x\"}",
			    sj->name, parents, sj->retries, retry_delay, concurrent ? "true" : "false", deadline);
		} else {
			snprintf(sj->zone, sizeof(sj->zone), "%s", ZONES[sim_rng_range(&s->rng, 0, 7)]);
			if (kind < 70) {
				format_start(s, sj->zone, s->start_ms + sim_rng_range(&s->rng, 1, DAY_MS / 1000) * 1000, start,
				    sizeof(start));
				snprintf(sj->schedule, sizeof(sj->schedule), "R/%s/%s", start, PERIODS[sim_rng_range(&s->rng, 0, 9)]);
			} else {
				snprintf(sj->schedule, sizeof(sj->schedule), "%s", CRONS[sim_rng_range(&s->rng, 0, 6)]);
			}
			snprintf(json, sizeof(json),
			    "{\"name\":\"%s\",\"command\":\"true\",\"schedule\":\"%s\",\"scheduleTimeZone\":\"%s\","
			    "\"epsilon\":\"PT%" PRId64 "M\",\"retries\":%d,\"retryDelay\":\"%s\",\"retryBackoff\":2,"
			    "\"concurrent\":%s,\"maxCompletionTime\":%" PRId64 ",\"owner\":\"sim@x\"}",
			    sj->name, sj->schedule, sj->zone, eps_min, sj->retries, retry_delay,
			    concurrent ? "true" : "false", deadline);
		}
		strmap_put(s->by_name, sj->name, sj);
		snprintf(sj->json, sizeof(sj->json), "%s", json);
		add_job(s, sj, json);
	}
}

static void engine_up(struct sim *s)
{
	s->ecfg.epoch++;
	s->engine = engine_new(s->reg, s->state, s->zones, &s->ecfg);
	if (engine_start(s->engine) < 0) {
		fprintf(stderr, "sim: the engine could not start (seed %" PRIu64 ")\n", s->seed);
		exit(2);
	}
	s->control = control_new(&(struct control_config){.reg = s->reg, .state = s->state, .engine = s->engine,
		.zones = s->zones, .events = s->events, .clock = s->ecfg.clock});
	s->down = false;
}

static void on_up(void *ctx)
{
	engine_up(ctx);
}

/* Put the job again with other retries (its schedule as first posted, so its slots stay the same). */
/* Put the job again as read, with other retries and, for one scheduled job in two, another schedule (an ISO 8601 one
 * starting within a day, or a cron expression). */
static void edit_job(struct sim *s, struct sim_job *sj)
{
	char json[4096], edited[4096], err[512], sched[128], start[64], *read, *p, *q;
	int retries = (int)sim_rng_range(&s->rng, 0, 3), rc;
	struct jobrec *rec = registry_get(s->reg, sj->name);
	bool resched = false;

	if (rec == NULL || (sj->dependent && sj->touched))
		return; /* a re-parented child's JSON here names a parent that is gone */
	/* what a client reads (its schedule as its firings moved it on), posted back with other retries */
	read = job_to_json_string(rec->job);
	if ((p = strstr(read, "\"retries\":")) == NULL || strchr(p + 10, ',') == NULL) {
		free(read);
		return;
	}
	snprintf(json, sizeof(json), "%.*s\"retries\":%d%s", (int)(p - read), read, retries, strchr(p + 10, ','));
	free(read);
	if (!sj->dependent && sim_rng_chance(&s->rng, 0.5) && (p = strstr(json, "\"schedule\":\"")) != NULL &&
	    (q = strchr(p + 12, '"')) != NULL) {
		if (sim_rng_chance(&s->rng, 0.5)) {
			format_start(s, sj->zone, sim_clock_now(s->clock) + sim_rng_range(&s->rng, 1, DAY_MS / 1000) * 1000,
			    start, sizeof(start));
			snprintf(sched, sizeof(sched), "R/%s/%s", start, PERIODS[sim_rng_range(&s->rng, 0, 9)]);
		} else {
			snprintf(sched, sizeof(sched), "%s", CRONS[sim_rng_range(&s->rng, 0, 6)]);
		}
		snprintf(edited, sizeof(edited), "%.*s%s%s", (int)(p + 12 - json), json, sched, q);
		memcpy(json, edited, sizeof(json));
		resched = true;
	}
	rc = control_put_job(s->control, json, strlen(json), CONTROL_PUT_ANY, &sim_who, err, sizeof(err));
	if (rc < 0 && rc != -ENOSPC && rc != -EIO && rc != -EAGAIN) {
		sim_violation(&s->check, "the edit of %s was refused: %s", sj->name, err);
		return;
	}
	if (rc == 0) {
		size_t n = strlen(json);
		if (n >= sizeof(sj->json)) {
			sim_violation(&s->check, "the simulation's copy of %s's JSON is too long", sj->name);
			return;
		}
		memcpy(sj->json, json, n + 1);
		if (retries > sj->retries)
			sj->retries = retries;
		sj->touched = true;
		sj->rescheduled |= resched; /* even if its commit fails later: then it is only checked less */
		s->edits++;
	}
}

/* Delete the job; its children are re-parented (and no longer checked slot by slot). */
static void delete_job(struct sim *s, struct sim_job *sj)
{
	char err[512], needle[40];
	int rc = control_delete_job(s->control, sj->name, &sim_who, err, sizeof(err));

	if (rc < 0 && rc != -ENOSPC && rc != -EIO && rc != -EAGAIN) {
		sim_violation(&s->check, "the deletion of %s was refused: %s", sj->name, err);
		return;
	}
	if (rc < 0)
		return;
	s->deletes++; /* sj->deleted once it is committed (on_event) */
	snprintf(needle, sizeof(needle), "\"%s\"", sj->name);
	for (int i = 0; i < s->njobs; i++)
		if (strstr(s->jobs[i].json, "\"parents\"") && strstr(s->jobs[i].json, needle))
			s->jobs[i].touched = true;
}

/* One random action, then the next one posted. */
static void on_action(void *ctx)
{
	struct sim *s = ctx;
	int what = (int)sim_rng_range(&s->rng, 0, 99);
	struct sim_job *sj = &s->jobs[sim_rng_range(&s->rng, 0, s->njobs - 1)];
	char err[256];
	int killed;

	if (!s->down && sj->deleted) {
		/* commands on a deleted job are refused as unknown */
		if (control_run_now(s->control, sj->name, NULL, &sim_who, err, sizeof(err)) != -ENOENT)
			sim_violation(&s->check, "a manual run of the deleted job %s was not refused as unknown", sj->name);
	} else if (!s->down) {
		if (what < 50) {
			s->manual++;
			int rc = control_run_now(s->control, sj->name, NULL, &sim_who, err, sizeof(err));
			/* refused only when the store fails (the API's 507), or while a commit is in flight (503) */
			if (rc < 0 && rc != -ENOSPC && rc != -EIO && rc != -EAGAIN)
				sim_violation(&s->check, "manual run of %s refused: %s", sj->name, err);
		} else if (what < 80) {
			s->kills++;
			if (control_kill(s->control, sj->name, &sim_who, &killed, err, sizeof(err)) < 0)
				sim_violation(&s->check, "kill of %s refused: %s", sj->name, err);
		} else if (what < 82) {
			edit_job(s, sj);
		} else if (what < 83) {
			delete_job(s, sj);
		} else if (what < 86) {
			/* the leader goes away (a clean stop), and the next comes after a downtime */
			s->restarts++;
			control_free(s->control);
			s->control = NULL;
			engine_stop(s->engine);
			s->engine = NULL;
			sim_state_fence(s->state); /* the next leader's epoch fences what the last one still commits */
			s->down = true;
			sim_clock_post(s->clock, sim_rng_chance(&s->rng, 0.5) ? 0 : sim_rng_range(&s->rng, 1, 90) * MIN_MS,
			    on_up, s);
		}
	}
	sim_clock_post(s->clock, sim_rng_range(&s->rng, 1, 20) * MIN_MS, on_action, s);
}

/* How many slots a skipped record covers: "slot X ..." is one, "N slots from X to Y ..." is N. */
static int64_t skipped_slots(const char *reason)
{
	long long n;
	if (strncmp(reason, "slot ", 5) == 0)
		return 1;
	if (strncmp(reason, "at least ", 9) == 0)
		reason += 9;
	return sscanf(reason, "%lld slots ", &n) == 1 ? n : 1;
}

/* A job's runs, open (the state's) and ended (the history's), by due time then attempt. */
struct job_runs {
	struct run_record *v;
	size_t n, cap;
};

static int add_run(void *ctx, const struct run_record *r)
{
	struct job_runs *l = ctx;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	run_record_init(&l->v[l->n]);
	run_record_copy(&l->v[l->n++], r);
	return 0;
}

static int by_due_attempt(const void *pa, const void *pb)
{
	const struct run_record *a = pa, *b = pb;
	if (a->due_ms != b->due_ms)
		return a->due_ms < b->due_ms ? -1 : 1;
	return a->attempt < b->attempt ? -1 : a->attempt > b->attempt;
}

static void load_runs(struct sim *s, const char *job, struct job_runs *out)
{
	char cursor[HISTORY_CURSOR_MAX] = "", next[HISTORY_CURSOR_MAX];

	memset(out, 0, sizeof(*out));
	if (state_list_open_runs(s->inner, job, add_run, out) < 0)
		sim_violation(&s->check, "job %s: its open runs cannot be read", job);
	do {
		if (history_list(s->history, job, cursor, 1000, add_run, out, next) < 0) {
			sim_violation(&s->check, "job %s: its history cannot be read", job);
			break;
		}
		memcpy(cursor, next, sizeof(cursor));
	} while (cursor[0]);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), by_due_attempt);
}

static void free_runs(struct job_runs *l)
{
	for (size_t i = 0; i < l->n; i++)
		run_record_clear(&l->v[i]);
	free(l->v);
}

/* Whether the slot of runs[i] has a later attempt than runs[i]'s. */
static bool has_next_attempt(const struct job_runs *l, size_t i)
{
	for (size_t k = i + 1; k < l->n && l->v[k].due_ms == l->v[i].due_ms; k++)
		if (l->v[k].attempt == l->v[i].attempt + 1)
			return true;
	return false;
}

/* A scheduled job's slots up to cutoff: each has exactly one outcome (or a run the engine still holds), and
 * nothing ran that is not one of its slots. */
static void check_scheduled(struct sim *s, struct sim_job *sj, int64_t cutoff)
{
	struct schedule sched;
	char err[512];
	int64_t t, *due = NULL;
	int *outcomes;
	size_t n = 0, cap = 0;
	struct job_runs runs;
	int64_t group_due = INT64_MIN;
	bool group_scheduled = false;

	if (schedule_parse(s->zones, sj->schedule, sj->zone, sj->created_ms, &sched, err, sizeof(err)) < 0) {
		sim_violation(&s->check, "job %s: its schedule does not parse: %s", sj->name, err);
		return;
	}
	t = schedule_kind(&sched) == SCHEDULE_CRON ? sj->created_ms : schedule_start(&sched) - 1;
	while (schedule_next_after(s->zones, &sched, t, &t) == 0 && t != SCHEDULE_NEVER && t <= cutoff) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			due = xrealloc(due, cap * sizeof(*due));
		}
		due[n++] = t;
	}
	outcomes = xcalloc(n + 1, sizeof(*outcomes));
	load_runs(s, sj->name, &runs);
	for (size_t i = 0; i < runs.n && s->check.violations == 0; i++) {
		const struct run_record *r = &runs.v[i];
		int64_t d = r->due_ms;
		size_t k = 0;

		if (d != group_due) {
			group_due = d;
			group_scheduled = r->attempt == 0 && r->trigger == TRIGGER_SCHEDULE;
		}
		if (!group_scheduled || d > cutoff)
			continue; /* a manual or dependency run and its retries; or a slot that may be in flight */
		while (k < n && due[k] < d)
			k++;
		if (k == n || due[k] != d) {
			sim_violation(&s->check, "job %s (%s in %s): %s is not one of its slots", sj->name, sj->schedule,
			    sj->zone, r->task_id);
			break;
		}
		if (r->status == RUN_SKIPPED) {
			/* the record's own count; its reason says the same (checked) */
			int64_t m = r->skipped_slots;
			if (m == 0 || m != skipped_slots(r->reason))
				sim_violation(&s->check, "job %s: skipped record %s covers %" PRId64 " slots, its reason says "
				    "'%s'", sj->name, r->task_id, m, r->reason);
			for (int64_t q = 0; q < m && k + (size_t)q < n; q++)
				outcomes[k + (size_t)q]++;
			continue;
		}
		if (has_next_attempt(&runs, i)) {
			if (r->status != RUN_FAILED && r->status != RUN_LOST)
				sim_violation(&s->check, "job %s: %s is %s, and yet another attempt followed", sj->name, r->task_id,
				    run_status_name(r->status));
			continue;
		}
		if (run_status_is_final(r->status))
			outcomes[k]++;
		else if (s->control == NULL || !control_run_active(s->control, r->task_id))
			sim_violation(&s->check, "job %s: %s is %s, but the engine does not hold it", sj->name, r->task_id,
			    run_status_name(r->status));
		else
			outcomes[k]++; /* still in flight: its one outcome is to come */
	}
	free_runs(&runs);
	/* Slots due before the job was created were never missed: none of them has a record but the last, when it
	 * was within epsilon when the job came. */
	for (size_t k = 0; k < n && s->check.violations == 0; k++)
		if (due[k] <= sj->created_ms ? outcomes[k] > (k + 1 < n && due[k + 1] <= sj->created_ms ? 0 : 1)
					     : outcomes[k] != 1)
			sim_violation(&s->check, "job %s (%s in %s): slot %" PRId64 " has %d outcomes", sj->name,
			    sj->schedule, sj->zone, due[k], outcomes[k]);
	free(due);
	free(outcomes);
}

/* A fan-in child ran once per round: no parent run counted in two of its runs, and each run names one run of
 * every parent. */
static void check_rounds(struct sim *s, struct sim_job *sj)
{
	struct jobrec *rec = registry_get(s->reg, sj->name);
	struct strmap *seen = strmap_new(); /* parent task id -> the job; keys in ids */
	char **ids = NULL;
	size_t nids = 0, capids = 0;
	struct job_runs runs;

	load_runs(s, sj->name, &runs);
	for (size_t i = 0; i < runs.n && s->check.violations == 0; i++) {
		const struct run_record *r = &runs.v[i];
		char *parents, *save = NULL;
		uint32_t count = 0;
		if (r->trigger != TRIGGER_DEPENDENCY || r->attempt != 0)
			continue;
		parents = xstrdup(r->parents);
		for (char *p = strtok_r(parents, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
			count++;
			if (strmap_get(seen, p))
				sim_violation(&s->check, "job %s: parent run %s counted in two rounds (again in %s)", sj->name, p,
				    r->task_id);
			if (nids == capids) {
				capids = capids ? capids * 2 : 64;
				ids = xrealloc(ids, capids * sizeof(*ids));
			}
			ids[nids] = xstrdup(p);
			strmap_put(seen, ids[nids++], sj);
		}
		if (rec && count != rec->job->n_parents)
			sim_violation(&s->check, "job %s: run %s names %u parent runs of %u parents", sj->name, r->task_id,
			    count, rec->job->n_parents);
		free(parents);
	}
	free_runs(&runs);
	strmap_free(seen);
	for (size_t i = 0; i < nids; i++)
		free(ids[i]);
	free(ids);
}

/* The end-of-run checks over what the state and the history hold. */
static void check_history(struct sim *s)
{
	int64_t cutoff = s->end_ms - DAY_MS / 4; /* slots after this may still be in flight */

	for (int i = 0; i < s->njobs && s->check.violations == 0; i++) {
		if (s->jobs[i].deleted || s->jobs[i].rescheduled || (s->jobs[i].touched && s->jobs[i].dependent))
			continue; /* its slots, or its rounds, changed under it */
		if (s->jobs[i].dependent)
			check_rounds(s, &s->jobs[i]);
		else
			check_scheduled(s, &s->jobs[i], cutoff);
	}
}

/* Records of every job (open or ended), and how many of them are skipped. */
static void count_runs(struct sim *s, int64_t *all, int64_t *skipped)
{
	*all = *skipped = 0;
	for (int i = 0; i < s->njobs; i++) {
		struct job_runs runs;
		load_runs(s, s->jobs[i].name, &runs);
		*all += (int64_t)runs.n;
		for (size_t k = 0; k < runs.n; k++)
			*skipped += runs.v[k].status == RUN_SKIPPED;
		free_runs(&runs);
	}
}

static void cleanup_dir(const char *dir)
{
	char cmd[160];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "sim: could not remove %s\n", dir);
}

/* One simulated run from seed; 0 when every check held. */
static int run_one(const struct options *opt, uint64_t seed)
{
	struct sim s = {.opt = *opt, .seed = seed, .rng = {seed * 0x2545f4914f6cdd1du + 1}};
	struct sim_runner_config rcfg = {.p_fail = 0.1, .p_hang = 0.002, .p_lost = 0.01, .p_refuse = 0.01, .p_wait = 0.02, .p_late = 0.3,
		.max_ms = 30 * MIN_MS, .retries_of = retries_of};
	char err[512];
	struct timespec t0, t1;
	int64_t records, skipped;
	const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

	uint64_t failures_before = fail_vfs_failures();

	clock_gettime(CLOCK_MONOTONIC, &t0);
	/* a start in 2026-2027 (DST changes fall inside many runs), on a whole second */
	s.start_ms = INT64_C(1767225600000) + sim_rng_range(&s.rng, 0, 365 * 24 * 3600) * 1000;
	s.end_ms = s.start_ms + opt->days * DAY_MS;
	s.clock = sim_clock_new(s.start_ms);
	s.check.now = sim_now;
	s.check.now_ctx = &s;
	snprintf(s.dir, sizeof(s.dir), "%s/gnomon-sim-XXXXXX", tmp);
	if (mkdtemp(s.dir) == NULL) {
		perror("sim: mkdtemp");
		exit(2);
	}
	if (run_output_files_new(s.dir, &s.output, err, sizeof(err)) < 0 ||
	    (opt->sqlite && (store_open(s.dir, &s.store, err, sizeof(err)) < 0 ||
				history_sqlite_new(store_connection(s.store), &s.history, err, sizeof(err)) < 0))) {
		fprintf(stderr, "sim: %s\n", err);
		exit(2);
	}
	if (opt->sqlite)
		s.inner = state_sqlite_new(s.store);
	else
		mem_backend_new(&s.inner, &s.history);
	s.state = sim_state_new(s.inner, s.history, s.clock, &s.rng, &(struct sim_state_config){
		.max_delay_ms = 250, .p_fail = opt->store_faults ? 1.0 / 500 : 0});
	s.reg = registry_new();
	s.zones = schedule_zones_new();
	s.events = events_new();
	if (events_subscribe(s.events, on_event, &s) < 0)
		exit(2);
	s.metrics = metrics_new(s.start_ms);
	s.by_name = strmap_new();
	rcfg.ctx = &s;
	s.runner = sim_runner_new(s.clock, &s.rng, &s.check, s.inner, s.history, &rcfg);
	s.ecfg = (struct engine_config){
		.hostname = "sim",
		.max_running = (int)sim_rng_range(&s.rng, 4, 64),
		.failure_retry_ms = 60000,
		.kill_grace_ms = 5000,
		.log_cap = 4096,
		.clock = sim_clock_base(s.clock),
		.runner = s.runner,
		.history = s.history,
		.output = s.output,
		.metrics = s.metrics,
		.events = s.events,
	};
	engine_up(&s);
	make_jobs(&s);
	sim_clock_post(s.clock, sim_rng_range(&s.rng, 1, 20) * MIN_MS, on_action, &s);
	/* a write fails now and then: the backend's next one after one step in 300 (SQLite: the store's log write
	 * during that step; only the store's own connection writes the log, so which commit fails depends on the seed
	 * alone) */
	for (;;) {
		bool more, fail = opt->store_faults && sim_rng_chance(&s.rng, 1.0 / 300);
		if (fail && !opt->sqlite) {
			mem_backend_fail_next(s.inner);
			s.mem_faults++;
		}
		fail_vfs_arm(fail && opt->sqlite);
		more = sim_clock_step(s.clock, s.end_ms);
		fail_vfs_arm(false);
		if (!more)
			break;
	}
	if (s.down)
		engine_up(&s);
	/* a reconciliation answered late (its agents come back): the open runs are the engine's once it is */
	while (engine_recovering(s.engine) && sim_clock_step(s.clock, s.end_ms + 120 * 1000))
		;
	check_history(&s);
	count_runs(&s, &records, &skipped);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("seed %" PRIu64 " (%s): %d jobs, %d days from %" PRId64 ", %" PRIu64 " events, %" PRIu64 " tasks started, "
	    "%" PRId64 " records (%" PRId64 " skipped), %" PRIu64 " manual runs, %" PRIu64 " kills, %" PRIu64
	    " restarts, %" PRIu64 " edits, %" PRIu64 " deletions, %" PRIu64 " failed writes, %" PRIu64 " commits "
	    "completed later, %" PRIu64 " failed, max %d running: %s in "
	    "%.2f s\n",
	    seed, opt->sqlite ? "SQLite" : "in memory", s.njobs, opt->days, s.start_ms, sim_clock_steps(s.clock), sim_runner_started(s.runner),
	    records, skipped, s.manual, s.kills, s.restarts, s.edits, s.deletes,
	    fail_vfs_failures() - failures_before + s.mem_faults, sim_state_delayed(s.state), sim_state_failed(s.state),
	    s.ecfg.max_running, s.check.violations ? "FAILED" : "ok",
	    (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	if (s.check.violations)
		printf("  %" PRId64 " violation(s); the first, at %" PRId64 " ms: %s\n  replay: %s --seed %" PRIu64
		    " --days %d --jobs %d\n", s.check.violations, s.check.at_ms, s.check.first, opt->argv0, seed, opt->days,
		    opt->jobs);
	fflush(stdout);
	control_free(s.control);
	engine_stop(s.engine);
	runner_free(s.runner);
	run_output_free(s.output);
	metrics_free(s.metrics);
	events_free(s.events);
	registry_free(s.reg);
	schedule_zones_free(s.zones);
	state_free(s.state);
	state_free(s.inner);
	history_free(s.history); /* before the store, whose connection it uses */
	store_close(s.store);
	strmap_free(s.by_name);
	free(s.jobs);
	sim_clock_free(s.clock);
	if (opt->keep && s.check.violations)
		printf("  its %s kept in %s\n", opt->sqlite ? "store is" : "run output is", s.dir);
	else
		cleanup_dir(s.dir);
	return s.check.violations ? 1 : 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"seed", required_argument, NULL, 's'}, {"seeds", required_argument, NULL, 'n'},
		{"first", required_argument, NULL, 'f'}, {"days", required_argument, NULL, 'd'},
		{"jobs", required_argument, NULL, 'j'}, {"verbose", no_argument, NULL, 'v'},
		{"no-store-faults", no_argument, NULL, 'F'}, {"sqlite", no_argument, NULL, 'q'}, {"keep", no_argument, NULL, 'k'}, {"help", no_argument, NULL, 'h'}, {NULL, 0, NULL, 0}};
	struct options opt = {.first = 1, .count = 1, .days = 7, .jobs = 1000, .store_faults = true, .argv0 = argv[0]};
	int c, failed = 0;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 's': opt.first = strtoull(optarg, NULL, 10); opt.count = 1; break;
		case 'n': opt.count = strtoull(optarg, NULL, 10); break;
		case 'f': opt.first = strtoull(optarg, NULL, 10); break;
		case 'd': opt.days = atoi(optarg); break;
		case 'j': opt.jobs = atoi(optarg); break;
		case 'v': opt.verbose = true; break;
		case 'F': opt.store_faults = false; break;
		case 'q': opt.sqlite = true; break;
		case 'k': opt.keep = true; break;
		default:
			fprintf(stderr, "usage: %s [--seed S | --seeds N [--first S]] [--days D] [--jobs J] [--sqlite] [--no-store-faults] [--keep] "
			    "[--verbose]\n",
			    argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (opt.days < 1 || opt.jobs < 10 || opt.count < 1) {
		fprintf(stderr, "sim: --days must be at least 1, --jobs at least 10, --seeds at least 1\n");
		return 2;
	}
	if (fail_vfs_install() < 0) {
		fprintf(stderr, "sim: SQLite refused the failing VFS (tests/support/fail_vfs.h)\n");
		return 2;
	}
	log_init(opt.verbose ? LOG_LEVEL_INFO : LOG_LEVEL_ERROR, false);
	for (uint64_t i = 0; i < opt.count; i++)
		failed += run_one(&opt, opt.first + i);
	if (opt.count > 1)
		printf("%" PRIu64 " seeds, %d failed\n", opt.count, failed);
	return failed ? 1 : 0;
}
