/* The leader proxy's forwarding (proxy.h): one call per forwarded request, between the client's request (deferred
 * until the leader's head, or its whole answer, is in) and the streamed request to the leader (net.h). A call is
 * freed once both ends let go of it: the request answered or gone, the stream to the client (if any) over, the
 * request to the leader ended or cancelled. A net callback may not cancel its own request, so what ends the
 * client's side from inside one (a stream that fails as it starts) is told back by the callback's return. */
#include "api/proxy.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/auth.h"
#include "api/http.h"
#include "api/http_parse.h"
#include "net/net.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define MAX_FIELDS 12 /* forwarded request fields, the proxy's own three included */
#define MAX_ANSWER_FIELDS 8

struct proxy_call {
	struct api_env *env;
	struct proxy_call *prev, *next; /* env->proxy_calls: the calls not freed */
	struct http_request *req;  /* the client's request, deferred; NULL once answered or gone */
	struct net_request *up;    /* the request to the leader; NULL once ended or cancelled */
	struct http_stream *down;  /* the streamed answer to the client; NULL when none, or once over */
	bool stream;               /* a 2xx answer is passed on as it comes */
	bool streaming;            /* it is: the head went to the client */
	bool in_up;                /* inside a net callback: up cannot be cancelled now */
	bool paused;               /* a stream's bytes wait for the client: the leader's are not read meanwhile */
	bool ended;                /* the leader's answer is over */
	int end_rc;
	long status;
	char *content_type;
	char *fields[MAX_ANSWER_FIELDS]; /* "Name\0value" of the leader's answer, passed back */
	int nfields;
	struct buf body;           /* the whole answer, or a stream's bytes not yet taken by the client */
	char leader[256];
	char what[160];            /* "POST /v1/scheduler/iso8601", for the messages */
};

static const struct net_stream_callbacks upstream;

static void call_free(struct proxy_call *c)
{
	if (c->prev)
		c->prev->next = c->next;
	else if (c->env && c->env->proxy_calls == c)
		c->env->proxy_calls = c->next;
	if (c->next)
		c->next->prev = c->prev;
	free(c->content_type);
	for (int i = 0; i < c->nfields; i++)
		free(c->fields[i]);
	buf_free(&c->body);
	free(c);
}

/* Free c when nobody holds it any more. */
static void call_release(struct proxy_call *c)
{
	if (c->req == NULL && c->up == NULL && c->down == NULL)
		call_free(c);
}

/* Add the leader's fields that pass to the client's answer. */
static void add_fields(struct proxy_call *c, struct http_request *req)
{
	for (int i = 0; i < c->nfields; i++)
		http_add_header(req, c->fields[i], c->fields[i] + strlen(c->fields[i]) + 1);
}

/* Answer the client's request with an error about the leader (its why from net's rc). */
static void answer_failure(struct proxy_call *c, int rc, const char *err)
{
	struct http_request *req = c->req;

	c->req = NULL;
	if (rc == -ECONNREFUSED || rc == -EHOSTUNREACH || rc == -ECONNRESET || rc == -ETIMEDOUT) {
		http_add_header(req, "Retry-After", API_PROXY_RETRY_AFTER);
		http_respond_error(req, 503, "%s: the leader %s did not answer (%s): retry later", c->what, c->leader,
		    err && *err ? err : strerror(-rc));
		return;
	}
	http_respond_error(req, 502, "%s: no answer from the leader %s (%s)", c->what, c->leader,
	    rc == -E2BIG ? "its answer is too large to pass on" : err && *err ? err : strerror(-rc));
}

/* The client's stream: the bytes the leader sent, then its end. */
static int stream_next(void *ctx, struct buf *out)
{
	struct proxy_call *c = ctx;

	if (c->body.len) {
		int rc = buf_append(out, c->body.data, c->body.len);
		buf_reset(&c->body);
		if (c->paused && c->up) { /* room again: the leader's next bytes (perhaps from inside the call) */
			c->paused = false;
			c->in_up = true;
			net_request_resume(c->up);
			c->in_up = false;
		}
		return rc < 0 ? -1 : 1;
	}
	if (c->ended)
		return c->end_rc == 0 ? 0 : -1; /* cut short: the client sees the body end without its last chunk */
	return HTTP_STREAM_WAIT;
}

/* The client's stream is over (sent, or the client went away). */
static void stream_free(void *ctx)
{
	struct proxy_call *c = ctx;

	c->down = NULL;
	if (c->up && !c->in_up) {
		net_request_cancel(c->up);
		c->up = NULL;
	}
	call_release(c); /* inside a net callback, up lets go when it returns */
}

static int up_head(void *ctx, const struct net_response *resp)
{
	struct proxy_call *c = ctx;
	const char *ct = net_response_header(resp, "Content-Type");
	const char *const *names = api_proxy_answer_fields;

	c->status = resp->status;
	c->content_type = ct ? xstrdup(ct) : NULL;
	for (size_t i = 0; names[i] && c->nfields < MAX_ANSWER_FIELDS; i++) {
		const char *v = net_response_header(resp, names[i]);
		if (v && !strpbrk(v, "\r\n")) {
			size_t n = strlen(names[i]);
			char *f = xmalloc(n + strlen(v) + 2);
			memcpy(f, names[i], n + 1);
			strcpy(f + n + 1, v);
			c->fields[c->nfields++] = f;
		}
	}
	if (!c->stream || c->status < 200 || c->status >= 300 || c->status == 204 || c->req == NULL)
		return 0; /* collected whole */
	add_fields(c, c->req);
	c->body.limit = API_PROXY_STREAM_BUFFER;
	c->streaming = true;
	c->in_up = true;
	c->down = http_respond_stream(c->req, (int)c->status, c->content_type, stream_next, c, stream_free);
	c->in_up = false;
	c->req = NULL;
	return c->down ? 0 : -ECANCELED;
}

static int up_data(void *ctx, const char *data, size_t len)
{
	struct proxy_call *c = ctx;

	if (c->streaming && c->down == NULL)
		return -ECANCELED; /* the client went away */
	if (c->streaming && c->body.len > 0 && c->body.len + len > c->body.limit) {
		c->paused = true; /* the client is slower than the leader: hold the leader back */
		return NET_STREAM_PAUSE;
	}
	if (buf_append(&c->body, data, len) < 0)
		return -E2BIG; /* a whole answer over the cap (or one part of a stream over the buffer) */
	if (c->down)
		http_stream_wake(c->down);
	return 0;
}

static void up_end(void *ctx, int rc, const char *err)
{
	struct proxy_call *c = ctx;

	c->up = NULL;
	c->ended = true;
	c->end_rc = rc;
	if (c->streaming) {
		if (rc < 0 && rc != -ECANCELED)
			log_warnx("proxy: %s: the leader %s's stream ended: %s", c->what, c->leader, err);
		if (c->down)
			http_stream_wake(c->down);
	} else if (c->req && rc < 0) {
		answer_failure(c, rc, err);
	} else if (c->req) {
		struct http_request *req = c->req;
		size_t len;
		char *body;
		c->req = NULL;
		add_fields(c, req);
		body = buf_steal(&c->body, &len);
		http_respond(req, (int)c->status, c->content_type, body, len);
	}
	call_release(c);
}

static const struct net_stream_callbacks upstream = {up_head, up_data, up_end};

/* The client's request, deferred, timed out (no head, or no whole answer, in time) or went away. */
static void on_defer_end(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct proxy_call *c = ctx;

	c->req = NULL;
	if (c->up) {
		net_request_cancel(c->up);
		c->up = NULL;
	}
	if (why == HTTP_DEFER_TIMEOUT)
		http_respond_error(req, 504, "%s: the leader %s did not answer within %d s", c->what, c->leader,
		    (c->stream ? API_PROXY_HEAD_TIMEOUT_MS : API_PROXY_TIMEOUT_MS) / 1000);
	call_release(c);
}

/* The fields of the forwarded request, in lines[] (each malloc'd, NULL-terminated); returns their count. */
static int request_fields(struct api_env *env, struct http_request *req, char **lines)
{
	const char *const *names = api_proxy_request_fields;
	const char *xff = http_request_header(req, "X-Forwarded-For"), *session;
	char peer[HTTP_PEER_MAX], ip[HTTP_PEER_MAX];
	int n = 0;

	for (size_t i = 0; names[i]; i++) {
		const char *v = http_request_header(req, names[i]);
		if (v)
			lines[n++] = xasprintf("%s: %s", names[i], v);
	}
	if ((session = api_auth_forward_credential(env, req)) != NULL)
		lines[n++] = xasprintf("Authorization: %s", session); /* the leader checks it again */
	http_request_peer(req, peer, sizeof(peer));
	api_proxy_peer_ip(peer, ip, sizeof(ip));
	lines[n++] = xff ? xasprintf("X-Forwarded-For: %.1024s, %s", xff, ip) : xasprintf("X-Forwarded-For: %s", ip);
	lines[n++] = xasprintf("%s: %s", API_PROXY_HOP_FIELD, env->self ? env->self : "?");
	lines[n] = NULL;
	return n;
}

/* The leader's URL for req into url[len]; 0 or -ENAMETOOLONG. */
static int request_url(struct api_env *env, struct http_request *req, char *url, size_t len)
{
	const char *keys[HTTP_PARAMS_MAX], *values[HTTP_PARAMS_MAX];
	char leader[300];
	int n = 0;

	/* the servers of a cluster speak TLS alike: the leader's scheme is this server's */
	snprintf(leader, sizeof(leader), "%s://%s", env->tls ? "https" : "http", env->leader);
	while (n < HTTP_PARAMS_MAX && http_request_param(req, n, &keys[n], &values[n]))
		n++;
	return api_proxy_url(leader, http_request_path(req), keys, values, n, url, len) < 0 ? -ENAMETOOLONG : 0;
}

void api_proxy_forward(struct api_env *env, struct http_request *req, bool stream)
{
	struct proxy_call *c = xcalloc(1, sizeof(*c));
	char *lines[MAX_FIELDS], url[3 * HTTP_TARGET_MAX + 300];
	const char *method = http_request_method(req), *body;
	size_t body_len;
	bool send_body;
	int n, rc;

	snprintf(c->leader, sizeof(c->leader), "%s", env->leader);
	snprintf(c->what, sizeof(c->what), "%s %.120s", method, http_request_path(req));
	c->stream = stream;
	buf_init(&c->body, API_PROXY_BODY_MAX);
	if (env->net == NULL) {
		http_respond_error(req, 503, "%s: only the leader %s serves this, and this server has no HTTP client to "
		    "pass it on", c->what, c->leader);
		call_free(c);
		return;
	}
	if (request_url(env, req, url, sizeof(url)) < 0) {
		http_respond_error(req, 414, "%s: the request target is too long to forward to the leader", c->what);
		call_free(c);
		return;
	}
	body = http_request_body(req, &body_len);
	/* an empty POST or PUT (run now) still says Content-Length: 0 */
	send_body = http_request_has_body(req) || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0;
	n = request_fields(env, req, lines);
	rc = net_request_stream(env->net, &(struct net_request_options){.method = method, .url = url,
		.headers = (const char *const *)lines, .body = send_body ? body : NULL,
		.body_len = body_len, .timeout_ms = API_PROXY_CONNECT_MS,
		.dead_after_ms = API_PROXY_DEAD_AFTER_MS}, &upstream, c, &c->up);
	for (int i = 0; i < n; i++)
		free(lines[i]);
	if (rc < 0) {
		c->req = req;
		answer_failure(c, rc, "the proxy's HTTP client refused the request");
		call_free(c);
		return;
	}
	c->req = req;
	c->env = env;
	c->next = env->proxy_calls;
	if (c->next)
		c->next->prev = c;
	env->proxy_calls = c;
	http_request_defer(req, stream ? API_PROXY_HEAD_TIMEOUT_MS : API_PROXY_TIMEOUT_MS, on_defer_end, c);
}

void api_proxy_leader_changed(struct api_env *env)
{
	struct proxy_call *next;

	for (struct proxy_call *c = env->proxy_calls; c; c = next) {
		next = c->next;
		if (c->up == NULL || c->in_up || (env->follower && strcmp(c->leader, env->leader) == 0))
			continue;
		net_request_cancel(c->up);
		c->up = NULL;
		c->ended = true;
		c->end_rc = -ECONNRESET;
		if (c->req) {
			struct http_request *req = c->req;
			c->req = NULL;
			http_add_header(req, "Retry-After", API_PROXY_RETRY_AFTER);
			http_respond_error(req, 503, "%s: the leader changed from %s to %s while it was forwarded: retry",
			    c->what, c->leader, !env->follower ? "this server" : *env->leader ? env->leader : "none yet");
		} else if (c->down) {
			http_stream_wake(c->down); /* its stream ends cut short: the client comes back to the new leader */
		}
		call_release(c);
	}
}
