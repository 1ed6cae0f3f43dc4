/* Tests' helpers over a real PostgreSQL (pg_test.h). */
#include "pg_test.h"

#include <libpq-fe.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "history/history_pg.h"
#include "state/state_pg.h"
#include "store/pg_schema.h"
#include "store/pg_store.h"
#include "store/pgconn.h"

int pg_test_main(const char *name, const struct CMUnitTest *tests, size_t n)
{
	if (pg_test_url() == NULL) {
		fprintf(stderr, "%s: GNOMON_TEST_PG is not set: run under tests/support/pg_cluster.py\n", name);
		return 77;
	}
	return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}

const char *pg_test_url(void)
{
	const char *url = getenv("GNOMON_TEST_PG");
	return url && *url ? url : NULL;
}

int pg_test_exec(const char *conninfo, const char *sql)
{
	PGconn *pg = PQconnectdb(conninfo ? conninfo : pg_test_url());
	PGresult *res;
	int rc = -1;

	if (PQstatus(pg) != CONNECTION_OK) {
		fprintf(stderr, "pg_test: connecting: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return -1;
	}
	res = PQexec(pg, sql);
	if (PQresultStatus(res) == PGRES_COMMAND_OK || PQresultStatus(res) == PGRES_TUPLES_OK)
		rc = 0;
	else
		fprintf(stderr, "pg_test: %s: %s", sql, PQerrorMessage(pg));
	PQclear(res);
	PQfinish(pg);
	return rc;
}

int pg_test_schema(char *out, size_t size)
{
	static unsigned counter;
	const char *url = pg_test_url();
	char sql[128];
	int n;

	if (url == NULL)
		return -1;
	n = snprintf(out, size, "t%ld_%u", (long)getpid(), ++counter);
	if (n < 0 || (size_t)n >= size)
		return -1;
	snprintf(sql, sizeof(sql), "CREATE SCHEMA %s", out);
	if (pg_test_exec(NULL, sql) < 0)
		return -1;
	/* a URL's options parameter, percent-encoded: "-c search_path=<schema>" */
	snprintf(sql, sizeof(sql), "%s", out);
	n = snprintf(out, size, "%s%soptions=-csearch_path%%3D%s", url, strchr(url, '?') ? "&" : "?", sql);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

/* Run the shell command in the environment variable var (pg_cluster.py's). */
static int run_env(const char *var)
{
	const char *cmd = getenv(var);

	if (cmd == NULL || *cmd == '\0') {
		fprintf(stderr, "pg_test: %s is not set (run under tests/support/pg_cluster.py)\n", var);
		return -1;
	}
	return system(cmd) == 0 ? 0 : -1;
}

int pg_test_stop(void)
{
	return run_env("GNOMON_TEST_PG_STOP");
}

int pg_test_start(void)
{
	return run_env("GNOMON_TEST_PG_START");
}

void pg_test_on_done(void *ctx, int status, PGresult *const *res, int n, const char *err)
{
	struct pg_answer *a = ctx;

	a->calls++;
	a->status = status;
	a->order = ++*a->counter;
	if (status < 0)
		snprintf(a->text, sizeof(a->text), "%s", err ? err : "(no message)");
	else if (n > 0 && res[n - 1] && PQntuples(res[n - 1]) > 0)
		snprintf(a->text, sizeof(a->text), "%s", PQgetvalue(res[n - 1], 0, 0));
	else
		a->text[0] = '\0';
}

static void on_wake(uv_timer_t *t)
{
	(void)t;
}

bool pg_test_run_until(uv_loop_t *loop, const int *calls, int want, uint64_t max_ms)
{
	uv_timer_t wake;
	uint64_t end = uv_now(loop) + max_ms;

	uv_timer_init(loop, &wake);
	uv_timer_start(&wake, on_wake, 10, 10);
	while (*calls < want && uv_now(loop) < end)
		uv_run(loop, UV_RUN_ONCE);
	uv_close((uv_handle_t *)&wake, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return *calls >= want;
}

/* What a migration or a load said. */
struct ended {
	int calls, status;
};

static void on_migrated(void *ctx, int status, const char *err)
{
	struct ended *e = ctx;

	e->calls++;
	e->status = status;
	if (status < 0)
		fprintf(stderr, "pg_test: migrating: %s\n", err);
}

static void on_loaded(void *ctx, int status)
{
	struct ended *e = ctx;

	e->calls++;
	e->status = status;
}

int pg_test_backend_open(struct pg_test_backend *b, const char *conninfo)
{
	struct ended migrated = {0}, loaded = {0};
	char err[256];

	memset(b, 0, sizeof(*b));
	if (uv_loop_init(&b->loop) < 0)
		return -1;
	if (conninfo)
		snprintf(b->conninfo, sizeof(b->conninfo), "%s", conninfo);
	else if (pg_test_schema(b->conninfo, sizeof(b->conninfo)) < 0)
		goto fail;
	if (pgconn_new(&b->loop, b->conninfo, &b->c, err, sizeof(err)) < 0) {
		fprintf(stderr, "%s\n", err);
		goto fail;
	}
	if (pg_schema_migrate(b->c, on_migrated, &migrated) < 0 ||
	    !pg_test_run_until(&b->loop, &migrated.calls, 1, 30000) || migrated.status < 0)
		goto fail;
	b->p = pg_store_new(b->c);
	b->s = state_pg_new(b->p);
	b->h = history_pg_new(b->p);
	if (pg_store_load(b->p, on_loaded, &loaded) < 0 || !pg_test_run_until(&b->loop, &loaded.calls, 1, 30000) ||
	    loaded.status < 0) {
		fprintf(stderr, "pg_test: loading: %s\n", pg_store_errmsg(b->p));
		goto fail;
	}
	return 0;
fail:
	pg_test_backend_close(b);
	return -1;
}

static void on_guard(uv_timer_t *t)
{
	*(bool *)t->data = true;
}

/* Run loop while its handles (but a guard of max_ms) are alive and busy(b) holds, or max_ms passed: whether
 * busy(b) stopped holding. */
static bool run_while(uv_loop_t *loop, bool (*busy)(const struct pg_test_backend *b),
    const struct pg_test_backend *b, uint64_t max_ms)
{
	uv_timer_t guard;
	bool expired = false;

	uv_timer_init(loop, &guard);
	guard.data = &expired;
	uv_timer_start(&guard, on_guard, max_ms, 0);
	uv_unref((uv_handle_t *)&guard); /* it does not keep the loop running */
	while (!expired && busy(b) && uv_run(loop, UV_RUN_ONCE) != 0)
		;
	uv_close((uv_handle_t *)&guard, NULL);
	uv_run(loop, UV_RUN_NOWAIT);
	return !busy(b);
}

static bool writes_in_flight(const struct pg_test_backend *b)
{
	return pg_store_in_flight(b->p) > 0;
}

static bool always(const struct pg_test_backend *b)
{
	(void)b;
	return true;
}

bool pg_test_backend_settle(struct pg_test_backend *b)
{
	return run_while(&b->loop, writes_in_flight, b, 30000);
}

static void close_left(uv_handle_t *h, void *arg)
{
	(void)arg;
	if (!uv_is_closing(h))
		uv_close(h, NULL);
}

void pg_test_backend_close(struct pg_test_backend *b)
{
	state_free(b->s);
	history_free(b->h);
	pg_store_unref(b->p);
	pgconn_close(b->c);
	b->s = NULL;
	b->h = NULL;
	b->p = NULL;
	b->c = NULL;
	(void)run_while(&b->loop, always, b, 1000); /* until the handles closed */
	if (uv_loop_alive(&b->loop)) {
		/* what a failed test left open (its own handles, on this loop): closed, lest the loop run for ever */
		fprintf(stderr, "pg_test: handles left open on the loop: closing them\n");
		uv_walk(&b->loop, close_left, NULL);
		uv_run(&b->loop, UV_RUN_DEFAULT);
	}
	(void)uv_loop_close(&b->loop);
}
