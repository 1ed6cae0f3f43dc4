/* store/pgconn.h against a real PostgreSQL (tests/support/pg_cluster.py): requests in order, atomic, errors mapped
 * to errnos with the server's message; an outage that never blocks the loop, requests that fail within their
 * deadline meanwhile, and the connection coming back on its own. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "pg_test.h"
#include "store/pgconn.h"

/* The loop of one test, with a ticker that measures the longest gap between its ticks (a blocked loop). */
struct fx {
	uv_loop_t loop;
	uv_timer_t ticker;
	uint64_t last_tick_ns, max_gap_ns;
	int ticks;
	int counter;
	char conninfo[512];
	struct pgconn *c;
	struct pgconn *silent; /* a second connection: test_silent_server's, to a socket nobody reads (silent_fd, -1: none) */
	int silent_fd;
	bool stopped; /* the test stopped the server: teardown starts it again if the test did not */
	int notes, listening; /* test_listen: notifications heard; LISTENs that took (the callback's NULL) */
	char note[64];        /* the last one's payload */
};

static void stop_server(struct fx *f)
{
	assert_int_equal(pg_test_stop(), 0);
	f->stopped = true;
}

static void start_server(struct fx *f)
{
	assert_int_equal(pg_test_start(), 0);
	f->stopped = false;
}

static void on_tick(uv_timer_t *t)
{
	struct fx *f = t->data;
	uint64_t now = uv_hrtime();

	f->ticks++;
	if (f->last_tick_ns && now - f->last_tick_ns > f->max_gap_ns)
		f->max_gap_ns = now - f->last_tick_ns;
	f->last_tick_ns = now;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL || pg_test_url() == NULL)
		return -1;
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(pg_test_schema(f->conninfo, sizeof(f->conninfo)), 0);
	assert_int_equal(pgconn_new(&f->loop, f->conninfo, &f->c, err, sizeof(err)), 0);
	uv_timer_init(&f->loop, &f->ticker);
	f->ticker.data = f;
	f->silent_fd = -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	if (f->stopped)
		(void)pg_test_start();
	pgconn_close(f->c);
	pgconn_close(f->silent);
	if (f->silent_fd >= 0)
		close(f->silent_fd);
	uv_close((uv_handle_t *)&f->ticker, NULL);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

/* Send one statement with params (NULL-terminated) and wait for its answer. */
static struct pg_answer ask(struct fx *f, const char *sql, const char *const *params, uint64_t timeout_ms,
    uint64_t wait_ms)
{
	struct pg_answer a = {.counter = &f->counter};
	int n = 0;

	while (params && params[n])
		n++;
	assert_int_equal(pgconn_send(f->c, &(struct pg_stmt){sql, n, params}, 1, timeout_ms, pg_test_on_done, &a), 0);
	assert_true(pg_test_run_until(&f->loop, &a.calls, 1, wait_ms));
	assert_int_equal(a.calls, 1);
	if (a.status < 0)
		print_message("%s: %s\n", sql, a.text);
	return a;
}

/* Requests complete in the order they were made, many in flight at once, each with its results. */
static void test_order(void **state)
{
	struct fx *f = *state;
	struct pg_answer a[20], b = {.counter = &f->counter};
	const struct pg_stmt three[] = {{"CREATE TABLE t (k int)", 0, NULL}, {"INSERT INTO t VALUES (1), (2)", 0, NULL},
	    {"SELECT count(*) FROM t", 0, NULL}};
	char num[20][8];

	for (int i = 0; i < 20; i++) {
		const char *p[] = {num[i]};
		snprintf(num[i], sizeof(num[i]), "%d", i * 7);
		a[i] = (struct pg_answer){.counter = &f->counter};
		assert_int_equal(pgconn_send(f->c, &(struct pg_stmt){"SELECT $1::int + 1", 1, p}, 1, 0, pg_test_on_done, &a[i]), 0);
		assert_int_equal(a[i].calls, 0); /* never from inside the call */
	}
	assert_int_equal(pgconn_send(f->c, three, 3, 0, pg_test_on_done, &b), 0);
	assert_true(pg_test_run_until(&f->loop, &b.calls, 1, 10000));
	for (int i = 0; i < 20; i++) {
		char want[8];
		snprintf(want, sizeof(want), "%d", i * 7 + 1);
		assert_int_equal(a[i].calls, 1);
		assert_int_equal(a[i].status, 0);
		assert_int_equal(a[i].order, i + 1);
		assert_string_equal(a[i].text, want);
	}
	assert_int_equal(b.status, 0);
	assert_string_equal(b.text, "2");
	/* the statements of a request are one transaction, whose isolation its first may set (pg_store's load) */
	b = (struct pg_answer){.counter = &f->counter};
	assert_int_equal(pgconn_send(f->c, (const struct pg_stmt[]){{"SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, "
	    "READ ONLY", 0, NULL}, {"SELECT current_setting('transaction_isolation')", 0, NULL}}, 2, 0, pg_test_on_done,
	    &b), 0);
	assert_true(pg_test_run_until(&f->loop, &b.calls, 1, 10000));
	assert_int_equal(b.status, 0);
	assert_string_equal(b.text, "repeatable read");
	assert_true(pgconn_is_up(f->c));
	assert_int_equal(pgconn_connections(f->c), 1);
	assert_int_equal(pgconn_send(f->c, three, 0, 0, pg_test_on_done, &b), -EINVAL);
}

/* A request is atomic: one failed statement leaves nothing of the others. Errors come as errnos with the
 * server's message. */
static void test_atomic_errors(void **state)
{
	static const struct {
		const char *sql;
		int status;
		const char *message;
	} rows[] = {
		{"INSERT INTO u VALUES ('a')", -EEXIST, "duplicate key"},
		{"SELEC 1", -EIO, "syntax error"},
		{"DO $$BEGIN RAISE EXCEPTION 'fenced by epoch 2' USING ERRCODE = 'GNF01'; END$$", -ESTALE, "epoch 2"},
		{"SELECT 1/0", -EIO, "division by zero"},
	};
	struct fx *f = *state;
	struct pg_answer a;

	assert_int_equal(ask(f, "CREATE TABLE u (k text PRIMARY KEY)", NULL, 0, 5000).status, 0);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		const struct pg_stmt req[] = {{"INSERT INTO u VALUES ('a')", 0, NULL}, {rows[i].sql, 0, NULL},
		    {"INSERT INTO u VALUES ('b')", 0, NULL}};
		a = (struct pg_answer){.counter = &f->counter};
		assert_int_equal(pgconn_send(f->c, req, 3, 0, pg_test_on_done, &a), 0);
		assert_true(pg_test_run_until(&f->loop, &a.calls, 1, 5000));
		assert_int_equal(a.status, rows[i].status);
		if (strstr(a.text, rows[i].message) == NULL)
			fail_msg("\"%s\" says \"%s\"", rows[i].sql, a.text);
		assert_string_equal(ask(f, "SELECT count(*) FROM u", NULL, 0, 5000).text, "0");
	}
	/* a NULL parameter is SQL's NULL */
	a = (struct pg_answer){.counter = &f->counter};
	assert_int_equal(pgconn_send(f->c, &(struct pg_stmt){"SELECT coalesce($1, 'null')", 1,
	    (const char *const[]){NULL}}, 1, 0, pg_test_on_done, &a), 0);
	assert_true(pg_test_run_until(&f->loop, &a.calls, 1, 5000));
	assert_int_equal(a.status, 0);
	assert_string_equal(a.text, "null");
	assert_int_equal(pgconn_connections(f->c), 1);
}

/* With the server stopped, a request fails within its deadline while the loop goes on ticking; once the server is
 * back, the connection is made again on its own and the next request succeeds. */
static void test_outage(void **state)
{
	struct fx *f = *state;
	struct pg_answer a;
	uint64_t start;

	assert_int_equal(ask(f, "SELECT 1", NULL, 0, 5000).status, 0);
	stop_server(f);
	for (int i = 0; i < 200 && pgconn_is_up(f->c); i++)
		uv_run(&f->loop, UV_RUN_ONCE); /* the connection learns that the server went away */
	assert_false(pgconn_is_up(f->c));
	uv_timer_start(&f->ticker, on_tick, 20, 20);
	uv_update_time(&f->loop);
	start = uv_now(&f->loop);
	a = ask(f, "SELECT 2", NULL, 1500, 4000);
	assert_int_equal(a.status, -ENOTCONN);
	assert_in_range(uv_now(&f->loop) - start, 1400, 2500);
	assert_false(pgconn_is_up(f->c));
	/* the loop never waited for the network: its ticks came every 20 ms or so */
	assert_in_range(f->max_gap_ns / 1000000, 0, 1000); /* the machine may be busy; a blocked loop would show 1500 */
	print_message("outage: the request failed after %llu ms (%s); %d ticks, the longest gap between two %llu ms\n",
	    (unsigned long long)(uv_now(&f->loop) - start), a.text, f->ticks,
	    (unsigned long long)(f->max_gap_ns / 1000000));
	assert_true(f->ticks >= 10);
	uv_timer_stop(&f->ticker);
	start_server(f);
	a = ask(f, "SELECT 3", NULL, 10000, 12000);
	assert_int_equal(a.status, 0);
	assert_string_equal(a.text, "3");
	assert_int_equal(pgconn_connections(f->c), 2);
}

/* A server that accepts connections but never answers (a listening socket nobody reads): the connection is never
 * made, and a request fails at its deadline (-ENOTCONN) while the loop goes on ticking. */
static void test_silent_server(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	struct pg_answer a = {.counter = &f->counter};
	char conninfo[128], err[256];
	uint64_t start;
	int fd = f->silent_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(fd, 8), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1 port=%d user=gnomon dbname=gnomon", ntohs(addr.sin_port));
	assert_int_equal(pgconn_new(&f->loop, conninfo, &f->silent, err, sizeof(err)), 0);
	uv_timer_start(&f->ticker, on_tick, 20, 20);
	uv_update_time(&f->loop);
	start = uv_now(&f->loop);
	assert_int_equal(pgconn_send(f->silent, &(struct pg_stmt){"SELECT 1", 0, NULL}, 1, 1000, pg_test_on_done, &a), 0);
	assert_true(pg_test_run_until(&f->loop, &a.calls, 1, 4000));
	assert_int_equal(a.status, -ENOTCONN);
	assert_in_range(uv_now(&f->loop) - start, 900, 2000);
	assert_false(pgconn_is_up(f->silent));
	assert_in_range(f->max_gap_ns / 1000000, 0, 1000); /* the machine may be busy; a blocked loop would show 1000 */
	assert_true(f->ticks >= 10);
	uv_timer_stop(&f->ticker);
}

/* libpq changes sockets while it connects: with two hosts, the first refusing, it closes the first socket and
 * opens another for the second host; the connection is made on the second, and requests go. */
static void test_socket_changes(void **state)
{
	struct fx *f = *state;
	struct sockaddr_in addr = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(addr);
	PQconninfoOption *opts = PQconninfoParse(pg_test_url(), NULL);
	struct pg_answer a = {.counter = &f->counter};
	char conninfo[256], err[256], port[16] = "";
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	/* a port nobody listens on: bound, then closed */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&addr, &len), 0);
	close(fd);
	assert_non_null(opts);
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (strcmp(o->keyword, "port") == 0 && o->val)
			snprintf(port, sizeof(port), "%s", o->val);
	assert_true(port[0] != '\0');
	snprintf(conninfo, sizeof(conninfo), "host=127.0.0.1,127.0.0.1 port=%d,%s user=gnomon dbname=gnomon",
	    ntohs(addr.sin_port), port);
	PQconninfoFree(opts);
	assert_int_equal(pgconn_new(&f->loop, conninfo, &f->silent, err, sizeof(err)), 0);
	assert_int_equal(pgconn_send(f->silent, &(struct pg_stmt){"SELECT inet_server_port()", 0, NULL}, 1, 5000,
	    pg_test_on_done, &a), 0);
	assert_true(pg_test_run_until(&f->loop, &a.calls, 1, 6000));
	assert_int_equal(a.status, 0);
	assert_string_equal(a.text, port);
	assert_int_equal(pgconn_connections(f->silent), 1);
}

/* A request in flight when the server goes away fails (-ECONNRESET: its outcome is unknown); a request made during
 * the outage waits, and goes once the server is back within its deadline. */
static void test_restart_in_flight(void **state)
{
	struct fx *f = *state;
	struct pg_answer slow = {.counter = &f->counter}, later = {.counter = &f->counter};
	int none = 0;

	assert_int_equal(pgconn_send(f->c, &(struct pg_stmt){"SELECT pg_sleep(5)", 0, NULL}, 1, 0, pg_test_on_done, &slow), 0);
	(void)pg_test_run_until(&f->loop, &none, 1, 300); /* sent */
	stop_server(f);
	assert_true(pg_test_run_until(&f->loop, &slow.calls, 1, 3000));
	assert_int_equal(slow.status, -ECONNRESET);
	assert_int_equal(pgconn_send(f->c, &(struct pg_stmt){"SELECT 'back'", 0, NULL}, 1, 15000, pg_test_on_done, &later), 0);
	(void)pg_test_run_until(&f->loop, &none, 1, 200);
	assert_int_equal(later.calls, 0);
	start_server(f);
	assert_true(pg_test_run_until(&f->loop, &later.calls, 1, 15000));
	assert_int_equal(later.status, 0);
	assert_string_equal(later.text, "back");
}

/* Closing ends every request not ended yet with -ECANCELED, from inside the call. */
static void test_close_cancels(void **state)
{
	struct fx *f = *state;
	struct pg_answer a = {.counter = &f->counter}, b = {.counter = &f->counter};

	assert_int_equal(pgconn_send(f->c, &(struct pg_stmt){"SELECT pg_sleep(1)", 0, NULL}, 1, 0, pg_test_on_done, &a), 0);
	assert_int_equal(pgconn_send(f->c, &(struct pg_stmt){"SELECT 1", 0, NULL}, 1, 0, pg_test_on_done, &b), 0);
	pgconn_close(f->c);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, -ECANCELED);
	assert_int_equal(b.status, -ECANCELED);
	assert_int_equal(pgconn_send(f->c, &(struct pg_stmt){"SELECT 1", 0, NULL}, 1, 0, pg_test_on_done, &b), -ESHUTDOWN);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	f->c = NULL;
}

static void on_note(void *ctx, const char *payload)
{
	struct fx *f = ctx;

	if (payload == NULL) {
		f->listening++;
		return;
	}
	f->notes++;
	snprintf(f->note, sizeof(f->note), "%s", payload);
}

/* LISTEN: a notification comes once its transaction committed (none from a request that failed); after the
 * server restarted, LISTEN is sent again on the new connection, the listener is told, and notifications come
 * again. */
static void test_listen(void **state)
{
	struct fx *f = *state;
	struct pg_answer a = {.counter = &f->counter};
	const struct pg_stmt failing[] = {{"SELECT pg_notify('gn_test', 'rolled back')", 0, NULL}, {"SELECT 1/0", 0, NULL}};

	assert_int_equal(pgconn_listen(f->c, "gn_test", on_note, f), 0);
	assert_int_equal(pgconn_listen(f->c, "other", on_note, f), -EINVAL);
	assert_true(pg_test_run_until(&f->loop, &f->listening, 1, 10000));
	assert_int_equal(ask(f, "SELECT pg_notify('gn_test', 'one')", NULL, 0, 5000).status, 0);
	assert_true(pg_test_run_until(&f->loop, &f->notes, 1, 5000));
	assert_string_equal(f->note, "one");
	assert_int_equal(pgconn_send(f->c, failing, 2, 0, pg_test_on_done, &a), 0);
	assert_true(pg_test_run_until(&f->loop, &a.calls, 1, 5000));
	assert_int_not_equal(a.status, 0);
	assert_int_equal(ask(f, "SELECT pg_notify('gn_test', 'two')", NULL, 0, 5000).status, 0);
	assert_true(pg_test_run_until(&f->loop, &f->notes, 2, 5000));
	assert_string_equal(f->note, "two"); /* not "rolled back" */
	stop_server(f);
	for (int i = 0; i < 200 && pgconn_is_up(f->c); i++)
		uv_run(&f->loop, UV_RUN_ONCE); /* the connection learns that the server went away */
	assert_false(pgconn_is_up(f->c));
	start_server(f);
	assert_true(pg_test_run_until(&f->loop, &f->listening, 2, 15000));
	assert_int_equal(pgconn_connections(f->c), 2);
	assert_int_equal(ask(f, "SELECT pg_notify('gn_test', 'three')", NULL, 0, 5000).status, 0);
	assert_true(pg_test_run_until(&f->loop, &f->notes, 3, 5000));
	assert_string_equal(f->note, "three");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_atomic_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_outage, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silent_server, setup, teardown),
		cmocka_unit_test_setup_teardown(test_socket_changes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_in_flight, setup, teardown),
		cmocka_unit_test_setup_teardown(test_close_cancels, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listen, setup, teardown),
	};

	return pg_test_main("test_pgconn", tests, sizeof(tests) / sizeof(tests[0]));
}
