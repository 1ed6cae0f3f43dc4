/* The simulation's one source of chance: splitmix64, seeded from the run's seed. */
#ifndef GNOMON_SIM_RNG_H
#define GNOMON_SIM_RNG_H

#include <stdint.h>

struct sim_rng {
	uint64_t s;
};

static inline uint64_t sim_rng_next(struct sim_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15u);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline int64_t sim_rng_range(struct sim_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(sim_rng_next(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability p. */
static inline int sim_rng_chance(struct sim_rng *r, double p)
{
	return (double)(sim_rng_next(r) >> 11) * (1.0 / 9007199254740992.0) < p;
}

#endif
