#include "api/api_json.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/http.h"
#include "job/job.h"
#include "util/buf.h"
#include "util/json_text.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define TASK_ID_PREFIX "ct:"

/* "SIGKILL" for 9 into buf; NULL when there is no signal or no name for it. */
static const char *signal_name(int sig, char *buf, size_t len)
{
	const char *abbrev;

	if (sig <= 0)
		return NULL;
	if ((abbrev = sigabbrev_np(sig)) != NULL) {
		snprintf(buf, len, "SIG%s", abbrev);
		return buf;
	}
	if (sig >= SIGRTMIN && sig <= SIGRTMAX) {
		snprintf(buf, len, "SIGRTMIN+%d", sig - SIGRTMIN);
		return buf;
	}
	return NULL;
}

/* An ISO 8601 UTC time, or null for RUN_TIME_NONE. */
json_t *api_time_or_null(int64_t ms)
{
	char text[JOB_TIME_BUFSZ];

	if (ms == RUN_TIME_NONE)
		return json_null();
	job_time_format(ms, text);
	return json_string(text);
}

/* How long a run took (end - start), or has been going (now - start) while it has not ended; null otherwise. */
static json_t *duration_or_null(const struct run_record *r, int64_t now_ms)
{
	if (r->start_ms == RUN_TIME_NONE)
		return json_null();
	if (r->end_ms != RUN_TIME_NONE)
		return json_integer(r->end_ms - r->start_ms);
	if (run_status_is_final(r->status))
		return json_null();
	return json_integer(now_ms > r->start_ms ? now_ms - r->start_ms : 0);
}

json_t *api_text(const char *s)
{
	return json_text(s);
}

/* A copy of s fit to quote in an error message, into buf: valid UTF-8 (see api_text()), cut on a character boundary
 * with "..." when longer than the buffer, so the message stays valid JSON whatever the client sent. */
const char *api_quoted(const char *s, char *buf, size_t len)
{
	json_t *t = api_text(s);
	const char *v = json_string_value(t);
	size_t n = strlen(v);

	if (n >= len) {
		n = len - 4;
		while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
			n--;
		snprintf(buf, len, "%.*s...", (int)n, v);
	} else {
		memcpy(buf, v, n + 1);
	}
	json_decref(t);
	return buf;
}

/* The parent task ids of a run as an array. The store keeps them comma-separated; since a task id's arguments
 * may hold commas, an id ends only at a comma followed by the next id's "ct:" prefix. */
static json_t *parent_ids(const char *parents)
{
	json_t *out = json_array();
	const char *p = parents, *next;

	while (p && *p) {
		for (next = strchr(p, ','); next && strncmp(next + 1, TASK_ID_PREFIX, strlen(TASK_ID_PREFIX)) != 0;)
			next = strchr(next + 1, ',');
		size_t n = next ? (size_t)(next - p) : strlen(p);
		if (n > 0) {
			char *id = xstrndup(p, n);
			json_array_append_new(out, api_text(id));
			free(id);
		}
		p = next ? next + 1 : NULL;
	}
	return out;
}

/* The JSON of a run, shared by the listing and the single-run answer (keys in this order). */
json_t *api_run_json(const struct run_record *r, int64_t now_ms)
{
	char signame[32];
	const char *sig = signal_name(r->signal, signame, sizeof(signame));
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "taskId", api_text(r->task_id));
	json_object_set_new(o, "job", api_text(r->job));
	json_object_set_new(o, "due", api_time_or_null(r->due_ms));
	json_object_set_new(o, "attempt", json_integer(r->attempt));
	json_object_set_new(o, "trigger", json_string(run_trigger_name(r->trigger)));
	json_object_set_new(o, "status", json_string(run_status_name(r->status)));
	json_object_set_new(o, "start", api_time_or_null(r->start_ms));
	json_object_set_new(o, "end", api_time_or_null(r->end_ms));
	json_object_set_new(o, "durationMs", duration_or_null(r, now_ms));
	json_object_set_new(o, "exitCode", r->exit_code >= 0 ? json_integer(r->exit_code) : json_null());
	json_object_set_new(o, "signal", r->signal > 0 ? json_integer(r->signal) : json_null());
	json_object_set_new(o, "signalName", sig ? json_string(sig) : json_null());
	json_object_set_new(o, "host", api_text(r->host));
	json_object_set_new(o, "agent", api_text(r->agent));
	json_object_set_new(o, "arguments", api_text(r->arguments));
	json_object_set_new(o, "parentTaskIds", parent_ids(r->parents));
	json_object_set_new(o, "reason", api_text(r->reason));
	json_object_set_new(o, "stdoutBytes", json_integer(r->stdout_bytes));
	json_object_set_new(o, "stderrBytes", json_integer(r->stderr_bytes));
	json_object_set_new(o, "cpuUserSeconds", r->cpu_user_us >= 0 ? json_real((double)r->cpu_user_us / 1e6) :
	    json_null());
	json_object_set_new(o, "cpuSystemSeconds", r->cpu_system_us >= 0 ? json_real((double)r->cpu_system_us / 1e6) :
	    json_null());
	json_object_set_new(o, "peakMemoryBytes", r->peak_memory_bytes >= 0 ? json_integer(r->peak_memory_bytes) :
	    json_null());
	if (r->status == RUN_SKIPPED && r->skipped_slots > 0) {
		json_object_set_new(o, "skippedFrom", api_time_or_null(r->skipped_from_ms));
		json_object_set_new(o, "skippedTo", api_time_or_null(r->skipped_to_ms));
		json_object_set_new(o, "skippedSlots", json_integer(r->skipped_slots));
	}
	return o;
}

/* Parse an integer query parameter in [min, max] (def when absent or empty); returns 0, or -EINVAL after
 * answering 400 with a message naming the parameter. */
int api_query_int(struct http_request *req, const char *key, long long def, long long min, long long max,
    const char *what, long long *out)
{
	const char *v = http_request_query(req, key);
	char *end, quoted[API_QUOTE_MAX];

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (errno == 0 && *end == '\0' && (*v >= '0' && *v <= '9') && *out >= min && *out <= max)
		return 0;
	http_respond_error(req, 400, "%s: expected %s, got '%s'", key, what, api_quoted(v, quoted, sizeof(quoted)));
	return -EINVAL;
}

int api_store_status(int rc)
{
	return rc == -ENOSPC ? 507 : 500;
}

int api_control_status(int rc)
{
	/* a store out of reach (PostgreSQL: no connection, an outcome unknown, a deposed leader's fence) or a
	 * command cut short by a step-down: try again, at the leader */
	bool unavailable = rc == -EAGAIN || rc == -EBUSY || rc == -ENOTCONN || rc == -ECONNRESET || rc == -ETIMEDOUT ||
	    rc == -ESTALE || rc == -ECANCELED;

	return rc == -ENOENT ? 404 : rc == -EINVAL ? 400 : unavailable ? 503 : api_store_status(rc);
}
