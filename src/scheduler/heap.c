#include "scheduler/heap.h"

#include <stdbool.h>
#include <stdlib.h>

#include "util/xmalloc.h"

void heap_init(struct heap *h)
{
	h->items = NULL;
	h->n = h->cap = 0;
	h->next_seq = 0;
}

void heap_free(struct heap *h)
{
	for (uint32_t i = 0; i < h->n; i++)
		h->items[i]->index = HEAP_NONE;
	free(h->items);
	heap_init(h);
}

void heap_node_init(struct heap_node *node)
{
	node->key = 0;
	node->seq = 0;
	node->index = HEAP_NONE;
}

bool heap_node_before(const struct heap_node *a, const struct heap_node *b)
{
	return a->key < b->key || (a->key == b->key && (int32_t)(a->seq - b->seq) < 0);
}


static void place(struct heap *h, uint32_t i, struct heap_node *node)
{
	h->items[i] = node;
	node->index = i;
}

static void sift_up(struct heap *h, uint32_t i)
{
	struct heap_node *node = h->items[i];
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!heap_node_before(node, h->items[parent]))
			break;
		place(h, i, h->items[parent]);
		i = parent;
	}
	place(h, i, node);
}

static void sift_down(struct heap *h, uint32_t i)
{
	struct heap_node *node = h->items[i];
	for (;;) {
		uint32_t child = 2 * i + 1;
		if (child >= h->n)
			break;
		if (child + 1 < h->n && heap_node_before(h->items[child + 1], h->items[child]))
			child++;
		if (!heap_node_before(h->items[child], node))
			break;
		place(h, i, h->items[child]);
		i = child;
	}
	place(h, i, node);
}

void heap_set(struct heap *h, struct heap_node *node, int64_t key)
{
	if (node->index != HEAP_NONE) {
		int64_t old = node->key;
		node->key = key;
		if (key < old)
			sift_up(h, node->index);
		else
			sift_down(h, node->index);
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->items = xrealloc(h->items, h->cap * sizeof(*h->items));
	}
	node->key = key;
	node->seq = h->next_seq++;
	place(h, h->n++, node);
	sift_up(h, node->index);
}

void heap_remove(struct heap *h, struct heap_node *node)
{
	uint32_t i = node->index;
	if (i == HEAP_NONE)
		return;
	node->index = HEAP_NONE;
	if (--h->n == i)
		return;
	place(h, i, h->items[h->n]);
	sift_down(h, i);
	sift_up(h, h->items[i]->index);
}

struct heap_node *heap_min(const struct heap *h)
{
	return h->n ? h->items[0] : NULL;
}

struct heap_node *heap_pop(struct heap *h)
{
	struct heap_node *top = heap_min(h);
	if (top)
		heap_remove(h, top);
	return top;
}
