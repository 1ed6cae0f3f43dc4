/* The PostgreSQL schema and its migrations (pg_schema.h). */
#include "store/pg_schema.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/pgconn.h"
#include "util/xmalloc.h"

/* The migrations: each statement with the version it belongs to, in order (pipeline mode takes one command per
 * statement). Version 1 is the SQLite store's schema as of its migration 12, in PostgreSQL's types. */
static const struct step {
	int version;
	const char *sql;
} steps[] = {
	{1, "CREATE TABLE jobs ("
	    "  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	    "  name text NOT NULL UNIQUE,"
	    "  json text NOT NULL)"},
	{1, "CREATE TABLE runs ("
	    "  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	    "  task_id text NOT NULL UNIQUE,"
	    "  job text NOT NULL,"
	    "  due_ms bigint NOT NULL,"
	    "  attempt integer NOT NULL,"
	    "  trigger text NOT NULL,"
	    "  status text NOT NULL,"
	    "  not_before_ms bigint,"
	    "  start_ms bigint,"
	    "  end_ms bigint,"
	    "  exit_code integer NOT NULL DEFAULT -1,"
	    "  signal integer NOT NULL DEFAULT 0,"
	    "  pid bigint NOT NULL DEFAULT 0,"
	    "  stdout_bytes bigint NOT NULL DEFAULT 0,"
	    "  stderr_bytes bigint NOT NULL DEFAULT 0,"
	    "  host text NOT NULL DEFAULT '',"
	    "  arguments text NOT NULL DEFAULT '',"
	    "  parents text NOT NULL DEFAULT '',"
	    "  reason text NOT NULL DEFAULT '',"
	    "  skipped_from_ms bigint,"
	    "  skipped_to_ms bigint,"
	    "  skipped_slots bigint,"
	    "  agent text)"},
	{1, "CREATE INDEX runs_by_job ON runs (job, id)"},
	{1, "CREATE INDEX runs_open ON runs (id) WHERE status IN ('queued', 'waiting', 'starting', 'running')"},
	{1, "CREATE INDEX runs_by_end ON runs (end_ms)"},
	{1, "CREATE INDEX runs_failures ON runs (id) WHERE status IN ('failed', 'lost')"},
	{1, "CREATE INDEX runs_skips ON runs (id) WHERE status = 'skipped'"},
	{1, "CREATE TABLE job_state ("
	    "  name text PRIMARY KEY,"
	    "  last_due_ms bigint NOT NULL,"
	    "  anchor_ms bigint,"
	    "  anchor_index bigint,"
	    "  schedule text,"
	    "  success_count bigint,"
	    "  error_count bigint,"
	    "  errors_since_last_success bigint,"
	    "  last_success_ms bigint,"
	    "  last_error_ms bigint,"
	    "  disabled boolean)"},
	{1, "CREATE TABLE rounds ("
	    "  child text NOT NULL,"
	    "  parent text NOT NULL,"
	    "  task_id text NOT NULL,"
	    "  PRIMARY KEY (child, parent))"},
	{1, "CREATE INDEX rounds_by_parent ON rounds (parent)"},
	{1, "CREATE TABLE leader ("
	    "  id integer PRIMARY KEY CHECK (id = 1),"
	    "  epoch bigint NOT NULL)"},
	/* The fence (pg_schema.h). Its search path is the one it was created under: the tables of its own schema,
	 * whatever the caller's. */
	{1, "CREATE FUNCTION gnomon_fence(mine bigint) RETURNS void LANGUAGE plpgsql SET search_path FROM CURRENT AS $$\n"
	    "DECLARE stored bigint;\n"
	    "BEGIN\n"
	    "  SELECT epoch INTO stored FROM leader WHERE id = 1 FOR SHARE;\n"
	    "  IF stored IS DISTINCT FROM mine THEN\n"
	    "    RAISE EXCEPTION 'fenced: the leader''s epoch is %, this server''s is %', coalesce(stored::text, 'none'),"
	    "      mine USING ERRCODE = 'GNF01';\n"
	    "  END IF;\n"
	    "END $$"},
	/* Version 2: the runs' captured output (history/run_output_pg.h), so that none is lost with a server's disk.
	 * A stream is rows of bytes at offsets: the chunks shipped while its run goes (the head, appended in order),
	 * replaced by one row at offset 0, its final content (capped as the agent kept it), when the run ended. The
	 * rows go with their run's (ON DELETE CASCADE): a prune or a job's deletion removes them in its own
	 * statement. */
	{2, "CREATE TABLE run_output ("
	    "  task_id text NOT NULL REFERENCES runs (task_id) ON DELETE CASCADE,"
	    "  stream smallint NOT NULL CHECK (stream IN (0, 1)),"
	    "  off bigint NOT NULL CHECK (off >= 0),"
	    "  bytes bytea NOT NULL,"
	    "  PRIMARY KEY (task_id, stream, off))"},
	/* Version 3: API tokens (issue 16), as the SQLite store's migration 14: only the SHA-256 of each secret. */
	{3, "CREATE TABLE tokens ("
	    "  name text PRIMARY KEY,"
	    "  role text NOT NULL,"
	    "  hash text NOT NULL,"
	    "  created_ms bigint NOT NULL)"},
	/* Version 4: the audit trail (issue 16), as the SQLite store's migration 15. */
	{4, "CREATE TABLE audit ("
	    "  id bigserial PRIMARY KEY,"
	    "  time_ms bigint NOT NULL,"
	    "  actor text NOT NULL,"
	    "  actor_kind text NOT NULL,"
	    "  address text NOT NULL,"
	    "  action text NOT NULL,"
	    "  job text,"
	    "  before text,"
	    "  after text)"},
	{4, "CREATE INDEX audit_job ON audit (job, id)"},
	{4, "CREATE INDEX audit_time ON audit (time_ms)"},
	/* what each run used (issue 14): NULL where not known */
	{5, "ALTER TABLE runs ADD COLUMN cpu_user_us bigint, ADD COLUMN cpu_system_us bigint, "
	    "ADD COLUMN peak_memory_bytes bigint"},
	/* the streams' order record (src/exec/exec_order.h) beside them in run_output: stream 2 */
	{6, "ALTER TABLE run_output DROP CONSTRAINT run_output_stream_check, "
	    "ADD CONSTRAINT run_output_stream_check CHECK (stream IN (0, 1, 2))"},
};

#define N_STEPS (sizeof(steps) / sizeof(steps[0]))
#define TRIES 5 /* another server migrated between our look and our change: look again */

/* The advisory lock that serializes migrations of one schema (released with the transaction). */
static const char sql_lock[] = "SELECT pg_advisory_xact_lock(hashtext('gnomon.schema ' || current_schema()))";

struct migration {
	struct pgconn *c;
	pg_schema_done_fn done;
	void *ctx;
	int tries;
};

int pg_schema_version(void)
{
	return steps[N_STEPS - 1].version;
}

static int look(struct migration *m);

static void finish(struct migration *m, int status, const char *err)
{
	m->done(m->ctx, status, err);
	free(m);
}

static void on_changed(void *ctx, int status, PGresult *const *res, int n, const char *err)
{
	struct migration *m = ctx;
	int rc;

	(void)res;
	(void)n;
	if (status == -EAGAIN && ++m->tries < TRIES) {
		if ((rc = look(m)) < 0)
			finish(m, rc, "the connection to PostgreSQL is closing");
		return;
	}
	finish(m, status, err);
}

/* Apply the migrations after version v, checking first that nobody did meanwhile (else -EAGAIN: look again). */
static void change(struct migration *m, int v)
{
	struct pg_stmt *st = xcalloc(N_STEPS + 4, sizeof(*st));
	char *check = xasprintf("DO $$BEGIN IF (SELECT coalesce(max(version), 0) FROM schema_version) <> %d THEN "
				"RAISE EXCEPTION 'the schema changed meanwhile' USING ERRCODE = '40001'; END IF; END$$",
	    v);
	char *set = xasprintf("INSERT INTO schema_version VALUES (%d)", pg_schema_version());
	int n = 0, rc;

	st[n++] = (struct pg_stmt){sql_lock, 0, NULL};
	st[n++] = (struct pg_stmt){check, 0, NULL};
	for (size_t i = 0; i < N_STEPS; i++)
		if (steps[i].version > v)
			st[n++] = (struct pg_stmt){steps[i].sql, 0, NULL};
	st[n++] = (struct pg_stmt){"DELETE FROM schema_version", 0, NULL};
	st[n++] = (struct pg_stmt){set, 0, NULL};
	rc = pgconn_send(m->c, st, n, 0, on_changed, m);
	free(check);
	free(set);
	free(st);
	if (rc < 0)
		finish(m, rc, "the connection to PostgreSQL is closing");
}

static void on_looked(void *ctx, int status, PGresult *const *res, int n, const char *err)
{
	struct migration *m = ctx;
	char msg[128];
	int v;

	if (status < 0) {
		finish(m, status, err);
		return;
	}
	v = PQntuples(res[n - 1]) == 1 ? atoi(PQgetvalue(res[n - 1], 0, 0)) : -1;
	if (v < 0 || v > pg_schema_version()) {
		snprintf(msg, sizeof(msg), "pg: the database's schema version %d is newer than this gnomon's (%d)", v,
		    pg_schema_version());
		finish(m, -EPROTO, msg);
	} else if (v == pg_schema_version()) {
		finish(m, 0, NULL);
	} else {
		change(m, v);
	}
}

/* Read the schema's version (making its table when there is none). */
static int look(struct migration *m)
{
	const struct pg_stmt st[] = {
		{sql_lock, 0, NULL},
		{"CREATE TABLE IF NOT EXISTS schema_version (version integer NOT NULL)", 0, NULL},
		{"SELECT coalesce(max(version), 0) FROM schema_version", 0, NULL},
	};

	return pgconn_send(m->c, st, 3, 0, on_looked, m);
}

int pg_schema_migrate(struct pgconn *c, pg_schema_done_fn done, void *ctx)
{
	struct migration *m = xcalloc(1, sizeof(*m));
	int rc;

	m->c = c;
	m->done = done;
	m->ctx = ctx;
	if ((rc = look(m)) < 0)
		free(m);
	return rc;
}
