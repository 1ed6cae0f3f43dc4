#include "scheduler/registry.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

struct registry {
	struct strmap *by_name;
	struct jobrec **slots;
	size_t nslots, capslots, holes;
	int holds;
	struct graph *graph;
	struct job_rt *(*new_rt)(void *ctx, struct jobrec *rec);
	void (*free_rt)(void *ctx, struct job_rt *rt);
	void *rt_ctx;
};

struct jobrec *registry_rec(const struct graph_node *n)
{
	return (struct jobrec *)((char *)(uintptr_t)n - offsetof(struct jobrec, node));
}

static const char *node_name(const struct graph_node *n)
{
	return registry_rec(n)->job->name;
}

struct graph *registry_graph(struct registry *reg)
{
	return reg->graph;
}

struct registry *registry_new(void)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));
	reg->by_name = strmap_new();
	reg->graph = graph_new(node_name);
	return reg;
}

static void rec_free(const struct registry *reg, struct jobrec *rec)
{
	if (rec->rt && reg->free_rt)
		reg->free_rt(reg->rt_ctx, rec->rt);
	job_free(rec->job);
	free(rec->node.children);
	free(rec->node.parents);
	free(rec);
}

void registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->nslots; i++)
		if (reg->slots[i])
			rec_free(reg, reg->slots[i]);
	free(reg->slots);
	graph_free(reg->graph);
	strmap_free(reg->by_name);
	free(reg);
}

size_t registry_count(const struct registry *reg)
{
	return strmap_count(reg->by_name);
}

struct jobrec *registry_get(const struct registry *reg, const char *name)
{
	return strmap_get(reg->by_name, name);
}

/* Wire rec's parent edges; returns how many parents were not found. */
static size_t link_parents(struct registry *reg, struct jobrec *rec)
{
	size_t missing = 0;
	for (size_t i = 0; i < rec->job->n_parents; i++) {
		struct jobrec *p = registry_get(reg, rec->job->parents[i]);
		if (p && p != rec)
			graph_link(&p->node, &rec->node);
		else
			missing++;
	}
	return missing;
}

static void compact(struct registry *reg)
{
	size_t n = 0;
	if (reg->holds > 0 || reg->holes * 2 < reg->nslots)
		return;
	for (size_t i = 0; i < reg->nslots; i++) {
		if (reg->slots[i]) {
			reg->slots[i]->order = (uint32_t)n;
			reg->slots[n++] = reg->slots[i];
		}
	}
	reg->nslots = n;
	reg->holes = 0;
}

void registry_set_runtime(struct registry *reg, struct job_rt *(*new_rt)(void *ctx, struct jobrec *rec),
    void (*free_rt)(void *ctx, struct job_rt *rt), void *ctx)
{
	/* An engine that stops takes its state with it: the next one starts from nothing. */
	for (size_t i = 0; i < reg->nslots; i++) {
		struct jobrec *rec = reg->slots[i];
		if (rec == NULL)
			continue;
		if (rec->rt && reg->free_rt)
			reg->free_rt(reg->rt_ctx, rec->rt);
		rec->rt = new_rt ? new_rt(ctx, rec) : NULL;
	}
	reg->new_rt = new_rt;
	reg->free_rt = free_rt;
	reg->rt_ctx = ctx;
}

struct jobrec *registry_put(struct registry *reg, struct job *job)
{
	struct jobrec *rec = registry_get(reg, job->name);

	if (rec) {
		struct job *old = rec->job;
		graph_unlink_parents(&rec->node);
		rec->job = job;
		strmap_put(reg->by_name, job->name, rec); /* re-key before the old name is freed */
		job_free(old);
	} else {
		rec = xcalloc(1, sizeof(*rec));
		rec->job = job;
		graph_node_init(&rec->node);
		if (reg->new_rt)
			rec->rt = reg->new_rt(reg->rt_ctx, rec);
		if (reg->nslots == reg->capslots) {
			reg->capslots = reg->capslots ? reg->capslots * 2 : 1024;
			reg->slots = xrealloc(reg->slots, reg->capslots * sizeof(*reg->slots));
		}
		rec->order = (uint32_t)reg->nslots;
		reg->slots[reg->nslots++] = rec;
		strmap_put(reg->by_name, job->name, rec);
	}
	link_parents(reg, rec);
	return rec;
}

void registry_remove(struct registry *reg, const char *name)
{
	struct jobrec *rec = registry_get(reg, name);
	if (rec == NULL)
		return;
	/* Children that still name this job keep the name but lose the edge. */
	graph_node_clear(&rec->node);
	strmap_remove(reg->by_name, name);
	reg->slots[rec->order] = NULL;
	reg->holes++;
	rec_free(reg, rec);
	compact(reg);
}

size_t registry_relink(struct registry *reg)
{
	size_t missing = 0;
	struct graph_node **nodes = xcalloc(reg->nslots + 1, sizeof(*nodes));
	size_t n = 0;

	for (size_t i = 0; i < reg->nslots; i++)
		if (reg->slots[i])
			nodes[n++] = &reg->slots[i]->node;
	graph_unlink_all(nodes, n);
	free(nodes);
	for (size_t i = 0; i < reg->nslots; i++)
		if (reg->slots[i])
			missing += link_parents(reg, reg->slots[i]);
	return missing;
}

int registry_check_parents(struct registry *reg, const struct job *job, char *err, size_t errlen)
{
	struct jobrec *self = registry_get(reg, job->name);

	for (size_t i = 0; i < job->n_parents; i++) {
		const char *pname = job->parents[i];
		struct jobrec *p;
		if (strcmp(pname, job->name) == 0) {
			snprintf(err, errlen, "parents: job '%s' cannot be its own parent", job->name);
			return -EINVAL;
		}
		p = registry_get(reg, pname);
		if (p == NULL) {
			snprintf(err, errlen, "parents: job '%s' has unknown parent '%s'", job->name, pname);
			return -EINVAL;
		}
		if (self) {
			char path[512];
			if (graph_would_cycle(reg->graph, &p->node, &self->node, path, sizeof(path))) {
				snprintf(err, errlen, "parents: making '%s' a parent of '%s' creates a dependency cycle: %s",
				    pname, job->name, path);
				return -EINVAL;
			}
		}
	}
	return 0;
}

size_t registry_slots(const struct registry *reg)
{
	return reg->nslots;
}

struct jobrec *registry_slot(const struct registry *reg, size_t i)
{
	return i < reg->nslots ? reg->slots[i] : NULL;
}

void registry_hold(struct registry *reg)
{
	reg->holds++;
}

void registry_release(struct registry *reg)
{
	reg->holds--;
	compact(reg);
}
