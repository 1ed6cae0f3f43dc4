#include "api/chronos_stats.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/http.h"
#include "job/job.h"
#include "scheduler/registry.h"
#include "history/history.h"
#include "history/run_record.h"
#include "util/metrics.h"
#include "util/xmalloc.h"

#define SAMPLES_MAX 1028 /* Codahale's reservoir size: the newest runs that make a job's histogram */

static const struct {
	const char *name;
	double quantile; /* < 0: the mean */
} percentiles[] = {
	{"99thPercentile", 0.99}, {"98thPercentile", 0.98}, {"95thPercentile", 0.95},
	{"75thPercentile", 0.75}, {"median", 0.5}, {"mean", -1},
};

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The statistic q (a quantile, or the mean when q < 0) of n durations, sorting them in place. */
static double statistic(int64_t *ms, int n, double q)
{
	double sum = 0;
	if (n > 1)
		qsort(ms, (size_t)n, sizeof(*ms), cmp_i64);
	if (q >= 0)
		return metrics_quantile(ms, (uint32_t)n, q);
	for (int i = 0; i < n; i++)
		sum += (double)ms[i];
	return n ? sum / n : 0;
}

struct samples {
	int64_t ms[SAMPLES_MAX];
	int n;
};

static void keep_samples(void *ctx, const char *job, const int64_t *ms, int n)
{
	struct samples *s = ctx;
	(void)job;
	memcpy(s->ms, ms, (size_t)n * sizeof(*ms));
	s->n = n;
}

/* Chronos's dates in the stat history: MM/dd/yy HH:mm:ss in UTC, or N/A. */
static void chronos_date(int64_t ms, char *out, size_t len)
{
	struct tm tm;
	time_t t = (time_t)(ms / 1000);
	if (ms == RUN_TIME_NONE || gmtime_r(&t, &tm) == NULL) {
		snprintf(out, len, "N/A");
		return;
	}
	snprintf(out, len, "%02d/%02d/%02d %02d:%02d:%02d", tm.tm_mon + 1, tm.tm_mday, tm.tm_year % 100, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

/* Joda's period print as Chronos used it: 1d2h3m4s, zero fields left out, "0s" for nothing. */
static void chronos_period(int64_t ms, char *out, size_t len)
{
	int64_t s = ms / 1000, parts[4] = {s / 86400, s / 3600 % 24, s / 60 % 60, s % 60};
	static const char units[4] = {'d', 'h', 'm', 's'};
	size_t used = 0;
	out[0] = '\0';
	for (int i = 0; i < 4 && used < len; i++)
		if (parts[i])
			used += (size_t)snprintf(out + used, len - used, "%lld%c", (long long)parts[i], units[i]);
	if (out[0] == '\0')
		snprintf(out, len, "0s");
}

struct stat_history {
	json_t *list;
};

static int add_history(void *ctx, const struct run_record *r)
{
	struct stat_history *h = ctx;
	char start[32], end[32], dur[64];
	const char *status;

	switch (r->status) {
	case RUN_SUCCEEDED: status = "Success"; break;
	case RUN_FAILED: case RUN_LOST: case RUN_KILLED: status = "Fail"; break;
	case RUN_RUNNING: case RUN_STARTING: status = "Running"; break;
	default: return 0; /* queued, waiting and skipped slots never ran */
	}
	chronos_date(r->start_ms, start, sizeof(start));
	chronos_date(r->end_ms, end, sizeof(end));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "taskId", r->task_id, "jobName", r->job, "slaveId",
	    r->host, "startTime", start, "endTime", end);
	if (r->start_ms != RUN_TIME_NONE && r->end_ms != RUN_TIME_NONE) {
		chronos_period(r->end_ms - r->start_ms, dur, sizeof(dur));
		json_object_set_new(o, "duration", json_string(dur));
	}
	json_object_set_new(o, "status", json_string(status));
	json_array_append_new(h->list, o);
	return 0;
}

void chronos_job_stat(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct samples *s;
	struct stat_history h;
	char next[HISTORY_CURSOR_MAX];
	int n;

	if (registry_get(env->reg, args[0]) == NULL) {
		http_respond_error(req, 404, "Job '%s' not found", args[0]);
		return;
	}
	s = xcalloc(1, sizeof(*s));
	h.list = json_array();
	if (history_durations(env->history, args[0], SAMPLES_MAX, keep_samples, s) < 0 ||
	    history_list(env->history, args[0], NULL, (int)env->job_history_limit, add_history, &h, next) < 0) {
		free(s);
		json_decref(h.list);
		http_respond_error(req, 500, "history: could not read the history of '%s': %s", args[0],
		    history_errmsg(env->history));
		return;
	}
	n = s->n;
	json_t *hist = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:i}",
	    "75thPercentile", statistic(s->ms, n, 0.75), "95thPercentile", statistic(s->ms, n, 0.95),
	    "98thPercentile", statistic(s->ms, n, 0.98), "99thPercentile", statistic(s->ms, n, 0.99),
	    "median", statistic(s->ms, n, 0.5), "mean", statistic(s->ms, n, -1), "count", n);
	free(s);
	http_respond_json(req, 200, json_pack("{s:o, s:o}", "histogram", hist, "taskStatHistory", h.list));
}

/* One row of GET /stats/{percentile}: a job, by its creation-order slot, and its statistic in seconds. */
struct stat_row {
	uint32_t slot;
	double seconds;
};

/* The listing: every job's row, then streamed in chunks while the registry is held (slots keep their index; a
 * job deleted meanwhile is left out). */
struct stat_rows {
	struct api_env *env;
	struct stat_row *rows;
	size_t n, next, emitted;
	double q;
	bool started;
};

#define STAT_CHUNK 1024 /* rows per chunk of the streamed answer */

static void add_row(void *ctx, const char *job, const int64_t *ms, int n)
{
	struct stat_rows *t = ctx;
	struct jobrec *rec = registry_get(t->env->reg, job);
	int64_t copy[SAMPLES_MAX];

	if (rec == NULL)
		return; /* history of a deleted job */
	/* Until they are sorted, rows are in slot order: the job's is found by bisection. */
	for (size_t lo = 0, hi = t->n; lo < hi;) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->rows[mid].slot < rec->order) {
			lo = mid + 1;
		} else if (t->rows[mid].slot > rec->order) {
			hi = mid;
		} else {
			memcpy(copy, ms, (size_t)n * sizeof(*ms));
			t->rows[mid].seconds = statistic(copy, n, t->q) / 1000.0;
			return;
		}
	}
}

/* Chronos sorts by time (a stable sort, so ties keep the jobs' order) and reverses the list: the slowest first,
 * and among equal times the newest job first. */
static int by_time_desc(const void *a, const void *b)
{
	const struct stat_row *x = a, *y = b;
	if (x->seconds != y->seconds)
		return x->seconds < y->seconds ? 1 : -1;
	return (x->slot < y->slot) - (x->slot > y->slot);
}

static int stats_next(void *ctx, struct buf *out)
{
	struct stat_rows *t = ctx;
	size_t end = t->next + STAT_CHUNK < t->n ? t->next + STAT_CHUNK : t->n;

	if (!t->started) {
		t->started = true;
		if (buf_puts(out, "[") < 0)
			return -1;
	}
	for (; t->next < end; t->next++) {
		struct jobrec *rec = registry_slot(t->env->reg, t->rows[t->next].slot);
		json_t *o;
		char *text;
		int rc;
		if (rec == NULL)
			continue;
		o = json_pack("{s:s, s:f}", "jobNameLabel", rec->job->name, "time", t->rows[t->next].seconds);
		text = json_dumps(o, JSON_COMPACT);
		json_decref(o);
		rc = buf_printf(out, "%s%s", t->emitted++ > 0 ? "," : "", text);
		free(text);
		if (rc < 0)
			return -1;
	}
	if (t->next < t->n)
		return 1;
	return buf_puts(out, "]") < 0 ? -1 : 0;
}

static void stats_free(void *ctx)
{
	struct stat_rows *t = ctx;
	registry_release(t->env->reg);
	free(t->rows);
	free(t);
}

/* Every job, [{"jobNameLabel", "time" (seconds)}], slowest first; a job that never ran has 0.0, as Chronos's
 * empty histogram of every job in its graph. */
void chronos_stats_percentile(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct stat_rows *t;
	double q = 2;

	for (size_t i = 0; i < sizeof(percentiles) / sizeof(percentiles[0]); i++)
		if (strcmp(args[0], percentiles[i].name) == 0)
			q = percentiles[i].quantile;
	if (q > 1) {
		http_respond_error(req, 400, "percentile: '%s' is not one of 99thPercentile, 98thPercentile, "
		    "95thPercentile, 75thPercentile, median, mean", args[0]);
		return;
	}
	t = xcalloc(1, sizeof(*t));
	t->env = env;
	t->q = q;
	t->rows = xcalloc(registry_count(env->reg) + 1, sizeof(*t->rows));
	for (size_t i = 0; i < registry_slots(env->reg); i++)
		if (registry_slot(env->reg, i) != NULL)
			t->rows[t->n++] = (struct stat_row){(uint32_t)i, 0.0};
	if (history_durations(env->history, NULL, SAMPLES_MAX, add_row, t) < 0) {
		free(t->rows);
		free(t);
		http_respond_error(req, 500, "history: could not read the run history: %s", history_errmsg(env->history));
		return;
	}
	if (t->n > 1)
		qsort(t->rows, t->n, sizeof(*t->rows), by_time_desc);
	registry_hold(env->reg);
	http_respond_stream(req, 200, "application/json", stats_next, t, stats_free);
}
