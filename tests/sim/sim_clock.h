/* The simulation's clock (util/clock.h under simulated time): a queue of events in time order, run one at a time
 * by sim_clock_step(). Time moves only from one event to the next, and stands still while one runs; events due at
 * the same instant run in the order they were posted, so a run is a function of its seed alone. */
#ifndef GNOMON_SIM_CLOCK_H
#define GNOMON_SIM_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

struct clock;
struct sim_clock;

typedef void (*sim_event_fn)(void *ctx);

struct sim_clock *sim_clock_new(int64_t start_ms);
/* Frees every timer made and every event still queued (their ctx is not touched). */
void sim_clock_free(struct sim_clock *c);
/* The clock the engine gets. */
struct clock *sim_clock_base(struct sim_clock *c);
int64_t sim_clock_now(const struct sim_clock *c);
/* Run fn(ctx) delay_ms from now, after what is already queued for that instant. */
void sim_clock_post(struct sim_clock *c, int64_t delay_ms, sim_event_fn fn, void *ctx);
/* Run the earliest event that is due at or before until_ms, moving time to it; false when there is none (time is
 * then moved to until_ms). */
bool sim_clock_step(struct sim_clock *c, int64_t until_ms);
/* Events run so far. */
uint64_t sim_clock_steps(const struct sim_clock *c);

#endif
