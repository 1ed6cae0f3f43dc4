/* The state contract's helpers (contract_state.h). */
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

#include "contract_state.h"

void cs_put_job(struct fixture *f, const char *name, const char *def)
{
	struct state_txn *t = ct_begin(f);

	assert_int_equal(state_put_job(t, name, def), 0);
	assert_int_equal(ct_commit(f, t), 0);
}

void cs_claim(struct fixture *f, struct run_record *r)
{
	struct state_txn *t = ct_begin(f);

	assert_int_equal(state_claim_run(t, r), 0);
	assert_int_equal(ct_commit(f, t), 0);
}

void cs_end(struct fixture *f, struct run_record *r, enum run_status status, int64_t end_ms)
{
	struct state_txn *t = ct_begin(f);

	r->status = status;
	r->end_ms = end_ms;
	assert_int_equal(state_end_run(t, r), 0);
	assert_int_equal(ct_commit(f, t), 0);
}

const char *cs_progress_text(const struct state_progress *p, char *buf, size_t size)
{
	char anchor[48] = "-";

	if (p->has_anchor)
		snprintf(anchor, sizeof(anchor), "%" PRId64 "@%" PRId64, p->anchor_ms, p->anchor_index);
	snprintf(buf, size, "%" PRId64 " %s %s", p->last_due_ms, anchor, p->schedule ? p->schedule : "-");
	return buf;
}

static void time_text(int64_t ms, char *buf, size_t size)
{
	if (ms == INT64_MIN)
		snprintf(buf, size, "never");
	else
		snprintf(buf, size, "%" PRId64, ms);
}

const char *cs_outcome_text(const struct state_outcome *o, char *buf, size_t size)
{
	char success[24], error[24];

	time_text(o->last_success_ms, success, sizeof(success));
	time_text(o->last_error_ms, error, sizeof(error));
	snprintf(buf, size, "%" PRId64 "/%" PRId64 "/%" PRId64 " %s %s%s", o->success_count, o->error_count,
	    o->errors_since_last_success, success, error, o->disabled ? " disabled" : "");
	return buf;
}

static int job_text(void *ctx, const struct state_job *job)
{
	char buf[256];

	assert_int_equal(job->len, strlen(job->definition));
	ct_append(ctx, job->name);
	if (job->has_progress)
		ct_appendf(ctx, " p=%s", cs_progress_text(&job->progress, buf, sizeof(buf)));
	if (job->has_outcome)
		ct_appendf(ctx, " o=%s", cs_outcome_text(&job->outcome, buf, sizeof(buf)));
	ct_append(ctx, "|");
	return 0;
}

const char *cs_jobs(struct fixture *f, struct text *out)
{
	assert_int_equal(state_load_jobs(f->s, job_text, ct_clear(out)), 0);
	return out->s;
}

static int compare_entries(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sort the '|'-terminated entries of t, whose order the reads do not promise. */
static void sort_entries(struct text *t)
{
	char copy[sizeof(t->s)], *entry[64], *save = NULL;
	size_t n = 0;

	memcpy(copy, t->s, sizeof(copy));
	for (char *e = strtok_r(copy, "|", &save); e; e = strtok_r(NULL, "|", &save)) {
		assert_true(n < sizeof(entry) / sizeof(entry[0]));
		entry[n++] = e;
	}
	qsort(entry, n, sizeof(entry[0]), compare_entries);
	ct_clear(t);
	for (size_t i = 0; i < n; i++)
		ct_appendf(t, "%s|", entry[i]);
}

static int progress_text(void *ctx, const char *name, const struct state_progress *p)
{
	char buf[256];

	ct_appendf(ctx, "%s p=%s|", name, cs_progress_text(p, buf, sizeof(buf)));
	return 0;
}

const char *cs_progress(struct fixture *f, struct text *out)
{
	assert_int_equal(state_load_progress(f->s, progress_text, ct_clear(out)), 0);
	sort_entries(out);
	return out->s;
}

static int run_text(void *ctx, const struct run_record *r)
{
	ct_appendf(ctx, "%s=%s,", r->task_id, run_status_name(r->status));
	return 0;
}

const char *cs_open_runs(struct fixture *f, struct text *out)
{
	assert_int_equal(state_load_open_runs(f->s, run_text, ct_clear(out)), 0);
	return out->s;
}

const char *cs_list_open_runs(struct fixture *f, const char *job, struct text *out)
{
	assert_int_equal(state_list_open_runs(f->s, job, run_text, ct_clear(out)), 0);
	return out->s;
}

static int round_text(void *ctx, const char *child, const char *parent, const char *task_id)
{
	ct_appendf(ctx, "%s<%s=%s|", child, parent, task_id);
	return 0;
}

const char *cs_rounds(struct fixture *f, struct text *out)
{
	assert_int_equal(state_load_rounds(f->s, round_text, ct_clear(out)), 0);
	sort_entries(out);
	return out->s;
}

const char *cs_snapshot(struct fixture *f, const char *const *ended, struct text *out)
{
	struct text part;
	struct run_record r;

	ct_appendf(ct_clear(out), "jobs: %s", cs_jobs(f, &part));
	ct_appendf(out, " progress: %s", cs_progress(f, &part));
	ct_appendf(out, " open: %s", cs_open_runs(f, &part));
	ct_appendf(out, " rounds: %s history: ", cs_rounds(f, &part));
	run_record_init(&r);
	for (; *ended; ended++) {
		int rc = history_get(f->h, *ended, &r);
		assert_true(rc == 0 || rc == -ENOENT);
		ct_appendf(out, "%s=%s|", *ended, rc == 0 ? run_status_name(r.status) : "-");
	}
	run_record_clear(&r);
	return out->s;
}

/* What cs_definition looks for, and found. */
struct find_job {
	const char *name;
	char definition[1024];
	bool found;
};

static int find_job(void *ctx, const struct state_job *job)
{
	struct find_job *w = ctx;

	if (strcmp(job->name, w->name) != 0)
		return 0;
	assert_int_equal(job->len, strlen(job->definition));
	assert_true(job->len < sizeof(w->definition));
	memcpy(w->definition, job->definition, job->len + 1);
	w->found = true;
	return 0;
}

const char *cs_definition(struct fixture *f, const char *name)
{
	static struct find_job w;

	memset(&w, 0, sizeof(w));
	w.name = name;
	assert_int_equal(state_load_jobs(f->s, find_job, &w), 0);
	return w.found ? w.definition : NULL;
}
