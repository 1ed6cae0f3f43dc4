/* Read-only questions the API asks the engine: a job's next fire time, the next fires of all jobs, the runs in
 * progress. Nothing here changes state. */
#include <stddef.h>
#include <stdint.h>

#include <stdlib.h>

#include "job/job.h"
#include "scheduler/engine_internal.h"
#include "scheduler/registry.h"
#include "util/clock.h"
#include "util/container.h"
#include "util/xmalloc.h"

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
	uint32_t *pos;
	size_t n, cap;
};

static bool before(const struct heap *h, uint32_t a, uint32_t b)
{
	return heap_node_before(h->items[a], h->items[b]);
}

static void frontier_push(struct frontier *f, const struct heap *h, uint32_t p)
{
	size_t i = f->n++;
	if (f->n > f->cap) {
		f->cap = f->cap ? 2 * f->cap : 64;
		f->pos = xrealloc(f->pos, f->cap * sizeof(*f->pos));
	}
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
	struct frontier f = {0};
	size_t k = 0;

	if (n > UPCOMING_MAX)
		n = UPCOMING_MAX;
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
	free(f.pos);
	return k;
}

#define FIRES_BATCH 16
#define FIRES_SCAN 50000     /* fires from now looked through for one job, to reach a window ahead */
#define FIRES_WORK 1000000   /* fire times computed for one engine_fires() */

/* A job's fires from lo on, as many as fit out (n): how many, or < 0. An endless schedule whose grid the engine
 * follows is asked from lo straight away; any other is listed from now (the engine's next slots) until past lo. */
static int job_fires(struct engine *e, const struct jobrec *rec, int64_t lo, int64_t *out, int n, int64_t *work)
{
	const struct schedule *s = &rec->rt->sched;
	int64_t first, again, *at = NULL;
	int got, k = 0, ask;

	if (!rec->rt->has_sched || rec->job->disabled)
		return 0;
	if (lo > clock_now(e->clock) && schedule_repeat(s) == SCHEDULE_REPEAT_INFINITE && !schedule_period_is_zero(s) &&
	    engine_job_next_fires(e, rec, &first, 1) == 1 && first < lo &&
	    schedule_next_n(e->zones, s, first - 1, &again, 1) == 1 && again == first) {
		*work -= n;
		return schedule_next_n(e->zones, s, lo - 1, out, n);
	}
	for (ask = n + 1;; ask = ask > FIRES_SCAN / 4 ? FIRES_SCAN : ask * 4) {
		free(at);
		at = xcalloc((size_t)ask, sizeof(*at));
		*work -= ask;
		if ((got = engine_job_next_fires(e, rec, at, ask)) < 0) {
			free(at);
			return got;
		}
		if (got < ask || at[got - 1] >= lo || ask >= FIRES_SCAN || *work <= 0)
			break;
	}
	for (int i = 0; i < got && k < n; i++)
		if (at[i] >= lo)
			out[k++] = at[i];
	free(at);
	return k;
}

/* A job's fires in the window being merged: at[i] is its next one. */
struct cursor {
	const struct jobrec *rec;
	int64_t *at;
	int i, got, asked;
};

static void cursors_down(struct cursor *c, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < n && c[l].at[c[l].i] < c[m].at[c[m].i])
			m = l;
		if (r < n && c[r].at[c[r].i] < c[m].at[c[m].i])
			m = r;
		if (m == i)
			return;
		struct cursor t = c[i];
		c[i] = c[m];
		c[m] = t;
		i = m;
	}
}

static void cursors_push(struct cursor **c, size_t *n, size_t *cap, struct cursor x)
{
	size_t i = (*n)++;
	if (*n > *cap) {
		*cap = *cap ? 2 * *cap : 64;
		*c = xrealloc(*c, *cap * sizeof(**c));
	}
	(*c)[i] = x;
	while (i > 0 && (*c)[i].at[(*c)[i].i] < (*c)[(i - 1) / 2].at[(*c)[(i - 1) / 2].i]) {
		struct cursor t = (*c)[i];
		(*c)[i] = (*c)[(i - 1) / 2];
		(*c)[(i - 1) / 2] = t;
		i = (i - 1) / 2;
	}
}

/* Fill a cursor's fires (from its index on, asked in all): false when none is left in the window. */
static int cursor_fill(struct engine *e, struct cursor *c, int64_t lo, int64_t hi, int64_t *work)
{
	c->at = xrealloc(c->at, (size_t)c->asked * sizeof(*c->at));
	c->got = job_fires(e, c->rec, lo, c->at, c->asked, work);
	if (c->got < 0)
		return c->got;
	return c->i < c->got && c->at[c->i] <= hi;
}

int engine_fires(struct engine *e, const struct engine_fires_query *q)
{
	const struct heap *h = &e->jobs;
	struct frontier f = {0};
	struct cursor *m = NULL;
	size_t mn = 0, mcap = 0, emitted = 0;
	int64_t work = FIRES_WORK;
	int rc = 0;

	if (h->n > 0 && h->items[0]->key <= q->to)
		frontier_push(&f, h, 0);
	/* A merge in time order of the jobs' fires: a job joins when the heap walk (its next fire; no fire of it is
	 * earlier) reaches the soonest fire already taken; subtrees whose next fire is after the window are left. */
	while (rc == 0 && (f.n > 0 || mn > 0)) {
		int64_t ft = f.n ? h->items[f.pos[0]]->key : INT64_MAX, mt = mn ? m[0].at[m[0].i] : INT64_MAX;
		if (ft <= mt) {
			uint32_t p = frontier_pop(&f, h);
			struct cursor c = {.rec = registry_rt_rec(container_of(h->items[p], struct job_rt, fire)),
				.asked = FIRES_BATCH};
			for (uint32_t k = 2 * p + 1; k <= 2 * p + 2; k++)
				if (k < h->n && h->items[k]->key <= q->to)
					frontier_push(&f, h, k);
			if (!q->want(q->ctx, c.rec))
				continue;
			if ((rc = cursor_fill(e, &c, q->from, q->to, &work)) > 0) {
				cursors_push(&m, &mn, &mcap, c);
				rc = 0;
			} else
				free(c.at);
		} else if (emitted == q->max) {
			rc = 1;
		} else if ((rc = q->fire(q->ctx, m[0].rec, mt)) == 0) {
			emitted++;
			if (++m[0].i == m[0].got && m[0].got == m[0].asked) {
				m[0].asked = m[0].asked * 4 > (int)q->max + 1 ? (int)q->max + 1 : m[0].asked * 4;
				rc = cursor_fill(e, &m[0], q->from, q->to, &work);
			} else
				rc = m[0].i < m[0].got && m[0].at[m[0].i] <= q->to;
			if (rc < 0)
				break;
			if (rc == 0) {
				free(m[0].at);
				m[0] = m[--mn];
			}
			rc = 0;
			cursors_down(m, mn, 0);
		}
		if (rc == 0 && work <= 0)
			rc = 1;
	}
	for (size_t i = 0; i < mn; i++)
		free(m[i].at);
	free(m);
	free(f.pos);
	return rc;
}

void engine_foreach_run(const struct engine *e, void (*fn)(void *ctx, const struct run_record *r), void *ctx)
{
	for (const struct run *r = e->all; r; r = r->all_next)
		fn(ctx, &r->rec);
}
