/* The history's PostgreSQL backend (history_pg.h). */
#include "history/history_pg.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "store/mem_state.h"
#include "store/mem_store.h"
#include "store/pg_store.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define ENDED "status NOT IN ('queued', 'waiting', 'starting', 'running')"

/* A removal that announces the runs it removed (pg_store.h: pg_changes), "*" when they are too many to name. */
#define NOTIFYING(del)                                                                                             \
	"WITH d AS (" del "), n AS (SELECT pg_notify('" PG_CHANGES_CHANNEL "', CASE WHEN sum(length(task_id) + 3) > " \
	"7800 THEN '*' ELSE string_agg('r ' || task_id, E'\\n') END) FROM d HAVING count(*) > 0) "                  \
	"SELECT d.task_id, d.job FROM d LEFT JOIN n ON true"

/* Retention by count keeps a job's newest keep runs, its open ones among them (history_sqlite.c's statements). */
static const char sql_prune_job[] = NOTIFYING("DELETE FROM runs WHERE job = $1 AND " ENDED " AND (end_ms < $2 OR "
    "id <= coalesce((SELECT id FROM runs WHERE job = $1 ORDER BY id DESC LIMIT 1 OFFSET $3), 0)) "
    "RETURNING task_id, job");
static const char sql_prune_all[] = NOTIFYING("DELETE FROM runs WHERE " ENDED " AND (end_ms < $1 OR id IN (SELECT id "
    "FROM (SELECT id, row_number() OVER (PARTITION BY job ORDER BY id DESC) AS rn FROM runs) AS ranked WHERE rn > "
    "$2)) RETURNING task_id, job");
static const char sql_delete_job[] = NOTIFYING("DELETE FROM runs WHERE job = $1 AND " ENDED " RETURNING task_id, job");

struct history_pg;

/* A write in flight. */
struct hwrite {
	struct history_pg *hp; /* NULL: the history was freed, nobody is told */
	struct run_record r;   /* a record's */
	history_removed_fn removed;
	history_done_fn done;
	void *ctx;
	struct hwrite *next;
};

struct history_pg {
	struct history base;
	struct pg_store *p;
	struct hwrite *first, *last; /* in flight, in the order made */
};

static struct history_pg *of(struct history *h)
{
	return (struct history_pg *)h; /* base is its first member */
}

static void hwrite_free(struct hwrite *w)
{
	run_record_clear(&w->r);
	free(w);
}

/* w's write ended: out of the list; whether anybody is to be told. */
static bool ended(struct hwrite *w)
{
	struct history_pg *hp = w->hp;

	if (hp == NULL)
		return false;
	hp->first = w->next;
	if (hp->first == NULL)
		hp->last = NULL;
	return true;
}

/* Send b as w's write. 0, or the error (w freed). */
static int send_write(struct history_pg *hp, struct hwrite *w, struct pg_batch *b, pg_store_done_fn done)
{
	int rc = pg_store_send(hp->p, b->st, b->n, true, done, w);

	pg_batch_clear(b);
	if (rc < 0) {
		hwrite_free(w);
		return rc;
	}
	w->hp = hp;
	if (hp->last)
		hp->last->next = w;
	else
		hp->first = w;
	hp->last = w;
	return 0;
}

static void on_recorded(struct pg_store *p, void *ctx, int status, PGresult *const *res, int n)
{
	struct hwrite *w = ctx;

	(void)res;
	(void)n;
	if (ended(w)) {
		if (status == 0 && history_record(pg_store_mirror_history(p), &w->r, NULL, NULL) < 0)
			log_warnx("history: the copy in memory refused a committed record of %s", w->r.task_id);
		if (w->done)
			w->done(w->ctx, status);
	}
	hwrite_free(w);
}

static int hp_record(struct history *h, const struct run_record *r, history_done_fn done, void *ctx)
{
	struct hwrite *w = xcalloc(1, sizeof(*w));
	struct pg_batch b = {0};
	struct pg_run_buf rb;
	const char *params[PG_RUN_PARAMS];

	if (!run_status_is_final(r->status)) {
		free(w);
		return -EINVAL;
	}
	run_record_init(&w->r);
	run_record_copy(&w->r, r);
	w->done = done;
	w->ctx = ctx;
	pg_run_params(r, &rb, params);
	pg_batch_add(&b, pg_run_upsert_sql, PG_RUN_PARAMS, params);
	pg_batch_add(&b, "SELECT pg_notify('" PG_CHANGES_CHANNEL "', 'r ' || $1)", 1, (const char *const[]){r->task_id});
	return send_write(of(h), w, &b, on_recorded);
}

/* Take the runs a removal's results name out of the copy, then tell removed of each, then done of how many. */
static void on_removed(struct pg_store *p, void *ctx, int status, PGresult *const *res, int n)
{
	struct hwrite *w = ctx;
	struct mem_store *m = mem_state_store(pg_store_mirror_state(p));
	int count = 0;

	if (!ended(w)) {
		hwrite_free(w);
		return;
	}
	for (int i = 0; status == 0 && i < n; i++) {
		for (int row = 0; row < PQntuples(res[i]); row++) {
			struct mem_run *run = mem_store_run(m, PQgetvalue(res[i], row, 0));
			if (run && run->cls != MEM_OPEN) {
				mem_store_detach_run(m, run);
				mem_run_free(run);
			}
			count++;
		}
	}
	for (int i = 0; status == 0 && w->removed && i < n; i++)
		for (int row = 0; row < PQntuples(res[i]); row++)
			w->removed(w->ctx, PQgetvalue(res[i], row, 0), PQgetvalue(res[i], row, 1));
	if (w->done)
		w->done(w->ctx, status < 0 ? status : count);
	hwrite_free(w);
}

static struct hwrite *removal(history_removed_fn removed, history_done_fn done, void *ctx)
{
	struct hwrite *w = xcalloc(1, sizeof(*w));

	run_record_init(&w->r);
	w->removed = removed;
	w->done = done;
	w->ctx = ctx;
	return w;
}

static int hp_prune(struct history *h, const struct history_retention *keep, history_removed_fn removed,
    history_done_fn done, void *ctx)
{
	char older[24], count[24];
	struct pg_batch b = {0};

	snprintf(older, sizeof(older), "%" PRId64, keep->older_than_ms == RUN_TIME_NONE ? INT64_MIN :
	    keep->older_than_ms);
	snprintf(count, sizeof(count), "%" PRId64, keep->keep > 0 ? (int64_t)keep->keep : INT64_MAX);
	if (keep->jobs == NULL)
		pg_batch_add(&b, sql_prune_all, 2, (const char *const[]){older, count});
	for (size_t i = 0; keep->jobs && i < keep->n_jobs; i++)
		pg_batch_add(&b, sql_prune_job, 3, (const char *const[]){keep->jobs[i], older, count});
	if (b.n == 0)
		pg_batch_add(&b, "SELECT NULL::text, NULL::text WHERE false", 0, NULL);
	return send_write(of(h), removal(removed, done, ctx), &b, on_removed);
}

static int hp_delete_job(struct history *h, const char *job, history_removed_fn removed, history_done_fn done,
    void *ctx)
{
	struct pg_batch b = {0};

	pg_batch_add(&b, sql_delete_job, 1, (const char *const[]){job});
	return send_write(of(h), removal(removed, done, ctx), &b, on_removed);
}

/* The reads are the copy's. */
static int hp_get(struct history *h, const char *task_id, struct run_record *out)
{
	return history_get(pg_store_mirror_history(of(h)->p), task_id, out);
}

static int hp_list(struct history *h, const char *job, const char *cursor, int limit, history_run_fn fn, void *ctx,
    char next[HISTORY_CURSOR_MAX])
{
	return history_list(pg_store_mirror_history(of(h)->p), job, cursor, limit, fn, ctx, next);
}

static int hp_recent(struct history *h, enum history_recent kind, int limit, history_run_fn fn, void *ctx)
{
	return history_recent(pg_store_mirror_history(of(h)->p), kind, limit, fn, ctx);
}

static int hp_window(struct history *h, int64_t from_ms, int64_t to_ms, int limit, history_run_fn fn, void *ctx)
{
	return history_window(pg_store_mirror_history(of(h)->p), from_ms, to_ms, limit, fn, ctx);
}

static int hp_durations(struct history *h, const char *job, int max,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx)
{
	return history_durations(pg_store_mirror_history(of(h)->p), job, max, fn, ctx);
}

static const char *hp_errmsg(const struct history *h)
{
	return pg_store_errmsg(((const struct history_pg *)h)->p);
}

static void hp_free(struct history *h)
{
	struct history_pg *hp = of(h);

	for (struct hwrite *w = hp->first; w; w = w->next)
		w->hp = NULL;
	pg_store_unref(hp->p);
	free(hp);
}

static const struct history_ops pg_ops = {
	.record = hp_record,
	.get = hp_get,
	.list = hp_list,
	.recent = hp_recent,
	.window = hp_window,
	.durations = hp_durations,
	.prune = hp_prune,
	.delete_job = hp_delete_job,
	.errmsg = hp_errmsg,
	.free = hp_free,
};

struct history *history_pg_new(struct pg_store *p)
{
	struct history_pg *hp = xcalloc(1, sizeof(*hp));

	hp->base.ops = &pg_ops;
	hp->p = p;
	pg_store_ref(p);
	return &hp->base;
}
