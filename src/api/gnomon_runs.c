#include "api/gnomon_runs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "api/http.h"
#include "scheduler/engine.h"
#include "job/job.h"
#include "scheduler/registry.h"
#include "store/runs.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define LIST_DEFAULT 20
#define LIST_MAX 1000
#define LOG_CHUNK ((size_t)64 * 1024) /* bytes read from a log file per piece of the streamed answer */
#define LOG_CONTENT_TYPE "text/plain; charset=utf-8"
#define TASK_ID_PREFIX "ct:"
#define QUOTE_MAX 256 /* longest client-sent value quoted in an error message */

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
static json_t *time_or_null(int64_t ms)
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

/* The length of the UTF-8 sequence that starts with byte c (0 for a byte no sequence starts with). */
static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	return (c & 0xf8) == 0xf0 ? 4 : 0;
}

/* A JSON string of s; bytes that are not valid UTF-8 (say, in manual-run arguments) become U+FFFD. */
static json_t *text(const char *s)
{
	json_t *v = json_string(s);
	struct buf fixed;

	if (v != NULL)
		return v;
	buf_init(&fixed, 0);
	for (const char *p = s; *p;) {
		size_t n = utf8_len((unsigned char)*p);
		json_t *valid = n ? json_stringn(p, n) : NULL;
		int rc = valid ? buf_append(&fixed, p, n) : buf_puts(&fixed, "\xef\xbf\xbd");

		p += valid ? n : 1;
		json_decref(valid);
		if (rc < 0)
			fatalx("unbounded buffer refused data");
	}
	v = json_stringn(fixed.data ? fixed.data : "", fixed.len);
	buf_free(&fixed);
	return v;
}

/* A copy of s fit to quote in an error message, into buf: valid UTF-8 (see text()), cut on a character boundary
 * with "..." when longer than the buffer, so the message stays valid JSON whatever the client sent. */
static const char *shown(const char *s, char *buf, size_t len)
{
	json_t *t = text(s);
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
			json_array_append_new(out, text(id));
			free(id);
		}
		p = next ? next + 1 : NULL;
	}
	return out;
}

/* The JSON of a run, shared by the listing and the single-run answer (keys in this order). */
static json_t *run_to_json(const struct run_record *r, int64_t now_ms)
{
	char signame[32];
	const char *sig = signal_name(r->signal, signame, sizeof(signame));
	json_t *o = json_object();

	json_object_set_new(o, "id", json_integer(r->id));
	json_object_set_new(o, "taskId", text(r->task_id));
	json_object_set_new(o, "job", text(r->job));
	json_object_set_new(o, "due", time_or_null(r->due_ms));
	json_object_set_new(o, "attempt", json_integer(r->attempt));
	json_object_set_new(o, "trigger", json_string(run_trigger_name(r->trigger)));
	json_object_set_new(o, "status", json_string(run_status_name(r->status)));
	json_object_set_new(o, "start", time_or_null(r->start_ms));
	json_object_set_new(o, "end", time_or_null(r->end_ms));
	json_object_set_new(o, "durationMs", duration_or_null(r, now_ms));
	json_object_set_new(o, "exitCode", r->exit_code >= 0 ? json_integer(r->exit_code) : json_null());
	json_object_set_new(o, "signal", r->signal > 0 ? json_integer(r->signal) : json_null());
	json_object_set_new(o, "signalName", sig ? json_string(sig) : json_null());
	json_object_set_new(o, "host", text(r->host));
	json_object_set_new(o, "arguments", text(r->arguments));
	json_object_set_new(o, "parentTaskIds", parent_ids(r->parents));
	json_object_set_new(o, "reason", text(r->reason));
	json_object_set_new(o, "stdoutBytes", json_integer(r->stdout_bytes));
	json_object_set_new(o, "stderrBytes", json_integer(r->stderr_bytes));
	return o;
}

/* Parse an integer query parameter in [min, max] (def when absent or empty); returns 0, or -EINVAL after
 * answering 400 with a message naming the parameter. */
static int query_int(struct http_request *req, const char *key, long long def, long long min, long long max,
    const char *what, long long *out)
{
	const char *v = http_request_query(req, key);
	char *end, quoted[QUOTE_MAX];

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (errno == 0 && *end == '\0' && (*v >= '0' && *v <= '9') && *out >= min && *out <= max)
		return 0;
	http_respond_error(req, 400, "%s: expected %s, got '%s'", key, what, shown(v, quoted, sizeof(quoted)));
	return -EINVAL;
}

/* Collects one page of runs (one row more than the page, to know whether another page follows). */
struct page {
	json_t *runs;
	int64_t now_ms;
	int64_t last_id; /* id of the last run in the page */
	int limit;
	bool more;
};

static int page_add(void *arg, const struct run_record *r)
{
	struct page *p = arg;

	if ((int)json_array_size(p->runs) == p->limit) {
		p->more = true;
		return 1;
	}
	json_array_append_new(p->runs, run_to_json(r, p->now_ms));
	p->last_id = r->id;
	return 0;
}

void gnomon_list_runs(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct page page = {.now_ms = api_now_ms()};
	char quoted[QUOTE_MAX];
	long long limit, before;
	int rc;

	if (registry_get(env->reg, args[0]) == NULL) {
		http_respond_error(req, 404, "Job '%s' not found", shown(args[0], quoted, sizeof(quoted)));
		return;
	}
	if (query_int(req, "limit", LIST_DEFAULT, 1, LIST_MAX, "an integer from 1 to 1000", &limit) < 0 ||
	    query_int(req, "before", 0, 1, INT64_MAX, "a run id (a positive integer)", &before) < 0)
		return;
	page.limit = (int)limit;
	page.runs = json_array();
	rc = store_list_runs(env->store, args[0], (int64_t)before, page.limit + 1, page_add, &page);
	if (rc < 0) {
		json_decref(page.runs);
		http_respond_error(req, 500, "store: could not read the runs of '%s': %s", args[0], /* a known job */
		    store_errmsg(env->store));
		return;
	}
	http_respond_json(req, 200, json_pack("{s:o, s:o}", "runs", page.runs,
	    "next", page.more ? json_integer(page.last_id) : json_null()));
}

/* Load the run of the path's task id into r; answers 404 (or 500) and returns -1 when there is none. */
static int find_run(struct api_env *env, struct http_request *req, const char *task_id, struct run_record *r)
{
	int rc = store_get_run(env->store, task_id, r);
	char quoted[QUOTE_MAX];

	if (rc == -ENOENT)
		http_respond_error(req, 404, "Run '%s' not found", shown(task_id, quoted, sizeof(quoted)));
	else if (rc < 0)
		http_respond_error(req, 500, "store: could not read run '%s': %s",
		    shown(task_id, quoted, sizeof(quoted)), store_errmsg(env->store));
	return rc < 0 ? -1 : 0;
}

void gnomon_get_run(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct run_record r;

	run_record_init(&r);
	if (find_run(env, req, args[0], &r) == 0)
		http_respond_json(req, 200, run_to_json(&r, api_now_ms()));
	run_record_clear(&r);
}

/* A captured output file streamed in LOG_CHUNK pieces. */
#define FOLLOW_POLL_MS 200 /* how often a follower looks for new output */

struct log_stream {
	int fd;        /* -1 when nothing was captured (yet) */
	bool follow;   /* follow=1 for a run that has not ended */
	char *task_id; /* the run, for the follow hook */
	char *path;    /* the file, opened late when the run has not written yet */
	char *chunk;
	struct api_env *env;
	struct http_stream *stream;
	uv_timer_t poll;
	bool poll_open;
};

static void on_follow_poll(uv_timer_t *t)
{
	struct log_stream *ls = t->data;
	http_stream_wake(ls->stream);
}

/* At the end of what the file holds now. Not following: the end. Following a run the engine still holds: sleep
 * (the connection is suspended) and look again in FOLLOW_POLL_MS. Following a run that has just ended: one more
 * pass, for what it wrote last (the tail of a capped stream lands at the end), then the end. */
static int log_at_end(struct log_stream *ls)
{
	if (!ls->follow)
		return 0;
	if (!engine_run_active(ls->env->engine, ls->task_id))
		ls->follow = false;
	if (ls->fd < 0)
		ls->fd = open(ls->path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (!ls->follow)
		return ls->fd >= 0 ? 1 : 0;
	if (!ls->poll_open) {
		uv_timer_init(ls->env->loop, &ls->poll);
		ls->poll.data = ls;
		ls->poll_open = true;
	}
	uv_timer_start(&ls->poll, on_follow_poll, FOLLOW_POLL_MS, 0);
	return HTTP_STREAM_WAIT;
}

static int log_next(void *arg, struct buf *out)
{
	struct log_stream *ls = arg;
	ssize_t n;

	if (ls->fd < 0)
		return log_at_end(ls);
	do
		n = read(ls->fd, ls->chunk, LOG_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		log_warn("run '%s': reading its captured output", ls->task_id);
		return -1;
	}
	if (n == 0)
		return log_at_end(ls);
	return buf_append(out, ls->chunk, (size_t)n) < 0 ? -1 : 1;
}

static void log_stream_free(struct log_stream *ls)
{
	if (ls->fd >= 0)
		close(ls->fd);
	free(ls->task_id);
	free(ls->path);
	free(ls->chunk);
	free(ls);
}

static void on_poll_closed(uv_handle_t *h)
{
	log_stream_free(h->data);
}

static void log_free(void *arg)
{
	struct log_stream *ls = arg;
	if (ls->poll_open)
		uv_close((uv_handle_t *)&ls->poll, on_poll_closed);
	else
		log_stream_free(ls);
}

/* Parse follow=1|0|true|false (absent: false); returns 0, or -EINVAL after answering 400. */
static int query_follow(struct http_request *req, bool *follow)
{
	const char *v = http_request_query(req, "follow");
	char quoted[QUOTE_MAX];

	*follow = false;
	if (v == NULL || *v == '\0' || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*follow = true;
		return 0;
	}
	http_respond_error(req, 400, "follow: expected 1 or 0, got '%s'", shown(v, quoted, sizeof(quoted)));
	return -EINVAL;
}

void gnomon_run_log(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *stream = http_request_query(req, "stream");
	struct log_stream *ls;
	struct run_record r;
	char path[PATH_MAX], quoted[QUOTE_MAX];
	bool follow;

	run_record_init(&r);
	if (stream == NULL || *stream == '\0')
		stream = "stdout";
	if (find_run(env, req, args[0], &r) < 0)
		goto out;
	if (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0) {
		http_respond_error(req, 400, "stream: expected stdout or stderr, got '%s'",
		    shown(stream, quoted, sizeof(quoted)));
		goto out;
	}
	if (query_follow(req, &follow) < 0)
		goto out;
	run_log_path(env->data_dir, r.id, stream, path, sizeof(path));
	ls = xcalloc(1, sizeof(*ls));
	ls->fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (ls->fd < 0 && errno != ENOENT) {
		http_respond_error(req, 500, "%s: cannot read the captured output of '%s': %s", stream,
		    shown(r.task_id, quoted, sizeof(quoted)),
		    strerror(errno));
		free(ls);
		goto out;
	}
	ls->follow = follow && !run_status_is_final(r.status);
	ls->task_id = xstrdup(r.task_id);
	ls->path = xstrdup(path);
	ls->chunk = xmalloc(LOG_CHUNK);
	ls->env = env;
	ls->stream = http_respond_stream(req, 200, LOG_CONTENT_TYPE, log_next, ls, log_free);
out:
	run_record_clear(&r);
}
