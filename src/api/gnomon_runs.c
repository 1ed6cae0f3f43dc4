#include "api/gnomon_runs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_json.h"
#include "api/gnomon_log_both.h"
#include "api/gnomon_timeline.h"
#include "api/http.h"
#include "history/history.h"
#include "history/run_output.h"
#include "control/control.h"
#include "job/job.h"
#include "scheduler/registry.h"
#include "state/state.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define LIST_DEFAULT 20
#define LIST_MAX 1000
#define LOG_CHUNK ((size_t)64 * 1024) /* bytes read from a log file per piece of the streamed answer */
#define LOG_CONTENT_TYPE "text/plain; charset=utf-8"

/* Collects one page of runs. */
struct page {
	struct api_env *env;
	json_t *runs;
	int64_t now_ms;
};

static int page_add(void *arg, const struct run_record *r)
{
	struct page *p = arg;

	json_t *o = api_run_json(r, p->now_ms);

	gnomon_add_stderr_last(p->env, o, r);
	json_array_append_new(p->runs, o);
	return 0;
}

/* A job's runs, newest first: on the first page the open ones (the store's), then a page of the history's ended
 * runs, with the history's opaque cursor as `next` (the numeric `before=` of earlier releases, a run's id, is still
 * taken until the next release). */
void gnomon_list_runs(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct page page = {.env = env, .now_ms = clock_now_ms()};
	const char *before = http_request_query(req, "before");
	char quoted[API_QUOTE_MAX], next[HISTORY_CURSOR_MAX];
	long long limit;
	int rc;

	if (registry_get(env->reg, args[0]) == NULL) {
		http_respond_error(req, 404, "Job '%s' not found", api_quoted(args[0], quoted, sizeof(quoted)));
		return;
	}
	if (api_query_int(req, "limit", LIST_DEFAULT, 1, LIST_MAX, "an integer from 1 to 1000", &limit) < 0)
		return;
	page.runs = json_array();
	if ((before == NULL || *before == '\0') && state_list_open_runs(env->state, args[0], page_add, &page) < 0) {
		json_decref(page.runs);
		http_respond_error(req, 500, "store: could not read the runs of '%s': %s", args[0], /* a known job */
		    state_errmsg(env->state));
		return;
	}
	rc = history_list(env->history, args[0], before, (int)limit, page_add, &page, next);
	if (rc == -EINVAL) {
		json_decref(page.runs);
		http_respond_error(req, 400, "before: expected the `next` of an earlier page, got '%s'",
		    api_quoted(before, quoted, sizeof(quoted)));
		return;
	}
	if (rc < 0) {
		json_decref(page.runs);
		http_respond_error(req, 500, "history: could not read the runs of '%s': %s", args[0],
		    history_errmsg(env->history));
		return;
	}
	http_respond_json(req, 200, json_pack("{s:o, s:o}", "runs", page.runs,
	    "next", next[0] ? json_string(next) : json_null()));
}

/* Load the run of the path's task id into r, ended (the history's) or open (the store's); answers 404 (or 500)
 * and returns -1 when there is none. */
static int find_run(struct api_env *env, struct http_request *req, const char *task_id, struct run_record *r)
{
	int rc = history_get(env->history, task_id, r);
	char quoted[API_QUOTE_MAX];

	if (rc == -ENOENT)
		rc = state_get_open_run(env->state, task_id, r);
	if (rc == -ENOENT)
		http_respond_error(req, 404, "Run '%s' not found", api_quoted(task_id, quoted, sizeof(quoted)));
	else if (rc < 0)
		http_respond_error(req, 500, "store: could not read run '%s': %s",
		    api_quoted(task_id, quoted, sizeof(quoted)), state_errmsg(env->state));
	return rc < 0 ? -1 : 0;
}

void gnomon_get_run(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct run_record r;

	run_record_init(&r);
	if (find_run(env, req, args[0], &r) == 0) {
		json_t *o = api_run_json(&r, clock_now_ms());
		gnomon_add_stderr_last(env, o, &r);
		http_respond_json(req, 200, o);
	}
	run_record_clear(&r);
}

/* A run's captured output streamed in LOG_CHUNK pieces, read through the run-output interface. */
#define FOLLOW_POLL_MS 200 /* how often a follower looks for new output */

struct log_stream {
	struct run_output_reader *reader;
	bool follow;   /* follow=1 for a run that has not ended */
	char *task_id; /* the run, for the follow hook */
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

/* At the end of what the run's output holds now. Not following: the end. Following a run the engine still
 * holds: sleep (the connection is suspended) and look again in FOLLOW_POLL_MS. Following a run that has just
 * ended: one more pass, for what it wrote last (the tail of a capped stream lands at the end), then the end. */
static int log_at_end(struct log_stream *ls)
{
	if (!ls->follow)
		return 0;
	if (!control_run_active(ls->env->control, ls->task_id)) {
		ls->follow = false;
		return 1;
	}
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
	ssize_t n = run_output_read(ls->reader, ls->chunk, LOG_CHUNK);

	if (n < 0) {
		log_warnx("run '%s': reading its captured output: %s", ls->task_id, strerror((int)-n));
		return -1;
	}
	if (n == 0)
		return log_at_end(ls);
	return buf_append(out, ls->chunk, (size_t)n) < 0 ? -1 : 1;
}

static void log_stream_free(struct log_stream *ls)
{
	run_output_close(ls->reader);
	free(ls->task_id);
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
	char quoted[API_QUOTE_MAX];

	*follow = false;
	if (v == NULL || *v == '\0' || strcmp(v, "0") == 0 || strcmp(v, "false") == 0)
		return 0;
	if (strcmp(v, "1") == 0 || strcmp(v, "true") == 0) {
		*follow = true;
		return 0;
	}
	http_respond_error(req, 400, "follow: expected 1 or 0, got '%s'", api_quoted(v, quoted, sizeof(quoted)));
	return -EINVAL;
}

/* Answer with the run's stream as this server's own output store holds it (streamed, followed when asked). */
static void log_answer_local(struct api_env *env, struct http_request *req, const char *task_id, enum run_stream s,
    bool follow)
{
	struct run_output_reader *reader;
	struct log_stream *ls;
	struct http_stream *hs;
	char quoted[API_QUOTE_MAX];
	int rc;

	if ((rc = run_output_open(env->output, &(struct run_output_key){task_id}, s, &reader)) < 0) {
		http_respond_error(req, 500, "%s: cannot read the captured output of '%s': %s", run_stream_name(s),
		    api_quoted(task_id, quoted, sizeof(quoted)), strerror(-rc));
		return;
	}
	ls = xcalloc(1, sizeof(*ls));
	ls->reader = reader;
	ls->follow = follow;
	ls->task_id = xstrdup(task_id);
	ls->chunk = xmalloc(LOG_CHUNK);
	ls->env = env;
	hs = http_respond_stream(req, 200, LOG_CONTENT_TYPE, log_next, ls, log_free);
	if (hs != NULL) /* else ls is gone already */
		ls->stream = hs;
}

/* An ended run's output read from the durable copy (history/run_output_pg.h) while its request waits. */
#define LOG_FETCH_WAIT_MS 5000 /* then this server's own files answer */

struct log_fetch {
	struct api_env *env;
	struct http_request *req; /* NULL once answered or gone */
	bool fetching;            /* the fetch has not ended */
	char *task_id;
	enum run_stream s;
};

static void log_fetch_release(struct log_fetch *lf)
{
	if (lf->req == NULL && !lf->fetching) {
		free(lf->task_id);
		free(lf);
	}
}

static void on_log_fetched(void *ctx, int status, bool found, const char *data, size_t len)
{
	struct log_fetch *lf = ctx;
	struct http_request *req = lf->req;

	lf->fetching = false;
	if (req) {
		lf->req = NULL;
		if (status == 0 && found) {
			char *body = len ? xmalloc(len) : NULL;
			if (len)
				memcpy(body, data, len);
			http_respond(req, 200, LOG_CONTENT_TYPE, body, len);
		} else {
			if (status < 0)
				log_debug("run '%s': its output could not be read from the durable copy (%s): this "
					  "server's files answer", lf->task_id, strerror(-status));
			log_answer_local(lf->env, req, lf->task_id, lf->s, false);
		}
	}
	log_fetch_release(lf);
}

static void on_log_fetch_end(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct log_fetch *lf = ctx;

	lf->req = NULL;
	if (why == HTTP_DEFER_TIMEOUT)
		log_answer_local(lf->env, req, lf->task_id, lf->s, false);
	log_fetch_release(lf);
}

void gnomon_run_log(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *stream = http_request_query(req, "stream");
	struct log_fetch *lf;
	struct run_record r;
	enum run_stream s;
	char quoted[API_QUOTE_MAX];
	bool follow;

	run_record_init(&r);
	if (stream == NULL || *stream == '\0')
		stream = "stdout";
	if (find_run(env, req, args[0], &r) < 0)
		goto out;
	if (strcmp(stream, "both") != 0 && run_stream_parse(stream, &s) < 0) {
		http_respond_error(req, 400, "stream: expected stdout, stderr or both, got '%s'",
		    api_quoted(stream, quoted, sizeof(quoted)));
		goto out;
	}
	if (query_follow(req, &follow) < 0)
		goto out;
	if (strcmp(stream, "both") == 0) {
		gnomon_log_both(env, req, r.task_id, run_status_is_final(r.status));
		goto out;
	}
	if (!run_status_is_final(r.status)) {
		log_answer_local(env, req, r.task_id, s, follow);
		goto out;
	}
	/* An ended run: the durable copy when there is one (this server may never have held its output, or lost
	 * it with its disk), else (or when it has none of it) this server's files. */
	lf = xcalloc(1, sizeof(*lf));
	*lf = (struct log_fetch){.env = env, .req = req, .fetching = true, .task_id = xstrdup(r.task_id), .s = s};
	if (run_output_fetch(env->output, &(struct run_output_key){r.task_id}, s, on_log_fetched, lf) < 0) {
		free(lf->task_id);
		free(lf);
		log_answer_local(env, req, r.task_id, s, false);
		goto out;
	}
	http_request_defer(req, LOG_FETCH_WAIT_MS, on_log_fetch_end, lf);
out:
	run_record_clear(&r);
}
