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
	struct heap_node *n, *prev = NULL;
	while ((n = heap_pop(&h)) != NULL) {
		assert_true(n->key > last || (n->key == last && heap_node_before(prev, n)));
		assert_int_equal(n->index, HEAP_NONE);
		last = n->key;
		prev = n;
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

/* Ties stay in insertion order when the sequence wraps around. */
static void test_ties_fifo_across_wrap(void **state)
{
	struct heap_node n[4];
	struct heap h;

	(void)state;
	heap_init(&h);
	h.next_seq = UINT32_MAX - 1;
	for (int i = 0; i < 4; i++) {
		heap_node_init(&n[i]);
		heap_set(&h, &n[i], 7);
	}
	assert_int_equal(n[2].seq, 0);
	for (int i = 0; i < 4; i++)
		assert_ptr_equal(heap_pop(&h), &n[i]);
	heap_free(&h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_model),
		cmocka_unit_test(test_ties_fifo),
		cmocka_unit_test(test_ties_fifo_across_wrap),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
