#include "store/store.h"
#include "store/checkpoint.h"
#include "store/store_db.h"

#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <limits.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "history/run_row_sqlite.h"
#include "util/log.h"
#include "util/mkdirs.h"
#include "util/xmalloc.h"

enum stmt_id { ST_PUT_JOB, ST_DELETE_JOB, ST_LOAD_JOBS, ST_BEGIN, ST_COMMIT, ST_ROLLBACK, ST_COUNT };

static const char *const stmt_sql[ST_COUNT] = {
	[ST_PUT_JOB] = "INSERT INTO jobs(name, json) VALUES(?1, ?2) "
		       "ON CONFLICT(name) DO UPDATE SET json = excluded.json",
	[ST_DELETE_JOB] = "DELETE FROM jobs WHERE name = ?1",
	[ST_LOAD_JOBS] = "SELECT j.name, j.json, s.last_due_ms, s.anchor_ms, s.anchor_index, s.schedule, "
			 "s.success_count, s.error_count, s.errors_since_last_success, s.last_success_ms, "
			 "s.last_error_ms, s.disabled FROM jobs j LEFT JOIN job_state s ON s.name = j.name ORDER BY j.seq",
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
};

/* Schema migrations, applied in order; PRAGMA user_version records how many ran. */
static const char *const migrations[] = {
	"CREATE TABLE jobs ("
	"  seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  name TEXT NOT NULL UNIQUE,"
	"  json TEXT NOT NULL)",
	"CREATE TABLE runs ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  task_id TEXT NOT NULL UNIQUE,"
	"  job TEXT NOT NULL,"
	"  due_ms INTEGER NOT NULL,"
	"  attempt INTEGER NOT NULL,"
	"  trigger TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  not_before_ms INTEGER,"
	"  start_ms INTEGER,"
	"  end_ms INTEGER,"
	"  exit_code INTEGER NOT NULL DEFAULT -1,"
	"  signal INTEGER NOT NULL DEFAULT 0,"
	"  pid INTEGER NOT NULL DEFAULT 0,"
	"  stdout_bytes INTEGER NOT NULL DEFAULT 0,"
	"  stderr_bytes INTEGER NOT NULL DEFAULT 0,"
	"  host TEXT NOT NULL DEFAULT '',"
	"  arguments TEXT NOT NULL DEFAULT '',"
	"  parents TEXT NOT NULL DEFAULT '',"
	"  reason TEXT NOT NULL DEFAULT '');"
	"CREATE INDEX runs_by_job ON runs(job, id);"
	"CREATE INDEX runs_open ON runs(status) WHERE status IN ('queued', 'waiting', 'starting', 'running');"
	"CREATE INDEX runs_by_end ON runs(end_ms);",
	"CREATE TABLE job_state ("
	"  name TEXT PRIMARY KEY,"
	"  last_due_ms INTEGER NOT NULL) WITHOUT ROWID",
	"CREATE TABLE rounds ("
	"  child TEXT NOT NULL,"
	"  parent TEXT NOT NULL,"
	"  task_id TEXT NOT NULL,"
	"  PRIMARY KEY (child, parent)) WITHOUT ROWID",
	/* ISO schedules' anchors (NULL: none), written with the rewritten schedule */
	"ALTER TABLE job_state ADD COLUMN anchor_ms INTEGER;"
	"ALTER TABLE job_state ADD COLUMN anchor_index INTEGER",
	/* the overview's recent failures and skips, without a scan of the history */
	"CREATE INDEX runs_failures ON runs(id) WHERE status IN ('failed', 'lost');"
	"CREATE INDEX runs_skips ON runs(id) WHERE status = 'skipped'",
	/* deleting a job removes the rounds it is a parent in */
	"CREATE INDEX rounds_by_parent ON rounds(parent)",
	/* what a skipped record covers, as fields (NULL in records written before) */
	"ALTER TABLE runs ADD COLUMN skipped_from_ms INTEGER;"
	"ALTER TABLE runs ADD COLUMN skipped_to_ms INTEGER;"
	"ALTER TABLE runs ADD COLUMN skipped_slots INTEGER",
	/* The partial indexes' conditions as ORs: SQLite evaluates an IN list through an ephemeral table, which every
	 * insert and update of a run built and freed twice (run_row_sqlite.h's RUN_ROW_OPEN and RUN_ROW_FAILED are
	 * the same conditions, so that the queries still use the indexes). */
	"DROP INDEX runs_open;"
	"CREATE INDEX runs_open ON runs(status) WHERE " RUN_ROW_OPEN ";"
	"DROP INDEX runs_failures;"
	"CREATE INDEX runs_failures ON runs(id) WHERE " RUN_ROW_FAILED,
	/* A job's progress and outcome leave its definition (NULL in rows written before: the JSON still holds them):
	 * the schedule as its firings moved it on, Chronos's counters, and disabled when the engine disabled it. */
	"ALTER TABLE job_state ADD COLUMN schedule TEXT;"
	"ALTER TABLE job_state ADD COLUMN success_count INTEGER;"
	"ALTER TABLE job_state ADD COLUMN error_count INTEGER;"
	"ALTER TABLE job_state ADD COLUMN errors_since_last_success INTEGER;"
	"ALTER TABLE job_state ADD COLUMN last_success_ms INTEGER;"
	"ALTER TABLE job_state ADD COLUMN last_error_ms INTEGER;"
	"ALTER TABLE job_state ADD COLUMN disabled INTEGER",
	/* the leader's epoch (state_raise_epoch): one row */
	"CREATE TABLE leader ("
	"  id INTEGER PRIMARY KEY CHECK (id = 1),"
	"  epoch INTEGER NOT NULL)",
	/* the agent that ran a run (issue 12) */
	"ALTER TABLE runs ADD COLUMN agent TEXT",
	/* API tokens (issue 16): only the SHA-256 of each secret */
	"CREATE TABLE tokens ("
	"  name TEXT PRIMARY KEY,"
	"  role TEXT NOT NULL,"
	"  hash TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL)",
	/* the audit trail (issue 16): every change, who made it, from where, before and after */
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time_ms INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  actor_kind TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  job TEXT,"
	"  before TEXT,"
	"  after TEXT);"
	"CREATE INDEX audit_job ON audit(job, id);"
	"CREATE INDEX audit_time ON audit(time_ms)",
	/* what each run used (issue 14): NULL where not known */
	"ALTER TABLE runs ADD COLUMN cpu_user_us INTEGER;"
	"ALTER TABLE runs ADD COLUMN cpu_system_us INTEGER;"
	"ALTER TABLE runs ADD COLUMN peak_memory_bytes INTEGER",
};

#define STMT_CACHE 40
#define ROOM_MIN ((uint64_t)1 << 20) /* less room than this, and a failed write is taken as one for want of room */
#define CHECKPOINT_INTERVAL_MS 500

struct cached_stmt {
	const char *sql;
	sqlite3_stmt *st;
};

struct store {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
	struct cached_stmt cache[STMT_CACHE];
	struct checkpointer *checkpointer; /* NULL: SQLite checkpoints on commit */
	int lock_fd;
	char *path;      /* DIR/gnomon.db */
	char error[512]; /* the last failure's message (store_failed) */
};

static int exec_sql(struct store *s, const char *sql, char *err, size_t errlen)
{
	char *msg = NULL;
	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "store: %s: %s", sql, msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -EIO;
	}
	return 0;
}

static int migrate(struct store *s, char *err, size_t errlen)
{
	sqlite3_stmt *st;
	int version = 0, n = (int)(sizeof(migrations) / sizeof(migrations[0]));

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK)
		goto sqlerr;
	if (sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (version > n) {
		snprintf(err, errlen, "store: database schema version %d is newer than this gnomon (%d)", version, n);
		return -EPROTO;
	}
	for (int i = version; i < n; i++) {
		char pragma[64];
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", i + 1);
		if (exec_sql(s, "BEGIN", err, errlen) < 0 || exec_sql(s, migrations[i], err, errlen) < 0 ||
		    exec_sql(s, pragma, err, errlen) < 0 || exec_sql(s, "COMMIT", err, errlen) < 0)
			return -EIO;
	}
	return 0;
sqlerr:
	snprintf(err, errlen, "store: %s", sqlite3_errmsg(s->db));
	return -EIO;
}

int store_open(const char *dir, struct store **out, char *err, size_t errlen)
{
	struct store *s = xcalloc(1, sizeof(*s));
	char *path = NULL;
	int rc;

	s->lock_fd = -1;
	/* 0711: other users (runAsUser tasks) may pass through to their working directory, not list. */
	if ((rc = mkdirs(dir, 0711)) < 0) {
		snprintf(err, errlen, "store: cannot create data dir '%s': %s", dir, strerror(-rc));
		goto fail;
	}
	path = xasprintf("%s/gnomon.lock", dir);
	s->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (s->lock_fd < 0 || flock(s->lock_fd, LOCK_EX | LOCK_NB) < 0) {
		rc = -errno;
		snprintf(err, errlen, "store: data dir '%s' is in use by another gnomon server (%s)", dir,
		    strerror(errno));
		goto fail;
	}
	free(path);
	path = xasprintf("%s/gnomon.db", dir);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		snprintf(err, errlen, "store: cannot open '%s': %s", path, sqlite3_errmsg(s->db));
		rc = -EIO;
		goto fail;
	}
	/* WAL with synchronous=NORMAL: a commit is in the OS before it returns, so it survives a process crash;
	 * the database stays consistent after a power loss. */
	if ((rc = exec_sql(s, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
			      "PRAGMA busy_timeout=5000;", err, errlen)) < 0 ||
	    (rc = migrate(s, err, errlen)) < 0)
		goto fail;
	/* Checkpoints off the loop thread: a commit no longer stalls for the copy and sync of the WAL. */
	if ((s->checkpointer = checkpointer_start(path, CHECKPOINT_INTERVAL_MS)) != NULL &&
	    (rc = exec_sql(s, "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=67108864;", err, errlen)) < 0)
		goto fail;
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT, &s->stmt[i], NULL) !=
		    SQLITE_OK) {
			snprintf(err, errlen, "store: preparing '%s': %s", stmt_sql[i], sqlite3_errmsg(s->db));
			rc = -EIO;
			goto fail;
		}
	}
	s->path = path;
	*out = s;
	return 0;
fail:
	free(path);
	store_close(s);
	return rc < 0 ? rc : -EIO;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	checkpointer_stop(s->checkpointer);
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->stmt[i]);
	for (int i = 0; i < STMT_CACHE; i++)
		sqlite3_finalize(s->cache[i].st);
	if (s->db)
		sqlite3_close(s->db);
	if (s->lock_fd >= 0)
		close(s->lock_fd);
	free(s->path);
	free(s);
}

struct sqlite3 *store_connection(struct store *s)
{
	return s->db;
}

const char *store_errmsg(const struct store *s)
{
	return s->error[0] ? s->error : sqlite3_errmsg(s->db);
}

/* Why an I/O error came without its errno: SQLite reads errno when the error reaches the connection, after other
 * calls (a failed WAL write is reported as SQLITE_IOERR_WRITE with errno long gone), and a pager that failed
 * fails the next writes without a system call of its own. Returns ENOSPC when the data dir's file system has
 * (almost) no room left, EFBIG when a store file is at the file size limit (RLIMIT_FSIZE, ulimit -f), else 0. */
static int room_errno(const struct store *s)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	struct statvfs v;
	struct rlimit rl;
	struct stat st;
	char path[PATH_MAX];

	if (statvfs(s->path, &v) == 0 && (uint64_t)v.f_bavail * v.f_frsize < ROOM_MIN)
		return ENOSPC;
	if (getrlimit(RLIMIT_FSIZE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		snprintf(path, sizeof(path), "%s%s", s->path, suffixes[i]);
		if (stat(path, &st) == 0 && (uint64_t)st.st_size + ROOM_MIN > rl.rlim_cur)
			return EFBIG;
	}
	return 0;
}

int store_failed(struct store *s)
{
	int code = sqlite3_extended_errcode(s->db) & 0xff, sys = sqlite3_system_errno(s->db);

	if (code == SQLITE_IOERR && sys == 0)
		sys = room_errno(s);
	if (code == SQLITE_IOERR && sys)
		snprintf(s->error, sizeof(s->error), "%s (%s)", sqlite3_errmsg(s->db), strerror(sys));
	else
		snprintf(s->error, sizeof(s->error), "%s", sqlite3_errmsg(s->db));
	if (code == SQLITE_FULL || (code == SQLITE_IOERR && (sys == ENOSPC || sys == EDQUOT || sys == EFBIG)))
		return -ENOSPC;
	return -EIO;
}

/* Step a prepared statement that returns no rows, then reset it. */
static int step_done(struct store *s, enum stmt_id id)
{
	sqlite3_stmt *st = s->stmt[id];
	int rc = sqlite3_step(st), err;
	if (rc != SQLITE_DONE)
		err = store_failed(s);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE) {
		log_warnx("store: %s: %s", stmt_sql[id], s->error);
		return err;
	}
	return 0;
}

int store_begin(struct store *s)
{
	return step_done(s, ST_BEGIN);
}

int store_commit(struct store *s)
{
	return step_done(s, ST_COMMIT);
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		(void)step_done(s, ST_ROLLBACK);
}

static const char sql_forget_schedule[] = "UPDATE job_state SET schedule = NULL WHERE name = ?1";

int store_put_job(struct store *s, const char *name, const char *json)
{
	sqlite3_stmt *st;
	int rc;

	sqlite3_bind_text(s->stmt[ST_PUT_JOB], 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->stmt[ST_PUT_JOB], 2, json, -1, SQLITE_STATIC);
	if ((rc = step_done(s, ST_PUT_JOB)) < 0)
		return rc;
	/* the definition's schedule holds again */
	if ((st = store_stmt(s, sql_forget_schedule)) == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	return store_step_done(s, st);
}

static const char sql_delete_state[] = "DELETE FROM job_state WHERE name = ?1";
static const char sql_delete_rounds[] = "DELETE FROM rounds WHERE child = ?1 OR parent = ?1";

/* Delete a job with what the engine kept about it: its cron progress and the dependency rounds it is in. */
int store_delete_job(struct store *s, const char *name)
{
	const char *const extra[] = {sql_delete_state, sql_delete_rounds};

	int rc;

	sqlite3_bind_text(s->stmt[ST_DELETE_JOB], 1, name, -1, SQLITE_STATIC);
	if ((rc = step_done(s, ST_DELETE_JOB)) < 0)
		return rc;
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++) {
		sqlite3_stmt *st = store_stmt(s, extra[i]);
		if (st == NULL)
			return -EIO;
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		if ((rc = store_step_done(s, st)) < 0)
			return rc;
	}
	return 0;
}

/* Columns first.. of a job_state row (last_due_ms, anchor_ms, anchor_index, schedule) into a progress. */
static void column_progress(sqlite3_stmt *st, int first, struct state_progress *p)
{
	p->last_due_ms = sqlite3_column_int64(st, first);
	p->has_anchor = sqlite3_column_type(st, first + 1) == SQLITE_INTEGER &&
	    sqlite3_column_type(st, first + 2) == SQLITE_INTEGER;
	p->anchor_ms = sqlite3_column_int64(st, first + 1);
	p->anchor_index = sqlite3_column_int64(st, first + 2);
	p->schedule = (const char *)sqlite3_column_text(st, first + 3);
}

int store_load_jobs(struct store *s, int (*fn)(void *ctx, const struct state_job *job), void *ctx)
{
	sqlite3_stmt *st = s->stmt[ST_LOAD_JOBS];
	int rc, out = 0;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct state_job job = {
			.name = (const char *)sqlite3_column_text(st, 0),
			.definition = (const char *)sqlite3_column_text(st, 1),
			.len = (size_t)sqlite3_column_bytes(st, 1),
			.has_progress = sqlite3_column_type(st, 2) == SQLITE_INTEGER,
			.has_outcome = sqlite3_column_type(st, 6) == SQLITE_INTEGER,
		};
		if (job.has_progress)
			column_progress(st, 2, &job.progress);
		if (job.has_outcome) {
			job.outcome.success_count = sqlite3_column_int64(st, 6);
			job.outcome.error_count = sqlite3_column_int64(st, 7);
			job.outcome.errors_since_last_success = sqlite3_column_int64(st, 8);
			job.outcome.last_success_ms = run_row_column_time(st, 9);
			job.outcome.last_error_ms = run_row_column_time(st, 10);
			job.outcome.disabled = sqlite3_column_int(st, 11) != 0;
		}
		if ((out = fn(ctx, &job)) != 0)
			break;
	}
	if (out == 0 && rc != SQLITE_DONE) {
		log_warnx("store: loading jobs: %s", sqlite3_errmsg(s->db));
		out = -EIO;
	}
	sqlite3_reset(st);
	return out;
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

sqlite3_stmt *store_stmt(struct store *s, const char *sql)
{
	int i;
	for (i = 0; i < STMT_CACHE && s->cache[i].sql; i++) {
		if (s->cache[i].sql == sql) {
			sqlite3_reset(s->cache[i].st);
			sqlite3_clear_bindings(s->cache[i].st);
			return s->cache[i].st;
		}
	}
	if (i == STMT_CACHE)
		fatalx("store: more than %d cached statements", STMT_CACHE);
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->cache[i].st, NULL) != SQLITE_OK) {
		log_warnx("store: preparing '%s': %s", sql, sqlite3_errmsg(s->db));
		return NULL;
	}
	s->cache[i].sql = sql;
	return s->cache[i].st;
}

int store_step_done(struct store *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st), err = 0;
	if (rc != SQLITE_DONE)
		err = store_failed(s);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		log_warnx("store: %s: %s", sqlite3_sql(st), s->error);
	return err;
}

static const char sql_put_progress[] = "INSERT INTO job_state(name, last_due_ms, anchor_ms, anchor_index, schedule) "
				       "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(name) DO UPDATE SET "
				       "last_due_ms = excluded.last_due_ms, anchor_ms = excluded.anchor_ms, "
				       "anchor_index = excluded.anchor_index, schedule = excluded.schedule";
static const char sql_put_outcome[] = "INSERT INTO job_state(name, last_due_ms, success_count, error_count, "
				      "errors_since_last_success, last_success_ms, last_error_ms, disabled) "
				      "VALUES(?1, 0, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(name) DO UPDATE SET "
				      "success_count = excluded.success_count, error_count = excluded.error_count, "
				      "errors_since_last_success = excluded.errors_since_last_success, "
				      "last_success_ms = excluded.last_success_ms, last_error_ms = excluded.last_error_ms, "
				      "disabled = excluded.disabled";
static const char sql_load_progress[] = "SELECT name, last_due_ms, anchor_ms, anchor_index, schedule FROM job_state";

int store_put_progress(struct store *s, const char *name, const struct state_progress *p)
{
	sqlite3_stmt *st = store_stmt(s, sql_put_progress);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, p->last_due_ms);
	if (p->has_anchor) {
		sqlite3_bind_int64(st, 3, p->anchor_ms);
		sqlite3_bind_int64(st, 4, p->anchor_index);
	}
	if (p->schedule)
		sqlite3_bind_text(st, 5, p->schedule, -1, SQLITE_STATIC);
	return store_step_done(s, st);
}

int store_put_outcome(struct store *s, const char *name, const struct state_outcome *o)
{
	sqlite3_stmt *st = store_stmt(s, sql_put_outcome);
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, o->success_count);
	sqlite3_bind_int64(st, 3, o->error_count);
	sqlite3_bind_int64(st, 4, o->errors_since_last_success);
	run_row_bind_time(st, 5, o->last_success_ms);
	run_row_bind_time(st, 6, o->last_error_ms);
	sqlite3_bind_int(st, 7, o->disabled);
	return store_step_done(s, st);
}

int store_load_progress(struct store *s, int (*fn)(void *ctx, const char *name, const struct state_progress *p),
    void *ctx)
{
	sqlite3_stmt *st = store_stmt(s, sql_load_progress);
	int rc, out = 0;
	if (st == NULL)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct state_progress p;
		column_progress(st, 1, &p);
		if ((out = fn(ctx, (const char *)sqlite3_column_text(st, 0), &p)) != 0)
			break;
	}
	if (out == 0 && rc != SQLITE_DONE)
		out = -EIO;
	sqlite3_reset(st);
	return out;
}

static const char sql_get_epoch[] = "SELECT epoch FROM leader WHERE id = 1";
static const char sql_raise_epoch[] = "INSERT INTO leader(id, epoch) VALUES(1, ?1) ON CONFLICT(id) DO UPDATE SET "
				      "epoch = max(epoch + 1, excluded.epoch) RETURNING epoch";

/* Step a statement that returns at most one integer into *out (untouched when none); 0 or store_failed's. */
static int step_one_int(struct store *s, sqlite3_stmt *st, int64_t *out)
{
	int rc = sqlite3_step(st);

	if (rc == SQLITE_ROW) {
		*out = sqlite3_column_int64(st, 0);
		rc = sqlite3_step(st); /* a write completes at its last step */
	}
	rc = rc == SQLITE_DONE ? 0 : store_failed(s);
	sqlite3_reset(st);
	return rc;
}

int store_raise_epoch(struct store *s, uint64_t at_least, uint64_t *out)
{
	sqlite3_stmt *st = store_stmt(s, sql_get_epoch);
	int64_t stored = 0, epoch = 0;
	int rc;

	if (at_least == 0 || at_least > INT64_MAX) {
		if (st)
			sqlite3_reset(st);
		return -EINVAL;
	}
	if (st == NULL || (rc = step_one_int(s, st, &stored)) < 0)
		return st == NULL ? -EIO : rc;
	if (stored == INT64_MAX)
		return -EOVERFLOW;
	if ((st = store_stmt(s, sql_raise_epoch)) == NULL)
		return -EIO;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)at_least);
	if ((rc = step_one_int(s, st, &epoch)) < 0)
		return rc;
	*out = (uint64_t)epoch;
	return 0;
}
