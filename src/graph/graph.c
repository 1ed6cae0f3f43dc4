/* The DAG's nodes and edges, paths and cycles, reachability. */
#include "graph/graph.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

struct graph {
	graph_name_fn name;
	uint32_t generation;
};

struct graph *graph_new(graph_name_fn name)
{
	struct graph *g = xcalloc(1, sizeof(*g));
	g->name = name;
	return g;
}

void graph_free(struct graph *g)
{
	free(g);
}

void graph_node_init(struct graph_node *n)
{
	memset(n, 0, sizeof(*n));
}

/* Edges change rarely: the array is sized exactly, which keeps an idle job's node small. */
static void insert(struct graph_node *n, uint32_t at, struct graph_node *x)
{
	uint32_t total = n->nparents + n->nchildren;
	n->edges = xrealloc(n->edges, (total + 1) * sizeof(*n->edges));
	memmove(&n->edges[at + 1], &n->edges[at], (total - at) * sizeof(*n->edges));
	n->edges[at] = x;
}

/* Remove x from edges [from, from + *count) of n; false when it is not there. */
static bool drop(struct graph_node *n, uint32_t from, uint32_t *count, const struct graph_node *x)
{
	uint32_t total = n->nparents + n->nchildren;
	for (uint32_t i = from; i < from + *count; i++) {
		if (n->edges[i] == x) {
			memmove(&n->edges[i], &n->edges[i + 1], (total - i - 1) * sizeof(*n->edges));
			(*count)--;
			if (total == 1) {
				free(n->edges);
				n->edges = NULL;
			}
			return true;
		}
	}
	return false;
}

void graph_link(struct graph_node *parent, struct graph_node *child)
{
	if (parent == child)
		return;
	for (uint32_t i = 0; i < parent->nchildren; i++)
		if (graph_children(parent)[i] == child)
			return;
	insert(parent, parent->nparents + parent->nchildren, child);
	parent->nchildren++;
	insert(child, child->nparents, parent);
	child->nparents++;
}

void graph_unlink(struct graph_node *parent, struct graph_node *child)
{
	if (drop(parent, parent->nparents, &parent->nchildren, child))
		(void)drop(child, 0, &child->nparents, parent);
}

void graph_unlink_parents(struct graph_node *child)
{
	while (child->nparents > 0)
		graph_unlink(graph_parents(child)[child->nparents - 1], child);
}

void graph_unlink_all(struct graph_node *const *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(nodes[i]->edges);
		nodes[i]->edges = NULL;
		nodes[i]->nchildren = nodes[i]->nparents = 0;
	}
}

void graph_node_clear(struct graph_node *n)
{
	graph_unlink_parents(n);
	while (n->nchildren > 0)
		graph_unlink(n, graph_children(n)[n->nchildren - 1]);
}

struct frame {
	struct graph_node *node;
	uint32_t next;
};

/* Depth-first search along child (down) or parent edges with an explicit stack; stops at target (if any) with the
 * path on the stack. Returns the depth of the stack then (0: not found). */
static size_t search(struct graph *g, struct graph_node *start, const struct graph_node *target, bool down,
    struct frame **stackp, void (*fn)(void *ctx, struct graph_node *n), void *ctx)
{
	size_t depth = 0, cap = 64;
	struct frame *stack = xmalloc(cap * sizeof(*stack));

	g->generation++;
	start->mark = g->generation;
	stack[depth++] = (struct frame){start, 0};
	if (start == target)
		goto out;
	while (depth > 0) {
		struct frame *f = &stack[depth - 1];
		uint32_t n = down ? f->node->nchildren : f->node->nparents;
		if (f->next == n) {
			depth--;
			continue;
		}
		struct graph_node *c = (down ? graph_children(f->node) : graph_parents(f->node))[f->next++];
		if (c->mark == g->generation)
			continue;
		c->mark = g->generation;
		if (fn)
			fn(ctx, c);
		if (depth == cap) {
			cap *= 2;
			stack = xrealloc(stack, cap * sizeof(*stack));
		}
		stack[depth++] = (struct frame){c, 0};
		if (c == target)
			break;
	}
out:
	*stackp = stack;
	return depth;
}

bool graph_path(struct graph *g, struct graph_node *from, const struct graph_node *to, struct graph_node ***path,
    size_t *len)
{
	struct frame *stack;
	size_t depth = search(g, from, to, true, &stack, NULL, NULL);

	if (depth > 0 && path != NULL) {
		*path = xcalloc(depth, sizeof(**path));
		for (size_t i = 0; i < depth; i++)
			(*path)[i] = stack[i].node;
		*len = depth;
	}
	free(stack);
	return depth > 0;
}

bool graph_would_cycle(struct graph *g, struct graph_node *parent, struct graph_node *child, char *err,
    size_t errlen)
{
	struct graph_node **path;
	size_t len, used = 0;

	if (!graph_path(g, child, parent, &path, &len))
		return false;
	if (errlen > 0)
		err[0] = '\0';
	for (size_t i = 0; i < len && used < errlen; i++)
		used += (size_t)snprintf(err + used, errlen - used, "%s -> ", g->name(path[i]));
	if (used < errlen)
		snprintf(err + used, errlen - used, "%s", g->name(child));
	free(path);
	return true;
}

void graph_reachable(struct graph *g, struct graph_node *start, bool down,
    void (*fn)(void *ctx, struct graph_node *n), void *ctx)
{
	struct frame *stack;
	(void)search(g, start, NULL, down, &stack, fn, ctx);
	free(stack);
}
