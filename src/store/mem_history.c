/* The in-memory backend's history (mem_backend.h): the ended runs of the store (mem_store.h) that its state
 * shares. A record joins the state's open transaction, as SQLite's does; a removal is refused inside one. The
 * cursor is "m<id>": the page after it holds the runs before that id. */
#include "store/mem_backend.h"
#include "store/mem_state.h"
#include "store/mem_store.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

struct mem_history {
	struct history base;
	struct mem_store *m;
};

static struct mem_store *store_of(struct history *h)
{
	return ((struct mem_history *)h)->m; /* base is its first member */
}

static int mh_record(struct history *h, const struct run_record *r, history_done_fn done, void *ctx)
{
	struct mem_store *m = store_of(h);

	if (m->txn)
		mem_txn_record(m->txn, r);
	else if (mem_store_take_failure(m))
		return -ENOSPC;
	else
		mem_store_upsert_run(m, r, mem_store_run_id(m, r->task_id));
	if (done)
		done(ctx, 0);
	return 0;
}

static int mh_get(struct history *h, const char *task_id, struct run_record *out)
{
	const struct mem_run *run = mem_store_run(store_of(h), task_id);

	run_record_clear(out);
	if (run == NULL || run->cls == MEM_OPEN)
		return -ENOENT;
	run_record_copy(out, &run->r);
	return 0;
}

/* The id a cursor names: "m<id>" (this backend's) or a bare id (the API's old `before=`); INT64_MAX for none. */
static int cursor_before(const char *cursor, int64_t *before)
{
	char *end;
	long long v;

	*before = INT64_MAX;
	if (cursor == NULL || cursor[0] == '\0')
		return 0;
	if (cursor[0] == 'm')
		cursor++;
	if (cursor[0] < '0' || cursor[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoll(cursor, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return -EINVAL;
	*before = v;
	return 0;
}

static int mh_list(struct history *h, const char *job, const char *cursor, int limit, history_run_fn fn, void *ctx,
    char next[HISTORY_CURSOR_MAX])
{
	const struct mem_job_runs *jr = mem_set_get(&store_of(h)->job_runs, job);
	struct mem_run *run = jr ? jr->runs.tail : NULL, *prev;
	int64_t before, last_shown = 0;
	int shown = 0, out = 0;

	next[0] = '\0';
	if (cursor_before(cursor, &before) < 0 || limit < 0)
		return -EINVAL;
	for (; out == 0 && run; run = prev) {
		prev = run->by_job.prev; /* fn may remove run */
		if (run->r.id >= before || run->cls == MEM_OPEN)
			continue;
		if (shown == limit) {
			/* the next page holds the runs before the last one shown, whatever becomes of that one */
			snprintf(next, HISTORY_CURSOR_MAX, "m%" PRId64, last_shown);
			return 0;
		}
		shown++;
		last_shown = run->r.id;
		out = fn(ctx, &run->r);
	}
	return out;
}

static int mh_recent(struct history *h, enum history_recent kind, int limit, history_run_fn fn, void *ctx)
{
	enum mem_class cls = kind == HISTORY_RECENT_FAILURES ? MEM_FAILED : MEM_SKIPPED;
	struct mem_run *run = store_of(h)->classes[cls].tail, *prev;
	int out = 0;

	/* a negative limit is none, as in SQL */
	for (int n = 0; out == 0 && run && (limit < 0 || n < limit); run = prev, n++) {
		prev = run->by_class.prev;
		out = fn(ctx, &run->r);
	}
	return out;
}

/* Latest end first; of one end, the newest run (SQLite's ORDER BY end_ms DESC, id DESC). */
static int cmp_end_desc(const void *a, const void *b)
{
	const struct run_record *x = &(*(struct mem_run *const *)a)->r, *y = &(*(struct mem_run *const *)b)->r;

	if (x->end_ms != y->end_ms)
		return x->end_ms < y->end_ms ? 1 : -1;
	return x->id < y->id ? 1 : x->id > y->id ? -1 : 0;
}

/* The ended runs in the window, found by a walk over every run (no index by end time here), then sorted. */
static int mh_window(struct history *h, int64_t from_ms, int64_t to_ms, int limit, history_run_fn fn, void *ctx)
{
	struct mem_store *m = store_of(h);
	struct mem_run **in = xmalloc((m->runs.n ? m->runs.n : 1) * sizeof(*in));
	size_t n = 0;
	int out = 0;

	for (size_t i = 0; i < m->runs.n; i++) {
		struct mem_run *run = (struct mem_run *)m->runs.items[i];
		int64_t begin = run->r.start_ms != RUN_TIME_NONE ? run->r.start_ms : run->r.due_ms;
		if (run->cls != MEM_OPEN && run->r.end_ms != RUN_TIME_NONE && run->r.end_ms >= from_ms &&
		    begin != RUN_TIME_NONE && begin <= to_ms)
			in[n++] = run;
	}
	qsort(in, n, sizeof(*in), cmp_end_desc);
	for (size_t i = 0; i < n && out == 0 && (limit < 0 || i < (size_t)limit); i++)
		out = fn(ctx, &in[i]->r);
	free(in);
	return out;
}

/* Call fn with the durations of jr's newest succeeded runs, at most max, when there are any. */
static void job_durations(const struct mem_job_runs *jr, int max, int64_t *ms,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx)
{
	int n = 0;

	for (const struct mem_run *run = jr->runs.tail; run && n < max; run = run->by_job.prev)
		if (run->r.status == RUN_SUCCEEDED)
			ms[n++] = run->r.end_ms - run->r.due_ms;
	if (n > 0)
		fn(ctx, jr->e.key, ms, n);
}

static int mh_durations(struct history *h, const char *job, int max,
    void (*fn)(void *ctx, const char *job, const int64_t *ms, int n), void *ctx)
{
	struct mem_store *m = store_of(h);
	int64_t *ms = xmalloc((size_t)(max > 0 ? max : 1) * sizeof(*ms));
	const struct mem_job_runs *jr;

	if (job) {
		if ((jr = mem_set_get(&m->job_runs, job)) != NULL)
			job_durations(jr, max, ms, fn, ctx);
	} else {
		struct mem_entry **jobs = mem_set_sorted(&m->job_runs, mem_entry_cmp_key);
		size_t n = m->job_runs.n;
		for (size_t i = 0; i < n; i++)
			job_durations((const struct mem_job_runs *)jobs[i], max, ms, fn, ctx);
		free(jobs);
	}
	free(ms);
	return 0;
}

/* The runs a removal took out of the store, told and freed after it. */
struct removal {
	struct mem_run **runs;
	size_t n, cap;
};

static void take(struct mem_store *m, struct removal *gone, struct mem_run *run)
{
	if (gone->n == gone->cap) {
		gone->cap = gone->cap ? 2 * gone->cap : 16;
		gone->runs = xrealloc(gone->runs, gone->cap * sizeof(*gone->runs));
	}
	mem_store_detach_run(m, run);
	gone->runs[gone->n++] = run;
}

/* Take jr's ended runs that retention keep drops: those that ended before its age, and those beyond its count
 * (the job's open runs counted, as SQLite counts them). */
static void prune_job(struct mem_store *m, struct mem_job_runs *jr, const struct history_retention *keep,
    struct removal *gone)
{
	struct mem_run *run = jr->runs.tail, *prev;
	int newer = 0; /* runs of the job newer than run */

	for (; run; run = prev, newer++) {
		bool by_age = keep->older_than_ms != RUN_TIME_NONE && run->r.end_ms != RUN_TIME_NONE &&
		    run->r.end_ms < keep->older_than_ms;
		prev = run->by_job.prev;
		if (run->cls != MEM_OPEN && (by_age || (keep->keep > 0 && newer >= keep->keep)))
			take(m, gone, run);
	}
}

/* Take every ended run of jr. */
static void take_ended(struct mem_store *m, struct mem_job_runs *jr, struct removal *gone)
{
	struct mem_run *run = jr->runs.tail, *prev;

	for (; run; run = prev) {
		prev = run->by_job.prev;
		if (run->cls != MEM_OPEN)
			take(m, gone, run);
	}
}

/* Whether a removal may go ahead: not inside the state's transaction, and not failed on demand. */
static int removal_may(struct mem_store *m)
{
	if (m->txn) {
		snprintf(m->error, sizeof(m->error), "a removal from the history cannot join the state's transaction");
		return -EBUSY;
	}
	return mem_store_take_failure(m) ? -ENOSPC : 0;
}

/* Tell removed of each run gone, then done of how many, and free them. */
static void removal_end(struct removal *gone, history_removed_fn removed, history_done_fn done, void *ctx)
{
	for (size_t i = 0; removed && i < gone->n; i++)
		removed(ctx, gone->runs[i]->r.task_id, gone->runs[i]->r.job);
	if (done)
		done(ctx, (int)gone->n);
	for (size_t i = 0; i < gone->n; i++)
		mem_run_free(gone->runs[i]);
	free(gone->runs);
}

static int mh_prune(struct history *h, const struct history_retention *keep, history_removed_fn removed,
    history_done_fn done, void *ctx)
{
	struct mem_store *m = store_of(h);
	struct removal gone = {0};
	int rc = removal_may(m);

	if (rc < 0)
		return rc;
	if (keep->jobs) {
		for (size_t i = 0; i < keep->n_jobs; i++) {
			struct mem_job_runs *jr = mem_set_get(&m->job_runs, keep->jobs[i]);
			if (jr)
				prune_job(m, jr, keep, &gone);
		}
	} else {
		/* a job whose last run goes leaves the set: walk a copy */
		struct mem_entry **jobs = mem_set_sorted(&m->job_runs, NULL);
		size_t n = m->job_runs.n;
		for (size_t i = 0; i < n; i++)
			prune_job(m, (struct mem_job_runs *)jobs[i], keep, &gone);
		free(jobs);
	}
	removal_end(&gone, removed, done, ctx);
	return 0;
}

static int mh_delete_job(struct history *h, const char *job, history_removed_fn removed, history_done_fn done,
    void *ctx)
{
	struct mem_store *m = store_of(h);
	struct removal gone = {0};
	struct mem_job_runs *jr;
	int rc = removal_may(m);

	if (rc < 0)
		return rc;
	if ((jr = mem_set_get(&m->job_runs, job)) != NULL)
		take_ended(m, jr, &gone);
	removal_end(&gone, removed, done, ctx);
	return 0;
}

static const char *mh_errmsg(const struct history *h)
{
	return ((const struct mem_history *)h)->m->error;
}

static void mh_free(struct history *h)
{
	mem_store_unref(store_of(h));
	free(h);
}

static const struct history_ops mem_ops = {
	.record = mh_record,
	.get = mh_get,
	.list = mh_list,
	.recent = mh_recent,
	.window = mh_window,
	.durations = mh_durations,
	.prune = mh_prune,
	.delete_job = mh_delete_job,
	.errmsg = mh_errmsg,
	.free = mh_free,
};

void mem_backend_new(struct state **s, struct history **h)
{
	struct mem_store *m = mem_store_new();
	struct mem_history *q = xcalloc(1, sizeof(*q));

	q->base.ops = &mem_ops;
	q->m = m;
	*h = &q->base;
	*s = mem_state_new(m);
}

void mem_backend_fail_next(struct state *s)
{
	mem_state_store(s)->fail_next = true;
}
