#include "api/prometheus.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "job/job.h"
#include "control/control.h"
#include "scheduler/events.h"
#include "scheduler/registry.h"
#include "history/run_record.h"
#include "runner/runner_remote.h"
#include "util/log.h"
#include "util/prom.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

#define JOBS_PER_SLICE 1000 /* jobs walked per turn of the loop: about a millisecond with a million jobs */

/* Runs should start within a millisecond or two of their due time: fine buckets there, coarse after. */
static const double lateness_buckets[] = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5,
	5, 10, 30, 60};
/* Jobs take from milliseconds to a day. */
static const double duration_buckets[] = {0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 7200,
	21600, 86400};
/* CPU time of a run: from a millisecond to a CPU-day. */
static const double cpu_buckets[] = {0.001, 0.01, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 600, 1800, 3600, 21600, 86400};
/* Peak memory of a run: 1 MiB to 64 GiB, in powers of 4. */
static const double memory_buckets[] = {1048576, 4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296.0,
	17179869184.0, 68719476736.0};

/* The final statuses, in the order they are written. */
static const enum run_status final_statuses[] = {RUN_SUCCEEDED, RUN_FAILED, RUN_KILLED, RUN_LOST, RUN_SKIPPED};
#define NFINAL (sizeof(final_statuses) / sizeof(final_statuses[0]))

struct http_series {
	char *key;    /* "METHOD route" */
	char *labels; /* method="...",route="..." */
	struct prom_histogram h;
};

struct prometheus {
	struct events *events;
	bool per_job;
	struct prom_histogram lateness, duration;
	struct prom_histogram cpu, memory; /* runs' CPU time (user and system) and peak memory, where known */
	uint64_t runs[RUN_STATUS_COUNT];
	struct strmap *http_by_key;
	struct http_series **http;
	size_t nhttp, caphttp;
};

static void on_event(void *ctx, const struct event *ev)
{
	struct prometheus *p = ctx;
	const struct run_record *r = ev->run;

	if (ev->type != EVENT_RUN_CHANGED || r == NULL)
		return;
	if (r->status == RUN_RUNNING) {
		if (r->trigger == TRIGGER_SCHEDULE && r->start_ms != RUN_TIME_NONE) {
			int64_t late = r->start_ms - r->due_ms;
			prom_histogram_observe(&p->lateness, (double)(late > 0 ? late : 0) / 1000.0);
		}
	} else if (run_status_is_final(r->status)) {
		p->runs[r->status]++;
		if (r->start_ms != RUN_TIME_NONE && r->end_ms != RUN_TIME_NONE && r->end_ms >= r->start_ms)
			prom_histogram_observe(&p->duration, (double)(r->end_ms - r->start_ms) / 1000.0);
		if (r->cpu_user_us >= 0 && r->cpu_system_us >= 0)
			prom_histogram_observe(&p->cpu, (double)(r->cpu_user_us + r->cpu_system_us) / 1e6);
		if (r->peak_memory_bytes >= 0)
			prom_histogram_observe(&p->memory, (double)r->peak_memory_bytes);
	}
}

int prometheus_new(struct events *events, bool per_job, struct prometheus **out)
{
	struct prometheus *p = xcalloc(1, sizeof(*p));
	int rc;

	p->events = events;
	p->per_job = per_job;
	prom_histogram_init(&p->lateness, lateness_buckets, sizeof(lateness_buckets) / sizeof(lateness_buckets[0]));
	prom_histogram_init(&p->duration, duration_buckets, sizeof(duration_buckets) / sizeof(duration_buckets[0]));
	prom_histogram_init(&p->cpu, cpu_buckets, sizeof(cpu_buckets) / sizeof(cpu_buckets[0]));
	prom_histogram_init(&p->memory, memory_buckets, sizeof(memory_buckets) / sizeof(memory_buckets[0]));
	p->http_by_key = strmap_new();
	if (events && (rc = events_subscribe(events, on_event, p)) < 0) {
		p->events = NULL;
		prometheus_free(p);
		return rc;
	}
	*out = p;
	return 0;
}

void prometheus_free(struct prometheus *p)
{
	if (p == NULL)
		return;
	if (p->events)
		events_unsubscribe(p->events, on_event, p);
	for (size_t i = 0; i < p->nhttp; i++) {
		prom_histogram_clear(&p->http[i]->h);
		free(p->http[i]->key);
		free(p->http[i]->labels);
		free(p->http[i]);
	}
	free(p->http);
	strmap_free(p->http_by_key);
	prom_histogram_clear(&p->lateness);
	prom_histogram_clear(&p->duration);
	prom_histogram_clear(&p->cpu);
	prom_histogram_clear(&p->memory);
	free(p);
}

void prometheus_observe_request(struct prometheus *p, const char *method, const char *route, uint64_t nanos)
{
	char key[256];
	struct http_series *s;

	snprintf(key, sizeof(key), "%s %s", method, route);
	s = strmap_get(p->http_by_key, key);
	if (s == NULL) {
		struct buf lb;
		buf_init(&lb, 0);
		if (prom_label(&lb, "method", method) < 0 || prom_label(&lb, "route", route) < 0)
			fatalx("unbounded buffer refused data");
		s = xcalloc(1, sizeof(*s));
		s->key = xstrdup(key);
		s->labels = buf_steal(&lb, NULL);
		prom_histogram_init(&s->h, prom_buckets_default, prom_buckets_default_len);
		if (p->nhttp == p->caphttp) {
			p->caphttp = p->caphttp ? 2 * p->caphttp : 32;
			p->http = xrealloc(p->http, p->caphttp * sizeof(*p->http));
		}
		p->http[p->nhttp++] = s;
		strmap_put(p->http_by_key, s->key, s);
	}
	prom_histogram_observe(&s->h, (double)nanos / 1e9);
}

/* --- the scrape ------------------------------------------------------------------------------------------- */

enum job_state { JOBS_RUNNING, JOBS_QUEUED, JOBS_IDLE, JOBS_DISABLED, JOBS_STATE_COUNT };
static const char *const job_state_names[] = {"running", "queued", "idle", "disabled"};

enum phase { PHASE_RUNS, PHASE_LAST_SUCCESS, PHASE_LAST_FAILURE, PHASE_JOBS, PHASE_END };

struct scrape {
	struct api_env *env;
	enum phase phase;
	size_t next;         /* registry slot of the per-job phases */
	bool started;        /* the current per-job phase wrote its family lines */
	uint64_t jobs[JOBS_STATE_COUNT];
	struct buf labels;
};

#define CHECK(expr) \
	do { \
		if ((expr) < 0) \
			return -1; \
	} while (0)

/* The agents by state, each one's resources (total and used), the runs that fit on no agent yet. */
static int write_agents(struct scrape *s, struct buf *out)
{
	static const char *const resources[] = {"cpus", "mem", "disk"};
	static const char *const kinds[] = {"resources", "used"};
	struct remote_counts c = {0};
	json_t *agents = s->env->fleet ? remote_agents_json(s->env->fleet) : json_array();
	int rc = -1;

	if (s->env->fleet)
		remote_counts(s->env->fleet, &c);
	const struct {
		const char *state;
		size_t n;
	} states[] = {{"up", c.up}, {"draining", c.draining}, {"lost", c.lost}};
	if (prom_write_family(out, "gnomon_agents", "gauge",
	    "Agents by state: up (taking tasks), draining (no new tasks), lost (silent past --agent-timeout); the "
	    "embedded agent counts.") < 0)
		goto out;
	for (size_t i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		buf_reset(&s->labels);
		if (prom_label(&s->labels, "state", states[i].state) < 0 ||
		    prom_write_sample(out, "gnomon_agents", s->labels.data, (double)states[i].n) < 0)
			goto out;
	}
	if (prom_write_family(out, "gnomon_agent_resources", "gauge",
	    "An agent's resources (cpus; mem and disk in MiB): what it offers (kind total) and what its tasks hold "
	    "(kind used).") < 0)
		goto out;
	for (size_t i = 0; i < json_array_size(agents); i++) {
		const json_t *a = json_array_get(agents, i);
		const char *name = json_string_value(json_object_get(a, "name"));
		for (size_t k = 0; k < 2; k++) {
			for (size_t r = 0; r < 3; r++) {
				buf_reset(&s->labels);
				if (prom_label(&s->labels, "agent", name ? name : "") < 0 ||
				    prom_label(&s->labels, "resource", resources[r]) < 0 ||
				    prom_label(&s->labels, "kind", k == 0 ? "total" : "used") < 0 ||
				    prom_write_sample(out, "gnomon_agent_resources", s->labels.data,
					json_number_value(json_object_get(json_object_get(a, kinds[k]), resources[r]))) < 0)
					goto out;
			}
		}
	}
	if (prom_write_family(out, "gnomon_runs_waiting_for_agent", "gauge",
	    "Runs that fit on no agent yet (their reason is in the run's record).") < 0 ||
	    prom_write_sample(out, "gnomon_runs_waiting_for_agent", NULL, (double)c.waiting) < 0)
		goto out;
	rc = 0;
out:
	json_decref(agents);
	return rc;
}

/* The runs' and requests' series and the gauges of the engine. */
static int write_runs(struct scrape *s, struct buf *out)
{
	struct prometheus *p = s->env->prom;
	const struct control *c = s->env->control;

	CHECK(prom_write_family(out, "gnomon_run_start_lateness_seconds", "histogram",
	    "Time from a scheduled run's due time to its start (its spawn); manual, retry and dependency runs have no "
	    "due time to be late for."));
	CHECK(prom_write_histogram(out, "gnomon_run_start_lateness_seconds", NULL, &p->lateness));
	CHECK(prom_write_family(out, "gnomon_run_duration_seconds", "histogram",
	    "Time from a run's start to its end, for every run that started, whatever its outcome."));
	CHECK(prom_write_histogram(out, "gnomon_run_duration_seconds", NULL, &p->duration));
	CHECK(prom_write_family(out, "gnomon_run_cpu_seconds", "histogram",
	    "CPU time a run used, user and system (its cgroup's, else its leader's and the children it waited for), "
	    "for every run that ended where it was measured."));
	CHECK(prom_write_histogram(out, "gnomon_run_cpu_seconds", NULL, &p->cpu));
	CHECK(prom_write_family(out, "gnomon_run_peak_memory_bytes", "histogram",
	    "Peak memory of a run (its cgroup's, else its leader's max RSS), for every run that ended where it was "
	    "measured."));
	CHECK(prom_write_histogram(out, "gnomon_run_peak_memory_bytes", NULL, &p->memory));
	CHECK(prom_write_family(out, "gnomon_runs_total", "counter",
	    "Runs recorded as ended since the server started, by status (a skipped record may cover several slots)."));
	for (size_t i = 0; i < NFINAL; i++) {
		buf_reset(&s->labels);
		CHECK(prom_label(&s->labels, "status", run_status_name(final_statuses[i])));
		CHECK(prom_write_sample(out, "gnomon_runs_total", s->labels.data, (double)p->runs[final_statuses[i]]));
	}
	CHECK(prom_write_family(out, "gnomon_http_request_duration_seconds", "histogram",
	    "Time from a request's complete head to the end of its answer, by method and route pattern."));
	for (size_t i = 0; i < p->nhttp; i++)
		CHECK(prom_write_histogram(out, "gnomon_http_request_duration_seconds", p->http[i]->labels, &p->http[i]->h));
	CHECK(prom_write_family(out, "gnomon_queue_depth", "gauge",
	    "Runs waiting in the queue for a free slot (--max-running)."));
	CHECK(prom_write_sample(out, "gnomon_queue_depth", NULL,
	    c ? (double)(control_queue_size(c, false) + control_queue_size(c, true)) : 0));
	CHECK(prom_write_family(out, "gnomon_runs_running", "gauge",
	    "Runs in progress (processes, and async tasks awaiting their status)."));
	CHECK(prom_write_sample(out, "gnomon_runs_running", NULL, c ? (double)control_running(c) : 0));
	CHECK(write_agents(s, out));
	return 0;
}

static enum job_state job_state_of(const struct control *c, const struct jobrec *rec)
{
	char buf[32];
	const char *st = control_job_state(c, rec, buf, sizeof(buf)); /* "idle", "queued", "running", "<n> running" */

	if (strcmp(st, "idle") == 0)
		return rec->job->disabled ? JOBS_DISABLED : JOBS_IDLE;
	return strcmp(st, "queued") == 0 ? JOBS_QUEUED : JOBS_RUNNING;
}

/* One slice of a per-job phase: the family lines first, then the jobs' samples (a job that never succeeded, or
 * never failed, has none); the first phase also counts the jobs by state. Returns HTTP_STREAM_YIELD while jobs
 * remain, so that a million jobs never hold the loop (the scheduler's timers) for more than a slice. */
static int write_jobs(struct scrape *s, struct buf *out, bool success)
{
	struct registry *reg = s->env->reg;
	const char *name = success ? "gnomon_job_last_success_timestamp_seconds" :
	    "gnomon_job_last_failure_timestamp_seconds";
	bool write = s->env->prom->per_job;

	if (!s->started) {
		s->started = true;
		s->next = 0;
		if (write)
			CHECK(prom_write_family(out, name, "gauge", success ?
			    "When the job's last successful run ended (Unix time; Chronos's lastSuccess)." :
			    "When the job's last failed run ended, its retries exhausted (Unix time; Chronos's lastError)."));
	}
	for (int n = 0; s->next < registry_slots(reg) && n < JOBS_PER_SLICE; s->next++) {
		const struct jobrec *rec = registry_slot(reg, s->next);
		int64_t at;
		if (rec == NULL)
			continue;
		n++;
		if (success)
			s->jobs[job_state_of(s->env->control, rec)]++;
		at = success ? rec->job->last_success_ms : rec->job->last_error_ms;
		if (!write || at == JOB_TIME_NONE)
			continue;
		buf_reset(&s->labels);
		CHECK(prom_label(&s->labels, "job", rec->job->name));
		CHECK(prom_write_sample(out, name, s->labels.data, (double)at / 1000.0));
	}
	if (s->next < registry_slots(reg))
		return HTTP_STREAM_YIELD;
	s->started = false;
	return 0;
}

static int scrape_next(void *arg, struct buf *out)
{
	struct scrape *s = arg;
	int rc;

	switch (s->phase) {
	case PHASE_RUNS:
		CHECK(write_runs(s, out));
		s->phase = PHASE_LAST_SUCCESS;
		return 1;
	case PHASE_LAST_SUCCESS:
	case PHASE_LAST_FAILURE:
		if ((rc = write_jobs(s, out, s->phase == PHASE_LAST_SUCCESS)) != 0)
			return rc;
		s->phase = s->phase == PHASE_LAST_SUCCESS && s->env->prom->per_job ? PHASE_LAST_FAILURE : PHASE_JOBS;
		return 1;
	case PHASE_JOBS:
		CHECK(prom_write_family(out, "gnomon_jobs", "gauge",
		    "Jobs by state: running (a run in progress), queued (a run waiting), idle, or disabled (and idle)."));
		for (int i = 0; i < JOBS_STATE_COUNT; i++) {
			buf_reset(&s->labels);
			CHECK(prom_label(&s->labels, "state", job_state_names[i]));
			CHECK(prom_write_sample(out, "gnomon_jobs", s->labels.data, (double)s->jobs[i]));
		}
		s->phase = PHASE_END;
		return 0;
	case PHASE_END:
		break;
	}
	return 0;
}

static void scrape_free(void *arg)
{
	struct scrape *s = arg;
	registry_release(s->env->reg);
	buf_free(&s->labels);
	free(s);
}

void prometheus_handle(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct scrape *s;
	(void)args;

	if (env->prom == NULL) {
		http_respond_error(req, 503, "metrics: the Prometheus registry is not running");
		return;
	}
	s = xcalloc(1, sizeof(*s));
	s->env = env;
	buf_init(&s->labels, 0);
	registry_hold(env->reg);
	http_respond_stream(req, 200, PROM_CONTENT_TYPE, scrape_next, s, scrape_free);
}
