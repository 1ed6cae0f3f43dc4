#include "api/gnomon_jobs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_json.h"
#include "api/chronos_jobs.h"
#include "api/gnomon_timeline.h"
#include "api/http.h"
#include "control/control.h"
#include "job/job.h"
#include "schedule/describe.h"
#include "scheduler/registry.h"
#include "history/history.h"
#include "state/state.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define PAGE_DEFAULT 50
#define PAGE_MAX 1000
#define RECENT 10   /* failures and skips in the overview */
#define UPCOMING 20 /* next fires in the overview */
#define STRIP_MAX 50
#define GROUPED 200 /* failures read for the overview's one row per job */

/* The schedule of a job in words: "every day at 13:00 Europe/Paris", "after a, b", or the text as written. */
static json_t *schedule_words(struct api_env *env, const struct jobrec *rec)
{
	const struct job *j = rec->job;
	char words[SCHEDULE_DESCRIBE_MAX];
	struct control_job_view view;

	if (j->dependent) {
		struct buf b;
		json_t *out;
		buf_init(&b, 0);
		if (buf_puts(&b, "after ") < 0)
			fatalx("unbounded buffer refused data");
		for (uint32_t i = 0; i < j->n_parents; i++)
			if (buf_puts(&b, i ? ", " : "") < 0 || buf_puts(&b, j->parents[i]) < 0)
				fatalx("unbounded buffer refused data");
		out = api_text(b.data ? b.data : "");
		buf_free(&b);
		return out;
	}
	control_job_view(env->control, rec, &view);
	if (view.sched == NULL || schedule_describe(env->zones, view.sched, j->schedule, words, sizeof(words)) < 0)
		return api_text(j->schedule);
	return api_text(words);
}

json_t *gnomon_job_summary(struct api_env *env, const struct jobrec *rec)
{
	const struct job *j = rec->job;
	json_t *o = json_object(), *parents = json_array();
	struct control_job_view view;
	int64_t next;
	char state[32];

	control_job_view(env->control, rec, &view);
	next = view.next_fire;

	for (uint32_t i = 0; i < j->n_parents; i++)
		json_array_append_new(parents, api_text(j->parents[i]));
	json_object_set_new(o, "name", api_text(j->name));
	json_object_set_new(o, "command", api_text(j->command));
	json_object_set_new(o, "owner", api_text(j->owner));
	json_object_set_new(o, "description", api_text(j->description));
	json_object_set_new(o, "schedule", api_text(j->dependent ? "" : j->schedule));
	json_object_set_new(o, "scheduleTimeZone", api_text(j->schedule_time_zone));
	json_object_set_new(o, "scheduleText", schedule_words(env, rec));
	json_object_set_new(o, "parents", parents);
	json_object_set_new(o, "disabled", json_boolean(j->disabled));
	json_object_set_new(o, "state", json_string(control_job_state(env->control, rec, state, sizeof(state))));
	json_object_set_new(o, "running", json_integer(view.running));
	json_object_set_new(o, "queued", json_integer(view.queued));
	json_object_set_new(o, "lastResult", json_string(chronos_last_state(j)));
	json_object_set_new(o, "successCount", json_integer(j->success_count));
	json_object_set_new(o, "errorCount", json_integer(j->error_count));
	json_object_set_new(o, "errorsSinceLastSuccess", json_integer(j->errors_since_last_success));
	json_object_set_new(o, "lastSuccess", api_time_or_null(j->last_success_ms == JOB_TIME_NONE ? RUN_TIME_NONE :
	    j->last_success_ms));
	json_object_set_new(o, "lastError", api_time_or_null(j->last_error_ms == JOB_TIME_NONE ? RUN_TIME_NONE :
	    j->last_error_ms));
	json_object_set_new(o, "nextRun", api_time_or_null(next == INT64_MAX || j->disabled ? RUN_TIME_NONE : next));
	return o;
}

/* What a listing asks for. */
struct filter {
	const char *q, *name, *command, *owner, *state, *result;
};

static bool has(const char *haystack, const char *needle)
{
	return needle == NULL || *needle == '\0' || strcasestr(haystack, needle) != NULL;
}

/* 0 running, 1 queued, 2 idle. */
static int activity(const struct control *control, const struct jobrec *rec)
{
	struct control_job_view view;
	control_job_view(control, rec, &view);
	return view.running ? 0 : view.queued ? 1 : 2;
}

static bool state_is(const struct control *control, const struct jobrec *rec, const char *want)
{
	if (strcmp(want, "disabled") == 0)
		return rec->job->disabled;
	if (strcmp(want, "enabled") == 0)
		return !rec->job->disabled;
	if (strcmp(want, "running") == 0)
		return activity(control, rec) == 0;
	if (strcmp(want, "queued") == 0)
		return activity(control, rec) == 1;
	return activity(control, rec) == 2; /* idle */
}

static bool matches(const struct control *control, const struct jobrec *rec, const struct filter *f)
{
	const struct job *j = rec->job;

	if (f->q && *f->q && !has(j->name, f->q) && !has(j->command, f->q) && !has(j->owner, f->q) &&
	    !has(j->description, f->q))
		return false;
	if (!has(j->name, f->name) || !has(j->command, f->command) || !has(j->owner, f->owner))
		return false;
	if (f->state && *f->state && !state_is(control, rec, f->state))
		return false;
	return f->result == NULL || *f->result == '\0' || strcmp(chronos_last_state(j), f->result) == 0;
}

enum sort_key { SORT_CREATED, SORT_NAME, SORT_OWNER, SORT_NEXT, SORT_LAST, SORT_STATE, SORT_RESULT, SORT_SUCCESS,
	SORT_ERRORS };

static const char *const sort_names[] = {"created", "name", "owner", "next", "last", "state", "result", "success",
	"errors"};

struct sorted {
	struct jobrec *rec;
	uint32_t order; /* creation order: the tie-breaker of every key */
};

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

static int64_t last_run(const struct job *j)
{
	int64_t s = j->last_success_ms == JOB_TIME_NONE ? INT64_MIN : j->last_success_ms;
	int64_t e = j->last_error_ms == JOB_TIME_NONE ? INT64_MIN : j->last_error_ms;
	return s > e ? s : e;
}

/* The state order of the listing: running, queued, idle, then disabled jobs that are idle. */
static int state_rank(const struct control *control, const struct jobrec *rec)
{
	int a = activity(control, rec);
	return a == 2 && rec->job->disabled ? 3 : a;
}

static int64_t next_fire(const struct control *control, const struct jobrec *rec)
{
	struct control_job_view view;
	if (rec->job->disabled)
		return INT64_MAX;
	control_job_view(control, rec, &view);
	return view.next_fire;
}

static int compare_key(const struct control *control, enum sort_key key, const struct jobrec *a,
    const struct jobrec *b)
{
	switch (key) {
	case SORT_NAME:
		return strcmp(a->job->name, b->job->name);
	case SORT_OWNER:
		return strcasecmp(a->job->owner, b->job->owner);
	case SORT_NEXT:
		return cmp_i64(next_fire(control, a), next_fire(control, b));
	case SORT_LAST:
		return cmp_i64(last_run(a->job), last_run(b->job));
	case SORT_STATE:
		return state_rank(control, a) - state_rank(control, b);
	case SORT_RESULT:
		return strcmp(chronos_last_state(a->job), chronos_last_state(b->job));
	case SORT_SUCCESS:
		return cmp_i64(a->job->success_count, b->job->success_count);
	case SORT_ERRORS:
		return cmp_i64(a->job->error_count, b->job->error_count);
	default:
		return 0;
	}
}

struct sort_spec {
	enum sort_key key;
	int dir; /* 1 ascending, -1 descending */
	const struct control *control;
};

static int cmp_sorted(const void *x, const void *y, void *arg)
{
	const struct sorted *a = x, *b = y;
	const struct sort_spec *spec = arg;
	int c = compare_key(spec->control, spec->key, a->rec, b->rec);
	if (c == 0)
		c = cmp_i64(a->order, b->order);
	return c * spec->dir;
}

/* Parse sort= and order=; returns 0, or -1 after answering 400. */
static int parse_sort(struct http_request *req, struct sort_spec *spec)
{
	const char *sort = http_request_query(req, "sort"), *order = http_request_query(req, "order");
	char quoted[API_QUOTE_MAX];

	spec->key = SORT_CREATED;
	spec->dir = 1;
	if (sort && *sort) {
		size_t i;
		for (i = 0; i < sizeof(sort_names) / sizeof(sort_names[0]) && strcmp(sort, sort_names[i]) != 0; i++)
			;
		if (i == sizeof(sort_names) / sizeof(sort_names[0])) {
			http_respond_error(req, 400, "sort: expected created, name, owner, next, last, state, result, "
			    "success or errors, got '%s'", api_quoted(sort, quoted, sizeof(quoted)));
			return -1;
		}
		spec->key = (enum sort_key)i;
	}
	if (order && *order && strcmp(order, "asc") != 0) {
		if (strcmp(order, "desc") != 0) {
			http_respond_error(req, 400, "order: expected asc or desc, got '%s'",
			    api_quoted(order, quoted, sizeof(quoted)));
			return -1;
		}
		spec->dir = -1;
	}
	return 0;
}

/* Check that a query parameter is one of the words allowed (or absent); -1 after answering 400. */
static int check_word(struct http_request *req, const char *key, const char *const *allowed, const char *list)
{
	const char *v = http_request_query(req, key);
	char quoted[API_QUOTE_MAX];

	if (v == NULL || *v == '\0')
		return 0;
	for (; *allowed; allowed++)
		if (strcmp(v, *allowed) == 0)
			return 0;
	http_respond_error(req, 400, "%s: expected %s, got '%s'", key, list, api_quoted(v, quoted, sizeof(quoted)));
	return -1;
}

static struct filter request_filter(struct http_request *req)
{
	return (struct filter){
		.q = http_request_query(req, "q"),
		.name = http_request_query(req, "name"),
		.command = http_request_query(req, "command"),
		.owner = http_request_query(req, "owner"),
		.state = http_request_query(req, "state"),
		.result = http_request_query(req, "result"),
	};
}

int gnomon_jobs_check_filter(struct http_request *req)
{
	static const char *const states[] = {"idle", "queued", "running", "disabled", "enabled", NULL};
	static const char *const results[] = {"success", "failure", "fresh", NULL};

	if (check_word(req, "state", states, "idle, queued, running, disabled or enabled") < 0 ||
	    check_word(req, "result", results, "success, failure or fresh") < 0)
		return -EINVAL;
	return 0;
}

bool gnomon_jobs_match(struct api_env *env, struct http_request *req, const struct jobrec *rec)
{
	struct filter f = request_filter(req);
	return matches(env->control, rec, &f);
}

/* The job's summary, with its last strip runs as "recent" and how many tries a slot gets ("tries") when strip > 0;
 * NULL after answering 500. */
static json_t *listed_job(struct api_env *env, struct http_request *req, const struct jobrec *rec, long long strip)
{
	json_t *o = gnomon_job_summary(env, rec), *recent;

	if (strip == 0)
		return o;
	if ((recent = gnomon_job_strip(env, rec, (int)strip)) == NULL) {
		json_decref(o);
		http_respond_error(req, 500, "history: could not read the runs of '%s': %s", rec->job->name,
		    history_errmsg(env->history));
		return NULL;
	}
	json_object_set_new(o, "recent", recent);
	json_object_set_new(o, "tries", json_integer((json_int_t)rec->job->retries + 1));
	return o;
}

void gnomon_list_jobs(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct filter f = request_filter(req);
	struct sort_spec spec;
	struct sorted *all;
	long long limit, offset, strip;
	size_t n = 0;
	json_t *jobs, *job;
	(void)args;

	if (api_query_int(req, "limit", PAGE_DEFAULT, 1, PAGE_MAX, "an integer from 1 to 1000", &limit) < 0 ||
	    api_query_int(req, "offset", 0, 0, INT32_MAX, "a non-negative integer", &offset) < 0 ||
	    api_query_int(req, "strip", 0, 0, STRIP_MAX, "an integer from 0 to 50", &strip) < 0 ||
	    gnomon_jobs_check_filter(req) < 0 || parse_sort(req, &spec) < 0)
		return;
	spec.control = env->control;
	all = xcalloc(registry_count(env->reg) + 1, sizeof(*all));
	for (size_t i = 0; i < registry_slots(env->reg); i++) {
		struct jobrec *rec = registry_slot(env->reg, i);
		if (rec && matches(env->control, rec, &f)) {
			all[n].rec = rec;
			all[n].order = (uint32_t)i;
			n++;
		}
	}
	if (spec.key != SORT_CREATED || spec.dir < 0)
		qsort_r(all, n, sizeof(*all), cmp_sorted, &spec);
	jobs = json_array();
	for (size_t i = (size_t)offset; i < n && json_array_size(jobs) < (size_t)limit; i++) {
		if ((job = listed_job(env, req, all[i].rec, strip)) == NULL) {
			free(all);
			json_decref(jobs);
			return;
		}
		json_array_append_new(jobs, job);
	}
	free(all);
	http_respond_json(req, 200, json_pack("{s:I, s:I, s:I, s:o}", "total", (json_int_t)n, "offset",
	    (json_int_t)offset, "limit", (json_int_t)limit, "jobs", jobs));
}

void gnomon_get_job_summary(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct jobrec *rec = registry_get(env->reg, args[0]);
	char quoted[API_QUOTE_MAX];

	if (rec == NULL) {
		http_respond_error(req, 404, "Job '%s' not found", api_quoted(args[0], quoted, sizeof(quoted)));
		return;
	}
	http_respond_json(req, 200, gnomon_job_summary(env, rec));
}

struct run_list_json {
	struct api_env *env;
	json_t *runs;
	int64_t now;
	bool active_only; /* starting or running */
};

static int add_run(void *ctx, const struct run_record *r)
{
	struct run_list_json *l = ctx;
	json_t *o = api_run_json(r, l->now);

	gnomon_add_stderr_last(l->env, o, r);
	json_array_append_new(l->runs, o);
	return 0;
}

static void add_active(void *ctx, const struct run_record *r)
{
	struct run_list_json *l = ctx;
	if (!l->active_only || r->status == RUN_STARTING || r->status == RUN_RUNNING)
		json_array_append_new(l->runs, api_run_json(r, l->now));
}

/* The newest failures or skips (at most n), or NULL after answering 500. */
static json_t *recent(struct api_env *env, struct http_request *req, enum history_recent kind, int n)
{
	struct run_list_json l = {.env = env, .runs = json_array(), .now = clock_now_ms()};
	if (history_recent(env->history, kind, n, add_run, &l) < 0) {
		json_decref(l.runs);
		http_respond_error(req, 500, "history: could not read the recent runs: %s", history_errmsg(env->history));
		return NULL;
	}
	return l.runs;
}

/* The failures (newest first) as one entry per job, in the order of its newest: {job, count, last, tries} (tries:
 * the job's retries + 1, when it still exists). */
static json_t *failures_by_job(struct api_env *env, json_t *failures)
{
	json_t *out = json_array(), *index = json_object(), *run, *entry;
	struct jobrec *rec;
	size_t i;

	json_array_foreach(failures, i, run) {
		const char *job = json_string_value(json_object_get(run, "job"));
		if (job == NULL)
			continue;
		if ((entry = json_object_get(index, job)) != NULL) {
			json_object_set_new(entry, "count",
			    json_integer(json_integer_value(json_object_get(entry, "count")) + 1));
			continue;
		}
		entry = json_pack("{s:s, s:i, s:O}", "job", job, "count", 1, "last", run);
		if ((rec = registry_get(env->reg, job)) != NULL)
			json_object_set_new(entry, "tries", json_integer((json_int_t)rec->job->retries + 1));
		json_object_set(index, job, entry);
		json_array_append_new(out, entry);
	}
	json_decref(index);
	return out;
}

void gnomon_overview(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct run_list_json active = {.runs = json_array(), .now = clock_now_ms(), .active_only = true};
	long long counts[3] = {0}, results[3] = {0}, disabled = 0;
	struct jobrec *recs[UPCOMING];
	int64_t at[UPCOMING];
	json_t *failures, *skips, *upcoming, *by_job;
	size_t n;
	(void)args;

	for (size_t i = 0; i < registry_slots(env->reg); i++) {
		struct jobrec *rec = registry_slot(env->reg, i);
		const char *last;
		if (rec == NULL)
			continue;
		counts[activity(env->control, rec)]++;
		disabled += rec->job->disabled;
		last = chronos_last_state(rec->job);
		results[strcmp(last, "success") == 0 ? 0 : strcmp(last, "failure") == 0 ? 1 : 2]++;
	}
	if ((failures = recent(env, req, HISTORY_RECENT_FAILURES, GROUPED)) == NULL)
		goto out;
	if ((skips = recent(env, req, HISTORY_RECENT_SKIPS, RECENT)) == NULL) {
		json_decref(failures);
		goto out;
	}
	by_job = failures_by_job(env, failures);
	while (json_array_size(failures) > RECENT)
		json_array_remove(failures, json_array_size(failures) - 1);
	control_foreach_run(env->control, add_active, &active);
	for (size_t i = 0; i < json_array_size(active.runs); i++) {
		/* "try 2 of 3": how many tries its slot gets (its job's retries + 1) */
		json_t *run = json_array_get(active.runs, i);
		const struct jobrec *rec = registry_get(env->reg, json_string_value(json_object_get(run, "job")));
		if (rec)
			json_object_set_new(run, "tries", json_integer((json_int_t)rec->job->retries + 1));
	}
	n = control_upcoming(env->control, UPCOMING, recs, at);
	upcoming = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(upcoming, json_pack("{s:o, s:o, s:o}", "job", api_text(recs[i]->job->name),
		    "at", api_time_or_null(at[i]), "scheduleText", schedule_words(env, recs[i])));
	http_respond_json(req, 200, json_pack("{s:{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}, s:o, s:o, s:o, s:o, s:o}",
	    "counts", "jobs", (json_int_t)registry_count(env->reg), "running", (json_int_t)counts[0], "queued",
	    (json_int_t)counts[1], "idle", (json_int_t)counts[2], "disabled", (json_int_t)disabled, "success",
	    (json_int_t)results[0], "failure", (json_int_t)results[1], "fresh", (json_int_t)results[2],
	    "running", json_incref(active.runs), "recentFailures", failures, "recentSkips", skips, "upcoming",
	    upcoming, "failuresByJob", by_job));
out:
	json_decref(active.runs);
}
