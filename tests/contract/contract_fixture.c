/* The contracts' shared fixture and checks (contract_fixture.h). */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contract_fixture.h"
#include "util/xmalloc.h"

int ct_run_tests(const char *contract, const struct contract_backend *b, struct CMUnitTest *tests, size_t n)
{
	struct contract_run run = {.b = b};
	char name[128];

	for (size_t i = 0; i < n; i++)
		tests[i].initial_state = &run;
	snprintf(name, sizeof(name), "%s contract: %s", contract, b->name);
	print_message("%s\n", name); /* cmocka's lines do not name the group */
	return _cmocka_run_group_tests(name, tests, n, NULL, NULL);
}

int ct_setup(void **state)
{
	const struct contract_run *run = *state;
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->b = run->b;
	if (f->b->open(f->b->arg, &f->fx, &f->s, &f->h) < 0) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

int ct_teardown(void **state)
{
	struct fixture *f = *state;

	f->b->close(f->fx);
	free(f);
	return 0;
}

void ct_settle(struct fixture *f)
{
	if (f->b->settle)
		f->b->settle(f->fx);
}

void ct_done(void *ctx, int status)
{
	struct report *rep = ctx;

	rep->calls++;
	rep->status = status;
}

int ct_outcome(struct fixture *f, int rc, const struct report *rep)
{
	int want_calls = rc < 0 ? 0 : 1;

	if (f->b->completes_at_once)
		assert_int_equal(rep->calls, want_calls);
	assert_in_range(rep->calls, 0, want_calls);
	ct_settle(f);
	assert_int_equal(rep->calls, want_calls);
	ct_settle(f); /* nothing is reported twice */
	assert_int_equal(rep->calls, want_calls);
	return rc < 0 ? rc : rep->status;
}

void ct_assert_fail_message(const struct fixture *f, const char *msg)
{
	assert_non_null(msg);
	if (f->b->fail_message ? strstr(msg, f->b->fail_message) == NULL : msg[0] == '\0')
		fail_msg("errmsg after a failed write: \"%s\"", msg);
}

struct state_txn *ct_begin(struct fixture *f)
{
	struct state_txn *t = NULL;

	assert_int_equal(state_begin(f->s, &t), 0);
	assert_non_null(t);
	return t;
}

int ct_commit(struct fixture *f, struct state_txn *t)
{
	struct report rep = {0};

	state_commit(t, ct_done, &rep);
	return ct_outcome(f, 0, &rep);
}

struct run_record ct_run(const char *job, int64_t due, enum run_status status, int64_t end)
{
	struct run_record r;

	run_record_init(&r);
	r.task_id = xasprintf("%s:%" PRId64, job, due);
	r.job = xstrdup(job);
	r.due_ms = due;
	r.status = status;
	r.start_ms = due;
	r.end_ms = end;
	r.exit_code = status == RUN_SUCCEEDED ? 0 : status == RUN_FAILED ? 1 : -1;
	run_record_set(&r.host, "host-1");
	run_record_set(&r.agent, "agent-1");
	run_record_set(&r.arguments, "");
	run_record_set(&r.parents, "");
	run_record_set(&r.reason, status == RUN_LOST ? "the server restarted" : "");
	return r;
}

struct run_record ct_skipped(const char *job, int64_t from, int64_t to, int64_t slots, const char *reason)
{
	struct run_record r = ct_run(job, from, RUN_SKIPPED, to + 1);

	r.start_ms = RUN_TIME_NONE;
	r.skipped_from_ms = from;
	r.skipped_to_ms = to;
	r.skipped_slots = slots;
	run_record_set(&r.reason, reason);
	return r;
}

void ct_assert_same(const struct run_record *got, const struct run_record *want)
{
	assert_string_equal(got->task_id, want->task_id);
	assert_string_equal(got->job, want->job);
	assert_int_equal(got->due_ms, want->due_ms);
	assert_int_equal(got->attempt, want->attempt);
	assert_int_equal(got->trigger, want->trigger);
	assert_int_equal(got->status, want->status);
	assert_int_equal(got->not_before_ms, want->not_before_ms);
	assert_int_equal(got->start_ms, want->start_ms);
	assert_int_equal(got->end_ms, want->end_ms);
	assert_int_equal(got->exit_code, want->exit_code);
	assert_int_equal(got->signal, want->signal);
	assert_int_equal(got->pid, want->pid);
	assert_int_equal(got->stdout_bytes, want->stdout_bytes);
	assert_int_equal(got->stderr_bytes, want->stderr_bytes);
	assert_string_equal(got->host, want->host);
	assert_string_equal(got->agent ? got->agent : "", want->agent ? want->agent : "");
	assert_string_equal(got->arguments, want->arguments);
	assert_string_equal(got->parents, want->parents);
	assert_string_equal(got->reason, want->reason);
	assert_int_equal(got->skipped_from_ms, want->skipped_from_ms);
	assert_int_equal(got->skipped_to_ms, want->skipped_to_ms);
	assert_int_equal(got->skipped_slots, want->skipped_slots);
	assert_int_equal(got->cpu_user_us, want->cpu_user_us);
	assert_int_equal(got->cpu_system_us, want->cpu_system_us);
	assert_int_equal(got->peak_memory_bytes, want->peak_memory_bytes);
}

struct text *ct_clear(struct text *t)
{
	t->s[0] = '\0';
	return t;
}

void ct_append(struct text *t, const char *s)
{
	size_t len = strlen(t->s), n = strlen(s);

	assert_true(len + n < sizeof(t->s));
	memcpy(t->s + len, s, n + 1);
}

void ct_appendf(struct text *t, const char *fmt, ...)
{
	size_t len = strlen(t->s);
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(t->s + len, sizeof(t->s) - len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(t->s) - len);
}

int ct_collect(void *ctx, const struct run_record *r)
{
	ct_appendf(ctx, "%s,", r->task_id);
	return 0;
}
