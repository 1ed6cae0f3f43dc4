/* The simulation's runner (runner/runner.h): tasks that take a random time and end as chance says (success, a
 * failure, a hang until their deadline or a kill, lost with their agent), events posted on the simulated clock,
 * ends kept while no engine listens. It also checks what a runner can see of the engine: every task it is asked
 * to start was claimed and committed in the store first, no task id starts twice, an attempt starts only after
 * the previous attempt of its slot failed (not after one that was killed or succeeded), and no attempt goes past
 * its job's retries. Like a fleet of agents, it places tasks on simulated agents (named in the events), some
 * tasks wait for room first (and are skipped when they wait past their start_by_ms), and some reconciliations are
 * answered only after a while, as agents come back and report (ends that came meanwhile are reported then). */
#ifndef GNOMON_SIM_RUNNER_H
#define GNOMON_SIM_RUNNER_H

#include <stdint.h>

struct runner;
struct sim_check;
struct sim_clock;
struct sim_rng;
struct state;
struct history;

struct sim_runner_config {
	double p_fail;      /* a task exits 1 */
	double p_hang;      /* a task runs until killed (or its deadline) */
	double p_lost;      /* a task is lost (its agent died) */
	double p_refuse;    /* a start is refused */
	double p_wait;      /* a start waits for an agent first (WAITING, then STARTING, or skipped past start_by) */
	double p_late;      /* a reconciliation is answered late: its agents come back after a while */
	int64_t max_ms;     /* longest ordinary duration */
	/* The retries allowed to a job's slot (its `retries`), -1 when the job is unknown. */
	int (*retries_of)(void *ctx, const char *job);
	void *ctx;
};

/* state and history: what is committed (the backend under the simulation's delays), read for the checks. */
struct runner *sim_runner_new(struct sim_clock *clock, struct sim_rng *rng, struct sim_check *check,
    struct state *state, struct history *history, const struct sim_runner_config *cfg);
/* Tasks started so far, and how many of them are still running. */
uint64_t sim_runner_started(const struct runner *r);
uint64_t sim_runner_running(const struct runner *r);

#endif
