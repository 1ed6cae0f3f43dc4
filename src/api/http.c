#include "api/http_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

#define CONNECTIONS_MAX 4096
#define BACKLOG 1024
#define LINGER_MS 5000                   /* after an answer that ends a connection, input is drained this long */
#define DISCARD_MAX ((size_t)64 << 20)   /* ... and this much at most: past it the connection is cut */
#define READ_ROOM ((size_t)16 << 10)     /* free space offered to each read */

struct write_req {
	uv_write_t w;
	struct http_conn *conn;
	size_t bytes;
	char *owned[2];
};

static void process(struct http_conn *c);
static void arm_timer(struct http_conn *c, uv_timer_cb cb, uint64_t ms);

static void server_release(struct http_server *srv)
{
	if (--srv->handles == 0) {
		http_tls_release(srv);
		free(srv);
	}
}

static void on_server_handle_closed(uv_handle_t *h)
{
	server_release(h->data);
}

static void on_write(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct http_conn *c = wr->conn;
	struct http_stream *s;

	c->writes--;
	c->unsent -= wr->bytes;
	free(wr->owned[0]);
	free(wr->owned[1]);
	free(wr);
	if (c->state == ST_CLOSED)
		return;
	if (status < 0) {
		log_debug("http: a client went away: %s", uv_strerror(status));
		http_conn_close(c);
		return;
	}
	if (c->state != ST_ANSWER)
		return; /* a 100 Continue */
	http_conn_arm_idle(c);
	s = c->req ? c->req->stream : NULL;
	if (s && !s->done) {
		if (!s->waiting && !s->scheduled) /* a scheduled one (yielding) is pumped once a turn, by the server */
			http_stream_pump(s); /* it ends the request when it is done */
		else if (c->writes == 0)
			uv_timer_stop(&c->timer);
		return;
	}
	if (c->writes == 0 && c->complete)
		http_conn_answered(c);
}

/* Write a and b to the TCP stream (owning own_a and own_b); bytes count as the answer's unsent ones. */
static void write_bufs(struct http_conn *c, char *a, size_t alen, char *b, size_t blen, char *own_a, char *own_b,
    size_t bytes)
{
	struct write_req *wr;
	uv_buf_t bufs[2];
	int n = 0, rc;

	wr = xcalloc(1, sizeof(*wr));
	if (alen)
		bufs[n++] = uv_buf_init(a, (unsigned)alen);
	if (blen)
		bufs[n++] = uv_buf_init(b, (unsigned)blen);
	wr->conn = c;
	wr->bytes = bytes;
	wr->owned[0] = own_a;
	wr->owned[1] = own_b;
	rc = uv_write(&wr->w, (uv_stream_t *)&c->tcp, bufs, (unsigned)n, on_write);
	if (rc < 0) {
		free(own_a);
		free(own_b);
		free(wr);
		log_debug("http: cannot write to a client: %s", uv_strerror(rc));
		if (c->in_call)
			c->failed = true;
		else
			http_conn_close(c);
		return;
	}
	c->writes++;
	c->unsent += wr->bytes;
}

void http_conn_send(struct http_conn *c, char *data, size_t len, size_t bytes)
{
	write_bufs(c, data, len, NULL, 0, data, NULL, bytes);
}

void http_conn_write(struct http_conn *c, char *a, size_t alen, char *b, size_t blen, char *own_a, char *own_b)
{
	char *cipher;
	size_t len;

	if (alen + blen == 0)
		return;
	if (c->tls == NULL) {
		write_bufs(c, a, alen, b, blen, own_a, own_b, alen + blen);
		return;
	}
	if (http_tls_encrypt(c, a, alen, b, blen, &cipher, &len) < 0) {
		free(own_a);
		free(own_b);
		if (c->in_call)
			c->failed = true;
		else
			http_conn_close(c);
		return;
	}
	free(own_a);
	free(own_b);
	write_bufs(c, cipher, len, NULL, 0, cipher, NULL, alen + blen);
}

/* --- connections ------------------------------------------------------------------------------------------- */

static void arm_timer(struct http_conn *c, uv_timer_cb cb, uint64_t ms)
{
	uv_timer_start(&c->timer, cb, ms, 0);
}

void http_conn_arm(struct http_conn *c, uv_timer_cb cb, uint64_t ms)
{
	arm_timer(c, cb, ms);
}

void http_conn_arm_idle(struct http_conn *c)
{
	arm_timer(c, http_conn_on_idle, HTTP_IDLE_MS);
}

/* Tell the done hook that req is finished (when it was answered at all). */
static void finished(struct http_conn *c, struct http_request *req)
{
	if (c->srv->done && req->parsed && req->answered)
		c->srv->done(c->srv->ctx, req, uv_hrtime() - req->t0);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct http_conn *c = h->data;
	struct http_server *srv = c->srv;

	if (--c->handles > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	free(c->in);
	free(c);
	server_release(srv);
}

void http_conn_close(struct http_conn *c)
{
	struct http_request *req = c->req;

	if (c->state == ST_CLOSED)
		return;
	c->state = ST_CLOSED;
	c->req = NULL;
	if (req) {
		finished(c, req);
		if (req->deferred) { /* its owner lets go of it; an answer it might still try is dropped */
			req->deferred = false;
			req->answered = true;
			req->defer_fn(req->defer_ctx, req, HTTP_DEFER_GONE);
		}
		http_req_free(req);
	}
	tls_free(c->tls);
	c->tls = NULL;
	uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

/* Answer a request refused before its handler, and end the connection after it. */
static void answer_early(struct http_conn *c, int status, const char *msg)
{
	if (c->req == NULL)
		c->req = http_req_new(c);
	log_debug("http: %d for %s %s: %s", status, http_request_method(c->req), http_request_path(c->req), msg);
	c->close_after = true;
	c->in_call++;
	http_respond_error(c->req, status, "%s", msg);
	c->in_call--;
	if (c->failed)
		http_conn_close(c);
}

static void on_linger_end(uv_timer_t *t)
{
	http_conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *sr, int status)
{
	struct http_conn *c = sr->data;
	if (status < 0 && status != UV_ECANCELED && c->state != ST_CLOSED)
		http_conn_close(c);
}

static void start_reading(struct http_conn *c);

/* The last answer is sent: shut the write side (the client sees the end), then drain what it still sends so
 * that closing does not reset the connection under an answer it has not read yet. */
static void linger(struct http_conn *c)
{
	c->state = ST_LINGER;
	c->len = 0;
	if (c->tls)
		http_tls_close_notify(c);
	c->shutdown.data = c;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
		http_conn_close(c);
		return;
	}
	arm_timer(c, on_linger_end, LINGER_MS);
	start_reading(c);
}

void http_conn_answered(struct http_conn *c)
{
	finished(c, c->req);
	http_req_free(c->req);
	c->req = NULL;
	c->complete = false;
	if (c->close_after) {
		linger(c);
		return;
	}
	c->state = ST_HEAD;
	if (c->len == 0 && c->cap > READ_ROOM) { /* an idle connection keeps no big buffer */
		free(c->in);
		c->in = NULL;
		c->cap = 0;
	}
	http_conn_arm_idle(c);
	start_reading(c);
	process(c);
}

/* Call the head hook or (must_answer) the handler; returns -1 when the connection failed meanwhile (and is
 * closed now). */
static int call(struct http_conn *c, http_handler_fn fn, bool must_answer)
{
	struct http_request *req = c->req;
	c->in_call++;
	fn(c->srv->ctx, req);
	if (must_answer && !req->answered && !req->deferred) {
		log_warnx("http: no answer for %s %s", http_request_method(req), http_request_path(req));
		http_respond_error(req, 500, "no handler answered");
	}
	c->in_call--;
	if (c->failed) {
		http_conn_close(c);
		return -1;
	}
	return 0;
}

static void consume(struct http_conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->len - n);
	c->len -= n;
}

/* Give the request's reader the bytes in and consume what it took; returns its answer (HTTP_READ_*, or a status
 * with err). */
static int feed(struct http_conn *c, char *err, size_t errlen)
{
	size_t used;
	int rc = http_reader_feed(c->req->reader, c->in, c->len, &used, err, errlen);
	consume(c, used);
	return rc;
}

/* Bytes of a request's head are in: when it is complete, let the hook look at it, and go on to the body or the
 * handler. Returns 0 when it moved on, -1 when more bytes are needed, or a status to answer with err. */
static int read_head(struct http_conn *c, char *err, size_t errlen)
{
	static char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_request *req;
	int rc;

	if (c->req == NULL)
		c->req = http_req_new(c);
	req = c->req;
	rc = feed(c, err, errlen);
	if (rc == HTTP_READ_MORE)
		return -1;
	if (rc != HTTP_READ_HEAD && rc != HTTP_READ_DONE)
		return rc;
	req->parsed = true;
	req->t0 = uv_hrtime();
	req->is_head = strcmp(req->head.method, "HEAD") == 0;
	req->complete = rc == HTTP_READ_DONE;
	if (req->head.close)
		c->close_after = true;
	if (c->srv->head && (call(c, c->srv->head, false) < 0 || req->answered))
		return 0;
	if (req->head.content_length > 0 && (uint64_t)req->head.content_length > c->srv->max_body) {
		snprintf(err, errlen, "request body: %lld bytes is over the limit of %zu bytes",
		    (long long)req->head.content_length, c->srv->max_body);
		return 413;
	}
	if (req->complete) {
		(void)call(c, c->srv->handler, true);
		return 0;
	}
	if (req->head.expect_continue)
		http_conn_write(c, continue_line, sizeof(continue_line) - 1, NULL, 0, NULL, NULL);
	if (c->state != ST_CLOSED)
		c->state = ST_BODY;
	return 0;
}

/* Body bytes are in: when the body is complete, call the handler. Returns like read_head. */
static int read_body(struct http_conn *c, char *err, size_t errlen)
{
	int rc = feed(c, err, errlen);

	if (rc == HTTP_READ_MORE)
		return -1;
	if (rc != HTTP_READ_DONE)
		return rc;
	c->req->complete = true;
	(void)call(c, c->srv->handler, true);
	return 0;
}

/* Go through the input as far as it takes the connection. */
static void process(struct http_conn *c)
{
	char err[512];
	while ((c->state == ST_HEAD || c->state == ST_BODY) && c->len > 0) {
		int rc = c->state == ST_HEAD ? read_head(c, err, sizeof(err)) : read_body(c, err, sizeof(err));
		if (rc < 0)
			return;
		if (rc > 0) {
			answer_early(c, rc, err);
			return;
		}
	}
}

void http_conn_on_idle(uv_timer_t *t)
{
	struct http_conn *c = t->data;
	if (c->tls && !tls_established(c->tls)) {
		char peer[HTTP_PEER_MAX];
		http_conn_peer(c, peer, sizeof(peer));
		log_info("http: %s: TLS handshake not done within %d s", peer, HTTP_TLS_HANDSHAKE_MS / 1000);
		http_conn_close(c);
	} else if ((c->state == ST_HEAD && (c->len > 0 || c->req)) || c->state == ST_BODY)
		answer_early(c, 408, "request: nothing more received for 60 seconds");
	else
		http_conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct http_conn *c = h->data;
	(void)suggested;
	if (c->state == ST_LINGER || c->tls) { /* drained, or ciphertext: decrypted into c->in by on_read */
		*b = uv_buf_init(c->srv->scratch, sizeof(c->srv->scratch));
		return;
	}
	if (c->cap - c->len < READ_ROOM / 2) {
		c->cap = c->len + READ_ROOM;
		c->in = xrealloc(c->in, c->cap);
	}
	*b = uv_buf_init(c->in + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *b)
{
	struct http_conn *c = stream->data;

	if (n == 0 || c->state == ST_CLOSED)
		return;
	if (n < 0) {
		uv_read_stop(stream);
		c->reading = false;
		/* A client that stops sending after a complete request still gets its (buffered) answer; one that
		 * leaves a stream, a deferred request or an unfinished request is gone. */
		if (c->state == ST_ANSWER && !(c->req && c->req->stream))
			c->close_after = true;
		else
			http_conn_close(c);
		return;
	}
	if (c->state == ST_LINGER) {
		c->drained += (size_t)n;
		if (c->drained > DISCARD_MAX)
			http_conn_close(c);
		return;
	}
	if (c->tls) {
		int rc = http_tls_input(c, b->base, (size_t)n);
		if (rc == HTTP_TLS_PLAIN) {
			answer_early(c, 400, "this port speaks HTTPS only: use an https:// URL");
			return;
		}
		if (rc < 0)
			http_conn_close(c);
		if (rc != 0)
			return;
	} else {
		c->len += (size_t)n;
	}
	if (c->state == ST_HEAD || c->state == ST_BODY) {
		http_conn_arm_idle(c);
		process(c);
	} else if (c->len >= HTTP_HEAD_MAX) { /* pipelined requests wait until this answer is sent */
		uv_read_stop(stream);
		c->reading = false;
	}
}

static void start_reading(struct http_conn *c)
{
	if (c->reading || c->state == ST_CLOSED)
		return;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		http_conn_close(c);
		return;
	}
	c->reading = true;
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct http_server *srv = listener->data;
	struct http_conn *c;

	if (status < 0) {
		log_warnx("http: accepting a connection: %s", uv_strerror(status));
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	uv_tcp_init(srv->loop, &c->tcp);
	uv_timer_init(srv->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	srv->handles++;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 || srv->stopping) {
		http_conn_close(c);
		return;
	}
	if (srv->nconns > CONNECTIONS_MAX) {
		log_warnx("http: more than %d connections: one refused", CONNECTIONS_MAX);
		http_conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	if (srv->tls)
		http_tls_accept(c);
	else
		http_conn_arm_idle(c);
	start_reading(c);
}

/* --- the server -------------------------------------------------------------------------------------------- */

int http_server_start(uv_loop_t *loop, const struct http_server_options *opt, http_handler_fn fn, void *ctx,
    struct http_server **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int namelen = sizeof(ss), rc, ipv6 = 0;
	struct http_server *srv;

	memset(&ss, 0, sizeof(ss));
	if (uv_ip4_addr(opt->address, opt->port, (struct sockaddr_in *)&ss) != 0) {
		if (uv_ip6_addr(opt->address, opt->port, (struct sockaddr_in6 *)&ss) != 0) {
			snprintf(err, errlen, "--http-address: '%s' is not an IPv4 or IPv6 address", opt->address);
			return -EINVAL;
		}
		ipv6 = 1;
	}
	srv = xcalloc(1, sizeof(*srv));
	srv->loop = loop;
	srv->handler = fn;
	srv->head = opt->head;
	srv->done = opt->done;
	srv->ctx = ctx;
	srv->max_body = opt->max_body;
	if ((rc = http_tls_configure(srv, opt, err, errlen)) < 0) {
		http_tls_release(srv);
		free(srv);
		return rc;
	}
	uv_tcp_init(loop, &srv->listener);
	srv->listener.data = srv;
	srv->handles = 1;
	rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, ipv6 ? UV_TCP_IPV6ONLY : 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->listener, BACKLOG, on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &namelen);
	if (rc < 0) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s", opt->address, opt->port, uv_strerror(rc));
		uv_close((uv_handle_t *)&srv->listener, on_server_handle_closed);
		return rc;
	}
	srv->port = ntohs(ipv6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	uv_idle_init(loop, &srv->wake);
	srv->wake.data = srv;
	srv->handles++;
	*out = srv;
	return 0;
}

int http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_stop(struct http_server *srv)
{
	if (srv == NULL || srv->stopping)
		return;
	srv->stopping = true;
	uv_close((uv_handle_t *)&srv->listener, on_server_handle_closed);
	uv_close((uv_handle_t *)&srv->wake, on_server_handle_closed);
	for (struct http_conn *c = srv->conns; c; c = c->next)
		http_conn_close(c);
}

