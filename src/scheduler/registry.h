/* The in-memory set of jobs the loop thread owns: lookup by name, listing in creation order, and the
 * dependency edges between them (a graph/graph.h node in each record) with cycle detection. */
#ifndef GNOMON_SCHEDULER_REGISTRY_H
#define GNOMON_SCHEDULER_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "graph/graph.h"

struct job;
struct job_rt;
struct registry;

/* Room every record has, right after it, for the engine's runtime state of its job (struct job_rt, private to
 * src/scheduler/engine*.c, whose engine_internal.h checks that it fits). */
#define REGISTRY_RT_BYTES 128

/* One job and what the registry knows about it. Records are allocated in blocks (one each under
 * AddressSanitizer, so that a use after free is caught); a removed one's memory is reused for the next. */
struct jobrec {
	struct job *job;           /* owned */
	struct graph_node node;    /* edges to the parents that exist and to the children (registry_rec() of each) */
	uint32_t order;            /* slot in the creation-order listing */
	struct job_rt *rt;         /* the engine's runtime state of the job, in the record's room for it, NULL while
	                            * no engine runs: private to src/scheduler/engine*.c (engine_internal.h); set up
	                            * and cleared through registry_set_runtime()'s hooks */
};

struct registry *registry_new(void);
/* Frees every job too. */
void registry_free(struct registry *reg);
size_t registry_count(const struct registry *reg);
struct jobrec *registry_get(const struct registry *reg, const char *name);
/* The record of a graph node (of a struct jobrec's node, its parents or its children). */
struct jobrec *registry_rec(const struct graph_node *n);
/* The record whose runtime state rt is. */
struct jobrec *registry_rt_rec(const struct job_rt *rt);
/* The dependency graph's traversal state (for graph_reachable() and the like). */
struct graph *registry_graph(struct registry *reg);

/* Give every record a runtime state: init_rt is called with rec->rt pointing at its zeroed room (for the records
 * there are now at once, for later ones as they are put), fini_rt before it is cleared (when the record is
 * freed, or at the next call). The previous hooks' fini_rt runs first on every record, so an engine that stops
 * (NULL hooks: rec->rt is NULL) leaves nothing for the next one. The engine's (engine_new(), engine_stop()). */
void registry_set_runtime(struct registry *reg, void (*init_rt)(void *ctx, struct jobrec *rec),
    void (*fini_rt)(void *ctx, struct jobrec *rec), void *ctx);
/* Add a job or replace the job of the same name (which keeps its place in the listing), taking ownership of
 * job, and wire its parent edges to the parents that exist. Returns its record. */
struct jobrec *registry_put(struct registry *reg, struct job *job);
/* Remove and free a job; its parents forget it. Its children must have been re-parented first. */
void registry_remove(struct registry *reg, const char *name);
/* Remove and free every job (before loading them again: HA, when another server may have changed them). */
void registry_clear(struct registry *reg);
/* Rebuild every parent edge from the jobs' parent lists (after loading). Returns how many parent names were
 * not found. */
size_t registry_relink(struct registry *reg);

/* Check the parents a job would have: each must exist, not be the job itself, and not make a cycle.
 * Returns 0, or -EINVAL with a message naming the offending jobs. */
int registry_check_parents(struct registry *reg, const struct job *job, char *err, size_t errlen)
    __attribute__((warn_unused_result));

/* Creation-order listing: slots 0..registry_slots()-1, some of them empty (NULL) after removals. Slots keep
 * their index while any listing is held, so a streamed listing survives removals. */
size_t registry_slots(const struct registry *reg);
struct jobrec *registry_slot(const struct registry *reg, size_t i);
void registry_hold(struct registry *reg);
void registry_release(struct registry *reg);

#endif
