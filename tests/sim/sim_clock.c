#include "sim_clock.h"

#include <stdlib.h>

#include "util/clock.h"
#include "util/xmalloc.h"

struct sim_timer;

struct sim_event {
	int64_t at;
	uint64_t seq;
	sim_event_fn fn;          /* NULL: a timer's firing */
	void *ctx;
	struct sim_timer *timer;
	uint64_t gen;             /* the timer's start this firing belongs to */
};

struct sim_timer {
	struct clock_timer base;
	struct sim_clock *c;
	clock_timer_fn fn;
	void *ctx;
	uint64_t gen;             /* bumped by every start, stop and free: older firings are void */
	bool active;
	bool freed;
	struct sim_timer *next;   /* every timer made, freed with the clock */
};

struct sim_clock {
	struct clock base;
	int64_t now;
	uint64_t seq;
	uint64_t steps;
	struct sim_event *heap;
	size_t n, cap;
	struct sim_timer *timers;
};

static bool before(const struct sim_event *a, const struct sim_event *b)
{
	return a->at < b->at || (a->at == b->at && a->seq < b->seq);
}

static void push(struct sim_clock *c, struct sim_event ev)
{
	size_t i;
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 64;
		c->heap = xrealloc(c->heap, c->cap * sizeof(*c->heap));
	}
	ev.seq = c->seq++;
	i = c->n++;
	while (i > 0 && before(&ev, &c->heap[(i - 1) / 2])) {
		c->heap[i] = c->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	c->heap[i] = ev;
}

static struct sim_event pop(struct sim_clock *c)
{
	struct sim_event top = c->heap[0], last = c->heap[--c->n];
	size_t i = 0;
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		const struct sim_event *best = &last;
		if (l < c->n && before(&c->heap[l], best)) {
			m = l;
			best = &c->heap[l];
		}
		if (l + 1 < c->n && before(&c->heap[l + 1], best))
			m = l + 1;
		if (m == i)
			break;
		c->heap[i] = c->heap[m];
		i = m;
	}
	if (c->n > 0)
		c->heap[i] = last;
	return top;
}

static int64_t sc_now_ms(struct clock *base)
{
	return ((struct sim_clock *)(void *)base)->now;
}

static uint64_t sc_mono_ns(struct clock *base)
{
	return (uint64_t)((struct sim_clock *)(void *)base)->now * 1000000u;
}

static void st_start(struct clock_timer *base, uint64_t delay_ms)
{
	struct sim_timer *t = (struct sim_timer *)(void *)base;
	t->gen++;
	t->active = true;
	push(t->c, (struct sim_event){.at = t->c->now + (int64_t)delay_ms, .timer = t, .gen = t->gen});
}

static void st_stop(struct clock_timer *base)
{
	struct sim_timer *t = (struct sim_timer *)(void *)base;
	t->gen++;
	t->active = false;
}

static bool st_active(const struct clock_timer *base)
{
	return ((const struct sim_timer *)(const void *)base)->active;
}

static void st_free(struct clock_timer *base)
{
	struct sim_timer *t = (struct sim_timer *)(void *)base;
	st_stop(base);
	t->freed = true;
}

static struct clock_timer *st_new(struct clock *base, clock_timer_fn fn, void *ctx);

static const struct clock_ops sim_ops = {
	.now_ms = sc_now_ms,
	.mono_ns = sc_mono_ns,
	.timer_new = st_new,
	.timer_start = st_start,
	.timer_stop = st_stop,
	.timer_active = st_active,
	.timer_free = st_free,
};

static struct clock_timer *st_new(struct clock *base, clock_timer_fn fn, void *ctx)
{
	struct sim_clock *c = (struct sim_clock *)(void *)base;
	struct sim_timer *t = xcalloc(1, sizeof(*t));
	t->base.ops = &sim_ops;
	t->c = c;
	t->fn = fn;
	t->ctx = ctx;
	t->next = c->timers;
	c->timers = t;
	return &t->base;
}

struct sim_clock *sim_clock_new(int64_t start_ms)
{
	struct sim_clock *c = xcalloc(1, sizeof(*c));
	c->base.ops = &sim_ops;
	c->now = start_ms;
	return c;
}

void sim_clock_free(struct sim_clock *c)
{
	if (c == NULL)
		return;
	while (c->timers) {
		struct sim_timer *t = c->timers;
		c->timers = t->next;
		free(t);
	}
	free(c->heap);
	free(c);
}

struct clock *sim_clock_base(struct sim_clock *c)
{
	return &c->base;
}

int64_t sim_clock_now(const struct sim_clock *c)
{
	return c->now;
}

void sim_clock_post(struct sim_clock *c, int64_t delay_ms, sim_event_fn fn, void *ctx)
{
	push(c, (struct sim_event){.at = c->now + (delay_ms > 0 ? delay_ms : 0), .fn = fn, .ctx = ctx});
}

bool sim_clock_step(struct sim_clock *c, int64_t until_ms)
{
	while (c->n > 0 && c->heap[0].at <= until_ms) {
		struct sim_event ev = pop(c);
		if (ev.fn == NULL && (ev.timer->freed || ev.gen != ev.timer->gen))
			continue; /* a firing a later start, a stop or a free made void */
		c->now = ev.at;
		c->steps++;
		if (ev.fn) {
			ev.fn(ev.ctx);
		} else {
			ev.timer->active = false;
			ev.timer->fn(ev.timer->ctx);
		}
		return true;
	}
	if (until_ms > c->now)
		c->now = until_ms;
	return false;
}

uint64_t sim_clock_steps(const struct sim_clock *c)
{
	return c->steps;
}
