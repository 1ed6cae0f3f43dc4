/* The history contract's fixture and the helpers that check every write's report (contract_history.h). */
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
#include "util/xmalloc.h"

int ch_setup(void **state)
{
	const struct contract_run *run = *state;
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->b = run->b;
	if (f->b->open(f->b->arg, &f->fx, &f->h) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int ch_teardown(void **state)
{
	struct fixture *f = *state;

	f->b->close(f->fx);
	free(f);
	return 0;
}

void ch_settle(struct fixture *f)
{
	if (f->b->settle)
		f->b->settle(f->fx);
}

void ch_done(void *ctx, int status)
{
	struct report *rep = ctx;

	rep->calls++;
	rep->status = status;
}

int ch_outcome(struct fixture *f, int rc, const struct report *rep)
{
	int want_calls = rc < 0 ? 0 : 1;

	if (f->b->completes_at_once)
		assert_int_equal(rep->calls, want_calls);
	assert_in_range(rep->calls, 0, want_calls);
	ch_settle(f);
	assert_int_equal(rep->calls, want_calls);
	ch_settle(f); /* nothing is reported twice */
	assert_int_equal(rep->calls, want_calls);
	return rc < 0 ? rc : rep->status;
}

void ch_assert_fail_message(struct fixture *f)
{
	const char *msg = history_errmsg(f->h);

	assert_non_null(msg);
	if (f->b->fail_message ? strstr(msg, f->b->fail_message) == NULL : msg[0] == '\0')
		fail_msg("errmsg after a failed write: \"%s\"", msg);
}

struct run_record ch_run(const char *job, int64_t due, enum run_status status, int64_t end)
{
	struct run_record r;

	run_record_init(&r);
	r.task_id = xasprintf("%s:%" PRId64, job, due);
	r.job = xstrdup(job);
	r.due_ms = due;
	r.status = status;
	r.start_ms = due;
	r.end_ms = end;
	r.exit_code = status == RUN_SUCCEEDED ? 0 : status == RUN_FAILED ? 1 : -1;
	run_record_set(&r.host, "host-1");
	run_record_set(&r.arguments, "");
	run_record_set(&r.parents, "");
	run_record_set(&r.reason, status == RUN_LOST ? "the server restarted" : "");
	return r;
}

void ch_record_done(void *ctx, int status)
{
	struct write *w = ctx;
	struct run_record r;

	ch_done(&w->rep, status);
	run_record_init(&r);
	w->get_at_done = history_get(w->f->h, w->task_id, &r);
	run_record_clear(&r);
}

void ch_record(struct fixture *f, const struct run_record *r)
{
	struct write w = {.f = f, .task_id = r->task_id, .get_at_done = 1};
	int rc = history_record(f->h, r, ch_record_done, &w);

	assert_int_equal(rc, 0);
	assert_true(ch_outcome(f, rc, &w.rep) >= 0);
	assert_int_equal(w.get_at_done, 0);
}

void ch_add(struct fixture *f, const char *job, int64_t due, enum run_status status, int64_t end)
{
	struct run_record r = ch_run(job, due, status, end);

	ch_record(f, &r);
	run_record_clear(&r);
}

void ch_add_open(struct fixture *f, const char *job, int64_t due)
{
	struct run_record r = ch_run(job, due, RUN_RUNNING, RUN_TIME_NONE), got;

	run_record_init(&got);
	assert_int_equal(f->b->put_open_run(f->fx, &r), 0);
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

void ch_assert_same(const struct run_record *got, const struct run_record *want)
{
	assert_string_equal(got->task_id, want->task_id);
	assert_string_equal(got->job, want->job);
	assert_int_equal(got->due_ms, want->due_ms);
	assert_int_equal(got->attempt, want->attempt);
	assert_int_equal(got->trigger, want->trigger);
	assert_int_equal(got->status, want->status);
	assert_int_equal(got->not_before_ms, want->not_before_ms);
	assert_int_equal(got->start_ms, want->start_ms);
	assert_int_equal(got->end_ms, want->end_ms);
	assert_int_equal(got->exit_code, want->exit_code);
	assert_int_equal(got->signal, want->signal);
	assert_int_equal(got->pid, want->pid);
	assert_int_equal(got->stdout_bytes, want->stdout_bytes);
	assert_int_equal(got->stderr_bytes, want->stderr_bytes);
	assert_string_equal(got->host, want->host);
	assert_string_equal(got->arguments, want->arguments);
	assert_string_equal(got->parents, want->parents);
	assert_string_equal(got->reason, want->reason);
	assert_int_equal(got->skipped_from_ms, want->skipped_from_ms);
	assert_int_equal(got->skipped_to_ms, want->skipped_to_ms);
	assert_int_equal(got->skipped_slots, want->skipped_slots);
}

static void append(struct text *t, const char *s)
{
	size_t len = strlen(t->s);

	assert_true(len + strlen(s) < sizeof(t->s));
	memcpy(t->s + len, s, strlen(s) + 1);
}

int ch_collect(void *ctx, const struct run_record *r)
{
	append(ctx, r->task_id);
	append(ctx, ",");
	return 0;
}

int ch_copy_one(void *ctx, const struct run_record *r)
{
	run_record_copy(ctx, r);
	return 1;
}

struct text *ch_clear(struct text *t)
{
	t->s[0] = '\0';
	return t;
}

/* How many runs ch_collect appended to s. */
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

	ch_clear(out);
	for (int page = 0; page < 1000; page++) {
		int before = runs_in(out->s);
		memset(next, 'x', sizeof(next));
		assert_int_equal(history_list(f->h, job, at, limit, ch_collect, out, next), 0);
		assert_true(strnlen(next, sizeof(next)) < sizeof(next));
		append(out, "|");
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
	ch_clear(out);
	for (int i = 0; i < d.n; i++) {
		assert_true(job == NULL || strcmp(d.job[i], job) == 0);
		append(out, d.job[i]);
		append(out, ":");
		append(out, d.ms[i]);
		append(out, "|");
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

	ch_done(&m->done, status);
	m->told_before_done = m->n_told;
}

int ch_removal_end(struct removal *m, int rc)
{
	int status = ch_outcome(m->f, rc, &m->done);

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
