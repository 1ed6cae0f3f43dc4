/* The simulation's state backend (state/state.h): the real SQLite backend behind a wrapper that holds each
 * transaction's writes and commits them later, as a backend over the network does: after a random simulated
 * delay (or at once, as SQLite does, for one commit in three), in the order they were made, and fails one now and
 * then (nothing of it is applied; the engine is told through the commit's callback). When the leader goes away
 * (sim_state_fence), the commits still in flight fail, as a newer epoch's fencing makes them fail in PostgreSQL.
 * A claim sees the writes in flight, as a backend's unique key would. */
#ifndef GNOMON_SIM_STATE_H
#define GNOMON_SIM_STATE_H

#include <stdbool.h>
#include <stdint.h>

struct history;
struct sim_clock;
struct sim_rng;
struct state;

struct sim_state_config {
	int64_t max_delay_ms; /* a commit completes within this (simulated) */
	double p_fail;        /* a commit fails */
};

/* Over inner (borrowed; its history is history, for the claims' checks). */
struct state *sim_state_new(struct state *inner, struct history *history, struct sim_clock *clock,
    struct sim_rng *rng, const struct sim_state_config *cfg);
/* Fail every commit still in flight (-ESTALE): the engine that made them stopped. */
void sim_state_fence(struct state *s);
/* Whether a commit is in flight. */
bool sim_state_in_flight(const struct state *s);
/* Commits that completed later than they were made, and commits failed (injected or fenced). */
uint64_t sim_state_delayed(const struct state *s);
uint64_t sim_state_failed(const struct state *s);

#endif
