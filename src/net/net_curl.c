/* libcurl's multi interface on the libuv loop, as curl's docs/examples/multi-uv.c: curl asks for sockets to be
 * watched (CURLMOPT_SOCKETFUNCTION: one uv_poll each) and for a timeout (CURLMOPT_TIMERFUNCTION: one uv_timer);
 * when either fires, curl_multi_socket_action() does the work and finished transfers are read from
 * curl_multi_info_read(). */
#include "net/net.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/tcp_dead.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

struct net_client {
	uv_loop_t *loop;
	CURLM *multi;
	uv_timer_t timer;
	struct net_request *reqs;  /* in flight */
	struct sock *socks;        /* watched sockets */
	int handles;               /* the timer and every poll not yet closed */
	bool closing;
	char *tls_ca, *tls_cert, *tls_key; /* net_client_set_tls(), or NULL */
};

struct net_request {
	struct net_client *client;
	CURL *easy;
	struct curl_slist *headers;
	char *body;
	struct buf response;
	bool too_big;
	net_done_fn fn;
	void *ctx;
	const struct net_stream_callbacks *stream; /* a streamed request (net_request_stream) */
	bool head_told;            /* the stream's on_head ran */
	bool paused;               /* its on_data left the bytes (NET_STREAM_PAUSE) */
	int stream_rc;             /* what a stream's callback ended it with */
	char err[CURL_ERROR_SIZE];
	struct net_request *prev, *next;
	bool linked;               /* on the client's list: not yet told how it ended */
	uint32_t dead_after_ms;    /* the options' (net/tcp_dead.h), for on_new_socket */
};

/* One socket curl asked to watch. */
struct sock {
	uv_poll_t poll;
	struct net_client *client;
	curl_socket_t fd;
	struct sock *prev, *next;
};

static void client_release(struct net_client *c)
{
	if (--c->handles > 0)
		return;
	curl_global_cleanup();
	free(c->tls_ca);
	free(c->tls_cert);
	free(c->tls_key);
	free(c);
}

static void on_sock_closed(uv_handle_t *h)
{
	struct sock *s = h->data;
	struct net_client *c = s->client;
	free(s);
	client_release(c);
}

static void on_timer_closed(uv_handle_t *h)
{
	client_release(h->data);
}

static void sock_close(struct sock *s)
{
	struct net_client *c = s->client;
	if (s->prev)
		s->prev->next = s->next;
	else
		c->socks = s->next;
	if (s->next)
		s->next->prev = s->prev;
	uv_close((uv_handle_t *)&s->poll, on_sock_closed);
}

static void unlink_request(struct net_request *r)
{
	struct net_client *c = r->client;
	if (!r->linked)
		return;
	r->linked = false;
	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
}

static void request_free(struct net_request *r)
{
	unlink_request(r);
	if (r->client->multi)
		curl_multi_remove_handle(r->client->multi, r->easy);
	curl_easy_cleanup(r->easy);
	curl_slist_free_all(r->headers);
	buf_free(&r->response);
	free(r->body);
	free(r);
}

/* A curl error as a negative errno. */
static int errno_of(const struct net_request *r, CURLcode code)
{
	if (r->too_big)
		return -E2BIG;
	switch (code) {
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_PARTIAL_FILE:
		return -ECONNRESET;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		return -EPROTO;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_BAD_FUNCTION_ARGUMENT:
		return -EINVAL;
	default:
		return -EIO;
	}
}

/* Tell a stream's owner its head is in. */
static int tell_head(struct net_request *r)
{
	struct net_response resp = {.req = r, .body = ""};

	r->head_told = true;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
	return r->stream->on_head ? r->stream->on_head(r->ctx, &resp) : 0;
}

/* How a stream ended: its on_end (the head first, for a response with no body). */
static void finish_stream(struct net_request *r, CURLcode code)
{
	char err[CURL_ERROR_SIZE + 64];
	int rc = 0;

	err[0] = '\0';
	if (code == CURLE_OK && !r->head_told)
		rc = tell_head(r);
	else if (code != CURLE_OK)
		rc = r->stream_rc < 0 ? r->stream_rc : errno_of(r, code);
	if (rc < 0)
		snprintf(err, sizeof(err), "%s", r->stream_rc < 0 || code == CURLE_OK ? "ended by its reader" :
		    r->err[0] ? r->err : curl_easy_strerror(code));
	unlink_request(r);
	r->stream->on_end(r->ctx, rc, err);
	request_free(r);
}

/* Tell a request's owner how it ended, then free it. It leaves the list first, so that an owner who closes the
 * client from its callback does not hear of it twice. */
static void finish(struct net_request *r, CURLcode code)
{
	struct net_response resp = {.req = r};
	char err[CURL_ERROR_SIZE + 64];
	int rc = 0;

	if (r->stream) {
		finish_stream(r, code);
		return;
	}
	if (code == CURLE_OK) {
		curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &resp.status);
		resp.body = r->response.data ? r->response.data : "";
		resp.body_len = r->response.len;
		err[0] = '\0';
	} else {
		rc = errno_of(r, code);
		if (r->too_big)
			snprintf(err, sizeof(err), "response body over %zu bytes", r->response.limit);
		else
			snprintf(err, sizeof(err), "%s", r->err[0] ? r->err : curl_easy_strerror(code));
	}
	unlink_request(r);
	r->fn(r->ctx, rc, rc == 0 ? &resp : NULL, err);
	request_free(r);
}

/* Take the transfers curl has finished. */
static void check_done(struct net_client *c)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(c->multi, &left)) != NULL) {
		struct net_request *r;
		if (msg->msg != CURLMSG_DONE)
			continue;
		if (curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&r) != CURLE_OK || r == NULL)
			continue;
		finish(r, msg->data.result);
	}
}

static void on_poll(uv_poll_t *p, int status, int events)
{
	struct sock *s = p->data;
	struct net_client *c = s->client;
	int flags = 0, running;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(c->multi, s->fd, flags, &running);
	check_done(c);
}

static void on_timer(uv_timer_t *t)
{
	struct net_client *c = t->data;
	int running;

	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

/* CURLMOPT_SOCKETFUNCTION: watch fd for what curl waits for, or stop watching it. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *arg, void *socketp)
{
	struct net_client *c = arg;
	struct sock *s = socketp;
	int events = 0;
	(void)easy;

	if (what == CURL_POLL_REMOVE) {
		if (s) {
			curl_multi_assign(c->multi, fd, NULL);
			sock_close(s);
		}
		return 0;
	}
	if (s == NULL) {
		s = xcalloc(1, sizeof(*s));
		s->client = c;
		s->fd = fd;
		if (uv_poll_init_socket(c->loop, &s->poll, fd) < 0) {
			free(s);
			return -1;
		}
		s->poll.data = s;
		s->next = c->socks;
		if (c->socks)
			c->socks->prev = s;
		c->socks = s;
		c->handles++;
		curl_multi_assign(c->multi, fd, s);
	}
	if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
		events |= UV_READABLE;
	if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
		events |= UV_WRITABLE;
	return uv_poll_start(&s->poll, events, on_poll) < 0 ? -1 : 0;
}

/* CURLMOPT_TIMERFUNCTION: curl wants on_timer after timeout_ms (-1: never). It must not be called from here, so
 * "now" (0) waits for the next turn of the loop. */
static int on_timeout(CURLM *multi, long timeout_ms, void *arg)
{
	struct net_client *c = arg;
	(void)multi;

	if (c->closing)
		return 0;
	if (timeout_ms < 0)
		uv_timer_stop(&c->timer);
	else
		uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
	return 0;
}

int net_client_new(uv_loop_t *loop, struct net_client **out)
{
	struct net_client *c;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -EIO;
	c = xcalloc(1, sizeof(*c));
	c->loop = loop;
	c->multi = curl_multi_init();
	if (c->multi == NULL) {
		free(c);
		curl_global_cleanup();
		return -EIO;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_timeout);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	uv_timer_init(loop, &c->timer);
	c->timer.data = c;
	c->handles = 1;
	*out = c;
	return 0;
}

int net_client_set_tls(struct net_client *c, const struct net_tls_options *o, char *err, size_t errlen)
{
	if ((o->cert != NULL) != (o->key != NULL)) {
		snprintf(err, errlen, "a client certificate needs both its certificate and its key");
		return -EINVAL;
	}
	c->tls_ca = o->ca ? xstrdup(o->ca) : NULL;
	c->tls_cert = o->cert ? xstrdup(o->cert) : NULL;
	c->tls_key = o->key ? xstrdup(o->key) : NULL;
	return 0;
}

void net_client_close(struct net_client *c)
{
	if (c == NULL || c->closing)
		return;
	c->closing = true;
	while (c->reqs) {
		struct net_request *r = c->reqs;
		unlink_request(r);
		if (r->stream)
			r->stream->on_end(r->ctx, -ECANCELED, "the HTTP client is closing");
		else
			r->fn(r->ctx, -ECANCELED, NULL, "the HTTP client is closing");
		request_free(r);
	}
	curl_multi_cleanup(c->multi); /* may still ask to stop watching sockets */
	c->multi = NULL;
	while (c->socks)
		sock_close(c->socks);
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
	struct net_request *r = arg;
	if (r->stream) {
		int rc = r->head_told ? 0 : tell_head(r);
		if (rc == 0)
			rc = r->stream->on_data(r->ctx, data, size * nmemb);
		if (rc == NET_STREAM_PAUSE) {
			r->paused = true;
			return CURL_WRITEFUNC_PAUSE; /* curl keeps the bytes and stops reading */
		}
		if (rc < 0) {
			r->stream_rc = rc;
			return 0; /* CURLE_WRITE_ERROR */
		}
		return size * nmemb;
	}
	if (buf_append(&r->response, data, size * nmemb) < 0) {
		r->too_big = true;
		return 0; /* curl ends the transfer with CURLE_WRITE_ERROR */
	}
	return size * nmemb;
}

/* CURLOPT_HEADERFUNCTION of a stream: the blank line after a final status ends the head. */
static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
	struct net_request *r = arg;
	size_t n = size * nmemb;
	bool blank = (n == 2 && data[0] == '\r' && data[1] == '\n') || (n == 1 && data[0] == '\n');
	long status = 0;
	int rc;

	if (r->head_told || !blank)
		return n;
	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	if (status < 200)
		return n; /* an interim 1xx */
	if ((rc = tell_head(r)) < 0) {
		r->stream_rc = rc;
		return 0;
	}
	return n;
}

/* CURLOPT_SOCKOPTFUNCTION of a request with dead_after_ms: its new connection's socket, before the connect. */
static int on_new_socket(void *ctx, curl_socket_t fd, curlsocktype purpose)
{
	struct net_request *r = ctx;
	int rc;

	if (purpose == CURLSOCKTYPE_IPCXN && (rc = tcp_dead_after(fd, r->dead_after_ms)) < 0)
		log_warnx("net: cannot set TCP keepalive and user timeout (%s)", strerror(-rc));
	return CURL_SOCKOPT_OK;
}

#define SETOPT(opt, val) ok = ok && curl_easy_setopt(r->easy, (opt), (val)) == CURLE_OK

/* Set the options of r's easy handle; false when curl refuses one. */
static bool setup(struct net_request *r, const struct net_request_options *opt)
{
	const char *method = opt->method ? opt->method : opt->body ? "POST" : "GET";
	uint64_t timeout = opt->timeout_ms ? opt->timeout_ms : NET_TIMEOUT_DEFAULT_MS;
	bool ok = true;

	for (const char *const *h = opt->headers; h && *h; h++)
		r->headers = curl_slist_append(r->headers, *h);
	r->headers = curl_slist_append(r->headers, "Expect:"); /* no 100-continue round trip */
	if (r->headers == NULL)
		fatalx("net: out of memory");
	SETOPT(CURLOPT_PRIVATE, r);
	SETOPT(CURLOPT_URL, opt->url);
	SETOPT(CURLOPT_PROTOCOLS_STR, "http,https");
	if (r->client->tls_ca)
		SETOPT(CURLOPT_CAINFO, r->client->tls_ca);
	if (r->client->tls_cert) {
		SETOPT(CURLOPT_SSLCERT, r->client->tls_cert);
		SETOPT(CURLOPT_SSLKEY, r->client->tls_key);
	}
	SETOPT(CURLOPT_NOSIGNAL, 1L);
	SETOPT(CURLOPT_ERRORBUFFER, r->err);
	if (r->stream) {
		SETOPT(CURLOPT_CONNECTTIMEOUT_MS, (long)timeout);
		SETOPT(CURLOPT_HEADERFUNCTION, on_header);
		SETOPT(CURLOPT_HEADERDATA, r);
	} else {
		SETOPT(CURLOPT_TIMEOUT_MS, (long)timeout);
	}
	if (opt->dead_after_ms) {
		r->dead_after_ms = opt->dead_after_ms;
		SETOPT(CURLOPT_SOCKOPTFUNCTION, on_new_socket);
		SETOPT(CURLOPT_SOCKOPTDATA, r);
	}
	SETOPT(CURLOPT_USERAGENT, "gnomon/" GNOMON_VERSION);
	SETOPT(CURLOPT_HTTPHEADER, r->headers);
	SETOPT(CURLOPT_WRITEFUNCTION, on_data);
	SETOPT(CURLOPT_WRITEDATA, r);
	if (opt->body) {
		r->body = xmalloc(opt->body_len + 1);
		memcpy(r->body, opt->body, opt->body_len);
		r->body[opt->body_len] = '\0';
		SETOPT(CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)opt->body_len);
		SETOPT(CURLOPT_POSTFIELDS, r->body);
	}
	if (strcmp(method, "HEAD") == 0)
		SETOPT(CURLOPT_NOBODY, 1L);
	else if (strcmp(method, opt->body ? "POST" : "GET") != 0)
		SETOPT(CURLOPT_CUSTOMREQUEST, method);
	return ok;
}

/* Start a plain (fn) or streamed (stream) request. */
static int request_start(struct net_client *c, const struct net_request_options *opt, net_done_fn fn,
    const struct net_stream_callbacks *stream, void *ctx, struct net_request **out)
{
	struct net_request *r;

	if (out)
		*out = NULL;
	if (c->closing)
		return -ESHUTDOWN;
	if (opt->url == NULL || opt->url[0] == '\0')
		return -EINVAL;
	r = xcalloc(1, sizeof(*r));
	r->client = c;
	r->fn = fn;
	r->stream = stream;
	r->ctx = ctx;
	buf_init(&r->response, opt->max_response ? opt->max_response : NET_RESPONSE_MAX_DEFAULT);
	r->easy = curl_easy_init();
	if (r->easy == NULL || !setup(r, opt) || curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
		if (r->easy)
			curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->headers);
		buf_free(&r->response);
		free(r->body);
		free(r);
		return -EIO;
	}
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	r->linked = true;
	if (out)
		*out = r;
	return 0;
}

int net_request(struct net_client *c, const struct net_request_options *opt, net_done_fn fn, void *ctx,
    struct net_request **out)
{
	return request_start(c, opt, fn, NULL, ctx, out);
}

int net_request_stream(struct net_client *c, const struct net_request_options *opt,
    const struct net_stream_callbacks *cb, void *ctx, struct net_request **out)
{
	return request_start(c, opt, NULL, cb, ctx, out);
}

void net_request_resume(struct net_request *r)
{
	if (r == NULL || !r->paused)
		return;
	r->paused = false;
	if (curl_easy_pause(r->easy, CURLPAUSE_CONT) != CURLE_OK)
		log_warnx("net: could not resume a paused transfer"); /* it ends through the multi handle */
}

void net_request_cancel(struct net_request *r)
{
	if (r)
		request_free(r);
}

const char *net_response_header(const struct net_response *resp, const char *name)
{
	struct curl_header *h;

	if (curl_easy_header(resp->req->easy, name, 0, CURLH_HEADER, -1, &h) == CURLHE_OK) {
		/* the last of several: curl counts them in h->amount */
		if (h->amount > 1 && curl_easy_header(resp->req->easy, name, h->amount - 1, CURLH_HEADER, -1, &h) !=
		    CURLHE_OK)
			return NULL;
		return h->value;
	}
	return NULL;
}
