#include "util/clock_uv.h"

#include <stdlib.h>

#include "util/clock.h"
#include "util/container.h"
#include "util/xmalloc.h"

struct clock_uv {
	struct clock base;
	uv_loop_t *loop;
};

/* A delay of 0 waits on an idle handle rather than a 0 ms timer: libuv runs a timer started with 0 from a timer
 * callback again in the same pass, before any I/O. */
struct timer_uv {
	struct clock_timer base;
	uv_timer_t timer;
	uv_idle_t idle;
	clock_timer_fn fn;
	void *ctx;
	int open;             /* handles not closed yet */
};

static int64_t uv_clock_now_ms(struct clock *c)
{
	(void)c;
	return clock_now_ms();
}

static uint64_t uv_clock_mono_ns(struct clock *c)
{
	(void)c;
	return uv_hrtime();
}

static void on_timer(uv_timer_t *h)
{
	struct timer_uv *t = h->data;
	t->fn(t->ctx);
}

static void on_idle(uv_idle_t *h)
{
	struct timer_uv *t = h->data;
	uv_idle_stop(&t->idle);
	t->fn(t->ctx);
}

static void uv_timer_stop_both(struct clock_timer *base)
{
	struct timer_uv *t = container_of(base, struct timer_uv, base);
	uv_timer_stop(&t->timer);
	uv_idle_stop(&t->idle);
}

static void uv_clock_timer_start(struct clock_timer *base, uint64_t delay_ms)
{
	struct timer_uv *t = container_of(base, struct timer_uv, base);
	uv_timer_stop_both(base);
	if (delay_ms == 0)
		uv_idle_start(&t->idle, on_idle);
	else
		uv_timer_start(&t->timer, on_timer, delay_ms, 0);
}

static bool uv_clock_timer_active(const struct clock_timer *base)
{
	const struct timer_uv *t = (const struct timer_uv *)(const void *)base; /* base is its first member */
	return uv_is_active((const uv_handle_t *)&t->timer) || uv_is_active((const uv_handle_t *)&t->idle);
}

static void on_closed(uv_handle_t *h)
{
	struct timer_uv *t = h->data;
	if (--t->open == 0)
		free(t);
}

static void uv_clock_timer_free(struct clock_timer *base)
{
	struct timer_uv *t = container_of(base, struct timer_uv, base);
	uv_timer_stop_both(base);
	uv_close((uv_handle_t *)&t->timer, on_closed);
	uv_close((uv_handle_t *)&t->idle, on_closed);
}

static struct clock_timer *uv_clock_timer_new(struct clock *c, clock_timer_fn fn, void *ctx);

static const struct clock_ops uv_clock_ops = {
	.now_ms = uv_clock_now_ms,
	.mono_ns = uv_clock_mono_ns,
	.timer_new = uv_clock_timer_new,
	.timer_start = uv_clock_timer_start,
	.timer_stop = uv_timer_stop_both,
	.timer_active = uv_clock_timer_active,
	.timer_free = uv_clock_timer_free,
};

static struct clock_timer *uv_clock_timer_new(struct clock *c, clock_timer_fn fn, void *ctx)
{
	struct clock_uv *u = container_of(c, struct clock_uv, base);
	struct timer_uv *t = xcalloc(1, sizeof(*t));
	t->base.ops = &uv_clock_ops;
	t->fn = fn;
	t->ctx = ctx;
	uv_timer_init(u->loop, &t->timer);
	uv_idle_init(u->loop, &t->idle);
	t->timer.data = t->idle.data = t;
	t->open = 2;
	return &t->base;
}

struct clock *clock_uv_new(uv_loop_t *loop)
{
	struct clock_uv *u = xcalloc(1, sizeof(*u));
	u->base.ops = &uv_clock_ops;
	u->loop = loop;
	return &u->base;
}

void clock_uv_free(struct clock *c)
{
	if (c)
		free(container_of(c, struct clock_uv, base));
}
