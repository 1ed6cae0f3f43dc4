/* The history contract's helpers that check every write's report (contract_history.h). */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contract_history.h"

void ch_record_done(void *ctx, int status)
{
	struct write *w = ctx;
	struct run_record r;

	ct_done(&w->rep, status);
	run_record_init(&r);
	w->get_at_done = history_get(w->f->h, w->task_id, &r);
	run_record_clear(&r);
}

void ch_record(struct fixture *f, const struct run_record *r)
{
	struct write w = {.f = f, .task_id = r->task_id, .get_at_done = 1};
	int rc = history_record(f->h, r, ch_record_done, &w);

	assert_int_equal(rc, 0);
	assert_true(ct_outcome(f, rc, &w.rep) >= 0);
	assert_int_equal(w.get_at_done, 0);
}

void ch_add(struct fixture *f, const char *job, int64_t due, enum run_status status, int64_t end)
{
	struct run_record r = ct_run(job, due, status, end);

	ch_record(f, &r);
	run_record_clear(&r);
}

void ch_add_open(struct fixture *f, const char *job, int64_t due)
{
	struct run_record r = ct_run(job, due, RUN_RUNNING, RUN_TIME_NONE), got;
	struct state_txn *t = ct_begin(f);

	run_record_init(&got);
	assert_int_equal(state_claim_run(t, &r), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_int_equal(history_get(f->h, r.task_id, &got), -ENOENT); /* the state's, never the history's */
	run_record_clear(&r);
}

void ch_add_rows(struct fixture *f, const struct run_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (run_status_is_final(rows[i].status))
			ch_add(f, rows[i].job, rows[i].due, rows[i].status, rows[i].end);
		else
			ch_add_open(f, rows[i].job, rows[i].due);
	}
}

int ch_copy_one(void *ctx, const struct run_record *r)
{
	run_record_copy(ctx, r);
	return 1;
}

/* How many runs ct_collect appended to s. */
static int runs_in(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == ',';
	return n;
}

const char *ch_pages(struct fixture *f, const char *job, int limit, const char *from, struct text *out)
{
	char cursor[HISTORY_CURSOR_MAX], next[HISTORY_CURSOR_MAX];
	const char *at = from;

	ct_clear(out);
	for (int page = 0; page < 1000; page++) {
		int before = runs_in(out->s);
		memset(next, 'x', sizeof(next));
		assert_int_equal(history_list(f->h, job, at, limit, ct_collect, out, next), 0);
		assert_true(strnlen(next, sizeof(next)) < sizeof(next));
		ct_append(out, "|");
		if (next[0] == '\0')
			return out->s;
		assert_int_equal(runs_in(out->s) - before, limit);
		memcpy(cursor, next, sizeof(cursor));
		at = cursor;
	}
	fail_msg("more than 1000 pages of %s", job);
	return NULL;
}

/* What history_durations told, one entry per job, kept in job name order. */
struct durations {
	char job[8][16];
	char ms[8][128];
	int n, max, bad;
};

static void keep_durations(void *ctx, const char *job, const int64_t *ms, int n)
{
	struct durations *d = ctx;
	int at = 0;

	if (n == 0)
		return;
	while (at < d->n && strcmp(d->job[at], job) < 0)
		at++;
	if (n > d->max || d->n == 8 || (at < d->n && strcmp(d->job[at], job) == 0)) {
		d->bad++;
		return;
	}
	memmove(d->job + at + 1, d->job + at, (size_t)(d->n - at) * sizeof(d->job[0]));
	memmove(d->ms + at + 1, d->ms + at, (size_t)(d->n - at) * sizeof(d->ms[0]));
	d->n++;
	snprintf(d->job[at], sizeof(d->job[at]), "%s", job);
	d->ms[at][0] = '\0';
	for (int i = 0; i < n; i++) {
		size_t len = strlen(d->ms[at]);
		snprintf(d->ms[at] + len, sizeof(d->ms[at]) - len, "%s%" PRId64, i ? "," : "", ms[i]);
	}
}

const char *ch_durations(struct fixture *f, const char *job, int max, struct text *out)
{
	struct durations d = {.max = max};

	assert_int_equal(history_durations(f->h, job, max, keep_durations, &d), 0);
	assert_int_equal(d.bad, 0);
	ct_clear(out);
	for (int i = 0; i < d.n; i++) {
		assert_true(job == NULL || strcmp(d.job[i], job) == 0);
		ct_appendf(out, "%s:%s|", d.job[i], d.ms[i]);
	}
	return out->s;
}

void ch_removed(void *ctx, const char *task_id, const char *job)
{
	struct removal *m = ctx;
	struct run_record r;
	size_t len = strlen(job);

	run_record_init(&r);
	if (history_get(m->f->h, task_id, &r) != -ENOENT)
		m->still_there++;
	run_record_clear(&r);
	if (strncmp(task_id, job, len) != 0 || task_id[len] != ':')
		m->wrong_job++;
	if (m->n_told < CH_TOLD_MAX)
		snprintf(m->told[m->n_told], sizeof(m->told[0]), "%s", task_id);
	m->n_told++;
}

void ch_removal_done(void *ctx, int status)
{
	struct removal *m = ctx;

	ct_done(&m->done, status);
	m->told_before_done = m->n_told;
}

int ch_removal_end(struct removal *m, int rc)
{
	int status = ct_outcome(m->f, rc, &m->done);

	assert_int_equal(m->still_there, 0);
	assert_int_equal(m->wrong_job, 0);
	if (status < 0) {
		assert_int_equal(m->n_told, 0);
	} else {
		assert_int_equal(m->told_before_done, m->n_told);
		assert_int_equal(status, m->n_told);
	}
	return status;
}

void ch_assert_told(const struct removal *m, const char *const *want)
{
	int n = 0;

	for (; want[n]; n++) {
		int seen = 0;
		for (int i = 0; i < m->n_told && i < CH_TOLD_MAX; i++)
			seen += strcmp(m->told[i], want[n]) == 0;
		if (seen != 1)
			fail_msg("%s was told removed %d times", want[n], seen);
	}
	assert_int_equal(m->n_told, n);
}

void ch_prune(struct fixture *f, const struct history_retention *keep, const char *const *want)
{
	struct removal m = {.f = f};

	assert_true(ch_removal_end(&m, history_prune(f->h, keep, ch_removed, ch_removal_done, &m)) >= 0);
	ch_assert_told(&m, want);
}

void ch_delete_job(struct fixture *f, const char *job, const char *const *want)
{
	struct removal m = {.f = f};

	assert_true(ch_removal_end(&m, history_delete_job(f->h, job, ch_removed, ch_removal_done, &m)) >= 0);
	ch_assert_told(&m, want);
}
