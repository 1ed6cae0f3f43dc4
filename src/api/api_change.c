#include "api/api_change.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include "api/api_json.h"
#include "api/http.h"
#include "util/xmalloc.h"

#define ERR_MAX 4096 /* a command's message: a bulk put names several refused jobs */

struct api_change {
	struct api_env *env;
	struct http_request *req; /* NULL once answered, or the client went away */
	api_change_try_fn try;
	void *ctx;
	void (*free_ctx)(void *ctx);
	uv_timer_t retry;
	int tries;
	bool in_call;  /* inside the command: an answer is kept for after it */
	bool answered; /* ...and came, with status and body */
	int status;
	json_t *body;
	bool pending;  /* the commit was made, its answer is to come */
	bool created;  /* a body's answer is 201 */
};

static void change_free(uv_handle_t *h)
{
	struct api_change *ch = h->data;

	if (ch->free_ctx)
		ch->free_ctx(ch->ctx);
	json_decref(ch->body);
	free(ch);
}

static void change_finish(struct api_change *ch)
{
	ch->req = NULL;
	uv_close((uv_handle_t *)&ch->retry, change_free);
}

static void change_respond(struct api_change *ch, struct http_request *req, int status, json_t *body)
{
	if (status < 0)
		http_respond_error(req, api_control_status(status), "the change could not be stored (%s)", strerror(-status));
	else if (body)
		http_respond_json(req, ch->created ? 201 : 200, json_incref(body));
	else
		http_respond(req, 204, NULL, NULL, 0);
}

void api_change_created(struct api_change *ch)
{
	ch->created = true;
}

void api_change_answered(struct api_change *ch, int status, json_t *body)
{
	json_decref(ch->body);
	ch->body = body;
	if (ch->in_call) {
		ch->answered = true;
		ch->status = status;
		return;
	}
	if (ch->req)
		change_respond(ch, ch->req, status, body);
	change_finish(ch);
}

/* Make the change; true when it was answered (ch finished), false when its answer comes later. */
static bool change_attempt(struct api_change *ch)
{
	char *err = xmalloc(ERR_MAX);
	size_t len;
	const char *body = http_request_body(ch->req, &len);
	int rc;

	err[0] = '\0';
	ch->in_call = true;
	rc = ch->try(ch, ch->ctx, body, len, err, ERR_MAX);
	ch->in_call = false;
	if (rc == -EBUSY && ++ch->tries < API_CHANGE_TRIES) {
		free(err);
		return false; /* tried again (change_run) */
	}
	if (rc < 0 || ch->answered) {
		if (rc < 0)
			http_respond_error(ch->req, api_control_status(rc), "%s", err);
		else
			change_respond(ch, ch->req, ch->status, ch->body);
		change_finish(ch);
		free(err);
		return true;
	}
	free(err);
	ch->pending = true;
	return false;
}

static void change_retry(uv_timer_t *t);

/* Attempt, and arm the retry when the engine was busy. */
static bool change_run(struct api_change *ch)
{
	if (change_attempt(ch))
		return true;
	if (!ch->pending)
		uv_timer_start(&ch->retry, change_retry, API_CHANGE_RETRY_MS, 0);
	return false;
}

static void change_retry(uv_timer_t *t)
{
	struct api_change *ch = t->data;
	if (ch->req)
		(void)change_run(ch);
}

static void change_gone(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct api_change *ch = ctx;

	(void)req;
	(void)why; /* no timeout: the client went away, or the server stops */
	ch->req = NULL;
	if (!ch->pending) { /* waiting to try again: nothing more to do */
		uv_timer_stop(&ch->retry);
		change_finish(ch);
	} /* else the answer finishes it */
}

void api_change_start(struct api_env *env, struct http_request *req, api_change_try_fn try, void *ctx,
    void (*free_ctx)(void *ctx))
{
	struct api_change *ch = xcalloc(1, sizeof(*ch));

	ch->env = env;
	ch->req = req;
	ch->try = try;
	ch->ctx = ctx;
	ch->free_ctx = free_ctx;
	uv_timer_init(env->loop, &ch->retry);
	ch->retry.data = ch;
	if (!change_run(ch))
		http_request_defer(req, 0, change_gone, ch);
}
