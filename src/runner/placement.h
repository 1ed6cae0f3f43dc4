/* Pure: which agent a task goes to, or why none can take it now (issue 12). No I/O, no clock, no libuv:
 * runner_remote calls it on the loop thread with a view of its agents that it builds and owns.
 *
 * - An agent fits a task when it is usable (not draining, not gone), its free resources (total - used, below 0
 *   read as 0) cover the need within PLACEMENT_EPSILON (a need of 0 always fits), and its attributes satisfy
 *   every constraint of the job.
 * - Constraints have Chronos's semantics (mesos/ConstraintChecker.scala), on text attributes: EQUALS is string
 *   equality; LIKE is a POSIX extended regex (regcomp REG_EXTENDED, as job_validate() accepts it) that must
 *   match the attribute's WHOLE text; UNLIKE is its negation. An absent attribute fails every op, UNLIKE too.
 *   `hostname` is a synthetic attribute holding the agent's hostname unless the agent has an attribute of its
 *   own named `hostname`; when a key repeats, the first one counts.
 * - Among the agents that fit, the one with the fewest running tasks wins, then the most free memory, then the
 *   lowest index: the choice is deterministic.
 * - When none fits, the reason is one short line for the run's `reason` field, naming what binds, in this
 *   order: an invalid constraint ("invalid constraint rack LIKE (: <regerror text>"); "no agents connected"
 *   (none, or all gone); "no agent is accepting tasks (2 draining)"; a constraint no usable agent satisfies
 *   (the first in the job's order: "no agent matches rack EQUALS b"), or "no agent matches all 3 constraints
 *   at once" when each is satisfied by some agent; a resource no matching agent has enough of (the first of
 *   cpus, memory, disk: "no agent has 4 cpus free (most free: 2.5 on a1)", "no agent matching the constraints
 *   has 2048 MiB of memory free (most free: 1024 MiB on a2)"), or the resources no agent has together ("no
 *   agent has 4 cpus and 2048 MiB of memory free at once"). When some agents are draining, the constraint and
 *   resource reasons say so: "... (most free: 2.5 on a1; 1 draining)", "no agent matches rack EQUALS b (1
 *   draining)". Numbers are
 *   printed with %.15g (4, 2.5, 0.3); constraint texts and agent names are clipped to 64 bytes.
 *
 * The caller keeps each agent's `used` and `running` current: placement_reserve() when it assigns a task (so a
 * batch placed in one turn of the loop does not overbook an agent), placement_release() when the task ends. */
#ifndef GNOMON_RUNNER_PLACEMENT_H
#define GNOMON_RUNNER_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PLACEMENT_EPSILON 1e-9  /* slack when comparing resources, against double drift */
#define PLACEMENT_REASON_MAX 320 /* a reason buffer this size never cuts a reason short */

/* cpus, and mem and disk in MiB: a job's need (its Chronos defaults already baked in by the job parser), or an
 * agent's amounts. */
struct placement_resources {
	double cpus;
	double mem;
	double disk;
};

struct placement_attr {
	const char *key;
	const char *value;
};

enum placement_state {
	PLACEMENT_USABLE,   /* connected and accepting tasks */
	PLACEMENT_DRAINING, /* drained by an operator: no new tasks, running ones finish */
	PLACEMENT_GONE,     /* disconnected or lost: never chosen */
};

/* An agent as placement sees it; every pointer is borrowed from the caller. */
struct placement_agent {
	const char *name;                    /* how reasons name it (the caller's choice: its id or its name) */
	const char *hostname;                /* the synthetic `hostname` attribute; NULL: none */
	const struct placement_attr *attrs;  /* n_attrs of them */
	size_t n_attrs;
	struct placement_resources total;
	struct placement_resources used;     /* by its tasks, running or assigned */
	uint32_t running;                    /* its tasks, running or assigned */
	enum placement_state state;
};

/* One of a job's `constraints`: [attribute, op, value] (the layout of the job model's struct job_constraint, so
 * that runner stays off job). */
struct placement_constraint {
	const char *attribute;
	const char *op;
	const char *value;
};

/* A job's constraints, compiled once (each LIKE/UNLIKE regex) and kept while its runs wait to be placed. It
 * copies what it needs: the job may change or go meanwhile. A compiled regex takes 1-3 KiB (glibc), so keep one
 * for a job with a run waiting, not for every idle job. */
struct placement_constraints;

/* Compile n constraints (n may be 0). Never fails: a constraint whose regex does not compile or whose op is not
 * EQUALS, LIKE or UNLIKE (the job API refuses both) matches no agent, and placement_choose() says why. Returns an
 * object the caller frees with placement_constraints_free(). */
struct placement_constraints *placement_constraints_new(const struct placement_constraint *v, size_t n);
void placement_constraints_free(struct placement_constraints *c);

/* Whether agent a satisfies every constraint of c (NULL: no constraints), whatever its state and resources. */
bool placement_matches(const struct placement_agent *a, const struct placement_constraints *c);

/* Choose among agents[0..n) the one to run a task needing `need` under constraints c (NULL: none). Returns 0
 * with its index in *chosen, or -EAGAIN when none fits now, with the reason in `reason` (see the top; cut to
 * reason_len, and reason may be NULL when reason_len is 0). */
int placement_choose(const struct placement_agent *agents, size_t n, const struct placement_resources *need,
    const struct placement_constraints *c, size_t *chosen, char *reason, size_t reason_len)
    __attribute__((warn_unused_result));

/* Count a task needing `need` on agent a: its resources used, one more running. */
void placement_reserve(struct placement_agent *a, const struct placement_resources *need);
/* Undo placement_reserve() when the task ends: used never goes below 0 (nor stays a hair above it), running
 * never below 0. */
void placement_release(struct placement_agent *a, const struct placement_resources *need);

#endif
