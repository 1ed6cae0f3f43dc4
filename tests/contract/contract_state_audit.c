/* The state's contract for the audit trail (state.h's state_put_audit, state_prune_audit, state_list_audit). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "contract_state.h"

static int entry_text(void *ctx, const struct state_audit *a)
{
	ct_appendf(ctx, "%lld %s/%s %s %s %s %s %s|", (long long)a->time_ms, a->actor, a->actor_kind, a->address,
	    a->action, a->job ? a->job : "-", a->before ? a->before : "-", a->after ? a->after : "-");
	return 0;
}

static int last_id_of(void *ctx, const struct state_audit *a)
{
	*(int64_t *)ctx = a->id;
	return 0;
}

/* The entries q asks for as text; *last: the id of the last one. */
static const char *entries(struct fixture *f, const char *job, int64_t since, int64_t before, int limit,
    struct text *out, int64_t *last)
{
	struct state_audit_query q = {job, since, before, limit};

	ct_clear(out);
	assert_int_equal(state_list_audit(f->s, &q, entry_text, out), 0);
	assert_int_equal(state_list_audit(f->s, &q, last_id_of, last), 0);
	return out->s;
}

static struct state_audit entry(int64_t time_ms, const char *action, const char *job, const char *before,
    const char *after)
{
	return (struct state_audit){0, time_ms, "ops", "token", "10.0.0.1", action, job, before, after};
}

/* Entries come back newest first with what was written (a job, before and after may be NULL), filtered by job and
 * time and paged by id; an aborted transaction leaves none; a prune removes those made before its cut. */
void test_state_audit(void **state)
{
	struct fixture *f = *state;
	struct state_txn *t = ct_begin(f);
	struct text out;
	int64_t last = 0;
	struct state_audit a[] = {entry(10, "job.put", "a", NULL, "{\"n\":1}"), entry(20, "job.put", "b", NULL, "{}"),
		entry(30, "job.put", "a", "{\"n\":1}", "{\"n\":2}"), entry(40, "token.create", NULL, NULL, "{}")};

	assert_string_equal(entries(f, NULL, INT64_MIN, 0, 10, &out, &last), "");
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(state_put_audit(t, &a[i]), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(entries(f, NULL, INT64_MIN, 0, 10, &out, &last),
	    "40 ops/token 10.0.0.1 token.create - - {}|30 ops/token 10.0.0.1 job.put a {\"n\":1} {\"n\":2}|"
	    "20 ops/token 10.0.0.1 job.put b - {}|10 ops/token 10.0.0.1 job.put a - {\"n\":1}|");
	assert_string_equal(entries(f, "a", INT64_MIN, 0, 10, &out, &last),
	    "30 ops/token 10.0.0.1 job.put a {\"n\":1} {\"n\":2}|10 ops/token 10.0.0.1 job.put a - {\"n\":1}|");
	assert_string_equal(entries(f, NULL, 20, 0, 10, &out, &last), "40 ops/token 10.0.0.1 token.create - - {}|"
							       "30 ops/token 10.0.0.1 job.put a {\"n\":1} {\"n\":2}|"
							       "20 ops/token 10.0.0.1 job.put b - {}|");
	/* a page of two, then the next from the last one's id */
	assert_string_equal(entries(f, NULL, INT64_MIN, 0, 2, &out, &last), "40 ops/token 10.0.0.1 token.create - - {}|"
								     "30 ops/token 10.0.0.1 job.put a {\"n\":1} {\"n\":2}|");
	assert_string_equal(entries(f, NULL, INT64_MIN, last, 2, &out, &last), "20 ops/token 10.0.0.1 job.put b - {}|"
									   "10 ops/token 10.0.0.1 job.put a - {\"n\":1}|");
	t = ct_begin(f);
	assert_int_equal(state_put_audit(t, &a[0]), 0);
	state_abort(t);
	assert_string_equal(entries(f, "b", INT64_MIN, 0, 10, &out, &last), "20 ops/token 10.0.0.1 job.put b - {}|");
	t = ct_begin(f);
	assert_int_equal(state_prune_audit(t, 30), 0);
	assert_int_equal(ct_commit(f, t), 0);
	assert_string_equal(entries(f, NULL, INT64_MIN, 0, 10, &out, &last), "40 ops/token 10.0.0.1 token.create - - {}|"
								      "30 ops/token 10.0.0.1 job.put a {\"n\":1} {\"n\":2}|");
}
