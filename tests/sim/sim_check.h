/* What a simulation run found wrong: the first violation's text, and how many there were. */
#ifndef GNOMON_SIM_CHECK_H
#define GNOMON_SIM_CHECK_H

#include <stdint.h>

struct sim_check {
	int64_t violations;
	int64_t at_ms;      /* simulated time of the first */
	char first[1024];
	int64_t (*now)(void *ctx);
	void *now_ctx;
};

/* Record a broken invariant (printed at once when it is the first). */
void sim_violation(struct sim_check *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
