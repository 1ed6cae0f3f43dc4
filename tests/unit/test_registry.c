/* The registry's dependency edges: parents checks (unknown, self, cycles), listing order, relinking, clearing;
 * the runtime states' room and hooks, and records reused after removals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/job.h"
#include "scheduler/registry.h"

/* A job named name with the given comma-separated parents ("" for a scheduled job). */
static struct job *make(const char *name, const char *parents)
{
	struct job *j = job_new();
	const char *v[16];
	char copy[256], *save = NULL;
	size_t n = 0;

	job_set_string(&j->name, name);
	snprintf(copy, sizeof(copy), "%s", parents);
	for (char *p = strtok_r(copy, ",", &save); p; p = strtok_r(NULL, ",", &save))
		v[n++] = p;
	if (n)
		job_set_parents(j, v, n);
	else
		job_set_schedule(j, "R/2030-01-01T00:00:00Z/P1D", "");
	return j;
}

static int check(struct registry *reg, const char *name, const char *parents, char *err, size_t errlen)
{
	struct job *j = make(name, parents);
	int rc = registry_check_parents(reg, j, err, errlen);
	job_free(j);
	return rc;
}

static void test_parent_checks(void **state)
{
	static const struct {
		const char *name, *parents, *err; /* err NULL: accepted */
	} rows[] = {
		{"d", "b", NULL},
		{"d", "b,c", NULL},
		{"x", "nope", "parents: job 'x' has unknown parent 'nope'"},
		{"x", "a,nope", "parents: job 'x' has unknown parent 'nope'"},
		{"b", "b", "parents: job 'b' cannot be its own parent"},
		{"a", "c", "parents: making 'c' a parent of 'a' creates a dependency cycle: a -> b -> c -> a"},
		{"a", "b", "parents: making 'b' a parent of 'a' creates a dependency cycle: a -> b -> a"},
		{"b", "c", "parents: making 'c' a parent of 'b' creates a dependency cycle: b -> c -> b"},
		{"c", "a", NULL},
	};
	struct registry *reg = registry_new();
	char err[512];
	(void)state;

	/* a -> b -> c */
	registry_put(reg, make("a", ""));
	registry_put(reg, make("b", "a"));
	registry_put(reg, make("c", "b"));
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		err[0] = '\0';
		int rc = check(reg, rows[i].name, rows[i].parents, err, sizeof(err));
		if (rows[i].err == NULL) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -22);
			assert_string_equal(err, rows[i].err);
		}
	}
	registry_free(reg);
}

static void test_edges_and_order(void **state)
{
	struct registry *reg = registry_new();
	(void)state;

	registry_put(reg, make("a", ""));
	registry_put(reg, make("b", "a"));
	registry_put(reg, make("c", "a"));
	registry_put(reg, make("d", "b,c"));
	assert_int_equal(registry_get(reg, "a")->node.nchildren, 2);
	assert_int_equal(registry_get(reg, "b")->node.nchildren, 1);
	/* Replacing b with a scheduled job drops the edge a -> b but keeps b -> d and b's place. */
	registry_put(reg, make("b", ""));
	assert_int_equal(registry_get(reg, "a")->node.nchildren, 1);
	assert_int_equal(registry_get(reg, "b")->node.nchildren, 1);
	assert_string_equal(registry_slot(reg, 1)->job->name, "b");
	/* Removal leaves a hole while a listing holds the registry, and compacts after. */
	registry_hold(reg);
	registry_remove(reg, "c");
	assert_null(registry_slot(reg, 2));
	assert_int_equal(registry_slots(reg), 4);
	registry_remove(reg, "a");
	registry_release(reg);
	assert_int_equal(registry_count(reg), 2);
	assert_int_equal(registry_slots(reg), 2);
	assert_string_equal(registry_slot(reg, 0)->job->name, "b");
	assert_string_equal(registry_slot(reg, 1)->job->name, "d");
	assert_int_equal(registry_get(reg, "d")->order, 1);
	/* d names b and c; c is gone, so relinking reports one missing parent. */
	assert_int_equal(registry_relink(reg), 1);
	assert_int_equal(registry_get(reg, "b")->node.nchildren, 1);
	registry_free(reg);
}

/* Clearing (a follower or an election loading the jobs again): every job goes, with a listing held too, and the
 * registry fills again from nothing. */
static void test_clear(void **state)
{
	struct registry *reg = registry_new();
	(void)state;

	registry_put(reg, make("a", ""));
	registry_put(reg, make("b", "a"));
	registry_put(reg, make("c", "a,b"));
	registry_hold(reg);
	registry_clear(reg);
	assert_int_equal(registry_count(reg), 0);
	assert_null(registry_get(reg, "a"));
	assert_null(registry_slot(reg, 0));
	registry_release(reg);
	assert_int_equal(registry_slots(reg), 0);
	registry_clear(reg); /* empty: nothing */
	registry_put(reg, make("c", "a"));
	registry_put(reg, make("a", ""));
	assert_int_equal(registry_relink(reg), 0);
	assert_int_equal(registry_get(reg, "a")->node.nchildren, 1);
	assert_string_equal(registry_slot(reg, 0)->job->name, "c");
	registry_free(reg);
}

static void test_deep_chain(void **state)
{
	struct registry *reg = registry_new();
	char name[32], parent[32], err[512];
	(void)state;

	registry_put(reg, make("n0", ""));
	for (int i = 1; i < 20000; i++) {
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(parent, sizeof(parent), "n%d", i - 1);
		registry_put(reg, make(name, parent));
	}
	/* Closing the chain is a cycle found without recursion. */
	assert_int_equal(check(reg, "n0", "n19999", err, sizeof(err)), -22);
	assert_non_null(strstr(err, "creates a dependency cycle: n0 -> n1 -> "));
	registry_free(reg);
}

/* What the hooks saw: each record's runtime room starts zeroed and belongs to it alone. */
struct hooks_seen {
	size_t inits, finis;
	size_t live;
};

static void hook_init(void *ctx, struct jobrec *rec)
{
	struct hooks_seen *h = ctx;
	unsigned char *room = (unsigned char *)rec->rt;
	assert_non_null(rec->rt);
	assert_ptr_equal(registry_rt_rec(rec->rt), rec);
	for (size_t i = 0; i < REGISTRY_RT_BYTES; i++)
		assert_int_equal(room[i], 0);
	memset(room, 0xa5, REGISTRY_RT_BYTES); /* a record's next use must find it zeroed again */
	h->inits++;
	h->live++;
}

static void hook_fini(void *ctx, struct jobrec *rec)
{
	struct hooks_seen *h = ctx;
	assert_non_null(rec->rt);
	h->finis++;
	h->live--;
}

static void test_runtime_room(void **state)
{
	struct registry *reg = registry_new();
	struct hooks_seen h = {0};
	char name[32];
	(void)state;

	for (int i = 0; i < 1500; i++) { /* more than a block of records */
		snprintf(name, sizeof(name), "j%d", i);
		(void)registry_put(reg, make(name, ""));
	}
	registry_set_runtime(reg, hook_init, hook_fini, &h);
	assert_int_equal(h.inits, 1500);
	for (int i = 0; i < 1500; i += 2) {
		snprintf(name, sizeof(name), "j%d", i);
		registry_remove(reg, name);
	}
	assert_int_equal(h.finis, 750);
	for (int i = 0; i < 1000; i++) { /* 750 of them reuse removed records */
		snprintf(name, sizeof(name), "k%d", i);
		struct jobrec *rec = registry_put(reg, make(name, ""));
		assert_string_equal(rec->job->name, name);
		assert_ptr_equal(registry_rt_rec(rec->rt), rec);
	}
	assert_int_equal(h.live, 1750);
	assert_int_equal(registry_count(reg), 1750);
	registry_set_runtime(reg, NULL, NULL, NULL);
	assert_int_equal(h.live, 0);
	assert_null(registry_get(reg, "k3")->rt);
	registry_set_runtime(reg, hook_init, hook_fini, &h);
	assert_int_equal(h.live, 1750);
	registry_free(reg);
	assert_int_equal(h.live, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parent_checks),
		cmocka_unit_test(test_edges_and_order),
		cmocka_unit_test(test_clear),
		cmocka_unit_test(test_deep_chain),
		cmocka_unit_test(test_runtime_room),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
