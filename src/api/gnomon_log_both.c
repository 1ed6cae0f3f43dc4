#include "api/gnomon_log_both.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_json.h"
#include "api/http.h"
#include "history/run_merge.h"
#include "history/run_output.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define BOTH_FETCH_WAIT_MS 5000 /* then this server's own files answer */

/* Read a whole stream from this server's output store into b. 0 or a negative errno (-E2BIG: over b's limit). */
static int read_local(struct api_env *env, const char *task_id, enum run_stream s, struct buf *b)
{
	struct run_output_reader *r;
	char chunk[16384];
	ssize_t n;
	int rc;

	if ((rc = run_output_open(env->output, &(struct run_output_key){task_id}, s, &r)) < 0)
		return rc;
	while ((n = run_output_read(r, chunk, sizeof(chunk))) > 0)
		if ((rc = buf_append(b, chunk, (size_t)n)) < 0)
			break;
	run_output_close(r);
	return rc < 0 ? rc : n < 0 ? (int)n : 0;
}

/* Merge the three streams and answer. */
static void answer(struct http_request *req, const char *task_id, struct buf b[RUN_NSTREAMS])
{
	const char *data[2] = {b[0].data ? b[0].data : "", b[1].data ? b[1].data : ""};
	size_t len[2] = {b[0].len, b[1].len}, outlen;
	bool known = b[RUN_ORDER].len > 0 || len[0] == 0 || len[1] == 0;
	char quoted[API_QUOTE_MAX], *body;
	struct buf out;

	buf_init(&out, 0);
	if (run_merge(b[RUN_ORDER].data, b[RUN_ORDER].len, data, len, &out) < 0) {
		buf_free(&out);
		http_respond_error(req, 500, "stream: cannot merge the output of '%s'",
		    api_quoted(task_id, quoted, sizeof(quoted)));
		return;
	}
	http_add_header(req, "Gnomon-Log-Order", known ? "arrival" : "streams");
	body = buf_steal(&out, &outlen);
	http_respond(req, 200, "text/plain; charset=utf-8", body, outlen);
}

static void bufs_init(struct buf b[RUN_NSTREAMS])
{
	for (int s = 0; s < RUN_NSTREAMS; s++)
		buf_init(&b[s], LOG_BOTH_MAX);
}

static void bufs_free(struct buf b[RUN_NSTREAMS])
{
	for (int s = 0; s < RUN_NSTREAMS; s++)
		buf_free(&b[s]);
}

/* Answer from this server's own output store. */
static void answer_local(struct api_env *env, struct http_request *req, const char *task_id)
{
	struct buf b[RUN_NSTREAMS];
	char quoted[API_QUOTE_MAX];
	int rc = 0;

	bufs_init(b);
	for (int s = 0; s < RUN_NSTREAMS && rc == 0; s++)
		if ((rc = read_local(env, task_id, (enum run_stream)s, &b[s])) < 0 && rc != -E2BIG)
			http_respond_error(req, 500, "stream: cannot read the captured %s of '%s': %s",
			    run_stream_name((enum run_stream)s), api_quoted(task_id, quoted, sizeof(quoted)), strerror(-rc));
	if (rc == -E2BIG)
		http_respond_error(req, 413, "stream: the output of '%s' is over %zu MiB a stream: read stdout and stderr "
		    "apart", api_quoted(task_id, quoted, sizeof(quoted)), LOG_BOTH_MAX >> 20);
	else if (rc == 0)
		answer(req, task_id, b);
	bufs_free(b);
}

/* An ended run's streams read one after the other from the durable copy while its request waits; a stream the
 * copy lacks comes from this server's files. */
struct both_fetch {
	struct api_env *env;
	struct http_request *req; /* NULL once answered or gone */
	bool fetching;
	int s;                    /* the stream being fetched */
	char *task_id;
	struct buf b[RUN_NSTREAMS];
};

static void fetch_release(struct both_fetch *f)
{
	if (f->req == NULL && !f->fetching) {
		bufs_free(f->b);
		free(f->task_id);
		free(f);
	}
}

static void on_fetched(void *ctx, int status, bool found, const char *data, size_t len);

/* Fetch the next stream, or answer once all are in. */
static void fetch_next(struct both_fetch *f)
{
	struct http_request *req;

	for (; f->s < RUN_NSTREAMS; f->s++) {
		if (!f->req)
			return;
		f->fetching = true;
		if (run_output_fetch(f->env->output, &(struct run_output_key){f->task_id}, (enum run_stream)f->s,
		    on_fetched, f) == 0)
			return;
		f->fetching = false;
		if (read_local(f->env, f->task_id, (enum run_stream)f->s, &f->b[f->s]) < 0)
			break;
	}
	req = f->req;
	f->req = NULL;
	if (req && f->s == RUN_NSTREAMS)
		answer(req, f->task_id, f->b);
	else if (req)
		answer_local(f->env, req, f->task_id);
}

static void on_fetched(void *ctx, int status, bool found, const char *data, size_t len)
{
	struct both_fetch *f = ctx;
	int rc = 0;

	f->fetching = false;
	if (f->req) {
		if (status == 0 && found)
			rc = buf_append(&f->b[f->s], data, len);
		else
			rc = read_local(f->env, f->task_id, (enum run_stream)f->s, &f->b[f->s]);
		if (rc == 0)
			f->s++;
		if (rc < 0) {
			struct http_request *req = f->req;
			f->req = NULL;
			answer_local(f->env, req, f->task_id);
		} else {
			fetch_next(f);
		}
	}
	fetch_release(f);
}

static void on_fetch_end(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct both_fetch *f = ctx;

	f->req = NULL;
	if (why == HTTP_DEFER_TIMEOUT)
		answer_local(f->env, req, f->task_id);
	fetch_release(f);
}

void gnomon_log_both(struct api_env *env, struct http_request *req, const char *task_id, bool ended)
{
	struct both_fetch *f;

	if (!ended) {
		answer_local(env, req, task_id);
		return;
	}
	f = xcalloc(1, sizeof(*f));
	f->env = env;
	f->req = req;
	f->task_id = xstrdup(task_id);
	bufs_init(f->b);
	f->fetching = true;
	if (run_output_fetch(env->output, &(struct run_output_key){task_id}, RUN_STDOUT, on_fetched, f) < 0) {
		bufs_free(f->b);
		free(f->task_id);
		free(f);
		answer_local(env, req, task_id);
		return;
	}
	http_request_defer(req, BOTH_FETCH_WAIT_MS, on_fetch_end, f);
}
