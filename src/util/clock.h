/* Time: wall-clock UTC epoch milliseconds (the one unit gnomon's records, schedules and task ids use), a
 * monotonic clock for measuring work, and one-shot timers. What decides by time (the engine) gets a struct clock
 * rather than reading the system's, so that the deterministic simulation runs it under simulated time:
 * clock_uv.h is the real one (CLOCK_REALTIME, libuv's timers), tests/sim has the simulated one. */
#ifndef GNOMON_UTIL_CLOCK_H
#define GNOMON_UTIL_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Now, from CLOCK_REALTIME: for code that is not under simulation (the API, the notifier, the CLI). */
int64_t clock_now_ms(void);

struct clock;
struct clock_timer;

typedef void (*clock_timer_fn)(void *ctx);

/* What a clock implements; see the functions below. */
struct clock_ops {
	int64_t (*now_ms)(struct clock *c);
	uint64_t (*mono_ns)(struct clock *c);
	struct clock_timer *(*timer_new)(struct clock *c, clock_timer_fn fn, void *ctx);
	void (*timer_start)(struct clock_timer *t, uint64_t delay_ms);
	void (*timer_stop)(struct clock_timer *t);
	bool (*timer_active)(const struct clock_timer *t);
	void (*timer_free)(struct clock_timer *t);
};

/* A clock's state starts with this, and so does each of its timers'. */
struct clock {
	const struct clock_ops *ops;
};
struct clock_timer {
	const struct clock_ops *ops;
};

/* Wall-clock now (UTC epoch ms). */
int64_t clock_now(struct clock *c);
/* A monotonic count of nanoseconds, for bounding how long a piece of work runs (simulated: it stands still while
 * a callback runs, so no work is ever cut short by the machine's speed). */
uint64_t clock_mono_ns(struct clock *c);
/* A stopped timer that calls fn(ctx) on the clock's thread (the loop's) when it fires. */
struct clock_timer *clock_timer_new(struct clock *c, clock_timer_fn fn, void *ctx);
/* Fire once, delay_ms from now (replacing an earlier start). 0: as soon as what is ready now has run (clock_uv:
 * on the loop's next turn, after its I/O), so a timer restarted with 0 from its own callback cannot starve the
 * loop. */
void clock_timer_start(struct clock_timer *t, uint64_t delay_ms);
void clock_timer_stop(struct clock_timer *t);
/* Started and not fired yet. */
bool clock_timer_active(const struct clock_timer *t);
/* Stop the timer and free it: fn is never called again (clock_uv frees the memory once libuv has closed its
 * handles: keep running the loop). NULL is fine. */
void clock_timer_free(struct clock_timer *t);

#endif
