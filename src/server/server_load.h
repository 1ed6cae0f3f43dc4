/* Loading the stored jobs into the registry at start-up, the JSON parsed on every core: parsing is most of a
 * restart's time (100,000 jobs: about a second on one core). Runs before the event loop starts; the worker
 * threads only parse rows into their own slots, the calling thread alone touches the registry. */
#ifndef GNOMON_SERVER_SERVER_LOAD_H
#define GNOMON_SERVER_SERVER_LOAD_H

#include <stddef.h>
#include <stdint.h>

struct job_defaults;
struct registry;
struct state;

struct load_result {
	size_t loaded;
	size_t failed; /* rows that could not be read as a job: logged and skipped */
};

/* Put every stored job into reg, in creation order, with what its state holds over its definition (the schedule
 * as its firings moved it on, its counters). Returns 0 or -EIO. */
int server_load_jobs(struct state *state, struct registry *reg, const struct job_defaults *defaults, int64_t now_ms,
    struct load_result *out) __attribute__((warn_unused_result));

/* The same for one job (a follower's, for a job changed): put into reg, replacing the one of its name. Returns 0
 * or -EIO (it cannot be read: logged). */
struct state_job;
int server_load_one(const struct state_job *job, struct registry *reg, const struct job_defaults *defaults,
    int64_t now_ms) __attribute__((warn_unused_result));

#endif
