/* The pure dependency graph: edges, cycles of every length with their message, diamonds, re-parenting,
 * reachability and fan-in rounds. */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "graph/graph.h"

#define MAXN 16

struct named {
	struct graph_node node;
	char name[8];
};

static const char *name_of(const struct graph_node *n)
{
	return ((const struct named *)(const void *)n)->name;
}

/* Nodes a, b, c, ... and the edges "ab,bc" (parent then child). */
struct fixture {
	struct graph *g;
	struct named v[MAXN];
	size_t n;
};

static struct graph_node *node(struct fixture *f, char c)
{
	return &f->v[c - 'a'].node;
}

static void build(struct fixture *f, size_t n, const char *edges)
{
	f->g = graph_new(name_of);
	f->n = n;
	for (size_t i = 0; i < n; i++) {
		graph_node_init(&f->v[i].node);
		snprintf(f->v[i].name, sizeof(f->v[i].name), "%c", (char)('a' + i));
	}
	for (const char *e = edges; e[0] && e[1]; e += e[2] == ',' ? 3 : 2)
		graph_link(node(f, e[0]), node(f, e[1]));
}

static void teardown(struct fixture *f)
{
	for (size_t i = 0; i < f->n; i++)
		graph_node_clear(&f->v[i].node);
	for (size_t i = 0; i < f->n; i++)
		assert_null(f->v[i].node.edges);
	graph_free(f->g);
}

static void test_cycles(void **state)
{
	static const struct {
		size_t n;
		const char *edges;
		char parent, child; /* the edge tried */
		const char *cycle;  /* NULL: no cycle */
	} rows[] = {
		{1, "", 'a', 'a', "a -> a"},
		{2, "ab", 'b', 'a', "a -> b -> a"},
		{3, "ab,bc", 'c', 'a', "a -> b -> c -> a"},
		{3, "ab,bc", 'a', 'c', NULL},
		{3, "ab,bc", 'c', 'b', "b -> c -> b"},
		{6, "ab,bc,cd,de,ef", 'f', 'a', "a -> b -> c -> d -> e -> f -> a"},
		{6, "ab,bc,cd,de,ef", 'f', 'c', "c -> d -> e -> f -> c"},
		{4, "ab,ac,bd,cd", 'd', 'a', "a -> b -> d -> a"}, /* a diamond: the first path found */
		{4, "ab,ac,bd,cd", 'a', 'd', NULL},
		{4, "ab,ac,bd,cd", 'b', 'c', NULL},
		{4, "ab,ac,bd,cd", 'c', 'b', NULL},
		{5, "ab,cd,de", 'e', 'c', "c -> d -> e -> c"},
		{5, "ab,cd,de", 'b', 'c', NULL},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fixture f;
		char err[256] = "";
		build(&f, rows[i].n, rows[i].edges);
		bool cyc = graph_would_cycle(f.g, node(&f, rows[i].parent), node(&f, rows[i].child), err, sizeof(err));
		if (rows[i].cycle == NULL) {
			assert_false(cyc);
		} else {
			assert_true(cyc);
			assert_string_equal(err, rows[i].cycle);
		}
		teardown(&f);
	}
}

static void test_message_truncated(void **state)
{
	struct fixture f;
	char err[8];
	(void)state;

	build(&f, 6, "ab,bc,cd,de,ef");
	assert_true(graph_would_cycle(f.g, node(&f, 'f'), node(&f, 'a'), err, sizeof(err)));
	assert_string_equal(err, "a -> b ");
	teardown(&f);
}

/* Names of the nodes reached from start, in letter order. */
static void collect(void *ctx, struct graph_node *n)
{
	char *out = ctx;
	out[name_of(n)[0] - 'a'] = name_of(n)[0];
}

static void reached(struct fixture *f, char start, bool down, char *out)
{
	char seen[MAXN + 1];
	size_t k = 0;
	memset(seen, 0, sizeof(seen));
	graph_reachable(f->g, node(f, start), down, collect, seen);
	for (size_t i = 0; i < MAXN; i++)
		if (seen[i])
			out[k++] = seen[i];
	out[k] = '\0';
}

static void test_reachable(void **state)
{
	static const struct {
		size_t n;
		const char *edges;
		char start;
		const char *down, *up;
	} rows[] = {
		{4, "ab,ac,bd,cd", 'a', "bcd", ""},
		{4, "ab,ac,bd,cd", 'd', "", "abc"},
		{4, "ab,ac,bd,cd", 'b', "d", "a"},
		{6, "ab,bc,de,ef", 'b', "c", "a"},
		{1, "", 'a', "", ""},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct fixture f;
		char out[MAXN + 1];
		build(&f, rows[i].n, rows[i].edges);
		reached(&f, rows[i].start, true, out);
		assert_string_equal(out, rows[i].down);
		reached(&f, rows[i].start, false, out);
		assert_string_equal(out, rows[i].up);
		teardown(&f);
	}
}

/* Edges in both directions after links and unlinks, as "ab,ac" from the parents' side. */
static void edges_of(struct fixture *f, char *out)
{
	size_t k = 0;
	for (size_t i = 0; i < f->n; i++) {
		struct graph_node *p = &f->v[i].node;
		for (uint32_t c = 0; c < p->nchildren; c++) {
			const struct graph_node *ch = graph_children(p)[c];
			bool back = false;
			for (uint32_t j = 0; j < ch->nparents; j++)
				back = back || graph_parents(ch)[j] == p;
			assert_true(back);
			k += (size_t)sprintf(out + k, "%s%s%s", k ? "," : "", f->v[i].name, name_of(ch));
		}
	}
	out[k] = '\0';
}

static void test_reparenting(void **state)
{
	struct fixture f;
	char out[128];
	(void)state;

	/* a -> b -> c, d -> c; b is deleted: c runs after a and d (the registry links a -> c). */
	build(&f, 4, "ab,bc,dc,dc");
	edges_of(&f, out);
	assert_string_equal(out, "ab,bc,dc");
	assert_int_equal(node(&f, 'c')->nparents, 2);
	graph_node_clear(node(&f, 'b'));
	edges_of(&f, out);
	assert_string_equal(out, "dc");
	graph_link(node(&f, 'a'), node(&f, 'c'));
	edges_of(&f, out);
	assert_string_equal(out, "ac,dc");
	assert_ptr_equal(graph_parents(node(&f, 'c'))[0], node(&f, 'd')); /* in the order linked */
	graph_unlink_parents(node(&f, 'c'));
	edges_of(&f, out);
	assert_string_equal(out, "");
	graph_link(node(&f, 'a'), node(&f, 'b'));
	graph_unlink(node(&f, 'a'), node(&f, 'b'));
	graph_unlink(node(&f, 'a'), node(&f, 'b'));
	edges_of(&f, out);
	assert_string_equal(out, "");
	teardown(&f);
}

static void test_unlink_all(void **state)
{
	struct fixture f;
	struct graph_node *all[4];
	char out[128];
	(void)state;

	build(&f, 4, "ab,ac,bd,cd");
	for (size_t i = 0; i < 4; i++)
		all[i] = &f.v[i].node;
	graph_unlink_all(all, 4);
	edges_of(&f, out);
	assert_string_equal(out, "");
	teardown(&f);
}

/* Random links and unlinks (self-links and repeats among them) against a model: every node's parents and
 * children, each list in the order its edges were linked. */
static void test_edges_model(void **state)
{
	enum { N = 6 };
	struct fixture f;
	char parents[N][N], children[N][N]; /* the model's lists of node indexes, in link order */
	uint32_t np[N] = {0}, nc[N] = {0}, seed = 12345;
	(void)state;

	build(&f, N, "");
	for (int step = 0; step < 20000; step++) {
		seed = seed * 1664525u + 1013904223u;
		int a = (int)((seed >> 8) % N), b = (int)((seed >> 16) % N), at = -1;
		bool link = (seed >> 28) % 3 != 0;
		for (uint32_t i = 0; i < nc[a]; i++)
			if (children[a][i] == b)
				at = (int)i;
		if (link) {
			graph_link(&f.v[a].node, &f.v[b].node);
			if (a != b && at < 0) {
				children[a][nc[a]++] = (char)b;
				parents[b][np[b]++] = (char)a;
			}
		} else {
			graph_unlink(&f.v[a].node, &f.v[b].node);
			if (at >= 0) {
				memmove(&children[a][at], &children[a][at + 1], nc[a] - (uint32_t)at - 1);
				nc[a]--;
				for (uint32_t i = 0; i < np[b]; i++) {
					if (parents[b][i] == a) {
						memmove(&parents[b][i], &parents[b][i + 1], np[b] - i - 1);
						np[b]--;
						break;
					}
				}
			}
		}
		for (int n = 0; n < N; n++) {
			const struct graph_node *x = &f.v[n].node;
			assert_int_equal(x->nparents, np[n]);
			assert_int_equal(x->nchildren, nc[n]);
			assert_true((x->edges == NULL) == (np[n] + nc[n] == 0));
			for (uint32_t i = 0; i < np[n]; i++)
				assert_ptr_equal(graph_parents(x)[i], &f.v[(int)parents[n][i]].node);
			for (uint32_t i = 0; i < nc[n]; i++)
				assert_ptr_equal(graph_children(x)[i], &f.v[(int)children[n][i]].node);
		}
	}
	teardown(&f);
}

static void test_rounds(void **state)
{
	/* Each row: successes "parent:task" applied in order, then what the round says for parents a,b,c. */
	static const struct {
		const char *events; /* "a:1 b:2" */
		const char *keep;   /* after the events, keep only these parents ("" keeps none, NULL skips) */
		bool complete;
		const char *ids;
	} rows[] = {
		{"", NULL, false, ""},
		{"a:1", NULL, false, "1"},
		{"b:2 a:1", NULL, false, "1,2"},
		{"b:2 a:1 c:3", NULL, true, "1,2,3"},
		{"a:1 a:4 b:2 c:3", NULL, true, "4,2,3"},
		{"c:3 b:2 a:1", "ab", false, "1,2"},
		{"c:3 b:2 a:1", "", false, ""},
		{"x:9 a:1 b:2 c:3", "abc", true, "1,2,3"},
	};
	static const char *const parents[] = {"a", "b", "c"};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct graph_round r = {0};
		char copy[64], *save = NULL;
		snprintf(copy, sizeof(copy), "%s", rows[i].events);
		for (char *ev = strtok_r(copy, " ", &save); ev; ev = strtok_r(NULL, " ", &save)) {
			ev[1] = '\0';
			graph_round_set(&r, ev, ev + 2);
		}
		if (rows[i].keep) {
			const char *keep[3];
			char one[3][2];
			size_t n = strlen(rows[i].keep);
			for (size_t k = 0; k < n; k++) {
				one[k][0] = rows[i].keep[k];
				one[k][1] = '\0';
				keep[k] = one[k];
			}
			graph_round_keep(&r, keep, n, NULL, NULL);
		}
		assert_int_equal(graph_round_complete(&r, parents, 3), rows[i].complete);
		char *ids = graph_round_task_ids(&r, parents, 3);
		assert_string_equal(ids ? ids : "", rows[i].ids);
		free(ids);
		graph_round_reset(&r);
		assert_int_equal(r.n, 0);
		assert_false(graph_round_complete(&r, parents, 3));
		assert_null(graph_round_task_id(&r, "a"));
	}
}

static void gone(void *ctx, const char *parent)
{
	strcat(ctx, parent);
}

static void test_round_keep_tells(void **state)
{
	struct graph_round r = {0};
	static const char *const keep[] = {"b"};
	char forgotten[16] = "";
	(void)state;

	graph_round_set(&r, "a", "1");
	graph_round_set(&r, "b", "2");
	graph_round_set(&r, "c", "3");
	graph_round_keep(&r, keep, 1, gone, forgotten);
	assert_int_equal(strlen(forgotten), 2);
	assert_non_null(strchr(forgotten, 'a'));
	assert_non_null(strchr(forgotten, 'c'));
	assert_string_equal(graph_round_task_id(&r, "b"), "2");
	assert_null(graph_round_task_id(&r, "a"));
	graph_round_reset(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cycles),
		cmocka_unit_test(test_message_truncated),
		cmocka_unit_test(test_reachable),
		cmocka_unit_test(test_reparenting),
		cmocka_unit_test(test_unlink_all),
		cmocka_unit_test(test_edges_model),
		cmocka_unit_test(test_rounds),
		cmocka_unit_test(test_round_keep_tells),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
