/* Placement of tasks on agents: constraints with Chronos's semantics, the resource fit, the order of choice,
 * draining and gone agents, reservations across a batch, every reason's text, and a model: random agents and
 * needs against a brute-force reference. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/job.h"
#include "runner/placement.h"

/* The scheduler may hand a job's constraints over as they are. */
_Static_assert(sizeof(struct placement_constraint) == sizeof(struct job_constraint), "constraint layout");
_Static_assert(offsetof(struct placement_constraint, attribute) == offsetof(struct job_constraint, attribute),
    "constraint layout");
_Static_assert(offsetof(struct placement_constraint, op) == offsetof(struct job_constraint, op), "constraint layout");
_Static_assert(offsetof(struct placement_constraint, value) == offsetof(struct job_constraint, value),
    "constraint layout");

#define MAXA 8  /* agents in a fixture */
#define MAXKV 4 /* attributes of an agent */

#define NROWS(a) (sizeof(a) / sizeof((a)[0]))
/* An agent of a table (struct aspec) without a hostname. */
#define AG(name, st, cpus, mem, disk, running, attrs) {name, PLACEMENT_##st, cpus, mem, disk, running, attrs, NULL}

/* An agent of a table: its free resources (total; nothing used), load, "k=v;k=v" attributes and hostname. */
struct aspec {
	const char *name;
	enum placement_state state;
	double cpus, mem, disk;
	uint32_t running;
	const char *attrs;
	const char *hostname;
};

struct fixture {
	struct placement_agent a[MAXA];
	struct placement_attr kv[MAXA][MAXKV];
	char text[MAXA][128];
	size_t n;
};

/* Fill f from specs, up to the first without a name. */
static void build(struct fixture *f, const struct aspec *specs, size_t max)
{
	memset(f, 0, sizeof(*f));
	for (; f->n < max && specs[f->n].name != NULL; f->n++) {
		const struct aspec *s = &specs[f->n];
		struct placement_agent *a = &f->a[f->n];
		char *save = NULL;
		*a = (struct placement_agent){.name = s->name, .hostname = s->hostname, .attrs = f->kv[f->n],
			.total = {s->cpus, s->mem, s->disk}, .running = s->running, .state = s->state};
		snprintf(f->text[f->n], sizeof(f->text[f->n]), "%s", s->attrs ? s->attrs : "");
		for (char *p = strtok_r(f->text[f->n], ";", &save); p; p = strtok_r(NULL, ";", &save)) {
			char *eq = strchr(p, '=');
			assert_non_null(eq);
			assert_true(a->n_attrs < MAXKV);
			*eq = '\0';
			f->kv[f->n][a->n_attrs++] = (struct placement_attr){p, eq + 1};
		}
	}
}

/* The constraints of a row, up to the first without an attribute. */
static struct placement_constraints *compile(const struct placement_constraint *v, size_t max)
{
	size_t n = 0;
	while (n < max && v[n].attribute != NULL)
		n++;
	return placement_constraints_new(v, n);
}

static void test_constraints(void **state)
{
	static const struct {
		const char *attrs;
		const char *hostname;
		struct placement_constraint c[3];
		bool match;
	} rows[] = {
		{"rack=a", NULL, {{0}}, true},
		{"", NULL, {{0}}, true},
		/* EQUALS: the whole text, case and all, no regex */
		{"rack=a", NULL, {{"rack", "EQUALS", "a"}}, true},
		{"rack=a", NULL, {{"rack", "EQUALS", "b"}}, false},
		{"rack=A", NULL, {{"rack", "EQUALS", "a"}}, false},
		{"rack=ab", NULL, {{"rack", "EQUALS", "a"}}, false},
		{"rack=axb", NULL, {{"rack", "EQUALS", "a.b"}}, false},
		{"rack=a.b", NULL, {{"rack", "EQUALS", "a.b"}}, true},
		{"rack=a", NULL, {{"RACK", "EQUALS", "a"}}, false},
		/* LIKE: a full match only */
		{"rack=rack-1", NULL, {{"rack", "LIKE", "rack-[0-9]"}}, true},
		{"rack=rack-12", NULL, {{"rack", "LIKE", "rack-[0-9]"}}, false},
		{"rack=xrack-1", NULL, {{"rack", "LIKE", "rack-[0-9]"}}, false},
		{"rack=rack-12", NULL, {{"rack", "LIKE", "rack-[0-9]+"}}, true},
		{"rack=a", NULL, {{"rack", "LIKE", "^a$"}}, true},
		{"rack=anything", NULL, {{"rack", "LIKE", ".*"}}, true},
		/* a top-level alternation: every branch must span the whole text */
		{"rack=ab", NULL, {{"rack", "LIKE", "a|ab"}}, true},
		{"rack=a", NULL, {{"rack", "LIKE", "ab|a"}}, true},
		{"rack=b", NULL, {{"rack", "LIKE", "a|ab"}}, false},
		{"rack=xa", NULL, {{"rack", "LIKE", "x|a"}}, false},
		{"rack=abc", NULL, {{"rack", "LIKE", "a|b|c"}}, false},
		{"rack=abcd", NULL, {{"rack", "LIKE", "(a|ab)(c|bcd)"}}, true},
		/* UNLIKE: not a full match */
		{"rack=rack-12", NULL, {{"rack", "UNLIKE", "rack-[0-9]"}}, true},
		{"rack=rack-1", NULL, {{"rack", "UNLIKE", "rack-[0-9]"}}, false},
		{"rack=ab", NULL, {{"rack", "UNLIKE", "a|ab"}}, false},
		{"rack=abc", NULL, {{"rack", "UNLIKE", "a|ab"}}, true},
		/* an absent attribute fails every op */
		{"os=linux", NULL, {{"rack", "EQUALS", "a"}}, false},
		{"os=linux", NULL, {{"rack", "LIKE", ".*"}}, false},
		{"os=linux", NULL, {{"rack", "UNLIKE", "a"}}, false},
		{"", NULL, {{"rack", "UNLIKE", ""}}, false},
		/* the synthetic hostname, unless the agent has its own */
		{"", "h1", {{"hostname", "EQUALS", "h1"}}, true},
		{"", "h1", {{"hostname", "EQUALS", "h2"}}, false},
		{"", "h1", {{"hostname", "LIKE", "h[0-9]"}}, true},
		{"", "h1", {{"hostname", "UNLIKE", "h1"}}, false},
		{"", "h1", {{"hostname", "UNLIKE", "h2"}}, true},
		{"hostname=custom", "h1", {{"hostname", "EQUALS", "custom"}}, true},
		{"hostname=custom", "h1", {{"hostname", "EQUALS", "h1"}}, false},
		{"hostname=custom", "h1", {{"hostname", "UNLIKE", "h1"}}, true},
		{"", NULL, {{"hostname", "EQUALS", ""}}, false},
		{"", NULL, {{"hostname", "LIKE", ".*"}}, false},
		{"", "", {{"hostname", "EQUALS", ""}}, true},
		{"rack=a", "h1", {{"h1", "EQUALS", "a"}}, false},
		{"", "h1", {{"rack", "EQUALS", "h1"}}, false},
		/* empty values and patterns */
		{"rack=", NULL, {{"rack", "EQUALS", ""}}, true},
		{"rack=a", NULL, {{"rack", "EQUALS", ""}}, false},
		{"rack=", NULL, {{"rack", "LIKE", ""}}, true},
		{"rack=a", NULL, {{"rack", "LIKE", ""}}, false},
		{"rack=a", NULL, {{"rack", "UNLIKE", ""}}, true},
		{"rack=", NULL, {{"rack", "UNLIKE", ""}}, false},
		/* a repeated key: the first counts */
		{"rack=a;rack=b", NULL, {{"rack", "EQUALS", "a"}}, true},
		{"rack=a;rack=b", NULL, {{"rack", "EQUALS", "b"}}, false},
		/* every constraint is required */
		{"rack=a;os=linux", "h1",
		    {{"rack", "EQUALS", "a"}, {"os", "LIKE", "lin.*"}, {"hostname", "UNLIKE", "h2"}}, true},
		{"rack=a;os=linux", "h1",
		    {{"rack", "EQUALS", "a"}, {"os", "LIKE", "lin.*"}, {"hostname", "UNLIKE", "h1"}}, false},
		{"rack=a;os=linux", NULL, {{"rack", "EQUALS", "a"}, {"os", "EQUALS", "bsd"}}, false},
		{"rack=a;os=linux", NULL, {{"rack", "EQUALS", "b"}, {"os", "EQUALS", "linux"}}, false},
		{"rack=a;os=linux", NULL, {{"rack", "EQUALS", "a"}, {"gpu", "UNLIKE", "yes"}}, false},
		/* what the job API refuses matches nothing here */
		{"rack=(", NULL, {{"rack", "LIKE", "("}}, false},
		{"rack=(", NULL, {{"rack", "UNLIKE", "("}}, false},
		{"rack=b", NULL, {{"rack", "NEAR", "b"}}, false},
		{"rack=b", NULL, {{"rack", "equals", "b"}}, false},
	};
	(void)state;

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct aspec spec[2] = {{"a", PLACEMENT_USABLE, 1, 1, 1, 0, rows[i].attrs, rows[i].hostname}};
		struct placement_resources need = {1, 1, 1};
		struct placement_constraints *c = compile(rows[i].c, 3);
		struct fixture f;
		char reason[PLACEMENT_REASON_MAX] = "";
		size_t chosen = 99;

		build(&f, spec, 2);
		if (placement_matches(&f.a[0], c) != rows[i].match)
			fail_msg("row %zu: matches %d, expected %d", i, !rows[i].match, rows[i].match);
		/* placement_choose applies the same test */
		int rc = placement_choose(f.a, f.n, &need, c, &chosen, reason, sizeof(reason));
		assert_int_equal(rc, rows[i].match ? 0 : -EAGAIN);
		assert_int_equal(chosen, rows[i].match ? 0 : 99);
		placement_constraints_free(c);
	}
	placement_constraints_free(NULL);
}

/* Constraints are copied: the job's strings may change or go once compiled. */
static void test_constraints_copied(void **state)
{
	char attr[8] = "rack", op[8] = "LIKE", value[8] = "a|b";
	struct placement_constraint v = {attr, op, value};
	struct placement_constraints *c = placement_constraints_new(&v, 1);
	struct aspec spec[2] = {{"a", PLACEMENT_USABLE, 0, 0, 0, 0, "rack=b", NULL}};
	struct fixture f;
	(void)state;

	memset(attr, 'x', sizeof(attr) - 1);
	memset(op, 'x', sizeof(op) - 1);
	memset(value, 'x', sizeof(value) - 1);
	build(&f, spec, 2);
	assert_true(placement_matches(&f.a[0], c));
	assert_true(placement_matches(&f.a[0], NULL));
	placement_constraints_free(c);
}

static void test_resources(void **state)
{
	static const struct {
		struct placement_resources total, used, need;
		bool fits;
	} rows[] = {
		{{4, 1024, 100}, {0, 0, 0}, {4, 1024, 100}, true},
		{{4, 1024, 100}, {0, 0, 0}, {4.000001, 1024, 100}, false},
		{{4, 1024, 100}, {0, 0, 0}, {4, 1024.001, 100}, false},
		{{4, 1024, 100}, {0, 0, 0}, {4, 1024, 100.5}, false},
		{{4, 1024, 100}, {0, 0, 0}, {4 + 1e-10, 1024 + 1e-10, 100 + 1e-10}, true}, /* within the epsilon */
		{{4, 1024, 100}, {1, 512, 50}, {3, 512, 50}, true},
		{{4, 1024, 100}, {1, 512, 50}, {3.5, 512, 50}, false},
		{{4, 1024, 100}, {1, 512, 50}, {3, 513, 50}, false},
		{{4, 1024, 100}, {1, 512, 50}, {3, 512, 51}, false},
		/* needs of 0 always fit, even where nothing (or less than nothing) is free */
		{{0, 0, 0}, {0, 0, 0}, {0, 0, 0}, true},
		{{1, 1, 1}, {2, 2, 2}, {0, 0, 0}, true},
		{{1, 1, 1}, {2, 2, 2}, {0.1, 0, 0}, false},
		{{0, 0, 0}, {0, 0, 0}, {0.1, 128, 256}, false},
		/* doubles */
		{{0.3, 1, 1}, {0, 0, 0}, {0.1 + 0.2, 1, 1}, true},
		{{0.3, 1, 1}, {0.1, 0, 0}, {0.2, 1, 1}, true},
		{{1, 1, 1}, {0.7, 0, 0}, {0.3, 1, 1}, true},
		{{0.1 + 0.2, 1, 1}, {0.1, 0, 0}, {0.2, 1, 1}, true},
		{{1, 1, 1}, {0.1 + 0.2 + 0.3, 0, 0}, {0.4, 1, 1}, true},
		{{1, 1, 1}, {0.1 + 0.2 + 0.3, 0, 0}, {0.41, 1, 1}, false},
		/* Chronos's defaults on an agent with exactly that */
		{{0.1, 128, 256}, {0, 0, 0}, {0.1, 128, 256}, true},
	};
	(void)state;

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct placement_agent a = {.name = "a", .total = rows[i].total, .used = rows[i].used};
		char reason[PLACEMENT_REASON_MAX] = "";
		size_t chosen = 99;
		int rc = placement_choose(&a, 1, &rows[i].need, NULL, &chosen, reason, sizeof(reason));
		if (rc != (rows[i].fits ? 0 : -EAGAIN))
			fail_msg("row %zu: rc %d (%s), expected it to %s", i, rc, reason,
			    rows[i].fits ? "fit" : "not fit");
	}
}

/* The letter of each agent chosen in turn, reserving as it goes ('-' once none fits): "abab-". */
static void choose_in_turn(struct fixture *f, const struct placement_resources *need,
    const struct placement_constraints *c, size_t times, char *out)
{
	char reason[PLACEMENT_REASON_MAX];

	for (size_t t = 0; t < times; t++) {
		size_t chosen = 99;
		if (placement_choose(f->a, f->n, need, c, &chosen, reason, sizeof(reason)) != 0) {
			out[t] = '-';
			continue;
		}
		out[t] = f->a[chosen].name[0];
		placement_reserve(&f->a[chosen], need);
	}
	out[times] = '\0';
}

static void test_order(void **state)
{
	static const struct {
		struct aspec agents[5];
		struct placement_constraint c[1];
		const char *order;     /* the agents chosen in turn, reserving need each time */
	} rows[] = {
		/* fewest running first, whatever the memory */
		{{AG("a", USABLE, 8, 4096, 100, 2, ""), AG("b", USABLE, 8, 1024, 100, 1, "")}, {{0}}, "bab"},
		/* then the most free memory */
		{{AG("a", USABLE, 8, 1024, 100, 0, ""), AG("b", USABLE, 8, 2048, 100, 0, "")}, {{0}}, "bab"},
		/* then the lowest index */
		{{AG("a", USABLE, 8, 1024, 100, 0, ""), AG("b", USABLE, 8, 1024, 100, 0, ""),
		     AG("c", USABLE, 8, 1024, 100, 0, "")},
		    {{0}}, "abca"},
		/* draining and gone agents are never chosen, however idle */
		{{AG("a", DRAINING, 8, 8192, 100, 0, ""), AG("b", GONE, 8, 8192, 100, 0, ""),
		     AG("c", USABLE, 8, 1024, 100, 5, "")},
		    {{0}}, "ccc"},
		{{AG("a", DRAINING, 8, 8192, 100, 0, ""), AG("b", GONE, 8, 8192, 100, 0, "")}, {{0}}, "--"},
		/* an idler agent that lacks the attribute is passed over */
		{{AG("a", USABLE, 8, 8192, 100, 0, ""), AG("b", USABLE, 8, 1024, 100, 3, "rack=b"),
		     AG("c", USABLE, 8, 4096, 100, 0, "rack=c")},
		    {{"rack", "LIKE", "b|c"}}, "ccccbbbb-"},
		/* so is one that is full: a has more memory but only 1 cpu */
		{{AG("a", USABLE, 1, 8192, 100, 0, ""), AG("b", USABLE, 8, 1024, 100, 0, "")}, {{0}}, "bb"},
	};
	(void)state;

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct placement_resources need = {2, 0, 10};
		struct placement_constraints *c = compile(rows[i].c, 1);
		struct fixture f;
		char got[16];
		build(&f, rows[i].agents, 5);
		choose_in_turn(&f, &need, c, strlen(rows[i].order), got);
		if (strcmp(got, rows[i].order) != 0)
			fail_msg("row %zu: chose '%s', expected '%s'", i, got, rows[i].order);
		placement_constraints_free(c);
	}
}

/* Three (then four) tasks of 2 cpus on agents of 4 and 2 cpus: a, b, a, then none; a release makes room again. */
static void test_batch(void **state)
{
	static const struct aspec spec[] = {
		AG("a", USABLE, 4, 1024, 100, 0, ""),
		AG("b", USABLE, 2, 1024, 100, 0, ""),
		{0},
	};
	struct placement_resources need = {2, 0, 0};
	char got[8], reason[PLACEMENT_REASON_MAX];
	size_t chosen = 99;
	struct fixture f;
	(void)state;

	build(&f, spec, NROWS(spec));
	choose_in_turn(&f, &need, NULL, 4, got);
	assert_string_equal(got, "aba-");
	assert_int_equal(f.a[0].running, 2);
	assert_int_equal(f.a[1].running, 1);
	assert_true(f.a[0].used.cpus == 4);
	assert_int_equal(placement_choose(f.a, f.n, &need, NULL, &chosen, reason, sizeof(reason)), -EAGAIN);
	assert_string_equal(reason, "no agent has 2 cpus free (most free: 0 on a)");
	placement_release(&f.a[1], &need);
	assert_int_equal(f.a[1].running, 0);
	assert_true(f.a[1].used.cpus == 0);
	choose_in_turn(&f, &need, NULL, 2, got);
	assert_string_equal(got, "b-");
}

/* Reserve and release many small needs: used ends at exactly 0 and never goes below, nor running. */
static void test_release_clamps(void **state)
{
	struct placement_agent a = {.name = "a", .total = {1, 1024, 1024}};
	struct placement_resources need = {0.1, 0.3, 0.7};
	(void)state;

	for (int i = 0; i < 7; i++)
		placement_reserve(&a, &need);
	assert_int_equal(a.running, 7);
	assert_true(a.used.cpus > 0.69 && a.used.cpus < 0.71);
	for (int i = 0; i < 7; i++)
		placement_release(&a, &need);
	assert_int_equal(a.running, 0);
	assert_true(a.used.cpus == 0 && a.used.mem == 0 && a.used.disk == 0);
	placement_release(&a, &need);
	assert_int_equal(a.running, 0);
	assert_true(a.used.cpus == 0 && a.used.mem == 0 && a.used.disk == 0);
	/* what was used beyond what is released stays */
	a.used = (struct placement_resources){2, 2, 2};
	placement_release(&a, &need);
	assert_true(a.used.cpus > 1.89 && a.used.cpus < 1.91);
}

static void test_reasons(void **state)
{
	static const struct {
		struct aspec agents[4];
		struct placement_resources need;
		struct placement_constraint c[2];
		const char *reason;
	} rows[] = {
		{{{0}}, {0, 0, 0}, {{0}}, "no agents connected"},
		{{AG("a", GONE, 8, 8192, 100, 0, NULL), AG("b", GONE, 8, 8192, 100, 0, NULL)}, {1, 1, 1}, {{0}},
		    "no agents connected"},
		{{AG("a", DRAINING, 8, 8192, 100, 0, NULL), AG("b", GONE, 8, 8192, 100, 0, NULL),
		     AG("c", DRAINING, 8, 8192, 100, 0, NULL)},
		    {1, 1, 1}, {{0}}, "no agent is accepting tasks (2 draining)"},
		/* constraints, before resources */
		{{AG("a", USABLE, 8, 8192, 100, 0, "rack=a"), AG("c", USABLE, 8, 8192, 100, 0, "rack=c")},
		    {1, 1, 1}, {{"rack", "EQUALS", "b"}}, "no agent matches rack EQUALS b"},
		{{AG("a", USABLE, 0, 0, 0, 0, "rack=a")}, {1, 1, 1}, {{"rack", "EQUALS", "b"}},
		    "no agent matches rack EQUALS b"},
		{{AG("a", USABLE, 8, 8192, 100, 0, "rack=a"), AG("b", DRAINING, 8, 8192, 100, 0, "rack=b")},
		    {1, 1, 1}, {{"rack", "EQUALS", "b"}}, "no agent matches rack EQUALS b (1 draining)"},
		{{AG("a", USABLE, 8, 8192, 100, 0, "rack=a")}, {1, 1, 1},
		    {{"rack", "EQUALS", "a"}, {"gpu", "UNLIKE", ""}}, "no agent matches gpu UNLIKE "},
		{{AG("a", USABLE, 8, 8192, 100, 0, "rack=a;os=x"), AG("b", USABLE, 8, 8192, 100, 0, "rack=b;os=y")},
		    {1, 1, 1}, {{"rack", "EQUALS", "a"}, {"os", "LIKE", "y|z"}},
		    "no agent matches all 2 constraints at once"},
		{{{"a", PLACEMENT_USABLE, 8, 8192, 100, 0, "", "h1"}}, {1, 1, 1}, {{"hostname", "LIKE", "h2|h3"}},
		    "no agent matches hostname LIKE h2|h3"},
		/* one resource no agent has enough of, with the most free of it */
		{{AG("a1", USABLE, 2.5, 8192, 100, 0, NULL), AG("a2", USABLE, 1, 8192, 100, 0, NULL)}, {4, 1, 1}, {{0}},
		    "no agent has 4 cpus free (most free: 2.5 on a1)"},
		{{AG("a1", USABLE, 2.5, 8192, 100, 0, NULL), AG("a2", USABLE, 2.5, 8192, 100, 0, NULL)}, {4, 1, 1},
		    {{0}}, "no agent has 4 cpus free (most free: 2.5 on a1)"},
		{{AG("a1", USABLE, 8, 512, 100, 0, "rack=b"), AG("a2", USABLE, 8, 1024, 100, 0, "rack=b"),
		     AG("a3", USABLE, 8, 8192, 100, 0, "rack=c")},
		    {1, 2048, 1}, {{"rack", "EQUALS", "b"}},
		    "no agent matching the constraints has 2048 MiB of memory free (most free: 1024 MiB on a2)"},
		{{AG("a1", USABLE, 8, 8192, 100, 0, NULL)}, {1, 1, 10240}, {{0}},
		    "no agent has 10240 MiB of disk free (most free: 100 MiB on a1)"},
		{{AG("a", USABLE, 0.5, 8192, 100, 0, NULL)}, {1, 1, 1}, {{0}},
		    "no agent has 1 cpu free (most free: 0.5 on a)"},
		{{AG("a", USABLE, 0.2, 8192, 100, 0, NULL)}, {0.1 + 0.2, 1, 1}, {{0}},
		    "no agent has 0.3 cpus free (most free: 0.2 on a)"},
		{{AG("a", USABLE, 8, 1048575.5, 100, 0, NULL)}, {1, 1048576, 1}, {{0}},
		    "no agent has 1048576 MiB of memory free (most free: 1048575.5 MiB on a)"},
		/* several lacked by every agent: cpus, then memory, then disk */
		{{AG("a", USABLE, 1, 512, 10, 0, NULL), AG("b", USABLE, 2, 256, 5, 0, NULL)}, {4, 2048, 100}, {{0}},
		    "no agent has 4 cpus free (most free: 2 on b)"},
		{{AG("a", USABLE, 8, 512, 10, 0, NULL), AG("b", USABLE, 2, 256, 5, 0, NULL)}, {4, 2048, 100}, {{0}},
		    "no agent has 2048 MiB of memory free (most free: 512 MiB on a)"},
		{{AG("a", USABLE, 8, 512, 10, 0, NULL), AG("b", USABLE, 2, 4096, 5, 0, NULL)}, {4, 2048, 100}, {{0}},
		    "no agent has 100 MiB of disk free (most free: 10 MiB on a)"},
		/* each is somewhere, not together */
		{{AG("a", USABLE, 8, 1024, 100, 0, NULL), AG("b", USABLE, 2, 4096, 100, 0, NULL)}, {4, 2048, 1}, {{0}},
		    "no agent has 4 cpus and 2048 MiB of memory free at once"},
		{{AG("a", USABLE, 8, 4096, 10, 0, NULL), AG("b", USABLE, 2, 4096, 100, 0, NULL)}, {4, 2048, 50}, {{0}},
		    "no agent has 4 cpus and 50 MiB of disk free at once"},
		{{AG("a", USABLE, 1, 4096, 100, 0, NULL), AG("b", USABLE, 8, 1024, 100, 0, NULL),
		     AG("c", USABLE, 8, 4096, 10, 0, NULL)},
		    {4, 2048, 100}, {{0}}, "no agent has 4 cpus, 2048 MiB of memory and 100 MiB of disk free at once"},
		{{AG("a", USABLE, 8, 1024, 100, 0, "rack=b"), AG("b", USABLE, 2, 4096, 100, 0, "rack=b"),
		     AG("c", USABLE, 8, 8192, 100, 0, "rack=c"), AG("d", DRAINING, 8, 8192, 100, 0, "rack=b")},
		    {4, 2048, 1}, {{"rack", "EQUALS", "b"}},
		    "no agent matching the constraints has 4 cpus and 2048 MiB of memory free at once (1 draining)"},
		/* the agents that do not match the constraints are not counted */
		{{AG("a", USABLE, 2, 8192, 100, 0, "rack=b"), AG("b", USABLE, 8, 8192, 100, 0, "rack=c")},
		    {4, 1, 1}, {{"rack", "EQUALS", "b"}},
		    "no agent matching the constraints has 4 cpus free (most free: 2 on a)"},
		{{AG("a1", USABLE, 2.5, 8192, 100, 0, NULL), AG("d1", DRAINING, 8, 8192, 100, 0, NULL),
		     AG("d2", DRAINING, 8, 8192, 100, 0, NULL), AG("g", GONE, 8, 8192, 100, 0, NULL)},
		    {4, 1, 1}, {{0}}, "no agent has 4 cpus free (most free: 2.5 on a1; 2 draining)"},
		/* what the job API refuses, first */
		{{{0}}, {1, 1, 1}, {{"rack", "LIKE", "("}}, "invalid constraint rack LIKE (: Unmatched ( or \\("},
		{{AG("a", USABLE, 8, 8192, 100, 0, "rack=b")}, {1, 1, 1},
		    {{"rack", "EQUALS", "b"}, {"rack", "NEAR", "b"}},
		    "invalid constraint rack NEAR b: unknown operator"},
		/* long texts are clipped to 64 bytes, on a character's boundary */
		{{AG("a", USABLE, 1, 1, 1, 0, NULL)}, {1, 1, 1},
		    {{"rack", "EQUALS", "0123456789012345678901234567890123456789012345678901234567890123456789"}},
		    "no agent matches rack EQUALS 0123456789012345678901234567890123456789012345678901234567890..."},
		{{AG("a", USABLE, 1, 1, 1, 0, NULL)}, {1, 1, 1},
		    {{"rack", "EQUALS", "0123456789012345678901234567890123456789012345678901234567890123"}},
		    "no agent matches rack EQUALS 0123456789012345678901234567890123456789012345678901234567890123"},
		{{AG("a", USABLE, 1, 1, 1, 0, NULL)}, {1, 1, 1},
		    {{"rack", "EQUALS", "éééééééééééééééééééééééééééééééééééééééééééééééééé"}},
		    "no agent matches rack EQUALS éééééééééééééééééééééééééééééé..."},
		{{AG("0123456789012345678901234567890123456789012345678901234567890123456789", USABLE, 1, 1, 1, 0,
		     NULL)},
		    {2, 1, 1}, {{0}},
		    "no agent has 2 cpus free (most free: 1 on "
		    "0123456789012345678901234567890123456789012345678901234567890...)"},
	};
	(void)state;

	for (size_t i = 0; i < NROWS(rows); i++) {
		struct placement_constraints *c = compile(rows[i].c, 2);
		struct fixture f;
		char reason[PLACEMENT_REASON_MAX] = "";
		size_t chosen = 99;
		build(&f, rows[i].agents, 4);
		int rc = placement_choose(f.a, f.n, &rows[i].need, c, &chosen, reason, sizeof(reason));
		if (rc != -EAGAIN || strcmp(reason, rows[i].reason) != 0)
			fail_msg("row %zu: rc %d, reason '%s', expected '%s'", i, rc, reason, rows[i].reason);
		assert_int_equal(chosen, 99);
		placement_constraints_free(c);
	}
}

/* A reason is cut to the buffer it is given, and a buffer of 0 bytes is not written. */
static void test_reason_buffer(void **state)
{
	struct placement_resources need = {1, 1, 1};
	char reason[8];
	size_t chosen;
	(void)state;

	assert_int_equal(placement_choose(NULL, 0, &need, NULL, &chosen, reason, sizeof(reason)), -EAGAIN);
	assert_string_equal(reason, "no agen");
	assert_int_equal(placement_choose(NULL, 0, &need, NULL, &chosen, NULL, 0), -EAGAIN);
}

/* The model: small random agents and needs, checked against a brute force written here. */

/* The constraints the model draws from, with what each means spelled out in C. */
static bool ref_rack_is_a(const char *rack, const char *host)
{
	(void)host;
	return rack != NULL && strcmp(rack, "a") == 0;
}
static bool ref_rack_a_or_b(const char *rack, const char *host)
{
	(void)host;
	return rack != NULL && (strcmp(rack, "a") == 0 || strcmp(rack, "b") == 0);
}
static bool ref_rack_not_ab(const char *rack, const char *host)
{
	(void)host;
	return rack != NULL && strcmp(rack, "ab") != 0;
}
static bool ref_host_even(const char *rack, const char *host)
{
	(void)rack;
	return host != NULL && strlen(host) == 2 && host[0] == 'h' && (host[1] - '0') % 2 == 0;
}

static const struct {
	struct placement_constraint c;
	bool (*ref)(const char *rack, const char *host);
} model_constraints[] = {
	{{"rack", "EQUALS", "a"}, ref_rack_is_a},
	{{"rack", "LIKE", "a|b"}, ref_rack_a_or_b},
	{{"rack", "UNLIKE", "ab"}, ref_rack_not_ab},
	{{"hostname", "LIKE", "h[02468]"}, ref_host_even},
};

static uint32_t next(uint32_t *seed)
{
	*seed = *seed * 1664525u + 1013904223u;
	return *seed >> 8;
}

static double ref_free(const struct placement_agent *a, int k)
{
	double t = k == 0 ? a->total.cpus : k == 1 ? a->total.mem : a->total.disk;
	double u = k == 0 ? a->used.cpus : k == 1 ? a->used.mem : a->used.disk;
	return t - u < 0 ? 0 : t - u;
}

/* The reference's choice: every agent that fits, then the best by (running, free memory desc, index); n if none. */
static size_t ref_choose(const struct placement_agent *a, size_t n, const struct placement_resources *need,
    const size_t *cons, size_t ncons, const char *const *rack, const char *const *host)
{
	size_t best = n;
	double needs[3] = {need->cpus, need->mem, need->disk};

	for (size_t i = 0; i < n; i++) {
		bool ok = a[i].state == PLACEMENT_USABLE;
		for (int k = 0; k < 3 && ok; k++)
			ok = ref_free(&a[i], k) >= needs[k] - 1e-9;
		for (size_t j = 0; j < ncons && ok; j++)
			ok = model_constraints[cons[j]].ref(rack[i], host[i]);
		if (!ok)
			continue;
		if (best == n || a[i].running < a[best].running ||
		    (a[i].running == a[best].running && ref_free(&a[i], 1) > ref_free(&a[best], 1)))
			best = i;
	}
	return best;
}

struct ref_reason {
	char start[64];
	char end[96];
};

/* What the reason must start and end with, worked out from the agents, the need and the constraints. */
static void ref_reason(const struct placement_agent *a, size_t n, const struct placement_resources *need,
    const size_t *cons, size_t ncons, const char *const *rack, const char *const *host, struct ref_reason *r)
{
	size_t alive = 0, usable = 0, draining = 0, matching = 0, lack[3] = {0}, most[3] = {n, n, n};
	double needs[3] = {need->cpus, need->mem, need->disk};
	char tail[40] = "", inner[40] = "";

	for (size_t i = 0; i < n; i++) {
		bool ok = a[i].state == PLACEMENT_USABLE;
		alive += a[i].state != PLACEMENT_GONE;
		usable += a[i].state == PLACEMENT_USABLE;
		draining += a[i].state == PLACEMENT_DRAINING;
		for (size_t j = 0; j < ncons; j++)
			ok = ok && model_constraints[cons[j]].ref(rack[i], host[i]);
		if (!ok)
			continue;
		matching++;
		for (int k = 0; k < 3; k++) {
			lack[k] += ref_free(&a[i], k) < needs[k] - 1e-9;
			if (most[k] == n || ref_free(&a[i], k) > ref_free(&a[most[k]], k))
				most[k] = i;
		}
	}
	if (draining > 0) {
		snprintf(tail, sizeof(tail), " (%zu draining)", draining);
		snprintf(inner, sizeof(inner), "; %zu draining", draining);
	}
	snprintf(r->end, sizeof(r->end), "%s", tail);
	if (alive == 0) {
		snprintf(r->start, sizeof(r->start), "%s", "no agents connected");
	} else if (usable == 0) {
		snprintf(r->start, sizeof(r->start), "%s", "no agent is accepting tasks");
	} else if (matching == 0) {
		snprintf(r->start, sizeof(r->start), "%s", "no agent matches ");
	} else {
		snprintf(r->start, sizeof(r->start), "no agent%s has ", ncons > 0 ? " matching the constraints" : "");
		snprintf(r->end, sizeof(r->end), " free at once%s", tail);
		for (int k = 0; k < 3; k++) {
			if (lack[k] == matching) {
				snprintf(r->end, sizeof(r->end), " free (most free: %.15g%s on x%s)",
				    ref_free(&a[most[k]], k), k ? " MiB" : "", inner);
				break;
			}
		}
	}
}

static void test_model(void **state)
{
	static const char *const racks[] = {NULL, "a", "b", "ab", ""};
	static const char *const hosts[] = {NULL, "h0", "h1", "h2", "h3"};
	static const double amounts[] = {0, 0.1, 0.5, 1, 2, 4, 1024, 2048};
	uint32_t seed = 20240612;
	size_t chosen_count = 0, none_count = 0;
	(void)state;

	for (int round = 0; round < 3000; round++) {
		struct placement_agent a[MAXA];
		struct placement_attr kv[MAXA][1];
		const char *rack[MAXA], *host[MAXA];
		size_t n = next(&seed) % (MAXA + 1), cons[3], ncons = next(&seed) % 3;
		struct placement_constraint cv[3];

		memset(a, 0, sizeof(a));
		for (size_t i = 0; i < n; i++) {
			uint32_t r = next(&seed);
			rack[i] = racks[r % 5];
			host[i] = hosts[(r / 5) % 5];
			a[i].name = "x";
			a[i].hostname = host[i];
			if (rack[i] != NULL) {
				kv[i][0] = (struct placement_attr){"rack", rack[i]};
				a[i].attrs = kv[i];
				a[i].n_attrs = 1;
			}
			a[i].state = (r / 25) % 6 == 0   ? PLACEMENT_DRAINING
			    : (r / 25) % 6 == 1 ? PLACEMENT_GONE
			                        : PLACEMENT_USABLE;
			a[i].running = (r / 150) % 4;
			a[i].total.cpus = amounts[next(&seed) % 6];
			a[i].total.mem = amounts[next(&seed) % 8] * 4;
			a[i].total.disk = amounts[next(&seed) % 8];
			a[i].used.cpus = a[i].total.cpus * (double)(next(&seed) % 3) / 4;
		}
		for (size_t j = 0; j < ncons; j++) {
			cons[j] = next(&seed) % NROWS(model_constraints);
			cv[j] = model_constraints[cons[j]].c;
		}
		struct placement_constraints *c = placement_constraints_new(cv, ncons);
		struct placement_resources need;
		need.cpus = amounts[next(&seed) % 5]; /* one draw a statement: the order is fixed */
		need.mem = amounts[next(&seed) % 8];
		need.disk = amounts[next(&seed) % 7];

		/* a batch: place until nothing fits, reserving as runner_remote will */
		for (int t = 0; t < 6; t++) {
			char reason[PLACEMENT_REASON_MAX] = "";
			size_t chosen = 99, want = ref_choose(a, n, &need, cons, ncons, rack, host);
			int rc = placement_choose(a, n, &need, c, &chosen, reason, sizeof(reason));
			if (want < n) {
				if (rc != 0 || chosen != want)
					fail_msg("round %d step %d: rc %d chose %zu (%s), expected %zu", round, t, rc,
					    chosen, reason, want);
				placement_reserve(&a[chosen], &need);
				chosen_count++;
				continue;
			}
			struct ref_reason r;
			size_t len = strlen(reason);
			ref_reason(a, n, &need, cons, ncons, rack, host, &r);
			if (rc != -EAGAIN || strncmp(reason, r.start, strlen(r.start)) != 0 || len < strlen(r.end) ||
			    strcmp(reason + len - strlen(r.end), r.end) != 0)
				fail_msg("round %d step %d: rc %d, reason '%s', expected '%s...%s'", round, t, rc,
				    reason, r.start, r.end);
			none_count++;
			break;
		}
		placement_constraints_free(c);
	}
	/* the draws cover both outcomes well */
	assert_true(chosen_count > 1000);
	assert_true(none_count > 1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constraints),
		cmocka_unit_test(test_constraints_copied),
		cmocka_unit_test(test_resources),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_batch),
		cmocka_unit_test(test_release_clamps),
		cmocka_unit_test(test_reasons),
		cmocka_unit_test(test_reason_buffer),
		cmocka_unit_test(test_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
