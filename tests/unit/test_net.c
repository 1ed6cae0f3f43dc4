/* net: the HTTP client on the loop against a real server on loopback (gnomon's own, http_fixture.h): methods,
 * bodies and headers both ways, many requests at once, the response cap, timeouts, a refused connection,
 * cancellation (the server sees the connection go), closing the client with requests in flight (also from a
 * completion callback), streamed requests (the head and each part as they come; net_uv.c refuses them), and
 * every handle closed at the end. Built twice: test_net against net_curl.c (libcurl),
 * test_net_uv against net_uv.c (tests/CMakeLists.txt). */
#include "http_fixture.h"

#include <errno.h>

#include "net/net.h"
#include "net_result.h"

#define BIG_LEN (200 * 1024)

struct server_state {
	int hang_entered; /* requests to /hang that reached the handler */
	int gone;         /* deferred requests whose client went away */
	int drip;         /* /drip: 0 before its first line, 1 after it (waiting), 2 to send the last */
	int drip_freed;   /* /drip streams over (sent or their client gone) */
	struct http_stream *drip_stream;
};

static void on_hello(struct fixture *fx, struct http_request *req)
{
	(void)fx;
	http_add_header(req, "X-Test", "yes");
	http_respond(req, 200, "text/plain", strdup("hello\n"), 6);
}

/* Answer with "METHOD content-type body". */
static void on_echo(struct fixture *fx, struct http_request *req)
{
	size_t len;
	const char *body = http_request_body(req, &len);
	const char *ct = http_request_header(req, "Content-Type");
	char text[256];
	(void)fx;
	snprintf(text, sizeof(text), "%s %s %.*s", http_request_method(req), ct ? ct : "-", (int)len, body);
	http_respond(req, 200, "text/plain", strdup(text), strlen(text));
}

static void on_big(struct fixture *fx, struct http_request *req)
{
	char *body = malloc(BIG_LEN);
	(void)fx;
	memset(body, 'x', BIG_LEN);
	http_respond(req, 200, "text/plain", body, BIG_LEN);
}

static void hang_end(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct server_state *st = ctx;
	(void)req;
	assert_int_equal(why, HTTP_DEFER_GONE);
	st->gone++;
}

/* Never answers: waits until the client goes. */
static void on_hang(struct fixture *fx, struct http_request *req)
{
	struct server_state *st = fx->user;
	st->hang_entered++;
	http_request_defer(req, 0, hang_end, st);
}

/* /drip: "one\n" at once, "two\n" and the end once the test sets drip to 2 and wakes the stream. */
static int drip_fn(void *ctx, struct buf *out)
{
	struct server_state *st = ctx;
	if (st->drip == 0) {
		st->drip = 1;
		return buf_puts(out, "one\n") < 0 ? -1 : HTTP_STREAM_WAIT;
	}
	if (st->drip == 1)
		return HTTP_STREAM_WAIT;
	return buf_puts(out, "two\n") < 0 ? -1 : 0;
}

static void drip_free(void *ctx)
{
	struct server_state *st = ctx;
	st->drip_freed++;
	st->drip_stream = NULL;
}

static void on_drip(struct fixture *fx, struct http_request *req)
{
	struct server_state *st = fx->user;
	http_add_header(req, "X-Test", "drip");
	st->drip_stream = http_respond_stream(req, 200, "text/plain", drip_fn, st, drip_free);
}

static const struct fx_route routes[] = {
	{"GET", "/drip", on_drip},
	{"GET", "/hello", on_hello},
	{"POST", "/echo", on_echo},
	{"PUT", "/echo", on_echo},
	{"DELETE", "/echo", on_echo},
	{"GET", "/big", on_big},
	{"GET", "/hang", on_hang},
	{NULL, NULL, NULL},
};

struct env {
	struct fixture fx;
	struct server_state st;
	struct net_client *client;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	fx_start(&e->fx, routes);
	e->fx.user = &e->st;
	assert_int_equal(net_client_new(&e->fx.loop, &e->client), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	net_client_close(e->client);
	fx_stop(&e->fx);
	free(e);
	return 0;
}

static struct net_request *start(struct env *e, const struct net_request_options *o, struct result *r)
{
	struct net_request *req;
	char url[128];
	struct net_request_options opt = *o;

	snprintf(url, sizeof(url), "%s%s", e->fx.base, o->url);
	opt.url = url;
	assert_int_equal(net_request(e->client, &opt, on_done, r, &req), 0);
	assert_non_null(req);
	assert_int_equal(r->calls, 0); /* never from inside net_request */
	return req;
}

static void test_methods_bodies_headers(void **state)
{
	struct env *e = *state;
	static const char *const json[] = {"Content-Type: application/json", NULL};
	static const struct {
		struct net_request_options opt;
		long status;
		const char *body, *header;
	} rows[] = {
		{{.url = "/hello"}, 200, "hello\n", "yes"},
		{{.url = "/echo", .body = "{\"a\":1}", .body_len = 7, .headers = json}, 200,
		    "POST application/json {\"a\":1}", ""},
		{{.url = "/echo", .method = "PUT", .body = "xyz", .body_len = 3, .headers = json}, 200,
		    "PUT application/json xyz", ""},
		{{.url = "/echo", .method = "DELETE"}, 200, "DELETE - ", ""},
		{{.url = "/nope"}, 404, "{\"status\":\"Not Found\",\"message\":\"no route GET /nope\"}", ""},
		{{.url = "/hello", .method = "HEAD"}, 200, "", "yes"},
	};

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct result r = {0};
		start(e, &rows[i].opt, &r);
		fx_wait_count(&e->fx, &r.calls, 1);
		assert_int_equal(r.rc, 0);
		assert_int_equal(r.status, rows[i].status);
		assert_string_equal(r.body, rows[i].body);
		assert_string_equal(r.header, rows[i].header);
	}
}

static void test_many_at_once(void **state)
{
	struct env *e = *state;
	enum { N = 40 };
	struct result r[N];
	int done = 0;

	memset(r, 0, sizeof(r));
	for (int i = 0; i < N; i++)
		start(e, &(struct net_request_options){.url = "/hello"}, &r[i]);
	while (done < N) {
		fx_wait_count(&e->fx, &r[done].calls, 1);
		done++;
	}
	for (int i = 0; i < N; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, 200);
		assert_string_equal(r[i].body, "hello\n");
	}
}

static void test_response_cap(void **state)
{
	struct env *e = *state;
	struct result small = {0}, fits = {0};

	start(e, &(struct net_request_options){.url = "/big", .max_response = 64 * 1024}, &small);
	start(e, &(struct net_request_options){.url = "/big", .max_response = BIG_LEN}, &fits);
	fx_wait_count(&e->fx, &small.calls, 1);
	fx_wait_count(&e->fx, &fits.calls, 1);
	assert_int_equal(small.rc, -E2BIG);
	assert_string_equal(small.err, "response body over 65536 bytes");
	assert_int_equal(fits.rc, 0);
	assert_int_equal(fits.body_len, BIG_LEN);
}

static void test_timeout(void **state)
{
	struct env *e = *state;
	struct result r = {0};
	uint64_t t0 = uv_hrtime();

	start(e, &(struct net_request_options){.url = "/hang", .timeout_ms = 300}, &r);
	fx_wait_count(&e->fx, &r.calls, 1);
	assert_int_equal(r.rc, -ETIMEDOUT);
	assert_true(uv_hrtime() - t0 >= 290 * 1000000ULL);
	fx_wait_count(&e->fx, &e->st.gone, 1); /* the server saw the connection go */
}

static void test_refused(void **state)
{
	struct env *e = *state;
	struct result r = {0};
	struct net_request_options opt = {0};
	uv_tcp_t tcp;
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof(ss);
	char url[64];

	/* a port that was just free: bound, not listening */
	uv_tcp_init(&e->fx.loop, &tcp);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	assert_int_equal(uv_tcp_bind(&tcp, (const struct sockaddr *)&sa, 0), 0);
	assert_int_equal(uv_tcp_getsockname(&tcp, (struct sockaddr *)&ss, &len), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", ntohs(((struct sockaddr_in *)&ss)->sin_port));
	opt.url = url;
	assert_int_equal(net_request(e->client, &opt, on_done, &r, NULL), 0);
	fx_wait_count(&e->fx, &r.calls, 1);
	assert_int_equal(r.rc, -ECONNREFUSED);
	uv_close((uv_handle_t *)&tcp, NULL);

	opt.url = "ftp://127.0.0.1/";
	memset(&r, 0, sizeof(r));
	assert_int_equal(net_request(e->client, &opt, on_done, &r, NULL), 0);
	fx_wait_count(&e->fx, &r.calls, 1);
	assert_int_equal(r.rc, -EINVAL);
	opt.url = "";
	assert_int_equal(net_request(e->client, &opt, on_done, &r, NULL), -EINVAL);
}

static void test_cancel(void **state)
{
	struct env *e = *state;
	struct result r = {0}, after = {0};
	struct net_request *req = start(e, &(struct net_request_options){.url = "/hang"}, &r);

	fx_wait_count(&e->fx, &e->st.hang_entered, 1);
	net_request_cancel(req);
	fx_wait_count(&e->fx, &e->st.gone, 1);
	/* the client still works, and the cancelled request was never reported */
	start(e, &(struct net_request_options){.url = "/hello"}, &after);
	fx_wait_count(&e->fx, &after.calls, 1);
	assert_int_equal(after.status, 200);
	assert_int_equal(r.calls, 0);
}

static void test_close_in_flight(void **state)
{
	struct env *e = *state;
	struct result r[3];
	struct net_request_options opt = {.url = "/hello"};

	memset(r, 0, sizeof(r));
	for (int i = 0; i < 3; i++)
		start(e, &(struct net_request_options){.url = "/hang"}, &r[i]);
	fx_wait_count(&e->fx, &e->st.hang_entered, 3);
	net_client_close(e->client);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].rc, -ECANCELED);
	}
	assert_int_equal(net_request(e->client, &opt, on_done, &r[0], NULL), -ESHUTDOWN);
	fx_wait_count(&e->fx, &e->st.gone, 3);
	e->client = NULL;
}

/* The first answer closes the client: the other request hears -ECANCELED once. */
struct closer {
	struct env *e;
	struct result r;
};

static void close_on_done(void *ctx, int rc, const struct net_response *resp, const char *err)
{
	struct closer *c = ctx;
	on_done(&c->r, rc, resp, err);
	net_client_close(c->e->client);
	c->e->client = NULL;
}

static void test_close_from_callback(void **state)
{
	struct env *e = *state;
	struct closer c = {.e = e};
	struct result hang = {0};
	struct net_request_options opt = {0};
	char url[128];

	start(e, &(struct net_request_options){.url = "/hang"}, &hang);
	fx_wait_count(&e->fx, &e->st.hang_entered, 1);
	snprintf(url, sizeof(url), "%s/hello", e->fx.base);
	opt.url = url;
	assert_int_equal(net_request(e->client, &opt, close_on_done, &c, NULL), 0);
	fx_wait_count(&e->fx, &c.r.calls, 1);
	assert_int_equal(c.r.status, 200);
	assert_int_equal(hang.calls, 1);
	assert_int_equal(hang.rc, -ECANCELED);
	fx_wait_count(&e->fx, &e->st.gone, 1);
}

/* What a streamed request saw. */
struct streamed {
	int heads, ends, rc;
	long status;
	char header[64];
	char data[256];
	size_t len;
	int stop_after; /* on_data ends the request (-ECANCELED) once this many bytes came; 0: never */
	int pauses;     /* on_data leaves the bytes (NET_STREAM_PAUSE) this many times first */
	int paused;     /* times it did */
};

static int st_head(void *ctx, const struct net_response *resp)
{
	struct streamed *s = ctx;
	const char *h = net_response_header(resp, "x-test");
	assert_int_equal(s->len, 0);
	s->heads++;
	s->status = resp->status;
	snprintf(s->header, sizeof(s->header), "%s", h ? h : "");
	return 0;
}

static int st_data(void *ctx, const char *data, size_t len)
{
	struct streamed *s = ctx;
	assert_int_equal(s->heads, 1);
	if (s->paused < s->pauses) {
		s->paused++;
		return NET_STREAM_PAUSE;
	}
	assert_true(s->len + len < sizeof(s->data));
	memcpy(s->data + s->len, data, len);
	s->len += len;
	return s->stop_after && s->len >= (size_t)s->stop_after ? -ECANCELED : 0;
}

static void st_end(void *ctx, int rc, const char *err)
{
	struct streamed *s = ctx;
	(void)err;
	s->ends++;
	s->rc = rc;
}

static bool got_first_line(void *arg)
{
	return ((const struct streamed *)arg)->len >= 4;
}

static const struct net_stream_callbacks st_callbacks = {st_head, st_data, st_end};

/* A streamed request hears the head and each part as they come (libcurl's client); net_uv.c refuses it. */
static void test_stream(void **state)
{
	struct env *e = *state;
	struct streamed s = {.pauses = 1}, cut = {.stop_after = 1}, empty = {0};
	struct net_request *req;
	struct net_request_options opt = {0};
	char url[128];
	int rc;

	snprintf(url, sizeof(url), "%s/drip", e->fx.base);
	opt.url = url;
	rc = net_request_stream(e->client, &opt, &st_callbacks, &s, &req);
#ifdef TEST_NET_UV
	assert_int_equal(rc, -ENOTSUP);
	assert_null(req);
	(void)cut;
	(void)empty;
	(void)got_first_line;
	return;
#else
	assert_int_equal(rc, 0);
	fx_wait_count(&e->fx, &s.heads, 1);
	assert_int_equal(s.status, 200);
	assert_string_equal(s.header, "drip");
	fx_wait_count(&e->fx, &s.paused, 1); /* the first line left: it comes again once resumed */
	assert_int_equal(s.len, 0);
	net_request_resume(req);
	fx_run_until(&e->fx, got_first_line, &s);
	assert_memory_equal(s.data, "one\n", 4);
	assert_int_equal(s.ends, 0); /* the server has not ended it */
	e->st.drip = 2;
	http_stream_wake(e->st.drip_stream);
	fx_wait_count(&e->fx, &s.ends, 1);
	assert_int_equal(s.rc, 0);
	assert_int_equal(s.len, 8);
	assert_memory_equal(s.data, "one\ntwo\n", 8);

	/* the reader ends it: on_end hears its code, the server sees the client go */
	e->st.drip = 0;
	assert_int_equal(net_request_stream(e->client, &opt, &st_callbacks, &cut, NULL), 0);
	fx_wait_count(&e->fx, &cut.ends, 1);
	assert_int_equal(cut.rc, -ECANCELED);
	fx_wait_count(&e->fx, &e->st.drip_freed, 2);

	/* a short answer: the head, its body, the end */
	snprintf(url, sizeof(url), "%s/echo", e->fx.base);
	opt.method = "DELETE";
	assert_int_equal(net_request_stream(e->client, &opt, &st_callbacks, &empty, NULL), 0);
	fx_wait_count(&e->fx, &empty.ends, 1);
	assert_int_equal(empty.heads, 1);
	assert_int_equal(empty.status, 200);
	assert_int_equal(empty.rc, 0);
	assert_memory_equal(empty.data, "DELETE - ", 9);
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_methods_bodies_headers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_many_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_response_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_from_callback, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
