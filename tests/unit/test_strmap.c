/* The string hash map against a trivially correct model, through inserts, replaces and removals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/strmap.h"

#define N 5000

static void test_model(void **state)
{
	static char keys[N][16];
	static int present[N];
	struct strmap *m = strmap_new();
	unsigned seed = 12345;
	size_t count = 0;
	(void)state;

	for (int i = 0; i < N; i++)
		snprintf(keys[i], sizeof(keys[i]), "job-%d", i);
	for (int step = 0; step < 200000; step++) {
		seed = seed * 1103515245u + 12345u;
		int k = (int)((seed >> 8) % N), op = (int)((seed >> 4) % 3);
		if (op < 2) {
			void *prev = strmap_put(m, keys[k], &present[k]);
			assert_ptr_equal(prev, present[k] ? &present[k] : NULL);
			count += !present[k];
			present[k] = 1;
		} else {
			void *gone = strmap_remove(m, keys[k]);
			assert_ptr_equal(gone, present[k] ? &present[k] : NULL);
			count -= present[k];
			present[k] = 0;
		}
		assert_int_equal(strmap_count(m), count);
	}
	for (int i = 0; i < N; i++)
		assert_ptr_equal(strmap_get(m, keys[i]), present[i] ? &present[i] : NULL);
	assert_null(strmap_get(m, "absent"));
	strmap_free(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_model)};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
