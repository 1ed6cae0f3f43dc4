/* What the PostgreSQL backends share (pg_store.h): the writes' sending and fencing, the copy in memory and its
 * loading, the runs' rows. */
#include "store/pg_store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/mem_backend.h"
#include "store/mem_state.h"
#include "store/mem_store.h"
#include "store/pg_schema.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define GHOSTS_MAX 8 /* outages between two loads whose server processes are remembered */

struct pg_store {
	int refs;
	struct pgconn *c;
	struct state *ms;    /* the copy */
	struct history *mh;
	uint64_t epoch;      /* the fence of the writes, 0: none */
	bool unsure;         /* a write's outcome is unknown: load again */
	int ghosts[GHOSTS_MAX]; /* ... the server processes that may still be working on such writes */
	int n_ghosts;
	bool fail_next;
	int in_flight;
	uint64_t timeout_ms; /* a write's deadline, 0: pgconn's default */
	uint64_t load_timeout_ms; /* a load's, 0: the writes' */
	pg_store_failure_fn on_failure; /* told of every write that failed (pg_store_on_failure) */
	void *failure_ctx;
	char error[512];
};

/* A write sent: whose, and where its own results start. */
struct sent {
	struct pg_store *p;
	pg_store_done_fn done;
	void *ctx;
	int first, n;
	bool write; /* not a load: an unknown outcome matters */
};

#define RUN_COLUMNS                                                                                                \
	"task_id, job, due_ms, attempt, trigger, status, not_before_ms, start_ms, end_ms, exit_code, signal, pid, "  \
	"stdout_bytes, stderr_bytes, host, arguments, parents, reason, skipped_from_ms, skipped_to_ms, skipped_slots, " \
	"agent, cpu_user_us, cpu_system_us, peak_memory_bytes"
#define RUN_INSERT                                                                                                 \
	"INSERT INTO runs (" RUN_COLUMNS ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, " \
	"$16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"

const char pg_run_claim_sql[] = RUN_INSERT " ON CONFLICT (task_id) DO NOTHING";
const char pg_run_upsert_sql[] = RUN_INSERT
	" ON CONFLICT (task_id) DO UPDATE SET status = excluded.status, not_before_ms = excluded.not_before_ms,"
	" start_ms = excluded.start_ms, end_ms = excluded.end_ms, exit_code = excluded.exit_code,"
	" signal = excluded.signal, pid = excluded.pid, stdout_bytes = excluded.stdout_bytes,"
	" stderr_bytes = excluded.stderr_bytes, host = excluded.host, reason = excluded.reason,"
	" skipped_from_ms = excluded.skipped_from_ms, skipped_to_ms = excluded.skipped_to_ms,"
	" skipped_slots = excluded.skipped_slots, agent = excluded.agent, cpu_user_us = excluded.cpu_user_us,"
	" cpu_system_us = excluded.cpu_system_us, peak_memory_bytes = excluded.peak_memory_bytes";

/* The statement that fails a write on demand (pg_store_fail_next): SQLSTATE 53100 is disk_full. */
static const char sql_fail[] = "DO $$BEGIN RAISE EXCEPTION 'injected failure: no room left on the device' "
			       "USING ERRCODE = '53100'; END$$";

struct pg_store *pg_store_new(struct pgconn *c)
{
	struct pg_store *p = xcalloc(1, sizeof(*p));

	p->refs = 1;
	p->c = c;
	mem_backend_new(&p->ms, &p->mh);
	return p;
}

void pg_store_ref(struct pg_store *p)
{
	p->refs++;
}

void pg_store_unref(struct pg_store *p)
{
	if (p == NULL || --p->refs > 0)
		return;
	state_free(p->ms);
	history_free(p->mh);
	free(p);
}

void pg_store_set_epoch(struct pg_store *p, uint64_t epoch)
{
	p->epoch = epoch;
}

uint64_t pg_store_epoch(const struct pg_store *p)
{
	return p->epoch;
}

void pg_store_set_timeout(struct pg_store *p, uint64_t ms)
{
	p->timeout_ms = ms;
}

void pg_store_set_load_timeout(struct pg_store *p, uint64_t ms)
{
	p->load_timeout_ms = ms;
}

void pg_store_on_failure(struct pg_store *p, pg_store_failure_fn fn, void *ctx)
{
	p->on_failure = fn;
	p->failure_ctx = ctx;
}

bool pg_store_unsure(const struct pg_store *p)
{
	return p->unsure;
}

void pg_store_fail_next(struct pg_store *p)
{
	p->fail_next = true;
}

int pg_store_in_flight(const struct pg_store *p)
{
	return p->in_flight;
}

struct state *pg_store_mirror_state(struct pg_store *p)
{
	return p->ms;
}

struct history *pg_store_mirror_history(struct pg_store *p)
{
	return p->mh;
}

const char *pg_store_errmsg(const struct pg_store *p)
{
	return p->error;
}

/* Remember server process pid (once), which may still hold a write of unknown outcome. */
static void add_ghost(struct pg_store *p, int pid)
{
	for (int i = 0; i < p->n_ghosts; i++)
		if (p->ghosts[i] == pid)
			return;
	if (p->n_ghosts == GHOSTS_MAX) {
		log_warnx("pg: more than %d connections lost without a load: forgetting server process %d", GHOSTS_MAX,
		    p->ghosts[0]);
		memmove(p->ghosts, p->ghosts + 1, (GHOSTS_MAX - 1) * sizeof(*p->ghosts));
		p->n_ghosts--;
	}
	p->ghosts[p->n_ghosts++] = pid;
}

static void on_sent(void *ctx, int status, PGresult *const *res, int n, const char *err)
{
	struct sent *s = ctx;
	struct pg_store *p = s->p;

	(void)n; /* the fence's, the write's, and the failure on demand's */
	p->in_flight--;
	if (status < 0) {
		snprintf(p->error, sizeof(p->error), "%s", err ? err : "PostgreSQL failed");
		/* in flight when the connection broke, or past its deadline: committed or not, nobody knows */
		if (s->write && (status == -ECONNRESET || status == -ETIMEDOUT)) {
			p->unsure = true;
			add_ghost(p, pgconn_backend_pid(p->c));
			log_warnx("pg: a write's outcome is unknown (%s): no more writes until the state is loaded again",
			    p->error);
		}
		s->done(p, s->ctx, status, NULL, 0);
		if (s->write && p->on_failure)
			p->on_failure(p->failure_ctx, status, p->error);
	} else {
		s->done(p, s->ctx, 0, res + s->first, s->n);
	}
	pg_store_unref(p);
	free(s);
}

/* pg_store_send, for a write or (write false) a load, which the refusal of writes does not stop. */
static int send_request(struct pg_store *p, const struct pg_stmt *st, int n, bool fence, bool write,
    pg_store_done_fn done, void *ctx)
{
	struct pg_stmt *all = xcalloc((size_t)n + 2, sizeof(*all));
	struct sent *s = xcalloc(1, sizeof(*s));
	char epoch[24];
	const char *params[] = {epoch};
	int k = 0, rc;

	if (write && p->unsure) {
		snprintf(p->error, sizeof(p->error), "a write's outcome is unknown (the connection to PostgreSQL broke): "
						     "the state must be loaded again");
		free(all);
		free(s);
		return -ENOTCONN;
	}
	if (fence && p->epoch) {
		snprintf(epoch, sizeof(epoch), "%" PRIu64, p->epoch);
		all[k++] = (struct pg_stmt){PG_SCHEMA_FENCE_SQL, 1, params};
	}
	*s = (struct sent){.p = p, .done = done, .ctx = ctx, .first = k, .n = n, .write = write};
	memcpy(all + k, st, (size_t)n * sizeof(*st));
	k += n;
	if (write && p->fail_next) {
		p->fail_next = false;
		all[k++] = (struct pg_stmt){sql_fail, 0, NULL};
	}
	rc = pgconn_send(p->c, all, k, !write && p->load_timeout_ms ? p->load_timeout_ms : p->timeout_ms, on_sent, s);
	free(all);
	if (rc < 0) {
		free(s);
		return rc;
	}
	p->in_flight++;
	pg_store_ref(p);
	return 0;
}

static void *own(struct pg_batch *b, void *copy)
{
	if (b->n_owned == b->cap_owned) {
		b->cap_owned = b->cap_owned ? 2 * b->cap_owned : 32;
		b->owned = xrealloc(b->owned, b->cap_owned * sizeof(*b->owned));
	}
	b->owned[b->n_owned++] = copy;
	return copy;
}

void pg_batch_add(struct pg_batch *b, const char *sql, int n_params, const char *const *params)
{
	const char **copy = own(b, xcalloc((size_t)(n_params > 0 ? n_params : 1), sizeof(*copy)));

	for (int i = 0; i < n_params; i++)
		copy[i] = params[i] ? own(b, xstrdup(params[i])) : NULL;
	if (b->n == b->cap) {
		b->cap = b->cap ? 2 * b->cap : 16;
		b->st = xrealloc(b->st, (size_t)b->cap * sizeof(*b->st));
	}
	b->st[b->n++] = (struct pg_stmt){sql, n_params, copy};
}

void pg_batch_clear(struct pg_batch *b)
{
	for (size_t i = 0; i < b->n_owned; i++)
		free(b->owned[i]);
	free(b->owned);
	free(b->st);
	memset(b, 0, sizeof(*b));
}

int pg_store_send(struct pg_store *p, const struct pg_stmt *st, int n, bool fence, pg_store_done_fn done,
    void *ctx)
{
	return send_request(p, st, n, fence, true, done, ctx);
}

const char *pg_time_param(int64_t v, char *buf)
{
	if (v == RUN_TIME_NONE)
		return NULL;
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

/* A number as text into buf. */
static const char *num(int64_t v, char *buf)
{
	snprintf(buf, 24, "%" PRId64, v);
	return buf;
}

void pg_run_params(const struct run_record *r, struct pg_run_buf *buf, const char *params[PG_RUN_PARAMS])
{
	char (*b)[24] = buf->num;

	params[0] = r->task_id;
	params[1] = r->job;
	params[2] = num(r->due_ms, b[2]);
	params[3] = num(r->attempt, b[3]);
	params[4] = run_trigger_name(r->trigger);
	params[5] = run_status_name(r->status);
	params[6] = pg_time_param(r->not_before_ms, b[6]);
	params[7] = pg_time_param(r->start_ms, b[7]);
	params[8] = pg_time_param(r->end_ms, b[8]);
	params[9] = num(r->exit_code, b[9]);
	params[10] = num(r->signal, b[10]);
	params[11] = num(r->pid, b[11]);
	params[12] = num(r->stdout_bytes, b[12]);
	params[13] = num(r->stderr_bytes, b[13]);
	params[14] = r->host ? r->host : "";
	params[15] = r->arguments ? r->arguments : "";
	params[16] = r->parents ? r->parents : "";
	params[17] = r->reason ? r->reason : "";
	params[18] = pg_time_param(r->skipped_from_ms, b[18]);
	params[19] = pg_time_param(r->skipped_to_ms, b[19]);
	params[20] = r->skipped_slots > 0 ? num(r->skipped_slots, b[20]) : NULL;
	params[21] = r->agent ? r->agent : "";
	params[22] = r->cpu_user_us >= 0 ? num(r->cpu_user_us, b[22]) : NULL;
	params[23] = r->cpu_system_us >= 0 ? num(r->cpu_system_us, b[23]) : NULL;
	params[24] = r->peak_memory_bytes >= 0 ? num(r->peak_memory_bytes, b[24]) : NULL;
}

/* --- Loading --- */

#define JOB_STATE_COLUMNS                                                                                          \
	"name, last_due_ms, anchor_ms, anchor_index, schedule, success_count, error_count, errors_since_last_success, " \
	"last_success_ms, last_error_ms, disabled"

enum load_stmt { L_BEGIN, L_JOBS, L_JOB_STATE, L_RUNS, L_ROUNDS, L_EPOCH, L_TOKENS, L_AUDIT, L_COMMIT, L_COUNT };

/* The reads of a load, each row of its table, or of a refresh (pg_store_refresh), the rows of some keys (where_*:
 * a WHERE clause, or ""). One snapshot for them all: a transaction of their own (SET TRANSACTION is refused in
 * the pipeline's implicit one, which gave each read a snapshot of its own: a follower's copy could mix moments). */
#define READ_SQL(where_jobs, where_runs, where_rounds, where_tokens)                                             \
	{                                                                                                          \
		[L_BEGIN] = "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",                                    \
		[L_JOBS] = "SELECT name, json FROM jobs" where_jobs " ORDER BY seq",                               \
		[L_JOB_STATE] = "SELECT " JOB_STATE_COLUMNS " FROM job_state" where_jobs,                          \
		[L_RUNS] = "SELECT id, " RUN_COLUMNS " FROM runs" where_runs " ORDER BY id",                       \
		[L_ROUNDS] = "SELECT child, parent, task_id FROM rounds" where_rounds,                             \
		[L_EPOCH] = "SELECT epoch FROM leader WHERE id = 1",                                               \
		[L_TOKENS] = "SELECT name, role, hash, created_ms FROM tokens" where_tokens,                      \
		[L_AUDIT] = "SELECT id, time_ms, actor, actor_kind, address, action, job, before, after "         \
			    "FROM audit" where_tokens " ORDER BY id",                                              \
		[L_COMMIT] = "COMMIT",                                                                             \
	}

static const char *const load_sql[L_COUNT] = READ_SQL("", "", "", "");

struct load {
	state_done_fn done;
	void *ctx;
};

static int64_t int_at(const PGresult *res, int row, int col)
{
	return strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static const char *text_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int64_t time_at(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? RUN_TIME_NONE : int_at(res, row, col);
}

/* Row row of a runs SELECT (id, RUN_COLUMNS) into r (initialised). */
static void run_at(const PGresult *res, int row, struct run_record *r)
{
	r->id = int_at(res, row, 0);
	r->task_id = xstrdup(PQgetvalue(res, row, 1));
	r->job = xstrdup(PQgetvalue(res, row, 2));
	r->due_ms = int_at(res, row, 3);
	r->attempt = (int32_t)int_at(res, row, 4);
	if (run_trigger_parse(PQgetvalue(res, row, 5), &r->trigger) < 0)
		r->trigger = TRIGGER_SCHEDULE;
	if (run_status_parse(PQgetvalue(res, row, 6), &r->status) < 0)
		r->status = RUN_LOST;
	r->not_before_ms = time_at(res, row, 7);
	r->start_ms = time_at(res, row, 8);
	r->end_ms = time_at(res, row, 9);
	r->exit_code = (int32_t)int_at(res, row, 10);
	r->signal = (int32_t)int_at(res, row, 11);
	r->pid = int_at(res, row, 12);
	r->stdout_bytes = int_at(res, row, 13);
	r->stderr_bytes = int_at(res, row, 14);
	r->host = xstrdup(PQgetvalue(res, row, 15));
	r->arguments = xstrdup(PQgetvalue(res, row, 16));
	r->parents = xstrdup(PQgetvalue(res, row, 17));
	r->reason = xstrdup(PQgetvalue(res, row, 18));
	r->skipped_from_ms = time_at(res, row, 19);
	r->skipped_to_ms = time_at(res, row, 20);
	r->skipped_slots = PQgetisnull(res, row, 21) ? 0 : int_at(res, row, 21);
	r->agent = xstrdup(PQgetvalue(res, row, 22));
	r->cpu_user_us = PQgetisnull(res, row, 23) ? -1 : int_at(res, row, 23);
	r->cpu_system_us = PQgetisnull(res, row, 24) ? -1 : int_at(res, row, 24);
	r->peak_memory_bytes = PQgetisnull(res, row, 25) ? -1 : int_at(res, row, 25);
}

/* The job_state rows of js (name, JOB_STATE_COLUMNS) into t. */
static int put_state_rows(struct state_txn *t, const PGresult *js)
{
	int rc = 0;

	for (int i = 0; rc == 0 && i < PQntuples(js); i++) {
		const char *name = PQgetvalue(js, i, 0);
		struct state_progress p = {
			.last_due_ms = int_at(js, i, 1),
			.has_anchor = !PQgetisnull(js, i, 2) && !PQgetisnull(js, i, 3),
			.anchor_ms = PQgetisnull(js, i, 2) ? 0 : int_at(js, i, 2),
			.anchor_index = PQgetisnull(js, i, 3) ? 0 : int_at(js, i, 3),
			.schedule = PQgetisnull(js, i, 4) ? NULL : PQgetvalue(js, i, 4),
		};
		rc = state_put_progress(t, name, &p);
		if (rc == 0 && !PQgetisnull(js, i, 5)) {
			struct state_outcome o = {
				.success_count = int_at(js, i, 5),
				.error_count = int_at(js, i, 6),
				.errors_since_last_success = int_at(js, i, 7),
				.last_success_ms = time_at(js, i, 8),
				.last_error_ms = time_at(js, i, 9),
				.disabled = strcmp(PQgetvalue(js, i, 10), "t") == 0,
			};
			rc = state_put_outcome(t, name, &o);
		}
	}
	return rc;
}

/* The jobs, their job_state rows and the rounds, in one transaction of the new copy. */
static int load_rows(struct state *ms, PGresult *const *res)
{
	const PGresult *jobs = res[L_JOBS], *js = res[L_JOB_STATE], *rounds = res[L_ROUNDS], *tokens = res[L_TOKENS],
		       *audit = res[L_AUDIT];
	struct state_txn *t;
	int rc = state_begin(ms, &t);

	for (int i = 0; rc == 0 && i < PQntuples(jobs); i++)
		rc = state_put_job(t, PQgetvalue(jobs, i, 0), PQgetvalue(jobs, i, 1));
	if (rc == 0)
		rc = put_state_rows(t, js);
	for (int i = 0; rc == 0 && i < PQntuples(rounds); i++)
		rc = state_round_put(t, PQgetvalue(rounds, i, 0), PQgetvalue(rounds, i, 1), PQgetvalue(rounds, i, 2));
	for (int i = 0; rc == 0 && i < PQntuples(tokens); i++)
		rc = state_put_token(t, &(struct state_token){PQgetvalue(tokens, i, 0), PQgetvalue(tokens, i, 1),
		    PQgetvalue(tokens, i, 2), int_at(tokens, i, 3)});
	for (int i = 0; rc == 0 && i < PQntuples(audit); i++)
		rc = state_put_audit(t, &(struct state_audit){int_at(audit, i, 0), int_at(audit, i, 1),
		    text_or_null(audit, i, 2), text_or_null(audit, i, 3), text_or_null(audit, i, 4),
		    text_or_null(audit, i, 5), text_or_null(audit, i, 6), text_or_null(audit, i, 7),
		    text_or_null(audit, i, 8)});
	if (rc < 0) {
		state_abort(t);
		return rc;
	}
	return state_commit_now(t);
}

static void on_rolled_back(struct pg_store *p, void *ctx, int status, PGresult *const *res, int n)
{
	(void)p;
	(void)ctx;
	(void)status;
	(void)res;
	(void)n;
}

/* A read that failed leaves the session in the aborted transaction (a broken connection does not: it is made
 * anew): end it, or the next requests would fail too. */
static void end_failed_read(struct pg_store *p)
{
	if (pgconn_is_up(p->c) &&
	    send_request(p, &(const struct pg_stmt){"ROLLBACK", 0, NULL}, 1, false, false, on_rolled_back, NULL) < 0)
		log_warnx("PostgreSQL: cannot end the failed read's transaction");
}

/* The rows of a runs SELECT (id, RUN_COLUMNS) into m, with the database's ids, which order them as it does; and
 * the epoch's row. */
static void put_run_rows(struct mem_store *m, const PGresult *runs, const PGresult *epoch)
{
	for (int i = 0; i < PQntuples(runs); i++) {
		struct run_record r;
		run_record_init(&r);
		run_at(runs, i, &r);
		mem_store_upsert_run(m, &r, r.id);
		if (r.id > m->next_id)
			m->next_id = r.id;
		run_record_clear(&r);
	}
	m->epoch = PQntuples(epoch) ? (uint64_t)int_at(epoch, 0, 0) : 0;
}

static void on_loaded(struct pg_store *p, void *ctx, int status, PGresult *const *res, int n)
{
	struct load *l = ctx;
	struct state *ms;
	struct history *mh;
	struct mem_store *m;

	(void)n;
	if (status < 0) {
		end_failed_read(p);
		goto out;
	}
	mem_backend_new(&ms, &mh);
	if ((status = load_rows(ms, res)) < 0) {
		snprintf(p->error, sizeof(p->error), "loading the state: %s", state_errmsg(ms));
		state_free(ms);
		history_free(mh);
		goto out;
	}
	m = mem_state_store(ms);
	put_run_rows(m, res[L_RUNS], res[L_EPOCH]);
	state_free(p->ms);
	history_free(p->mh);
	p->ms = ms;
	p->mh = mh;
	p->unsure = false;
out:
	if (l->done)
		l->done(l->ctx, status);
	free(l);
}

/* Send the load's request proper (its statements, load_sql). */
static int send_load(struct pg_store *p, struct load *l)
{
	struct pg_stmt st[L_COUNT];

	for (int i = 0; i < L_COUNT; i++)
		st[i] = (struct pg_stmt){load_sql[i], 0, NULL};
	return send_request(p, st, L_COUNT, false, false, on_loaded, l);
}

/* The server process that may still hold a write of unknown outcome is gone: its outcome is final, and the load
 * that follows sees it. */
static void on_ghost_gone(struct pg_store *p, void *ctx, int status, PGresult *const *res, int n)
{
	struct load *l = ctx;

	(void)res;
	(void)n;
	if (status == 0) {
		p->n_ghosts = 0;
		status = send_load(p, l);
	}
	if (status < 0) {
		if (l->done)
			l->done(l->ctx, status);
		free(l);
	}
}

/* End the server processes of the ghosts and wait until they are gone (5 s at most), before a load: a write whose
 * outcome is unknown may still be waiting there (for a lock, say), and would otherwise commit after the load read
 * the database, unseen. */
static int end_ghosts(struct pg_store *p, struct load *l)
{
	char list[GHOSTS_MAX * 12] = "", *sql;
	size_t len = 0;
	int rc;

	for (int i = 0; i < p->n_ghosts; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%d", i ? "," : "", p->ghosts[i]);
	/* (after a restart of the server, a number may be this very connection's: then its ghost is long gone) */
	sql = xasprintf("DO $$DECLARE ghosts int[] := array_remove(ARRAY[%s], pg_backend_pid()); BEGIN "
			"PERFORM pg_terminate_backend(g) FROM unnest(ghosts) AS g; "
			"FOR i IN 1..500 LOOP PERFORM pg_stat_clear_snapshot(); "
			"EXIT WHEN NOT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ANY (ghosts)); "
			"PERFORM pg_sleep(0.01); END LOOP; "
			"IF EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = ANY (ghosts)) THEN RAISE EXCEPTION "
			"'a server process that had a write of unknown outcome is still there'; END IF; END$$",
	    list);
	rc = send_request(p, &(const struct pg_stmt){sql, 0, NULL}, 1, false, false, on_ghost_gone, l);
	free(sql);
	return rc;
}

/* --- Reading some rows again (a follower's, for the changes announced) --- */

struct refresh {
	struct pg_refresh_keys k; /* the caller's, kept until done */
	state_done_fn done;
	void *ctx;
};

/* A text[] literal of the n strings of v: {"a","b"}, each quoted, its " and \ escaped. */
static char *text_array(const char *const *v, size_t n)
{
	size_t cap = 3, len = 0;
	char *out;

	for (size_t i = 0; i < n; i++)
		cap += 2 * strlen(v[i]) + 3;
	out = xmalloc(cap);
	out[len++] = '{';
	for (size_t i = 0; i < n; i++) {
		if (i)
			out[len++] = ',';
		out[len++] = '"';
		for (const char *c = v[i]; *c; c++) {
			if (*c == '"' || *c == '\\')
				out[len++] = '\\';
			out[len++] = *c;
		}
		out[len++] = '"';
	}
	out[len++] = '}';
	out[len] = '\0';
	return out;
}

/* Whether name is among the n rows of res (column 0). */
static bool has_row(const PGresult *res, const char *name)
{
	for (int i = 0; i < PQntuples(res); i++)
		if (strcmp(PQgetvalue(res, i, 0), name) == 0)
			return true;
	return false;
}

/* The rows read again into the copy: the jobs named (gone: deleted), their job_state rows, the rounds of the
 * children named (those gone: cleared), then the runs named (gone: taken out). */
static int apply_refresh(struct pg_store *p, const struct pg_refresh_keys *k, PGresult *const *res)
{
	struct mem_store *m = mem_state_store(p->ms);
	struct state_txn *t;
	int rc = state_begin(p->ms, &t);

	for (size_t i = 0; rc == 0 && i < k->n_jobs; i++)
		if (!has_row(res[L_JOBS], k->jobs[i]))
			rc = state_delete_job(t, k->jobs[i]);
	for (int i = 0; rc == 0 && i < PQntuples(res[L_JOBS]); i++)
		rc = state_put_job(t, PQgetvalue(res[L_JOBS], i, 0), PQgetvalue(res[L_JOBS], i, 1));
	if (rc == 0)
		rc = put_state_rows(t, res[L_JOB_STATE]);
	for (size_t i = 0; rc == 0 && i < k->n_children; i++)
		rc = state_round_clear(t, k->children[i], NULL);
	for (int i = 0; rc == 0 && i < PQntuples(res[L_ROUNDS]); i++)
		rc = state_round_put(t, PQgetvalue(res[L_ROUNDS], i, 0), PQgetvalue(res[L_ROUNDS], i, 1),
		    PQgetvalue(res[L_ROUNDS], i, 2));
	if (rc < 0) {
		state_abort(t);
		return rc;
	}
	if ((rc = state_commit_now(t)) < 0)
		return rc;
	for (size_t i = 0; i < k->n_runs; i++) {
		struct mem_run *run = mem_store_run(m, k->runs[i]);
		if (run && !has_row(res[L_RUNS], k->runs[i])) {
			mem_store_detach_run(m, run);
			mem_run_free(run);
		}
	}
	put_run_rows(m, res[L_RUNS], res[L_EPOCH]);
	return 0;
}

static void on_refreshed(struct pg_store *p, void *ctx, int status, PGresult *const *res, int n)
{
	struct refresh *r = ctx;

	(void)n;
	if (status < 0)
		end_failed_read(p);
	else if ((status = apply_refresh(p, &r->k, res)) < 0)
		snprintf(p->error, sizeof(p->error), "reading changes again: %s", state_errmsg(p->ms));
	if (r->done)
		r->done(r->ctx, status);
	free(r);
}

int pg_store_refresh(struct pg_store *p, const struct pg_refresh_keys *k, state_done_fn done, void *ctx)
{
	static const char *const sql[L_COUNT] = READ_SQL(" WHERE name = ANY ($1::text[])",
	    " WHERE task_id = ANY ($1::text[])", " WHERE child = ANY ($1::text[])", " WHERE false");
	/* the array each statement reads by ($1): -1 none */
	static const int uses[L_COUNT] = {[L_BEGIN] = -1, [L_JOBS] = 0, [L_JOB_STATE] = 0, [L_RUNS] = 1,
	    [L_ROUNDS] = 2, [L_EPOCH] = -1, [L_TOKENS] = -1, [L_AUDIT] = -1, [L_COMMIT] = -1};
	char *arrays[3] = {text_array(k->jobs, k->n_jobs), text_array(k->runs, k->n_runs),
	    text_array(k->children, k->n_children)};
	struct pg_stmt st[L_COUNT];
	struct refresh *r = xcalloc(1, sizeof(*r));
	const char *params[L_COUNT];
	int rc;

	for (int i = 0; i < L_COUNT; i++) {
		params[i] = uses[i] < 0 ? NULL : arrays[uses[i]];
		st[i] = (struct pg_stmt){sql[i], uses[i] < 0 ? 0 : 1, &params[i]};
	}
	*r = (struct refresh){.k = *k, .done = done, .ctx = ctx};
	rc = send_request(p, st, L_COUNT, false, false, on_refreshed, r);
	for (int a = 0; a < 3; a++)
		free(arrays[a]);
	if (rc < 0)
		free(r);
	return rc;
}

int pg_store_load(struct pg_store *p, state_done_fn done, void *ctx)
{
	struct load *l = xcalloc(1, sizeof(*l));
	int rc;

	l->done = done;
	l->ctx = ctx;
	rc = p->n_ghosts ? end_ghosts(p, l) : send_load(p, l);
	if (rc < 0)
		free(l);
	return rc;
}
