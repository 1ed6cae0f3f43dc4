/* The PostgreSQL backends (state/state_pg.h, history/history_pg.h) under the contract suites, against a real
 * server (tests/support/pg_cluster.py makes one): each test over a fresh schema, migrated and loaded. They
 * complete later by nature (no contract_deferred needed); a commit is failed on demand at the server
 * (pg_store_fail_next: a statement that raises SQLSTATE 53100, disk_full, so the server rolls the request back).
 * No second reader: the copy in memory that the reads read is one loop's (store/pg_store.h). */
#include <stdio.h>
#include <stdlib.h>

#include "contract.h"
#include "pg_test.h"
#include "store/pg_store.h"
#include "util/xmalloc.h"

static int pg_open(const void *arg, void **fx, struct state **s, struct history **h)
{
	struct pg_test_backend *b = xcalloc(1, sizeof(*b));

	(void)arg;
	if (pg_test_backend_open(b, NULL) < 0) {
		free(b);
		return -1;
	}
	*fx = b;
	*s = b->s;
	*h = b->h;
	return 0;
}

static void pg_close(void *fx)
{
	pg_test_backend_close(fx);
	free(fx);
}

static void pg_fail_next_write(void *fx)
{
	pg_store_fail_next(((struct pg_test_backend *)fx)->p);
}

static void pg_settle(void *fx)
{
	if (!pg_test_backend_settle(fx))
		fprintf(stderr, "contract: writes still in flight after 30 s\n");
}

int main(void)
{
	static const struct contract_backend pg = {
		.name = "postgresql",
		.completes_at_once = false,
		.fail_message = "injected failure",
		.open = pg_open,
		.close = pg_close,
		.fail_next_write = pg_fail_next_write,
		.settle = pg_settle,
	};
	int failed;

	if (pg_test_url() == NULL) {
		fprintf(stderr, "contract_pg: GNOMON_TEST_PG is not set: run under tests/support/pg_cluster.py\n");
		return 77;
	}
	failed = contract_state_run(&pg);
	failed += contract_history_run(&pg);
	return failed ? 1 : 0;
}
