/* net: connections and the shapes of responses, against a scripted server on loopback (a raw TCP listener here,
 * which answers what each test says, closes when it says): keep-alive (one connection for requests one after
 * the other), a connection the server closed while it was idle (noticed, or found when the next request is sent
 * on it: sent once more on a new connection, once only), chunked bodies, bodies up to the connection's end,
 * interim 1xx responses, repeated header fields, malformed responses, a request that times out or is cancelled
 * in the middle of writing its body; for net_uv.c (TEST_NET_UV) also the URLs refused (and an https:// one that
 * cannot connect). Built twice, as the net tests are: test_net_conn (libcurl) and test_net_conn_uv. */
#include "http_fixture.h"

#include <errno.h>

#include "net/net.h"
#include "net_result.h"

/* What the server does with the n-th request (from 1) of its c-th connection (from 1), the k-th of all. */
enum script {
	ANSWER_ALL,         /* "conn=c req=n", kept alive */
	CLOSE_AFTER,        /* the same, then closes the connection (no "Connection: close": it just goes) */
	DROP_SECOND,        /* a connection's second request: closed without an answer */
	DROP_ALL_BUT_FIRST, /* every request but the very first: closed without an answer */
	FIXED,              /* the fixed text, then closes when close_fixed */
	SILENT,             /* reads nothing: a big request stays in the middle of its write */
};

struct server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	int port;
	enum script script;
	const char *fixed;
	bool close_fixed;
	int conns, requests, closed;
};

struct sconn {
	uv_tcp_t tcp;
	struct server *s;
	int no, reqs;
	struct buf in;
	uv_write_t w;
	char *out;
	bool close_after, closing;
};

static void sconn_closed(uv_handle_t *h)
{
	struct sconn *k = h->data;
	k->s->closed++;
	buf_free(&k->in);
	free(k->out);
	free(k);
}

static void sconn_close(struct sconn *k)
{
	if (!k->closing) {
		k->closing = true;
		uv_close((uv_handle_t *)&k->tcp, sconn_closed);
	}
}

static void sconn_written(uv_write_t *w, int status)
{
	struct sconn *k = w->data;
	(void)status;
	free(k->out);
	k->out = NULL;
	if (k->close_after)
		sconn_close(k);
}

/* Answer one request (its head ends the bytes taken), or close. */
static void sconn_answer(struct sconn *k)
{
	struct server *s = k->s;
	char body[64];
	uv_buf_t b;

	k->reqs++;
	s->requests++;
	if ((s->script == DROP_SECOND && k->reqs == 2) || (s->script == DROP_ALL_BUT_FIRST && s->requests > 1)) {
		sconn_close(k);
		return;
	}
	if (s->script == FIXED && s->fixed[0] == '\0') {
		sconn_close(k);
		return;
	}
	if (s->script == FIXED) {
		k->out = strdup(s->fixed);
		k->close_after = s->close_fixed;
	} else {
		snprintf(body, sizeof(body), "conn=%d req=%d", k->no, k->reqs);
		assert_true(asprintf(&k->out, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body) > 0);
		k->close_after = s->script == CLOSE_AFTER;
	}
	k->w.data = k;
	b = uv_buf_init(k->out, (unsigned)strlen(k->out));
	assert_int_equal(uv_write(&k->w, (uv_stream_t *)&k->tcp, &b, 1, sconn_written), 0);
}

static void sconn_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	(void)h;
	b->base = malloc(suggested);
	b->len = suggested;
}

static void sconn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
	struct sconn *k = st->data;
	char *end;

	if (n > 0 && !k->closing) {
		assert_int_equal(buf_append(&k->in, b->base, (size_t)n), 0);
		/* requests without bodies (the tests send GETs), one answer at a time */
		while (!k->closing && k->out == NULL && (end = strstr(k->in.data, "\r\n\r\n")) != NULL) {
			size_t used = (size_t)(end + 4 - k->in.data);
			memmove(k->in.data, k->in.data + used, k->in.len - used + 1);
			k->in.len -= used;
			sconn_answer(k);
		}
	} else if (n < 0) {
		sconn_close(k);
	}
	free(b->base);
}

static void on_connection(uv_stream_t *l, int status)
{
	struct server *s = l->data;
	struct sconn *k = calloc(1, sizeof(*k));

	assert_int_equal(status, 0);
	k->s = s;
	k->no = ++s->conns;
	buf_init(&k->in, 0);
	uv_tcp_init(s->loop, &k->tcp);
	k->tcp.data = k;
	assert_int_equal(uv_accept(l, (uv_stream_t *)&k->tcp), 0);
	if (s->script != SILENT)
		assert_int_equal(uv_read_start((uv_stream_t *)&k->tcp, sconn_alloc, sconn_read), 0);
}

struct env {
	struct fixture fx; /* its loop and tick; its HTTP server is not used */
	struct server s;
	struct net_client *client;
};

static void stop_listening(struct env *e)
{
	uv_close((uv_handle_t *)&e->s.listener, NULL);
}

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof(ss);

	assert_int_equal(uv_loop_init(&e->fx.loop), 0);
	uv_timer_init(&e->fx.loop, &e->fx.tick);
	uv_timer_start(&e->fx.tick, fx_tick, 20, 20);
	e->s.loop = &e->fx.loop;
	uv_tcp_init(&e->fx.loop, &e->s.listener);
	e->s.listener.data = &e->s;
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_tcp_bind(&e->s.listener, (const struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_listen((uv_stream_t *)&e->s.listener, 16, on_connection), 0);
	assert_int_equal(uv_tcp_getsockname(&e->s.listener, (struct sockaddr *)&ss, &len), 0);
	e->s.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	assert_int_equal(net_client_new(&e->fx.loop, &e->client), 0);
	*state = e;
	return 0;
}

/* The server's connections still open (everything else is closed by then). */
static void close_all(uv_handle_t *h, void *arg)
{
	if (!uv_is_closing(h) && h->data != arg)
		sconn_close(h->data);
}

static int teardown(void **state)
{
	struct env *e = *state;

	net_client_close(e->client);
	stop_listening(e);
	uv_close((uv_handle_t *)&e->fx.tick, NULL);
	uv_run(&e->fx.loop, UV_RUN_NOWAIT);
	uv_walk(&e->fx.loop, close_all, &e->s);
	uv_run(&e->fx.loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&e->fx.loop), 0);
	free(e);
	return 0;
}

static void get(struct env *e, const char *path, struct result *r)
{
	char url[128];
	struct net_request_options opt = {.url = url};

	memset(r, 0, sizeof(*r));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", e->s.port, path);
	assert_int_equal(net_request(e->client, &opt, on_done, r, NULL), 0);
	fx_wait_count(&e->fx, &r->calls, 1);
}

/* Let the loop turn for ms. */
static void turn(struct env *e, int ms)
{
	uint64_t until = uv_hrtime() + (uint64_t)ms * 1000000;
	while (uv_hrtime() < until)
		uv_run(&e->fx.loop, UV_RUN_ONCE);
}

static void test_keep_alive(void **state)
{
	struct env *e = *state;
	struct result r;

	for (int i = 1; i <= 3; i++) {
		char want[32];
		get(e, "/", &r);
		assert_int_equal(r.rc, 0);
		snprintf(want, sizeof(want), "conn=1 req=%d", i);
		assert_string_equal(r.body, want);
	}
	assert_int_equal(e->s.conns, 1);
}

/* The server closes after its answer: the client notices while the connection is idle, or not yet. */
static void test_server_closed_idle(void **state)
{
	struct env *e = *state;
	struct result r;

	e->s.script = CLOSE_AFTER;
	get(e, "/", &r);
	assert_string_equal(r.body, "conn=1 req=1");
	fx_wait_count(&e->fx, &e->s.closed, 1);
	turn(e, 50);
	get(e, "/", &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.body, "conn=2 req=1");
}

/* The request on a kept connection finds it closed with nothing answered: sent once more, on a new one. */
static void test_retry_once(void **state)
{
	struct env *e = *state;
	struct result r;

	e->s.script = DROP_SECOND;
	get(e, "/", &r);
	assert_string_equal(r.body, "conn=1 req=1");
	get(e, "/", &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.body, "conn=2 req=1");
	assert_int_equal(e->s.requests, 3);

	/* but only once: a new connection that ends without an answer is the request's end */
	e->s.script = DROP_ALL_BUT_FIRST;
	get(e, "/", &r); /* on conn 2: dropped, then on conn 3: dropped */
	assert_int_equal(r.rc, -ECONNRESET);
	assert_int_equal(e->s.conns, 3);
}

static void test_response_shapes(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *text;
		bool close;
		int rc;
		long status;
		const char *body, *header;
	} rows[] = {
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7\r\n world!\r\n0\r\n\r\n", false, 0,
		    200, "hello world!", ""},
		{"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-Trailer: t\r\n\r\n",
		    false, 0, 201, "abc", ""},
		{"HTTP/1.1 200 OK\r\nX-Test: 1\r\nx-test:   2  \r\nContent-Length: 2\r\n\r\nok", false, 0, 200, "ok", "2"},
		{"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nup to the end", true, 0, 200, "up to the end", ""},
		{"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\nX-Test: final\r\n\r\n", false, 0, 204, "", "final"},
		{"HTTP/1.0 503 Service Unavailable\r\nContent-Length: 4\r\n\r\nbusy", true, 0, 503, "busy", ""},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", true, -ECONNRESET, 0, "", ""},
		{"", true, -ECONNRESET, 0, "", ""},
	};

	e->s.script = FIXED;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct result r;
		e->s.fixed = rows[i].text;
		e->s.close_fixed = rows[i].close;
		get(e, "/", &r);
		if (r.rc != rows[i].rc)
			fail_msg("row %zu: rc %d (%s), expected %d", i, r.rc, r.err, rows[i].rc);
		assert_int_equal(r.status, rows[i].status);
		assert_string_equal(r.body, rows[i].body);
		assert_string_equal(r.header, rows[i].header);
	}
}

/* A server that reads nothing: a request whose body is still being written times out, or is cancelled; the
 * client goes on (under ASan: nothing of the abandoned write is touched after it is freed). */
static void test_abandoned_mid_write(void **state)
{
	struct env *e = *state;
	enum { BODY = 16 << 20 };
	char *body = malloc(BODY), url[64];
	struct net_request_options opt = {.url = url, .body = body, .body_len = BODY, .timeout_ms = 300};
	struct net_request *req;
	struct result r = {0}, cancelled = {0};

	memset(body, 'b', BODY);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", e->s.port);
	e->s.script = SILENT;
	assert_int_equal(net_request(e->client, &opt, on_done, &r, NULL), 0);
	fx_wait_count(&e->fx, &r.calls, 1);
	assert_int_equal(r.rc, -ETIMEDOUT);
	opt.timeout_ms = 0;
	assert_int_equal(net_request(e->client, &opt, on_done, &cancelled, &req), 0);
	fx_wait_count(&e->fx, &e->s.conns, 2);
	turn(e, 50);
	net_request_cancel(req);
	free(body); /* the client's copy is its own */
	e->s.script = ANSWER_ALL;
	get(e, "/", &r);
	assert_int_equal(r.rc, 0);
	assert_string_equal(r.body, "conn=3 req=1");
	assert_int_equal(cancelled.calls, 0);
}

#ifdef TEST_NET_UV
static void test_refused_here(void **state)
{
	struct env *e = *state;
	static const struct {
		const char *url;
		int rc;
		const char *err;
	} rows[] = {
		{"https://127.0.0.1:1/", -ECONNREFUSED, "cannot connect to 127.0.0.1:1"},
		{"http://user@127.0.0.1/", -EINVAL, "user information"},
		{"http://127.0.0.1:0/", -EINVAL, "port"},
		{"http:///x", -EINVAL, "no host"},
		{"http://name.invalid/", -EHOSTUNREACH, "cannot resolve the host name 'name.invalid'"},
	};
	struct result r;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct net_request_options opt = {.url = rows[i].url};
		memset(&r, 0, sizeof(r));
		assert_int_equal(net_request(e->client, &opt, on_done, &r, NULL), 0);
		assert_int_equal(r.calls, 0);
		fx_wait_count(&e->fx, &r.calls, 1);
		assert_int_equal(r.rc, rows[i].rc);
		if (strstr(r.err, rows[i].err) == NULL)
			fail_msg("row %zu: '%s' does not say '%s'", i, r.err, rows[i].err);
	}
	/* a malformed answer */
	e->s.script = FIXED;
	e->s.fixed = "HTTP/1.1 abc\r\n\r\n";
	e->s.close_fixed = true;
	get(e, "/", &r);
	assert_int_equal(r.rc, -EIO);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_keep_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_closed_idle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abandoned_mid_write, setup, teardown),
#ifdef TEST_NET_UV
		cmocka_unit_test_setup_teardown(test_refused_here, setup, teardown),
#endif
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
