/* The real clock (util/clock.h): CLOCK_REALTIME for the wall clock, uv_hrtime() for the monotonic one, and timers
 * on a libuv loop. Its timers run on the loop's thread. */
#ifndef GNOMON_UTIL_CLOCK_UV_H
#define GNOMON_UTIL_CLOCK_UV_H

#include <uv.h>

struct clock;

/* A clock whose timers run on loop (borrowed). Free it after every timer it made has been freed. */
struct clock *clock_uv_new(uv_loop_t *loop);
void clock_uv_free(struct clock *c);

#endif
