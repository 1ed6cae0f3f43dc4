/* clock_uv: the real clock's timers on a libuv loop. A timer fires once with its context; restarted with 0 from
 * its own callback it lets the loop's I/O run in between (a uv_async sent beforehand is seen within two firings,
 * where a 0 ms libuv timer would run again and again in the same pass); stop, restart and active; freed from
 * inside its own callback it is never called again (ASan sees the memory freed once the loop has closed it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <uv.h>

#include "util/clock.h"
#include "util/clock_uv.h"

struct fixture {
	uv_loop_t loop;
	struct clock *clock;
	struct clock_timer *t;
	int fired;
	int fired_at_async; /* firings before the async callback ran; -1: not yet */
	uv_async_t async;
};

static void on_fire_once(void *ctx)
{
	struct fixture *f = ctx;
	f->fired++;
}

static void test_fires_once_after_delay(void **state)
{
	struct fixture f = {.fired_at_async = -1};
	(void)state;

	assert_int_equal(uv_loop_init(&f.loop), 0);
	f.clock = clock_uv_new(&f.loop);
	f.t = clock_timer_new(f.clock, on_fire_once, &f);
	assert_false(clock_timer_active(f.t));
	clock_timer_start(f.t, 20);
	assert_true(clock_timer_active(f.t));
	assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.fired, 1);
	assert_false(clock_timer_active(f.t));
	assert_true(clock_now(f.clock) > 0);
	/* stopped before it fires: never */
	clock_timer_start(f.t, 0);
	clock_timer_stop(f.t);
	assert_false(clock_timer_active(f.t));
	/* restarted: the later start replaces the earlier */
	clock_timer_start(f.t, 1000 * 1000);
	clock_timer_start(f.t, 1);
	assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.fired, 2);
	clock_timer_free(f.t);
	clock_timer_free(NULL);
	assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	clock_uv_free(f.clock);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

static void on_async(uv_async_t *h)
{
	struct fixture *f = h->data;
	f->fired_at_async = f->fired;
	uv_close((uv_handle_t *)&f->async, NULL);
}

static void on_fire_again(void *ctx)
{
	struct fixture *f = ctx;
	f->fired++;
	if (f->fired_at_async < 0 && f->fired < 1000)
		clock_timer_start(f->t, 0);
}

static void test_zero_lets_io_run(void **state)
{
	struct fixture f = {.fired_at_async = -1};
	(void)state;

	assert_int_equal(uv_loop_init(&f.loop), 0);
	f.clock = clock_uv_new(&f.loop);
	f.t = clock_timer_new(f.clock, on_fire_again, &f);
	assert_int_equal(uv_async_init(&f.loop, &f.async, on_async), 0);
	f.async.data = &f;
	assert_int_equal(uv_async_send(&f.async), 0);
	clock_timer_start(f.t, 0);
	assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	assert_in_range(f.fired_at_async, 0, 2);
	assert_int_equal(f.fired, f.fired_at_async + 1);
	clock_timer_free(f.t);
	assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	clock_uv_free(f.clock);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

static void on_fire_free(void *ctx)
{
	struct fixture *f = ctx;
	f->fired++;
	clock_timer_start(f->t, 0); /* started, then freed: never fires again */
	clock_timer_free(f->t);
}

static void test_free_inside_callback(void **state)
{
	struct fixture f = {.fired_at_async = -1};
	(void)state;

	assert_int_equal(uv_loop_init(&f.loop), 0);
	f.clock = clock_uv_new(&f.loop);
	f.t = clock_timer_new(f.clock, on_fire_free, &f);
	clock_timer_start(f.t, 0);
	assert_int_equal(uv_run(&f.loop, UV_RUN_DEFAULT), 0);
	assert_int_equal(f.fired, 1);
	clock_uv_free(f.clock);
	assert_int_equal(uv_loop_close(&f.loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fires_once_after_delay),
		cmocka_unit_test(test_zero_lets_io_run),
		cmocka_unit_test(test_free_inside_callback),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
