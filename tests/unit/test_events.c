/* The event hub: every subscriber hears every event, in subscription order, until it unsubscribes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "scheduler/events.h"

struct heard {
	int n;
	enum event_type last;
	int order[8];
};

static int clock_;

static void on_event(void *ctx, const struct event *ev)
{
	struct heard *h = ctx;
	h->order[h->n % 8] = ++clock_;
	h->n++;
	h->last = ev->type;
}

static void test_subscribe_emit_unsubscribe(void **state)
{
	struct events *ev = events_new();
	struct heard a = {0}, b = {0};
	struct event e = {.type = EVENT_JOB_CREATED, .job_name = "x"};
	(void)state;

	assert_int_equal(events_subscribe(ev, on_event, &a), 0);
	assert_int_equal(events_subscribe(ev, on_event, &b), 0);
	events_emit(ev, &e);
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 1);
	assert_true(a.order[0] < b.order[0]);
	events_unsubscribe(ev, on_event, &a);
	e.type = EVENT_JOB_DELETED;
	events_emit(ev, &e);
	assert_int_equal(a.n, 1);
	assert_int_equal(b.n, 2);
	assert_int_equal(b.last, EVENT_JOB_DELETED);
	events_emit(NULL, &e); /* nobody listens: nothing happens */
	events_free(ev);
}

static void test_subscribers_are_bounded(void **state)
{
	struct events *ev = events_new();
	struct heard h[17];
	int rc = 0, i;
	(void)state;

	for (i = 0; i < 17 && rc == 0; i++)
		rc = events_subscribe(ev, on_event, &h[i]);
	assert_int_equal(rc, -ENOSPC);
	assert_int_equal(i, 17);
	events_free(ev);
}

static void test_names(void **state)
{
	(void)state;
	static const struct {
		enum event_type t;
		const char *name;
	} rows[] = {
		{EVENT_JOB_CREATED, "job.created"}, {EVENT_JOB_UPDATED, "job.updated"},
		{EVENT_JOB_DELETED, "job.deleted"}, {EVENT_JOB_DISABLED, "job.disabled"},
		{EVENT_JOB_STATE, "job.state"}, {EVENT_RUN_CHANGED, "run.changed"}, {EVENT_RUN_SKIPPED, "run.skipped"},
		{EVENT_RETRIES_EXHAUSTED, "run.retries_exhausted"}, {EVENT_JOB_RECOVERED, "job.recovered"},
		{EVENT_AGENT_LOST, "agent.lost"},
		{EVENT_TYPE_COUNT, "unknown"},
	};
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		assert_string_equal(event_type_name(rows[i].t), rows[i].name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_subscribe_emit_unsubscribe),
		cmocka_unit_test(test_subscribers_are_bounded),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
