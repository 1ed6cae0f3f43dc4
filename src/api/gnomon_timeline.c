#include "api/gnomon_timeline.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_json.h"
#include "api/gnomon_audit.h"
#include "api/gnomon_jobs.h"
#include "api/http.h"
#include "control/control.h"
#include "history/history.h"
#include "history/run_output.h"
#include "job/job.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#define WINDOW_DEFAULT_MS ((int64_t)24 * 3600 * 1000)
#define WINDOW_MAX_MS ((int64_t)35 * 24 * 3600 * 1000)
#define RUNS_MAX 20000
#define FIRES_MAX 5000
#define WINDOW_SCAN_MAX 1000000 /* ended runs read from the history's window at most (filtered ones included) */
#define TAIL_BYTES 4096
#define LINE_MAX_CHARS 300

void gnomon_add_stderr_last(struct api_env *env, json_t *o, const struct run_record *r)
{
	char buf[TAIL_BYTES + 1], *end, *start;
	size_t len = 0;
	int64_t size = 0;

	if (r->status != RUN_FAILED && r->status != RUN_LOST && r->status != RUN_KILLED)
		return;
	if (r->stderr_bytes <= 0 || run_output_tail(env->output, &(struct run_output_key){r->task_id}, RUN_STDERR,
	    buf, TAIL_BYTES, &len, &size) < 0)
		return;
	end = buf + len;
	while (end > buf && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*end = '\0';
	start = end;
	while (start > buf && start[-1] != '\n')
		start--;
	if (end - start > LINE_MAX_CHARS)
		start = end - LINE_MAX_CHARS;
	while (start < end && ((unsigned char)*start & 0xC0) == 0x80) /* not inside a UTF-8 character */
		start++;
	if (start < end)
		json_object_set_new(o, "stderrLast", api_text(start));
}

/* What a strip, the timeline and the calendar need of a run. */
static json_t *run_brief(struct api_env *env, const struct run_record *r, int64_t now)
{
	json_t *o = json_pack("{s:o, s:o, s:s, s:i, s:o, s:o, s:o}", "taskId", api_text(r->task_id), "job",
	    api_text(r->job), "status", run_status_name(r->status), "attempt", (int)r->attempt, "due",
	    api_time_or_null(r->due_ms), "start", api_time_or_null(r->start_ms), "end", api_time_or_null(r->end_ms));

	if (r->start_ms != RUN_TIME_NONE)
		json_object_set_new(o, "durationMs", json_integer((r->end_ms != RUN_TIME_NONE ? r->end_ms : now) -
		    r->start_ms));
	if (r->exit_code >= 0)
		json_object_set_new(o, "exitCode", json_integer(r->exit_code));
	if (r->reason && *r->reason)
		json_object_set_new(o, "reason", api_text(r->reason));
	if (env)
		gnomon_add_stderr_last(env, o, r);
	return o;
}

/* A walk over runs into a JSON array: one job's, newest first (a strip), or the window's of the jobs a request's
 * filters match (the timeline). */
struct collect {
	struct api_env *env;
	struct http_request *req; /* the timeline's filters; NULL: every run given */
	json_t *runs;
	int64_t now, from, to; /* the window; from INT64_MIN: every run */
	size_t max;            /* stop at this many runs in runs */
	size_t seen;           /* runs the history's window gave */
	bool full;             /* stopped at max (or WINDOW_SCAN_MAX) */
	bool tails;            /* stderrLast of failed runs */
};

static int collect_run(void *arg, const struct run_record *r)
{
	struct collect *c = arg;
	int64_t begin = r->start_ms != RUN_TIME_NONE ? r->start_ms : r->due_ms;
	int64_t end = r->end_ms != RUN_TIME_NONE ? r->end_ms : c->now;

	if (json_array_size(c->runs) >= c->max) {
		c->full = true;
		return 1;
	}
	if (end < c->from || begin == RUN_TIME_NONE || begin > c->to)
		return 0;
	if (c->req) {
		struct jobrec *rec = registry_get(c->env->reg, r->job);
		if (rec == NULL || !gnomon_jobs_match(c->env, c->req, rec))
			return 0;
	}
	json_array_append_new(c->runs, run_brief(c->tails ? c->env : NULL, r, c->now));
	return 0;
}

/* A run of the history's window: collected as the others, and counted (the walk stops at WINDOW_SCAN_MAX). */
static int window_run(void *arg, const struct run_record *r)
{
	struct collect *c = arg;

	if (++c->seen > WINDOW_SCAN_MAX) {
		c->full = true;
		return 1;
	}
	return collect_run(c, r);
}

/* The runs in the collect's window of the jobs its request matches: the open ones, then the ended ones the
 * history's window query gives (latest ended first), whatever the number of jobs. */
static int collect_window(struct collect *c)
{
	int rc;

	if (c->max == 0)
		return 0;
	if ((rc = state_load_open_runs(c->env->state, collect_run, c)) < 0)
		return rc;
	if (c->full)
		return 0;
	rc = history_window(c->env->history, c->from, c->to, -1, window_run, c);
	return rc < 0 ? rc : 0;
}

json_t *gnomon_job_strip(struct api_env *env, const struct jobrec *rec, int n)
{
	struct collect c = {.env = env, .runs = json_array(), .now = clock_now_ms(), .from = INT64_MIN,
		.to = INT64_MAX, .max = (size_t)n, .tails = true};
	char next[HISTORY_CURSOR_MAX];

	if (state_list_open_runs(env->state, rec->job->name, collect_run, &c) < 0 ||
	    (!c.full && history_list(env->history, rec->job->name, NULL, n, collect_run, &c, next) < 0)) {
		json_decref(c.runs);
		return NULL;
	}
	return c.runs;
}

/* Parse an ISO 8601 time query parameter (absent: def); 0, or -EINVAL after answering 400. */
static int query_time(struct http_request *req, const char *key, int64_t def, int64_t *out)
{
	const char *v = http_request_query(req, key);
	char quoted[API_QUOTE_MAX];

	*out = def;
	if (v == NULL || *v == '\0' || gnomon_audit_parse_time(v, out) == 0)
		return 0;
	http_respond_error(req, 400, "%s: expected an ISO 8601 time (2026-12-07T10:00:00Z), got '%s'", key,
	    api_quoted(v, quoted, sizeof(quoted)));
	return -EINVAL;
}

/* The coming fires: of the jobs the request's filters match, appended as {job, at}. */
struct fires {
	struct api_env *env;
	struct http_request *req;
	json_t *list;
};

static bool fires_want(void *ctx, const struct jobrec *rec)
{
	struct fires *f = ctx;
	return gnomon_jobs_match(f->env, f->req, rec);
}

static int fires_add(void *ctx, const struct jobrec *rec, int64_t at)
{
	struct fires *f = ctx;
	json_array_append_new(f->list, json_pack("{s:o, s:o}", "job", api_text(rec->job->name), "at",
	    api_time_or_null(at)));
	return 0;
}

void gnomon_timeline(struct api_env *env, struct http_request *req, const char *const *args)
{
	int64_t now = clock_now_ms();
	struct collect c = {.env = env, .req = req, .now = now};
	struct fires f = {.env = env, .req = req};
	long long limit, fires_max;
	int rc = 0, fires_rc = 0;
	(void)args;

	if (query_time(req, "to", now, &c.to) < 0 || query_time(req, "from", c.to - WINDOW_DEFAULT_MS, &c.from) < 0 ||
	    api_query_int(req, "limit", RUNS_MAX, 0, RUNS_MAX, "an integer from 0 to 20000", &limit) < 0 ||
	    api_query_int(req, "fires", FIRES_MAX, 0, FIRES_MAX, "an integer from 0 to 5000", &fires_max) < 0 ||
	    gnomon_jobs_check_filter(req) < 0)
		return;
	if (c.to <= c.from || c.to - c.from > WINDOW_MAX_MS) {
		http_respond_error(req, 400, "to: expected a time after from, at most 35 days after it");
		return;
	}
	c.max = (size_t)limit;
	c.runs = json_array();
	f.list = json_array();
	rc = collect_window(&c);
	if (rc == 0 && fires_max > 0 && c.to > now)
		fires_rc = control_fires(env->control, &(struct control_fires_query){.from = now > c.from ? now : c.from,
			.to = c.to, .max = (size_t)fires_max, .want = fires_want, .fire = fires_add, .ctx = &f});
	if (rc < 0 || fires_rc < 0) {
		json_decref(c.runs);
		json_decref(f.list);
		if (rc < 0)
			http_respond_error(req, 500, "history: could not read the runs: %s", history_errmsg(env->history));
		else
			http_respond_error(req, 500, "schedule: cannot compute the fire times of the jobs");
		return;
	}
	http_respond_json(req, 200, json_pack("{s:o, s:o, s:o, s:o, s:o, s:b}", "from", api_time_or_null(c.from),
	    "to", api_time_or_null(c.to), "now", api_time_or_null(now), "runs", c.runs, "fires", f.list, "truncated",
	    c.full || fires_rc > 0));
}
