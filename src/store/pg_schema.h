/* The PostgreSQL database of HA gnomon (DESIGN.md: "the same schema as SQLite"): its tables, the leader's fence,
 * and the versioned migrations that make them, applied at start-up over a connection on the loop (pgconn.h).
 *
 * The tables are the SQLite store's (store/store.c) with PostgreSQL's types: jobs (in creation order, seq), the
 * jobs' progress and outcome (job_state), the runs, open and ended, in one table (as in SQLite: a run ends by an
 * update of its row, in the transaction that records its job's outcome), the dependency rounds, and the leader's
 * epoch (one row). They live in the connection's current schema (its search_path), so that several gnomon
 * clusters, or tests, can share a database.
 *
 * The fence (DESIGN.md, "epochs and leases"): every transaction of a leader begins with
 * PG_SCHEMA_FENCE_SQL($1 = its epoch), which reads the epoch row FOR SHARE and fails the transaction with
 * SQLSTATE GNF01 (-ESTALE through pgconn) when the stored epoch is not the leader's. A newer leader's raise of the
 * epoch updates that row, so it waits for the transactions that hold it shared and serializes after them; a
 * transaction that comes after the raise sees the new epoch and fails. The storage checks the token, not the
 * leader.
 *
 * Migrations are numbered; the table schema_version holds how many ran. pg_schema_migrate() applies those that
 * did not, all in one transaction, under an advisory lock of the schema: two servers starting at once do not both
 * migrate (the second finds the work done), and a migration that fails leaves the schema as it was. */
#ifndef GNOMON_STORE_PG_SCHEMA_H
#define GNOMON_STORE_PG_SCHEMA_H

#include <stddef.h>

struct pgconn;

/* The statement that fences a leader's transaction: its first, with $1 the leader's epoch (decimal text). */
#define PG_SCHEMA_FENCE_SQL "SELECT gnomon_fence($1::bigint)"

/* The schema version this gnomon makes (how many migrations it knows). */
int pg_schema_version(void);

/* The end of a migration: 0, or a negative errno with a message (-EPROTO: the database's schema is newer than
 * this gnomon's; else pgconn's errnos). */
typedef void (*pg_schema_done_fn)(void *ctx, int status, const char *err);

/* Bring the schema of c's database up to this gnomon's, in the background; done(ctx, ...) gets the end, on the
 * loop, never from inside this call. Returns 0, or pgconn_send's error (done is not called then). */
int pg_schema_migrate(struct pgconn *c, pg_schema_done_fn done, void *ctx) __attribute__((warn_unused_result));

#endif
