#include "api/gnomon_schedule.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_json.h"
#include "api/http.h"
#include "job/job.h"
#include "schedule/schedule.h"
#include "control/control.h"
#include "scheduler/registry.h"
#include "util/clock.h"
#include "util/xmalloc.h"

#define PREVIEW_DEFAULT 10
#define PREVIEW_MAX 1000

/* Parse count= (1..PREVIEW_MAX, default PREVIEW_DEFAULT); returns 0, or -EINVAL after answering 400. */
static int query_count(struct http_request *req, int *out)
{
	long long n;
	int rc = api_query_int(req, "count", PREVIEW_DEFAULT, 1, PREVIEW_MAX, "an integer from 1 to 1000", &n);

	*out = (int)n;
	return rc;
}

/* Parse epsilon= (an ISO 8601 duration, default the server's --task-epsilon); returns 0, or -EINVAL after
 * answering 400. */
static int query_epsilon(const struct api_env *env, struct http_request *req, int64_t *out)
{
	const char *v = http_request_query(req, "epsilon");
	char quoted[API_QUOTE_MAX];

	if (v == NULL || *v == '\0') {
		*out = (env->defaults ? env->defaults->epsilon_s : 60) * 1000;
		return 0;
	}
	if (job_duration_parse(v, out) == 0)
		return 0;
	http_respond_error(req, 400, "epsilon: expected an ISO 8601 duration such as PT60S, got '%s'",
	    api_quoted(v, quoted, sizeof(quoted)));
	return -EINVAL;
}

/* Whether a query value is valid UTF-8 (NULL is), so that a message may name it. */
static bool valid_utf8(const char *v)
{
	json_t *probe = v ? json_string(v) : NULL;
	bool ok = v == NULL || probe != NULL;

	json_decref(probe);
	return ok;
}

/* The instants printed in zone and in UTC, as two JSON arrays; -ERANGE if one cannot be printed. */
static int format_times(struct schedule_zones *z, uint16_t zone, const int64_t *times, int n, json_t **local,
    json_t **utc)
{
	char a[SCHEDULE_INSTANT_MAX], b[SCHEDULE_INSTANT_MAX];

	*local = json_array();
	*utc = json_array();
	for (int i = 0; i < n; i++) {
		if (schedule_format_instant(z, zone, times[i], a, sizeof(a)) < 0 ||
		    schedule_format_instant(z, SCHEDULE_ZONE_UTC, times[i], b, sizeof(b)) < 0) {
			json_decref(*local);
			json_decref(*utc);
			return -ERANGE;
		}
		json_array_append_new(*local, json_string(a));
		json_array_append_new(*utc, json_string(b));
	}
	return 0;
}

/* The fire times of a schedule for a job created now, as the engine would run them: the latest past slot if
 * it is within epsilon, then the coming ones. */
void gnomon_schedule_preview(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *text = http_request_query(req, "schedule"), *tz = http_request_query(req, "tz");
	int64_t now_ms = clock_now_ms(), eps, *times = NULL;
	json_t *local = NULL, *utc = NULL;
	struct schedule s;
	char err[512];
	int count, n;
	(void)args;

	if (text == NULL || *text == '\0') {
		http_respond_error(req, 400, "schedule: required");
		return;
	}
	if (!valid_utf8(text) || !valid_utf8(tz)) {
		http_respond_error(req, 400, "%s: not valid UTF-8", valid_utf8(text) ? "tz" : "schedule");
		return;
	}
	if (query_count(req, &count) < 0 || query_epsilon(env, req, &eps) < 0)
		return;
	if (schedule_parse(env->zones, text, tz, now_ms, &s, err, sizeof(err)) < 0) {
		http_respond_error(req, 400, "%s", err);
		return;
	}
	times = xcalloc((size_t)count, sizeof(*times));
	/* A cron job created now counts its slots from now. */
	n = schedule_upcoming(env->zones, &s, now_ms, now_ms, eps, times, count);
	if (n < 0 || format_times(env->zones, s.zone, times, n, &local, &utc) < 0) {
		free(times);
		http_respond_error(req, 500, "schedule: cannot compute the fire times of '%s'", text);
		return;
	}
	free(times);
	http_respond_json(req, 200, json_pack("{s:s, s:s, s:o, s:o}", "schedule", text,
	    "timeZone", schedule_zone_name(env->zones, s.zone), "times", local, "utc", utc));
}

void gnomon_job_next(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct jobrec *rec = registry_get(env->reg, args[0]);
	uint16_t zone = SCHEDULE_ZONE_UTC;
	int64_t *times;
	json_t *local, *utc, *next;
	int count, n;
	struct control_job_view view;
	char quoted[API_QUOTE_MAX];

	if (rec == NULL) {
		http_respond_error(req, 404, "Job '%s' not found", api_quoted(args[0], quoted, sizeof(quoted)));
		return;
	}
	if (query_count(req, &count) < 0)
		return;
	control_job_view(env->control, rec, &view);
	if (view.sched)
		zone = view.sched->zone;
	times = xcalloc((size_t)count, sizeof(*times));
	n = control_job_next_fires(env->control, rec, times, count);
	if (n < 0 || format_times(env->zones, zone, times, n, &local, &utc) < 0) {
		free(times);
		http_respond_error(req, 500, "schedule: cannot compute the fire times of job '%s'", rec->job->name);
		return;
	}
	free(times);
	next = json_array();
	for (int i = 0; i < n; i++)
		json_array_append_new(next, json_pack("{s:O, s:O}", "utc", json_array_get(utc, (size_t)i), "local",
		    json_array_get(local, (size_t)i)));
	json_decref(local);
	json_decref(utc);
	http_respond_json(req, 200, json_pack("{s:s, s:o, s:s}", "job", rec->job->name, "next", next,
	    "zone", schedule_zone_name(env->zones, zone)));
}
