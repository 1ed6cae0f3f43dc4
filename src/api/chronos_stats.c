#include "api/chronos_stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "api/metrics.h"
#include "job/job.h"
#include "scheduler/registry.h"
#include "util/xmalloc.h"

static const struct {
	const char *name;
	double quantile; /* < 0: the mean, which Chronos computed as the median (HistogramSerializer) */
} percentiles[] = {
	{"99thPercentile", 0.99}, {"98thPercentile", 0.98}, {"95thPercentile", 0.95},
	{"75thPercentile", 0.75}, {"median", 0.5}, {"mean", -1},
};

void chronos_run_time_metric(const char *job, char *out, size_t len)
{
	snprintf(out, len, "jobs.run.time.%s", job);
}

static double job_quantile(struct api_env *env, const char *metric, double q)
{
	return metrics_histogram_quantile(env->metrics, metric, q < 0 ? 0.5 : q);
}

void chronos_job_stat(struct api_env *env, struct http_request *req, const char *const *args)
{
	char metric[300];
	if (registry_get(env->reg, args[0]) == NULL) {
		http_respond_error(req, 404, "Job '%s' not found", args[0]);
		return;
	}
	chronos_run_time_metric(args[0], metric, sizeof(metric));
	json_t *h = json_pack("{s:f, s:f, s:f, s:f, s:f, s:f, s:I}",
	    "75thPercentile", job_quantile(env, metric, 0.75), "95thPercentile", job_quantile(env, metric, 0.95),
	    "98thPercentile", job_quantile(env, metric, 0.98), "99thPercentile", job_quantile(env, metric, 0.99),
	    "median", job_quantile(env, metric, 0.5), "mean", job_quantile(env, metric, -1),
	    "count", (json_int_t)metrics_histogram_count(env->metrics, metric));
	http_respond_json(req, 200, json_pack("{s:o, s:[]}", "histogram", h, "taskStatHistory"));
}

struct stat_row {
	const char *name;
	double seconds;
};

static int by_time_desc(const void *a, const void *b)
{
	double x = ((const struct stat_row *)a)->seconds, y = ((const struct stat_row *)b)->seconds;
	return (x < y) - (x > y);
}

/* Every job with run data, [{"jobNameLabel", "time" (seconds)}], slowest first. */
void chronos_stats_percentile(struct api_env *env, struct http_request *req, const char *const *args)
{
	double q = 2;
	size_t n = 0, cap = 64;
	struct stat_row *rows;
	json_t *out;

	for (size_t i = 0; i < sizeof(percentiles) / sizeof(percentiles[0]); i++)
		if (strcmp(args[0], percentiles[i].name) == 0)
			q = percentiles[i].quantile;
	if (q > 1) {
		http_respond_error(req, 400, "percentile: '%s' is not one of 99thPercentile, 98thPercentile, "
		    "95thPercentile, 75thPercentile, median, mean", args[0]);
		return;
	}
	rows = xmalloc(cap * sizeof(*rows));
	for (size_t i = 0; i < registry_slots(env->reg); i++) {
		struct jobrec *rec = registry_slot(env->reg, i);
		char metric[300];
		if (rec == NULL)
			continue;
		chronos_run_time_metric(rec->job->name, metric, sizeof(metric));
		if (metrics_histogram_count(env->metrics, metric) == 0)
			continue;
		if (n == cap)
			rows = xrealloc(rows, (cap *= 2) * sizeof(*rows));
		rows[n++] = (struct stat_row){rec->job->name, job_quantile(env, metric, q) / 1000.0};
	}
	qsort(rows, n, sizeof(*rows), by_time_desc);
	out = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(out, json_pack("{s:s, s:f}", "jobNameLabel", rows[i].name, "time", rows[i].seconds));
	free(rows);
	http_respond_json(req, 200, out);
}
