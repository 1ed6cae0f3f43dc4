/* Pure: the dependency DAG of the jobs and the fan-in rounds of dependent jobs. No I/O, no clock, no job model:
 * the owner embeds a struct graph_node in each of its records (the registry's struct jobrec) and names nodes
 * through a callback. Edges point from a parent to a child; both directions are kept, in the order they were
 * linked. */
#ifndef GNOMON_GRAPH_GRAPH_H
#define GNOMON_GRAPH_GRAPH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct graph;

/* A node, embedded in its owner's record. Outsiders read children/parents; only graph_* functions change them. */
struct graph_node {
	struct graph_node **edges;    /* owned array: the nparents parents in the order they were linked, then the
	                               * nchildren children (graph_parents(), graph_children()) */
	uint32_t nparents, nchildren;
	uint32_t mark;                /* traversal generation, private to the graph */
};

/* A node's parents (nparents of them) and children (nchildren). */
static inline struct graph_node *const *graph_parents(const struct graph_node *n)
{
	return n->edges;
}
static inline struct graph_node *const *graph_children(const struct graph_node *n)
{
	return n->edges + n->nparents;
}

/* The name of a node, for messages (borrowed from its owner). */
typedef const char *(*graph_name_fn)(const struct graph_node *n);

/* The traversal state shared by the nodes of one graph; free with graph_free. */
struct graph *graph_new(graph_name_fn name);
void graph_free(struct graph *g);

void graph_node_init(struct graph_node *n);
/* Unlink n from its parents and its children and free its arrays (n may then be freed). */
void graph_node_clear(struct graph_node *n);

/* Add the edge parent -> child (nothing when it exists or parent == child). */
void graph_link(struct graph_node *parent, struct graph_node *child);
/* Remove the edge parent -> child, if any. */
void graph_unlink(struct graph_node *parent, struct graph_node *child);
/* Remove every edge into child. */
void graph_unlink_parents(struct graph_node *child);
/* Remove every edge of every node given (before relinking them all). */
void graph_unlink_all(struct graph_node *const *nodes, size_t n);

/* Whether to is reachable from from by child edges (from itself counts). When it is and path is not NULL,
 * *path is the malloc'd path from -> ... -> to (*len nodes; the caller frees it). Iterative: deep chains cannot
 * overflow the C stack. */
bool graph_path(struct graph *g, struct graph_node *from, const struct graph_node *to, struct graph_node ***path,
    size_t *len);
/* Whether the edge parent -> child would close a cycle (child already reaches parent, or they are one node).
 * When it would, err names the cycle from child back to child: "a -> b -> c -> a". */
bool graph_would_cycle(struct graph *g, struct graph_node *parent, struct graph_node *child, char *err,
    size_t errlen);
/* Call fn once for every node reachable from start (start excluded) by child edges (down) or parent edges. */
void graph_reachable(struct graph *g, struct graph_node *start, bool down,
    void (*fn)(void *ctx, struct graph_node *n), void *ctx);
/* A dependent job's fan-in round: the parents (by name) that succeeded since it last ran, each with the task id
 * of its run. Zero-initialised is empty. */
struct graph_round_entry {
	char *parent;  /* owned */
	char *task_id; /* owned */
};
struct graph_round {
	struct graph_round_entry *v;
	uint32_t n;
};

/* parent succeeded with task_id in this round (a later success of the same parent replaces it). */
void graph_round_set(struct graph_round *r, const char *parent, const char *task_id);
/* The task id parent succeeded with in this round, NULL when it has not. */
const char *graph_round_task_id(const struct graph_round *r, const char *parent);
/* Whether every one of the n parents has succeeded in this round. */
bool graph_round_complete(const struct graph_round *r, const char *const *parents, size_t n);
/* The task ids of the parents in this round, in the order given, comma-separated (parents not in the round are
 * left out); the caller frees it. */
char *graph_round_task_ids(const struct graph_round *r, const char *const *parents, size_t n);
/* Start a new round: forget every entry. */
void graph_round_reset(struct graph_round *r);
/* Forget the entries of parents not among the n given, calling gone(ctx, parent) for each before it goes. */
void graph_round_keep(struct graph_round *r, const char *const *parents, size_t n,
    void (*gone)(void *ctx, const char *parent), void *ctx);

#endif
