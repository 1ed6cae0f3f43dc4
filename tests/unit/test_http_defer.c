/* The HTTP server's deferred answers (and a stream that yields to the loop between its parts): a handler leaves its request to be answered later (from a timer, with a
 * plain answer or a stream), pipelined requests wait behind it and keep their order, a deferral's timeout is
 * answered by its owner or else with 504, a client that leaves and a server that stops are told to the owner
 * (ASan checks that nothing is used after), and the done hook times a request to its answer, not to its
 * handler's return. Clients: the net client, or a raw TCP connection. */
#include "http_fixture.h"

#include <errno.h>

#include "net/net.h"

struct state {
	struct http_request *held; /* a deferred request to answer */
	int deferred, gone, timeouts, hello;
	uv_timer_t timer;
	int stream_step;
	/* the done hook */
	int done;
	const void *done_tag;
	uint64_t done_nanos;
};

struct result {
	int calls, rc;
	long status;
	char body[512];
};

static void on_done(void *ctx, int rc, const struct net_response *resp, const char *err)
{
	struct result *r = ctx;
	(void)err;
	r->calls++;
	r->rc = rc;
	if (resp) {
		r->status = resp->status;
		snprintf(r->body, sizeof(r->body), "%.*s", (int)resp->body_len, resp->body);
	}
}

static void held_end(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct state *st = ctx;
	assert_ptr_equal(req, st->held);
	st->held = NULL;
	if (why == HTTP_DEFER_GONE)
		st->gone++;
	else
		st->timeouts++;
}

static void on_hello(struct fixture *fx, struct http_request *req)
{
	struct state *st = fx->user;
	st->hello++;
	http_respond(req, 200, "text/plain", strdup("hello"), 5);
}

/* Deferred without a limit; the test answers it. */
static void on_later(struct fixture *fx, struct http_request *req)
{
	struct state *st = fx->user;
	st->deferred++;
	st->held = req;
	http_request_defer(req, 0, held_end, st);
}

static void answer_held(uv_timer_t *t)
{
	struct state *st = t->data;
	struct http_request *req = st->held;
	st->held = NULL;
	http_respond(req, 200, "text/plain", strdup("later"), 5);
}

static const char route_timer_tag[] = "timer";

/* Deferred, answered by a timer 50 ms later. */
static void on_timer(struct fixture *fx, struct http_request *req)
{
	struct state *st = fx->user;
	on_later(fx, req);
	http_request_set_tag(req, route_timer_tag);
	uv_update_time(&fx->loop);
	uv_timer_start(&st->timer, answer_held, 50, 0);
}

static void poll_end(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct state *st = ctx;
	held_end(ctx, req, why);
	if (why == HTTP_DEFER_TIMEOUT)
		http_respond(req, 200, "text/plain", strdup("nothing new"), 11);
	(void)st;
}

/* A long-poll: after 100 ms its owner answers that nothing happened. */
static void on_poll(struct fixture *fx, struct http_request *req)
{
	struct state *st = fx->user;
	st->held = req;
	http_request_defer(req, 100, poll_end, st);
}

/* After 100 ms nobody answers: the server does, 504. */
static void on_slow(struct fixture *fx, struct http_request *req)
{
	struct state *st = fx->user;
	st->held = req;
	http_request_defer(req, 100, held_end, st);
}

static int stream_next(void *ctx, struct buf *out)
{
	struct state *st = ctx;
	static const char *const parts[] = {"one ", "two ", "three"};
	if (buf_puts(out, parts[st->stream_step]) < 0)
		return -1;
	return ++st->stream_step < 3;
}

static void answer_held_with_stream(uv_timer_t *t)
{
	struct state *st = t->data;
	struct http_request *req = st->held;
	st->held = NULL;
	assert_non_null(http_respond_stream(req, 200, "text/plain", stream_next, st, NULL));
}

static void on_stream_later(struct fixture *fx, struct http_request *req)
{
	struct state *st = fx->user;
	on_later(fx, req);
	uv_timer_start(&st->timer, answer_held_with_stream, 10, 0);
}

static void timer_fired(uv_timer_t *t);

/* A stream of 50 parts that yields after each: a timer made due by its first part fires before its end.
 * Without the yield the parts would all be produced in one go (they are far below the high-water mark). */
static int yield_next(void *ctx, struct buf *out)
{
	struct state *st = ctx;
	if (st->stream_step == 0)
		uv_timer_start(&st->timer, timer_fired, 0, 0);
	if (buf_printf(out, "%d%s,", st->stream_step, st->timeouts ? "t" : "") < 0)
		return -1;
	return ++st->stream_step < 50 ? HTTP_STREAM_YIELD : 0;
}

static void timer_fired(uv_timer_t *t)
{
	struct state *st = t->data;
	st->timeouts++; /* reused as "the timer fired" */
}

static void on_yield(struct fixture *fx, struct http_request *req)
{
	struct state *st = fx->user;
	http_respond_stream(req, 200, "text/plain", yield_next, st, NULL);
}

static const struct fx_route routes[] = {
	{"GET", "/yield", on_yield},
	{"GET", "/hello", on_hello},
	{"GET", "/later", on_later},
	{"GET", "/timer", on_timer},
	{"GET", "/poll", on_poll},
	{"GET", "/slow", on_slow},
	{"GET", "/stream", on_stream_later},
	{NULL, NULL, NULL},
};

static void record_done(void *ctx, struct http_request *req, uint64_t nanos)
{
	struct fixture *fx = ctx;
	struct state *st = fx->user;
	st->done++;
	st->done_tag = http_request_tag(req);
	st->done_nanos = nanos;
}

struct env {
	struct fixture fx;
	struct state st;
	struct net_client *client;
};

static int setup(void **state)
{
	struct env *e = calloc(1, sizeof(*e));
	fx_start(&e->fx, routes);
	e->fx.user = &e->st;
	e->fx.done = record_done;
	uv_timer_init(&e->fx.loop, &e->st.timer);
	e->st.timer.data = &e->st;
	assert_int_equal(net_client_new(&e->fx.loop, &e->client), 0);
	*state = e;
	return 0;
}

static int teardown(void **state)
{
	struct env *e = *state;
	net_client_close(e->client);
	uv_close((uv_handle_t *)&e->st.timer, NULL);
	fx_stop(&e->fx);
	assert_null(e->st.held);
	free(e);
	return 0;
}

static void get(struct env *e, const char *path, struct result *r)
{
	char url[128];
	struct net_request_options opt = {.url = url};
	snprintf(url, sizeof(url), "%s%s", e->fx.base, path);
	assert_int_equal(net_request(e->client, &opt, on_done, r, NULL), 0);
}

static bool raw_has_two_answers(void *arg)
{
	return fx_raw_count(arg, "HTTP/1.1 200 OK") >= 2;
}

/* Two requests in one write: the second waits behind the deferred first, and the answers keep their order. */
static void test_pipelined_wait(void **state)
{
	struct env *e = *state;
	struct fx_raw raw;

	fx_raw_open(&e->fx, &raw);
	fx_raw_send(&raw, "GET /later HTTP/1.1\r\nHost: localhost\r\n\r\nGET /hello HTTP/1.1\r\nHost: localhost\r\n\r\n");
	fx_wait_count(&e->fx, &e->st.deferred, 1);
	assert_int_equal(e->st.hello, 0);
	assert_int_equal(raw.in.len, 0);
	http_respond(e->st.held, 200, "text/plain", strdup("later"), 5);
	e->st.held = NULL;
	fx_run_until(&e->fx, raw_has_two_answers, &raw);
	assert_int_equal(e->st.hello, 1);
	assert_true(strstr(raw.in.data, "later") < strstr(raw.in.data, "hello"));
	assert_int_equal(e->st.gone + e->st.timeouts, 0);
	fx_raw_close(&e->fx, &raw);
}

/* Answered from a timer: the client gets it, and the done hook counts the 50 ms of waiting. */
static void test_answer_from_timer(void **state)
{
	struct env *e = *state;
	struct result r = {0};

	get(e, "/timer", &r);
	fx_wait_count(&e->fx, &r.calls, 1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "later");
	fx_wait_count(&e->fx, &e->st.done, 1);
	assert_ptr_equal(e->st.done_tag, route_timer_tag);
	assert_true(e->st.done_nanos >= 45 * 1000000ULL);
}

static void test_timeouts(void **state)
{
	struct env *e = *state;
	struct result poll = {0}, slow = {0};

	get(e, "/poll", &poll);
	fx_wait_count(&e->fx, &poll.calls, 1);
	assert_int_equal(poll.status, 200);
	assert_string_equal(poll.body, "nothing new");
	get(e, "/slow", &slow);
	fx_wait_count(&e->fx, &slow.calls, 1);
	assert_int_equal(slow.status, 504);
	assert_string_equal(slow.body, "{\"status\":\"Gateway Timeout\",\"message\":\"request: no answer within the time "
	    "allowed\"}");
	assert_int_equal(e->st.timeouts, 2);
	assert_int_equal(e->st.gone, 0);
}

static void test_client_gone(void **state)
{
	struct env *e = *state;
	struct fx_raw raw;

	fx_raw_open(&e->fx, &raw);
	fx_raw_send(&raw, "GET /later HTTP/1.1\r\nHost: localhost\r\n\r\n");
	fx_wait_count(&e->fx, &e->st.deferred, 1);
	fx_raw_close(&e->fx, &raw);
	fx_wait_count(&e->fx, &e->st.gone, 1);
	assert_null(e->st.held);
	assert_int_equal(e->st.done, 0); /* never answered */
}

static void test_server_stops(void **state)
{
	struct env *e = *state;
	struct result r = {0};

	get(e, "/later", &r);
	fx_wait_count(&e->fx, &e->st.deferred, 1);
	http_server_stop(e->fx.srv);
	e->fx.srv = NULL;
	assert_int_equal(e->st.gone, 1);
	fx_wait_count(&e->fx, &r.calls, 1);
	assert_int_equal(r.rc, -ECONNRESET);
}

static void test_stream_later(void **state)
{
	struct env *e = *state;
	struct result r = {0};

	get(e, "/stream", &r);
	fx_wait_count(&e->fx, &r.calls, 1);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body, "one two three");
}

static void test_stream_yields(void **state)
{
	struct env *e = *state;
	struct result r = {0};

	get(e, "/yield", &r);
	fx_wait_count(&e->fx, &r.calls, 1);
	assert_int_equal(r.status, 200);
	assert_int_equal(e->st.stream_step, 50);
	assert_int_equal(strncmp(r.body, "0,", 2), 0);
	assert_non_null(strstr(r.body, ",49t,")); /* the last part came after the timer */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pipelined_wait, setup, teardown),
		cmocka_unit_test_setup_teardown(test_answer_from_timer, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeouts, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gone, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_stops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_later, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stream_yields, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
