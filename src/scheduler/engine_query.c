/* Read-only questions the API asks the engine: a job's next fire time, the next fires of all jobs, the runs in
 * progress. Nothing here changes state. */
#include <stddef.h>
#include <stdint.h>

#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "util/container.h"

#define UPCOMING_MAX 1000

int64_t engine_job_next_fire(const struct jobrec *rec)
{
	if (rec->rt == NULL)
		return INT64_MAX; /* no engine runs here (this server does not lead) */
	return rec->rt->fire.index != HEAP_NONE ? rec->rt->fire.key : INT64_MAX;
}

void engine_job_load(const struct jobrec *rec, uint32_t *running, uint32_t *queued)
{
	if (rec->rt == NULL) {
		*running = *queued = 0;
		return;
	}
	*running = rec->rt->running;
	*queued = rec->rt->queued + (rec->rt->pending ? 1 : 0);
}

const struct schedule *engine_job_schedule(const struct jobrec *rec)
{
	return rec->rt && rec->rt->has_sched ? &rec->rt->sched : NULL;
}

/* Heap positions ordered by their nodes' (key, seq): the frontier of a best-first walk of the jobs heap. */
struct frontier {
	uint32_t pos[2 * UPCOMING_MAX + 2];
	size_t n;
};

static bool before(const struct heap *h, uint32_t a, uint32_t b)
{
	return heap_node_before(h->items[a], h->items[b]);
}

static void frontier_push(struct frontier *f, const struct heap *h, uint32_t p)
{
	size_t i = f->n++;
	f->pos[i] = p;
	while (i > 0 && before(h, f->pos[i], f->pos[(i - 1) / 2])) {
		uint32_t t = f->pos[i];
		f->pos[i] = f->pos[(i - 1) / 2];
		f->pos[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

static uint32_t frontier_pop(struct frontier *f, const struct heap *h)
{
	uint32_t top = f->pos[0];
	size_t i = 0;

	f->pos[0] = f->pos[--f->n];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < f->n && before(h, f->pos[l], f->pos[m]))
			m = l;
		if (r < f->n && before(h, f->pos[r], f->pos[m]))
			m = r;
		if (m == i)
			break;
		uint32_t t = f->pos[i];
		f->pos[i] = f->pos[m];
		f->pos[m] = t;
		i = m;
	}
	return top;
}

size_t engine_upcoming(const struct engine *e, size_t n, struct jobrec **recs, int64_t *at)
{
	const struct heap *h = &e->jobs;
	struct frontier f;
	size_t k = 0;

	if (n > UPCOMING_MAX)
		n = UPCOMING_MAX;
	f.n = 0;
	if (h->n > 0)
		frontier_push(&f, h, 0);
	/* The heap's k smallest are a connected top of the tree: walk it in order, children joining as parents go. */
	while (k < n && f.n > 0) {
		uint32_t p = frontier_pop(&f, h);
		recs[k] = registry_rt_rec(container_of(h->items[p], struct job_rt, fire));
		at[k++] = h->items[p]->key;
		if (2 * p + 1 < h->n)
			frontier_push(&f, h, 2 * p + 1);
		if (2 * p + 2 < h->n)
			frontier_push(&f, h, 2 * p + 2);
	}
	return k;
}

void engine_foreach_run(const struct engine *e, void (*fn)(void *ctx, const struct run_record *r), void *ctx)
{
	for (const struct run *r = e->all; r; r = r->all_next)
		fn(ctx, &r->rec);
}
