/* store/pg_schema.h against a real PostgreSQL: migrations on a fresh schema, again (nothing to do), by two servers
 * at once, refused when the schema is newer; the fence: a deposed leader's transaction fails with -ESTALE, and a
 * newer leader's raise of the epoch waits for the transactions of the leader before it. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pg_test.h"
#include "store/pg_schema.h"
#include "store/pgconn.h"

/* The epoch's raise, as the state's PostgreSQL backend makes it. */
static const char sql_raise[] = "INSERT INTO leader (id, epoch) VALUES (1, $1) ON CONFLICT (id) DO UPDATE "
				"SET epoch = greatest(leader.epoch + 1, excluded.epoch) RETURNING epoch";

/* Three connections to one fresh schema: two servers, and a referee that holds locks and watches who waits. */
#define N_CONN 3
#define REFEREE 2
struct fx {
	uv_loop_t loop;
	char conninfo[512];
	struct pgconn *c[N_CONN];
	int counter;
};

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	char err[256];

	if (f == NULL || pg_test_url() == NULL)
		return -1;
	assert_int_equal(uv_loop_init(&f->loop), 0);
	assert_int_equal(pg_test_schema(f->conninfo, sizeof(f->conninfo)), 0);
	for (int i = 0; i < N_CONN; i++)
		assert_int_equal(pgconn_new(&f->loop, f->conninfo, &f->c[i], err, sizeof(err)), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	for (int i = 0; i < N_CONN; i++)
		pgconn_close(f->c[i]);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	assert_int_equal(uv_loop_close(&f->loop), 0);
	free(f);
	return 0;
}

/* What a migration's done said. */
struct migrated {
	int calls, status;
	char err[256];
};

static void on_migrated(void *ctx, int status, const char *err)
{
	struct migrated *m = ctx;

	m->calls++;
	m->status = status;
	snprintf(m->err, sizeof(m->err), "%s", err ? err : "");
}

/* Migrate over connection i and wait for the end: its status. */
static int migrate(struct fx *f, int i)
{
	struct migrated m = {0};

	assert_int_equal(pg_schema_migrate(f->c[i], on_migrated, &m), 0);
	assert_int_equal(m.calls, 0);
	assert_true(pg_test_run_until(&f->loop, &m.calls, 1, 10000));
	if (m.status < 0)
		print_message("migration: %s\n", m.err);
	return m.status;
}

/* Send statements (NULL-terminated SQL; param is $1 of those that have one) over connection i without waiting. */
static void send_sql(struct fx *f, int i, const char *const *sql, const char *param, struct pg_answer *a)
{
	const char *params[] = {param};
	struct pg_stmt st[8];
	int n = 0;

	for (; sql[n]; n++)
		st[n] = (struct pg_stmt){sql[n], strchr(sql[n], '$') ? 1 : 0, params};
	*a = (struct pg_answer){.counter = &f->counter};
	assert_int_equal(pgconn_send(f->c[i], st, n, 0, pg_test_on_done, a), 0);
}

/* The same, waiting for the answer. */
static struct pg_answer ask(struct fx *f, int i, const char *const *sql, const char *param)
{
	struct pg_answer a;

	send_sql(f, i, sql, param, &a);
	assert_true(pg_test_run_until(&f->loop, &a.calls, 1, 10000));
	return a;
}

/* One value over connection i. */
static const char *one_on(struct fx *f, int i, const char *sql, const char *param, char *buf, size_t size)
{
	struct pg_answer a = ask(f, i, (const char *const[]){sql, NULL}, param);

	assert_int_equal(a.status, 0);
	snprintf(buf, size, "%s", a.text);
	return buf;
}

static const char *one(struct fx *f, const char *sql, char *buf, size_t size)
{
	return one_on(f, 0, sql, NULL, buf, size);
}

/* Wait (up to 10 s, asking the referee) until the backend of process id pid waits for a lock. */
static bool wait_lock_waiter(struct fx *f, const char *pid)
{
	char what[64];

	for (int tries = 0; tries < 1000; tries++) {
		one_on(f, REFEREE, "SELECT coalesce(wait_event_type, '') FROM pg_stat_activity WHERE pid = $1::int", pid,
		    what, sizeof(what));
		if (strcmp(what, "Lock") == 0)
			return true;
		(void)pg_test_run_until(&f->loop, &(int){0}, 1, 10);
	}
	return false;
}

/* A fresh schema gets every table and the fence, and its version; migrating again changes nothing. */
static void test_migrate(void **state)
{
	struct fx *f = *state;
	char buf[256], want[16];

	assert_int_equal(migrate(f, 0), 0);
	snprintf(want, sizeof(want), "%d", pg_schema_version());
	assert_string_equal(one(f, "SELECT version FROM schema_version", buf, sizeof(buf)), want);
	assert_string_equal(one(f, "SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename "
	    "IN ('jobs', 'runs', 'job_state', 'rounds', 'leader', 'schema_version')", buf, sizeof(buf)), "6");
	assert_int_equal(migrate(f, 0), 0);
	assert_int_equal(migrate(f, 1), 0);
	assert_string_equal(one(f, "SELECT count(*) FROM schema_version", buf, sizeof(buf)), "1");
}

/* Two servers migrating at once: both succeed, one of them did the work. */
static void test_migrate_at_once(void **state)
{
	struct fx *f = *state;
	struct migrated m[2] = {{0}};
	char buf[256], want[16];

	for (int i = 0; i < 2; i++)
		assert_int_equal(pg_schema_migrate(f->c[i], on_migrated, &m[i]), 0);
	assert_true(pg_test_run_until(&f->loop, &m[1].calls, 1, 10000));
	assert_true(pg_test_run_until(&f->loop, &m[0].calls, 1, 10000));
	assert_int_equal(m[0].status, 0);
	assert_int_equal(m[1].status, 0);
	snprintf(want, sizeof(want), "%d", pg_schema_version());
	assert_string_equal(one(f, "SELECT string_agg(version::text, ',') FROM schema_version", buf, sizeof(buf)),
	    want);
}

/* A schema newer than this gnomon's is refused, and left alone. */
static void test_newer_schema(void **state)
{
	struct fx *f = *state;
	char buf[256];

	assert_int_equal(migrate(f, 0), 0);
	assert_int_equal(ask(f, 0, (const char *const[]){"UPDATE schema_version SET version = 999", NULL}, NULL).status,
	    0);
	assert_int_equal(migrate(f, 1), -EPROTO);
	assert_string_equal(one(f, "SELECT version FROM schema_version", buf, sizeof(buf)), "999");
}

/* The fence: a transaction fenced with an epoch that is not the stored one fails with -ESTALE and leaves nothing;
 * a newer leader's raise waits for the older leader's transaction that holds the epoch row, which commits. */
static void test_fence(void **state)
{
	static const char *const write_a[] = {PG_SCHEMA_FENCE_SQL, "INSERT INTO jobs (name, json) VALUES ('a', '{}')",
		NULL};
	static const char *const write_b[] = {PG_SCHEMA_FENCE_SQL, "INSERT INTO jobs (name, json) VALUES ('b', '{}')",
		NULL};
	static const char *const slow_c[] = {PG_SCHEMA_FENCE_SQL, "SELECT pg_advisory_xact_lock(4242)",
		"INSERT INTO jobs (name, json) VALUES ('c', '{}')", NULL};
	static const char *const raise[] = {sql_raise, NULL};
	struct fx *f = *state;
	struct pg_answer a, slow, raised;
	char buf[256];
	char pid[2][32];

	assert_int_equal(migrate(f, 0), 0);
	/* no epoch stored yet: every leader is fenced */
	a = ask(f, 0, write_a, "1");
	assert_int_equal(a.status, -ESTALE);
	assert_non_null(strstr(a.text, "epoch is none"));
	assert_string_equal(ask(f, 0, raise, "1").text, "1");
	assert_int_equal(ask(f, 0, write_a, "1").status, 0);
	/* server 1 takes over with epoch 2: server 0's epoch-1 writes fail from then on */
	assert_string_equal(ask(f, 1, raise, "1").text, "2");
	a = ask(f, 0, write_b, "1");
	assert_int_equal(a.status, -ESTALE);
	assert_non_null(strstr(a.text, "the leader's epoch is 2, this server's is 1"));
	assert_int_equal(ask(f, 1, write_b, "2").status, 0);
	/* server 1's transaction holds the epoch row shared while server 0 takes over again: the raise waits for it,
	 * and it commits. The referee holds an advisory lock that server 1's transaction waits for once fenced, so
	 * the order is the database's, not the clock's. */
	for (int i = 0; i < 2; i++)
		one_on(f, i, "SELECT pg_backend_pid()", NULL, pid[i], sizeof(pid[i]));
	one_on(f, REFEREE, "SELECT pg_advisory_lock(4242)", NULL, buf, sizeof(buf));
	send_sql(f, 1, slow_c, "2", &slow);
	assert_true(wait_lock_waiter(f, pid[1])); /* fenced, waiting for the referee */
	send_sql(f, 0, raise, "1", &raised);
	assert_true(wait_lock_waiter(f, pid[0])); /* the raise waits for the epoch row */
	assert_int_equal(slow.calls + raised.calls, 0);
	one_on(f, REFEREE, "SELECT pg_advisory_unlock(4242)", NULL, buf, sizeof(buf));
	assert_true(pg_test_run_until(&f->loop, &raised.calls, 1, 10000));
	assert_true(pg_test_run_until(&f->loop, &slow.calls, 1, 10000));
	assert_int_equal(slow.status, 0);
	assert_int_equal(raised.status, 0);
	assert_string_equal(raised.text, "3");
	assert_int_equal(ask(f, 1, write_a, "2").status, -ESTALE);
	assert_string_equal(one(f, "SELECT string_agg(name, ',' ORDER BY seq) FROM jobs", buf, sizeof(buf)), "a,b,c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate, setup, teardown),
		cmocka_unit_test_setup_teardown(test_migrate_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_schema, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fence, setup, teardown),
	};

	return pg_test_main("test_pg_schema", tests, sizeof(tests) / sizeof(tests[0]));
}
