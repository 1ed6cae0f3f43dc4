/* What the tests against a real PostgreSQL share (tests/support/pg_cluster.py runs them with a throwaway
 * cluster): its URL, a fresh schema for each test, and stopping and starting the server (an outage). These calls
 * block: they are the tests' own, made outside the loop under test. */
#ifndef GNOMON_TESTS_PG_TEST_H
#define GNOMON_TESTS_PG_TEST_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "history/history.h"
#include "state/state.h"

struct CMUnitTest;
struct pgconn;
struct pg_store;

/* The main of a cmocka program of tests against PostgreSQL: run the n tests as group name, or skip them all (77,
 * ctest's SKIP_RETURN_CODE) when there is no cluster. */
int pg_test_main(const char *name, const struct CMUnitTest *tests, size_t n);

/* The cluster's URL (GNOMON_TEST_PG), or NULL when the test runs without one (it should then skip). */
const char *pg_test_url(void);
/* Create a new, empty schema and write into out a connection string of the cluster whose search path is that
 * schema alone (so each test has tables of its own): 0, or -1 with a message on stderr. */
int pg_test_schema(char *out, size_t size);
/* Run sql on a connection of its own to the connection string conninfo (NULL: the cluster's URL): 0, or -1 with
 * the server's message on stderr. */
int pg_test_exec(const char *conninfo, const char *sql);
/* Stop the server at once (as a crash would), or start it again on the same port: 0 or -1. */
int pg_test_stop(void);
int pg_test_start(void);

/* What a request's done said (pgconn.h). */
struct pg_answer {
	int calls, status, order;
	int *counter;   /* shared by the answers of one test: the order in which they came */
	char text[256]; /* the first column of the last statement's first row, or the error */
};

/* A pgconn_done_fn for a struct pg_answer. */
void pg_test_on_done(void *ctx, int status, PGresult *const *res, int n, const char *err);
/* Run loop until *calls reaches want, for max_ms at most: whether it did. */
bool pg_test_run_until(uv_loop_t *loop, const int *calls, int want, uint64_t max_ms);

/* What the tests of the PostgreSQL backends start from: a loop of their own, a connection to a schema with this
 * gnomon's tables, and the state and history over it, loaded. */
struct pg_test_backend {
	uv_loop_t loop;
	char conninfo[512];
	struct pgconn *c;
	struct pg_store *p; /* the test's reference */
	struct state *s;
	struct history *h;
};

/* Open b over a fresh schema (conninfo NULL), or over the schema of conninfo (another backend's: a second
 * server): 0, or -1 with a message on stderr. */
int pg_test_backend_open(struct pg_test_backend *b, const char *conninfo);
/* Run b's loop until no write of b's is in flight (the done callbacks of those made meanwhile ran too), for 30 s
 * at most: whether it got there. */
bool pg_test_backend_settle(struct pg_test_backend *b);
/* Free all b holds, whatever the test left. */
void pg_test_backend_close(struct pg_test_backend *b);

#endif
