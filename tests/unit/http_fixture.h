/* A real HTTP server for unit tests: gnomon's own (api/http.h) on a loopback port of the test's loop, with the
 * test's table of routes, plus a raw TCP client for what an HTTP client library will not do (pipelining,
 * leaving halfway). Everything runs on the test's thread: the loop turns only inside fx_run_until(). */
#ifndef GNOMON_TESTS_HTTP_FIXTURE_H
#define GNOMON_TESTS_HTTP_FIXTURE_H

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <uv.h>

#include "api/http.h"
#include "util/buf.h"

#define FX_DEADLINE_MS 10000 /* a condition not met by then fails the test instead of hanging it */

struct fixture;

struct fx_route {
	const char *method;
	const char *path;
	void (*fn)(struct fixture *fx, struct http_request *req);
};

struct fixture {
	uv_loop_t loop;
	struct http_server *srv;
	const struct fx_route *routes;
	http_handler_fn handler; /* when set, every request goes here (ctx: the fixture) instead of routes */
	http_done_fn done;
	uv_timer_t tick; /* wakes uv_run(UV_RUN_ONCE) so that deadlines are checked */
	char base[64];   /* "http://127.0.0.1:PORT" */
	int port;
	void *user;
};

static inline void fx_handle(void *ctx, struct http_request *req)
{
	struct fixture *fx = ctx;
	const char *method = http_request_method(req);
	if (fx->handler) {
		fx->handler(fx, req);
		return;
	}
	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	for (const struct fx_route *r = fx->routes; r->method; r++) {
		if (strcmp(r->method, method) == 0 && strcmp(r->path, http_request_path(req)) == 0) {
			r->fn(fx, req);
			return;
		}
	}
	http_respond_error(req, 404, "no route %s %s", http_request_method(req), http_request_path(req));
}

static inline void fx_done(void *ctx, struct http_request *req, uint64_t nanos)
{
	struct fixture *fx = ctx;
	if (fx->done)
		fx->done(fx, req, nanos);
}

static inline void fx_tick(uv_timer_t *t)
{
	(void)t;
}

/* Start the server with routes (ended by a row of NULLs). */
static inline void fx_start(struct fixture *fx, const struct fx_route *routes)
{
	struct http_server_options opt = {.address = "127.0.0.1", .port = 0, .max_body = 1 << 20, .done = fx_done};
	char err[256];

	fx->routes = routes;
	assert_int_equal(uv_loop_init(&fx->loop), 0);
	assert_int_equal(http_server_start(&fx->loop, &opt, fx_handle, fx, &fx->srv, err, sizeof(err)), 0);
	fx->port = http_server_port(fx->srv);
	snprintf(fx->base, sizeof(fx->base), "http://127.0.0.1:%d", fx->port);
	uv_timer_init(&fx->loop, &fx->tick);
	uv_timer_start(&fx->tick, fx_tick, 50, 50);
}

/* Turn the loop until cond(arg) holds; fail after FX_DEADLINE_MS. */
static inline void fx_run_until(struct fixture *fx, bool (*cond)(void *arg), void *arg)
{
	uint64_t deadline = uv_hrtime() + (uint64_t)FX_DEADLINE_MS * 1000000;
	while (!cond(arg)) {
		if (uv_hrtime() > deadline)
			fail_msg("condition not met within %d ms", FX_DEADLINE_MS);
		uv_run(&fx->loop, UV_RUN_ONCE);
	}
}

static inline bool fx_int_at_least_cond(void *arg)
{
	const int *p = ((const int *const *)arg)[0];
	const int *want = ((const int *const *)arg)[1];
	return *p >= *want;
}

/* Turn the loop until *counter >= want. */
static inline void fx_wait_count(struct fixture *fx, const int *counter, int want)
{
	const int *args[2] = {counter, &want};
	fx_run_until(fx, fx_int_at_least_cond, (void *)args);
}

/* Stop the server (if still running), let every handle close, and check that none is left. */
static inline void fx_stop(struct fixture *fx)
{
	http_server_stop(fx->srv);
	fx->srv = NULL;
	uv_close((uv_handle_t *)&fx->tick, NULL);
	uv_run(&fx->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&fx->loop), 0);
}

/* --- a raw TCP client ------------------------------------------------------------------------------------- */

struct fx_raw {
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	struct buf in;       /* what the server sent */
	bool connected, eof, closed;
	char *out;
};

static inline void fx_raw_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = malloc(suggested);
	b->len = b->base ? suggested : 0;
}

static inline void fx_raw_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct fx_raw *r = s->data;
	if (n > 0)
		assert_int_equal(buf_append(&r->in, b->base, (size_t)n), 0);
	else if (n < 0)
		r->eof = true;
	free(b->base);
}

static inline void fx_raw_connected(uv_connect_t *req, int status)
{
	struct fx_raw *r = req->data;
	assert_int_equal(status, 0);
	r->connected = true;
	assert_int_equal(uv_read_start((uv_stream_t *)&r->tcp, fx_raw_alloc, fx_raw_read), 0);
}

static inline bool fx_raw_connected_cond(void *arg)
{
	return ((struct fx_raw *)arg)->connected;
}

/* Connect to the fixture's server and wait until connected. */
static inline void fx_raw_open(struct fixture *fx, struct fx_raw *r)
{
	struct sockaddr_in sa;
	memset(r, 0, sizeof(*r));
	buf_init(&r->in, 0);
	uv_ip4_addr("127.0.0.1", fx->port, &sa);
	uv_tcp_init(&fx->loop, &r->tcp);
	r->tcp.data = r;
	r->connect.data = r;
	assert_int_equal(uv_tcp_connect(&r->connect, &r->tcp, (const struct sockaddr *)&sa, fx_raw_connected), 0);
	fx_run_until(fx, fx_raw_connected_cond, r);
}

static inline void fx_raw_written(uv_write_t *w, int status)
{
	struct fx_raw *r = w->data;
	(void)status;
	free(r->out);
	r->out = NULL;
}

/* Send text (one write at a time). */
static inline void fx_raw_send(struct fx_raw *r, const char *text)
{
	uv_buf_t b;
	assert_null(r->out);
	r->out = strdup(text);
	b = uv_buf_init(r->out, (unsigned)strlen(text));
	r->write.data = r;
	assert_int_equal(uv_write(&r->write, (uv_stream_t *)&r->tcp, &b, 1, fx_raw_written), 0);
}

static inline void fx_raw_closed(uv_handle_t *h)
{
	((struct fx_raw *)h->data)->closed = true;
}

static inline bool fx_raw_closed_cond(void *arg)
{
	return ((struct fx_raw *)arg)->closed;
}

/* Close the connection and wait until it is closed; frees what was read. */
static inline void fx_raw_close(struct fixture *fx, struct fx_raw *r)
{
	uv_close((uv_handle_t *)&r->tcp, fx_raw_closed);
	fx_run_until(fx, fx_raw_closed_cond, r);
	buf_free(&r->in);
}

/* How many times needle occurs in what the server sent. */
static inline int fx_raw_count(const struct fx_raw *r, const char *needle)
{
	int n = 0;
	for (const char *p = r->in.data; p && (p = strstr(p, needle)) != NULL; p += strlen(needle))
		n++;
	return n;
}

#endif
