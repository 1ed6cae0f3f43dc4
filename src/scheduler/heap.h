/* A binary min-heap of items keyed by (time, sequence): the sequence breaks ties in insertion order. Each item
 * records its position, so it can be updated or removed in O(log n). Items are borrowed, not freed. */
#ifndef GNOMON_SCHEDULER_HEAP_H
#define GNOMON_SCHEDULER_HEAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HEAP_NONE UINT32_MAX

/* Embed one in whatever is scheduled. */
struct heap_node {
	int64_t key;    /* e.g. a due time in ms */
	uint32_t seq;   /* insertion order, compared modulo 2^32 (ties more than 2^31 insertions apart may swap) */
	uint32_t index; /* position in the heap, HEAP_NONE when not in it */
};

struct heap {
	struct heap_node **items;
	uint32_t n, cap;
	uint32_t next_seq;
};

void heap_init(struct heap *h);
void heap_free(struct heap *h);
void heap_node_init(struct heap_node *node);
/* Does a come out of a heap before b (smaller key, or the same key inserted earlier)? */
bool heap_node_before(const struct heap_node *a, const struct heap_node *b);
/* Insert node with key, or move it to key if it is already in the heap. */
void heap_set(struct heap *h, struct heap_node *node, int64_t key);
void heap_remove(struct heap *h, struct heap_node *node);
/* The smallest node, or NULL when empty. */
struct heap_node *heap_min(const struct heap *h);
struct heap_node *heap_pop(struct heap *h);

#endif
