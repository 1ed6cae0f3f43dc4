#include "util/clock.h"

#include <stddef.h>
#include <time.h>

int64_t clock_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t clock_now(struct clock *c)
{
	return c->ops->now_ms(c);
}

uint64_t clock_mono_ns(struct clock *c)
{
	return c->ops->mono_ns(c);
}

struct clock_timer *clock_timer_new(struct clock *c, clock_timer_fn fn, void *ctx)
{
	return c->ops->timer_new(c, fn, ctx);
}

void clock_timer_start(struct clock_timer *t, uint64_t delay_ms)
{
	t->ops->timer_start(t, delay_ms);
}

void clock_timer_stop(struct clock_timer *t)
{
	t->ops->timer_stop(t);
}

bool clock_timer_active(const struct clock_timer *t)
{
	return t->ops->timer_active(t);
}

void clock_timer_free(struct clock_timer *t)
{
	if (t)
		t->ops->timer_free(t);
}
