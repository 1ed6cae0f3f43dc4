/* A task's output on its way to the server (POST /api/v1/agent/output): while it runs, the chunks it writes
 * (best effort: coalesced while a request is in flight, one request per task at a time, only the head the server
 * keeps, and given up for a stream that falls behind) and the order they came in (the head entries of an order
 * record made here from the chunks as the executor makes its own, sent whole as stream=order without final, so
 * that the merged view of a running run is in order; a server that refuses it is not sent it again); once it
 * ended, each stream as runner_local kept it in DATA_DIR/logs (final=1), then the streams' order record
 * (stream=order, when there is one: a server older than it refuses it with a 400, and the agent goes on), and then
 * its ended event. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "history/run_output_files.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define OUTPUT_TIMEOUT_MS 30000

static const char *const stream_names[] = {"stdout", "stderr", "order"};

/* Append s percent-escaped as a query value (RFC 3986's unreserved characters stay). */
static void escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		char enc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
		int rc = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
		    strchr("-._~", *p) ? buf_append(b, p, 1) : buf_append(b, enc, 3);
		if (rc < 0)
			abort(); /* no limit on this buffer */
	}
}

/* The request's path and query (to free). */
static char *output_path(const struct agent_task *t, int s, int64_t offset, bool final)
{
	struct buf b;

	buf_init(&b, 0);
	if (buf_puts(&b, "/api/v1/agent/output?id=") < 0)
		abort();
	escape(&b, t->a->id);
	if (buf_puts(&b, "&session=") < 0)
		abort();
	escape(&b, t->a->session);
	if (buf_puts(&b, "&taskId=") < 0)
		abort();
	escape(&b, t->task_id);
	if (buf_printf(&b, "&stream=%s&offset=%" PRId64 "%s", stream_names[s], offset, final ? "&final=1" : "") < 0)
		abort();
	return buf_steal(&b, NULL);
}

/* The live order record's head entries as the chunks come (an entry rewritten while its stream goes on). */
static void order_chunk(struct agent_task *t, enum run_stream s, size_t len)
{
	uint8_t enc[ORDER_ENTRY_SIZE];
	long idx;

	if (t->order_off || t->ended || len == 0 || len > ORDER_RUN_MAX || (idx = order_rec_feed(&t->order, (int)s,
	    len)) < 0)
		return;
	order_entry_put(enc, t->order.last);
	if ((size_t)idx * ORDER_ENTRY_SIZE == t->order_live.len) {
		if (buf_append(&t->order_live, enc, sizeof(enc)) < 0) {
			t->order_off = true; /* past a request's size: the final record has it */
			return;
		}
	} else if ((size_t)idx * ORDER_ENTRY_SIZE + sizeof(enc) <= t->order_live.len) {
		memcpy(t->order_live.data + (size_t)idx * ORDER_ENTRY_SIZE, enc, sizeof(enc));
	}
	t->order_dirty = true;
}

void agent_output_chunk(struct agent_task *t, enum run_stream s, const char *data, size_t len)
{
	int64_t off = t->seen[s];

	order_chunk(t, s, len);
	t->seen[s] += (int64_t)len;
	if (t->ended || t->live_off[s] || (t->output_cap > 0 && off >= t->output_cap))
		return; /* past the head the server keeps, it drops chunks */
	if (t->output_cap > 0 && off + (int64_t)len > t->output_cap)
		len = (size_t)(t->output_cap - off);
	if (t->chunk[s].len == 0)
		t->chunk_off[s] = off;
	if (buf_append(&t->chunk[s], data, len) < 0) {
		/* behind by more than the cap: the server would drop everything after the gap anyway */
		log_debug("task %s: live %s output falls behind: the rest comes with its end", t->task_id, stream_names[s]);
		t->live_off[s] = true;
		buf_reset(&t->chunk[s]);
		return;
	}
	agent_output_kick(t);
}

static void on_output_answer(struct agent *a, void *ctx, int rc, long status, json_t *body, const char *err)
{
	struct agent_task *t = ctx;
	bool ok = rc == 0 && status >= 200 && status < 300;
	const char *message = json_string_value(json_object_get(body, "message"));

	t->out_call = NULL;
	if (rc == 0 && status == 409) {
		agent_session_unknown(a); /* all of it goes again once registered */
		return;
	}
	if (t->out_live) { /* a live chunk: a failure ends the live output of its stream */
		if (!ok && t->out_stream == RUN_ORDER) {
			t->order_off = true;
		} else if (!ok) {
			t->live_off[t->out_stream] = true;
			buf_reset(&t->chunk[t->out_stream]);
		}
		agent_output_kick(t);
		return;
	}
	if (ok || (rc == 0 && (status == 400 || status == 404 || status == 413))) {
		if (!ok)
			log_warnx("task %s: the server refused its final %s (%ld): %s", t->task_id,
			    stream_names[t->final_stream], status, message ? message : "(no message)");
		t->final_stream++;
		agent_output_kick(t);
		return;
	}
	if (rc < 0 || status != 401)
		log_warnx("task %s: final %s: %s; sent again later", t->task_id, stream_names[t->final_stream],
		    rc < 0 ? err : message ? message : "server error");
	agent_retry_later(a);
}

/* Send the final output of stream t->final_stream: the file runner_local wrote (at most a request body's bytes). */
static void send_final(struct agent_task *t)
{
	struct agent *a = t->a;
	struct run_output_key key = {t->task_id};
	char path[PATH_MAX], *data = xmalloc(AGENT_BODY_MAX), *pq;
	size_t len = 0;
	FILE *f;

	run_output_files_path(a->cfg.data_dir, &key, (enum run_stream)t->final_stream, path, sizeof(path));
	if ((f = fopen(path, "rbe")) != NULL) {
		len = fread(data, 1, AGENT_BODY_MAX, f);
		if (ferror(f))
			log_warn("task %s: cannot read %s: its final %s goes up as read", t->task_id, path,
			    stream_names[t->final_stream]);
		else if (len == AGENT_BODY_MAX && fgetc(f) != EOF)
			log_warnx("task %s: %s is larger than a request may be: its first %zu bytes go up", t->task_id, path,
			    AGENT_BODY_MAX);
		fclose(f);
	} else if (errno != ENOENT) { /* ENOENT: the stream had no byte */
		log_warn("task %s: cannot read %s", t->task_id, path);
	} else if (t->final_stream == RUN_ORDER) { /* none: an older executor, or no output at all */
		free(data);
		t->final_stream++;
		agent_output_kick(t);
		return;
	}
	pq = output_path(t, t->final_stream, 0, true);
	t->out_live = false;
	t->out_call = agent_post(a, pq, data, len, true, OUTPUT_TIMEOUT_MS, on_output_answer, t);
	free(pq);
	free(data);
	if (t->out_call == NULL)
		agent_retry_later(a);
}

/* Send what waits of a stream's live output, if any (one request); true when one went. */
static bool send_live(struct agent_task *t)
{
	for (int s = 0; s < 2; s++) {
		size_t len;
		char *data, *pq;

		if (t->chunk[s].len == 0 || t->live_off[s])
			continue;
		pq = output_path(t, s, t->chunk_off[s], false);
		data = buf_steal(&t->chunk[s], &len);
		t->out_stream = s;
		t->out_live = true;
		t->out_call = agent_post(t->a, pq, data, len, true, OUTPUT_TIMEOUT_MS, on_output_answer, t);
		if (t->out_call == NULL)
			t->live_off[s] = true;
		free(data);
		free(pq);
		return t->out_call != NULL;
	}
	if (t->order_dirty && !t->order_off && !t->ended) {
		char *pq = output_path(t, RUN_ORDER, 0, false);
		t->order_dirty = false;
		t->out_stream = RUN_ORDER;
		t->out_live = true;
		t->out_call = agent_post(t->a, pq, t->order_live.data, t->order_live.len, true, OUTPUT_TIMEOUT_MS,
		    on_output_answer, t);
		if (t->out_call == NULL)
			t->order_off = true;
		free(pq);
		return t->out_call != NULL;
	}
	return false;
}

void agent_output_kick(struct agent_task *t)
{
	struct agent *a = t->a;

	if (t->out_call || a->session == NULL || a->stopping)
		return;
	/* the live chunks first, also once it ended: with them the server's copy may be longer than a final copy,
	 * which is cut to a request's size */
	if (send_live(t) || !t->ended)
		return;
	if (t->final_stream >= RUN_NSTREAMS) {
		if (!t->ended_queued)
			agent_task_report_end(t);
	} else if (!uv_is_active((uv_handle_t *)&a->retry_timer)) {
		send_final(t);
	}
}

void agent_output_kick_all(struct agent *a)
{
	for (struct agent_task *t = a->tasks; t; t = t->next)
		agent_output_kick(t);
}

void agent_output_stop(struct agent_task *t)
{
	agent_call_cancel(t->out_call);
	t->out_call = NULL;
	for (int s = 0; s < 2; s++)
		buf_reset(&t->chunk[s]);
}
