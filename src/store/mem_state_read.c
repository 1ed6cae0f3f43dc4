/* The in-memory state's reads (mem_state.h), in the orders SQLite's queries give: jobs by creation, progress and
 * rounds by their keys, open runs by id. */
#include "store/mem_state.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int cmp_seq(const void *a, const void *b)
{
	const struct mem_job *x = *(const struct mem_job *const *)a, *y = *(const struct mem_job *const *)b;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static void progress_of(const struct mem_progress *p, struct state_progress *out)
{
	*out = (struct state_progress){
		.last_due_ms = p->last_due_ms,
		.has_anchor = p->has_anchor,
		.anchor_ms = p->anchor_ms,
		.anchor_index = p->anchor_index,
		.schedule = p->schedule,
	};
}

/* j as the reads give it, with its job_state row (borrowed from m). */
static void job_row(const struct mem_store *m, const struct mem_job *j, struct state_job *job)
{
	const struct mem_progress *p = mem_set_get(&m->progress, j->e.key);

	*job = (struct state_job){
		.name = j->e.key,
		.definition = j->definition,
		.len = strlen(j->definition),
		.has_progress = p != NULL,
		.has_outcome = p && p->has_outcome,
	};
	if (p)
		progress_of(p, &job->progress);
	if (job->has_outcome)
		job->outcome = p->outcome;
}

bool mem_state_get_job(struct state *s, const char *name, struct state_job *out)
{
	struct mem_store *m = mem_state_store(s);
	const struct mem_job *j = mem_set_get(&m->jobs, name);

	if (j)
		job_row(m, j, out);
	return j != NULL;
}

int mem_state_load_jobs(struct state *s, state_job_fn fn, void *ctx)
{
	struct mem_store *m = mem_state_store(s);
	struct mem_entry **jobs = mem_set_sorted(&m->jobs, cmp_seq);
	size_t n = m->jobs.n;
	int out = 0;

	for (size_t i = 0; out == 0 && i < n; i++) {
		struct state_job job;
		job_row(m, (const struct mem_job *)jobs[i], &job);
		out = fn(ctx, &job);
	}
	free(jobs);
	return out;
}

int mem_state_load_progress(struct state *s, state_progress_fn fn, void *ctx)
{
	struct mem_store *m = mem_state_store(s);
	struct mem_entry **rows = mem_set_sorted(&m->progress, mem_entry_cmp_key);
	size_t n = m->progress.n;
	int out = 0;

	for (size_t i = 0; out == 0 && i < n; i++) {
		struct state_progress p;
		progress_of((const struct mem_progress *)rows[i], &p);
		out = fn(ctx, rows[i]->key, &p);
	}
	free(rows);
	return out;
}

int mem_state_load_open_runs(struct state *s, state_run_fn fn, void *ctx)
{
	struct mem_run *run = mem_state_store(s)->classes[MEM_OPEN].head, *next;
	int out = 0;

	for (; out == 0 && run; run = next) {
		next = run->by_class.next; /* fn may end run */
		out = fn(ctx, &run->r);
	}
	return out;
}

int mem_state_list_open_runs(struct state *s, const char *job, state_run_fn fn, void *ctx)
{
	const struct mem_job_runs *jr = mem_set_get(&mem_state_store(s)->job_runs, job);
	struct mem_run *run = jr ? jr->runs.tail : NULL, *prev;
	int out = 0;

	for (; out == 0 && run; run = prev) {
		prev = run->by_job.prev;
		if (run->cls == MEM_OPEN)
			out = fn(ctx, &run->r);
	}
	return out;
}

int mem_state_get_open_run(struct state *s, const char *task_id, struct run_record *out)
{
	const struct mem_run *run = mem_store_run(mem_state_store(s), task_id);

	run_record_clear(out);
	if (run == NULL || run->cls != MEM_OPEN)
		return -ENOENT;
	run_record_copy(out, &run->r);
	return 0;
}

int mem_state_load_rounds(struct state *s, state_round_fn fn, void *ctx)
{
	struct mem_store *m = mem_state_store(s);
	struct mem_entry **rounds = mem_set_sorted(&m->rounds, mem_entry_cmp_key);
	size_t n = m->rounds.n;
	int out = 0;

	/* "child\x1fparent" sorts as (child, parent) does, but for names holding bytes below 0x1f */
	for (size_t i = 0; out == 0 && i < n; i++) {
		const struct mem_round *r = (const struct mem_round *)rounds[i];
		out = fn(ctx, r->child, r->parent, r->task_id);
	}
	free(rounds);
	return out;
}

int mem_state_load_tokens(struct state *s, state_token_fn fn, void *ctx)
{
	struct mem_store *m = mem_state_store(s);
	struct mem_entry **tokens = mem_set_sorted(&m->tokens, mem_entry_cmp_key);
	size_t n = m->tokens.n;
	int out = 0;

	for (size_t i = 0; out == 0 && i < n; i++) {
		const struct mem_token *t = (const struct mem_token *)tokens[i];
		out = fn(ctx, &(struct state_token){t->e.key, t->role, t->hash, t->created_ms});
	}
	free(tokens);
	return out;
}

int mem_state_list_audit(struct state *s, const struct state_audit_query *q, state_audit_fn fn, void *ctx)
{
	struct mem_store *m = mem_state_store(s);
	int out = 0, n = 0;

	for (size_t i = m->n_audit; out == 0 && n < q->limit && i-- > 0;) {
		const struct state_audit *a = m->audit[i];
		if ((q->before_id && a->id >= q->before_id) || a->time_ms < q->since_ms ||
		    (q->job && (a->job == NULL || strcmp(a->job, q->job) != 0)))
			continue;
		n++;
		out = fn(ctx, a);
	}
	return out;
}
