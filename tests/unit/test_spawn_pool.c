/* spawn_pool: every call of a batch runs exactly once, batch after batch, with or without helpers; the calls of
 * one batch really run at the same time on different threads; freeing joins the helpers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>
#include <uv.h>

#include "exec/spawn_pool.h"

#define MAXN 200

struct counts {
	atomic_int calls[MAXN];
};

static void count(void *ctx, size_t i)
{
	struct counts *c = ctx;
	atomic_fetch_add(&c->calls[i], 1);
}

static void check_batches(struct spawn_pool *pool)
{
	for (size_t n = 0; n <= MAXN; n += 7) {
		struct counts *c = calloc(1, sizeof(*c));
		assert_non_null(c);
		spawn_pool_run(pool, n, count, c);
		for (size_t i = 0; i < MAXN; i++)
			assert_int_equal(atomic_load(&c->calls[i]), i < n ? 1 : 0);
		free(c);
	}
}

static void test_every_call_once(void **state)
{
	struct spawn_pool *pool;
	(void)state;

	check_batches(NULL);
	assert_int_equal(spawn_pool_new(0, &pool), 0);
	check_batches(pool);
	spawn_pool_free(pool);
	assert_int_equal(spawn_pool_new(3, &pool), 0);
	check_batches(pool);
	spawn_pool_free(pool);
	spawn_pool_free(NULL);
}

/* Call 0 waits (up to 10 s) until another call has run on another thread: only a pool that really runs the
 * batch in parallel gets past it quickly. */
struct meet {
	uv_thread_t first;
	atomic_int others; /* calls that ran on a thread other than call 0's */
	atomic_bool first_known;
	bool timed_out;
};

static void meet_call(void *ctx, size_t i)
{
	struct meet *m = ctx;
	uv_thread_t self = uv_thread_self();

	if (i == 0) {
		m->first = self;
		atomic_store(&m->first_known, true);
		for (int waited = 0; atomic_load(&m->others) == 0; waited++) {
			struct timespec ms = {0, 1000000};
			if (waited == 10000) {
				m->timed_out = true;
				return;
			}
			nanosleep(&ms, NULL);
		}
		return;
	}
	while (!atomic_load(&m->first_known))
		;
	if (!uv_thread_equal(&self, &m->first))
		atomic_fetch_add(&m->others, 1);
}

static void test_runs_in_parallel(void **state)
{
	struct spawn_pool *pool;
	(void)state;

	assert_int_equal(spawn_pool_new(2, &pool), 0);
	for (int round = 0; round < 20; round++) {
		struct meet m = {0};
		spawn_pool_run(pool, 8, meet_call, &m);
		assert_false(m.timed_out);
		assert_true(atomic_load(&m.others) > 0);
	}
	spawn_pool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_call_once),
		cmocka_unit_test(test_runs_in_parallel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
