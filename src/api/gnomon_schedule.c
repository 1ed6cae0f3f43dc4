#include "api/gnomon_schedule.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "schedule/schedule.h"
#include "util/xmalloc.h"

#define PREVIEW_DEFAULT 10
#define PREVIEW_MAX 1000
#define QUOTE_MAX 64 /* longest count= value quoted back in an error */

/* Whether a query value is valid UTF-8 (so that it can be echoed back in JSON). */
static bool is_utf8(const char *v)
{
	json_t *probe = v ? json_string(v) : NULL;
	bool ok = v == NULL || probe != NULL;

	json_decref(probe);
	return ok;
}

/* Parse count= (1..PREVIEW_MAX, default PREVIEW_DEFAULT); returns 0, or -EINVAL after answering 400. */
static int query_count(struct http_request *req, int *out)
{
	const char *v = http_request_query(req, "count");
	char *end;
	long n;

	if (v == NULL || *v == '\0') {
		*out = PREVIEW_DEFAULT;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || *end != '\0' || *v < '0' || *v > '9' || n < 1 || n > PREVIEW_MAX) {
		if (is_utf8(v) && strlen(v) <= QUOTE_MAX)
			http_respond_error(req, 400, "count: expected an integer from 1 to %d, got '%s'", PREVIEW_MAX,
			    v);
		else
			http_respond_error(req, 400, "count: expected an integer from 1 to %d", PREVIEW_MAX);
		return -EINVAL;
	}
	*out = (int)n;
	return 0;
}

/* The next n fire times of s as the engine will launch them, into out; returns how many or < 0.
 * Cron: the n minutes that match after now. ISO: the start, then the following occurrences, at most the
 * repetition count in all. A start in the past is a slot due now (it runs late or is recorded as skipped); after
 * it the engine moves the schedule past now (schedule_skip_forward, count minus one), which is what is listed
 * next, so an old start shows as that one overdue slot followed by the real upcoming times. */
static int next_times(struct schedule_zones *z, const struct schedule *s, int64_t now_ms, int64_t *out, int n)
{
	struct schedule rest = *s;
	int64_t start = schedule_start(s);
	int rc;

	if (schedule_kind(s) == SCHEDULE_CRON)
		return schedule_next_n(z, s, now_ms, out, n);
	if (schedule_repeat(s) == 0)
		return 0;
	if (start >= now_ms)
		return schedule_next_n(z, s, start - 1, out, n);
	out[0] = start;
	if (n == 1 || schedule_repeat(s) == 1 || schedule_period_is_zero(s))
		return 1;
	if ((rc = schedule_skip_forward(z, &rest, now_ms)) == -ERANGE)
		return 1;
	if (rc < 0)
		return rc;
	rc = schedule_next_n(z, &rest, schedule_start(&rest) - 1, out + 1, n - 1);
	return rc < 0 ? rc : rc + 1;
}

/* Format the instants in zone into a JSON array of strings; NULL if one cannot be printed. */
static json_t *format_times(struct schedule_zones *z, uint16_t zone, const int64_t *times, int n)
{
	json_t *out = json_array();
	char text[SCHEDULE_INSTANT_MAX];

	for (int i = 0; i < n; i++) {
		if (schedule_format_instant(z, zone, times[i], text, sizeof(text)) < 0) {
			json_decref(out);
			return NULL;
		}
		json_array_append_new(out, json_string(text));
	}
	return out;
}

void gnomon_schedule_preview(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *text = http_request_query(req, "schedule"), *tz = http_request_query(req, "tz");
	int64_t now_ms = api_now_ms(), *times = NULL;
	json_t *local = NULL, *utc = NULL;
	struct schedule s;
	char err[512];
	int count, n;
	(void)args;

	if (text == NULL || *text == '\0') {
		http_respond_error(req, 400, "schedule: required");
		return;
	}
	if (!is_utf8(text) || !is_utf8(tz)) {
		http_respond_error(req, 400, "%s: not valid UTF-8", is_utf8(text) ? "tz" : "schedule");
		return;
	}
	if (query_count(req, &count) < 0)
		return;
	if (schedule_parse(env->zones, text, tz, now_ms, &s, err, sizeof(err)) < 0) {
		http_respond_error(req, 400, "%s", err);
		return;
	}
	times = xcalloc((size_t)count, sizeof(*times));
	n = next_times(env->zones, &s, now_ms, times, count);
	if (n >= 0) {
		local = format_times(env->zones, s.zone, times, n);
		utc = format_times(env->zones, SCHEDULE_ZONE_UTC, times, n);
	}
	free(times);
	if (local == NULL || utc == NULL) {
		json_decref(local);
		json_decref(utc);
		http_respond_error(req, 500, "schedule: cannot compute the fire times of '%s'", text);
		return;
	}
	http_respond_json(req, 200, json_pack("{s:s, s:s, s:o, s:o}", "schedule", text,
	    "timeZone", schedule_zone_name(env->zones, s.zone), "times", local, "utc", utc));
}
