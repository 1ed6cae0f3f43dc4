/* Fan-in rounds: which parents of a dependent job succeeded since it last ran, and with which runs. */
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

static struct graph_round_entry *find(const struct graph_round *r, const char *parent)
{
	for (uint32_t i = 0; i < r->n; i++)
		if (strcmp(r->v[i].parent, parent) == 0)
			return &r->v[i];
	return NULL;
}

void graph_round_set(struct graph_round *r, const char *parent, const char *task_id)
{
	struct graph_round_entry *entry = find(r, parent);
	if (entry == NULL) {
		r->v = xrealloc(r->v, (r->n + 1) * sizeof(*r->v));
		entry = &r->v[r->n++];
		entry->parent = xstrdup(parent);
		entry->task_id = NULL;
	}
	free(entry->task_id);
	entry->task_id = xstrdup(task_id);
}

const char *graph_round_task_id(const struct graph_round *r, const char *parent)
{
	const struct graph_round_entry *entry = find(r, parent);
	return entry ? entry->task_id : NULL;
}

bool graph_round_complete(const struct graph_round *r, const char *const *parents, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (find(r, parents[i]) == NULL)
			return false;
	return true;
}

char *graph_round_task_ids(const struct graph_round *r, const char *const *parents, size_t n)
{
	struct buf b;
	buf_init(&b, 0);
	for (size_t i = 0; i < n; i++) {
		const struct graph_round_entry *entry = find(r, parents[i]);
		if (entry && (buf_puts(&b, b.len ? "," : "") < 0 || buf_puts(&b, entry->task_id) < 0))
			fatalx("unbounded buffer refused data");
	}
	return buf_steal(&b, NULL);
}

void graph_round_reset(struct graph_round *r)
{
	for (uint32_t i = 0; i < r->n; i++) {
		free(r->v[i].parent);
		free(r->v[i].task_id);
	}
	free(r->v);
	r->v = NULL;
	r->n = 0;
}

void graph_round_keep(struct graph_round *r, const char *const *parents, size_t n,
    void (*gone)(void *ctx, const char *parent), void *ctx)
{
	for (uint32_t i = 0; i < r->n;) {
		bool still = false;
		for (size_t k = 0; k < n && !still; k++)
			still = strcmp(parents[k], r->v[i].parent) == 0;
		if (still) {
			i++;
			continue;
		}
		if (gone)
			gone(ctx, r->v[i].parent);
		free(r->v[i].parent);
		free(r->v[i].task_id);
		r->v[i] = r->v[--r->n];
	}
	if (r->n == 0)
		graph_round_reset(r);
}
