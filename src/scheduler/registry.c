#include "scheduler/registry.h"

#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

/* A record and the room after it for its runtime state. */
#define REC_SIZE (sizeof(struct jobrec) + REGISTRY_RT_BYTES)
static_assert(sizeof(struct jobrec) % _Alignof(struct jobrec) == 0, "the room after a record is aligned as it is");

/* Records per block (under AddressSanitizer each record is an allocation of its own). */
#if defined(__SANITIZE_ADDRESS__)
#define OWN_ALLOCATIONS 1
#else
#define OWN_ALLOCATIONS 0
#define REC_BLOCK 1024 /* a million jobs: 977 blocks of 176 KiB */
struct rec_block {
	struct rec_block *next;
	_Alignas(struct jobrec) unsigned char recs[REC_BLOCK * REC_SIZE];
};
#endif

struct registry {
	struct strmap *by_name;
	struct jobrec **slots;
	size_t nslots, capslots, holes;
	int holds;
	struct graph *graph;
	void (*init_rt)(void *ctx, struct jobrec *rec);
	void (*fini_rt)(void *ctx, struct jobrec *rec);
	void *rt_ctx;
#if !OWN_ALLOCATIONS
	struct rec_block *blocks;
	size_t block_used;      /* records handed out from the first block */
	struct jobrec **unused; /* removed records, to reuse */
	size_t nunused, capunused;
#endif
};

struct jobrec *registry_rec(const struct graph_node *n)
{
	return (struct jobrec *)((char *)(uintptr_t)n - offsetof(struct jobrec, node));
}

struct jobrec *registry_rt_rec(const struct job_rt *rt)
{
	return (struct jobrec *)(uintptr_t)rt - 1;
}

static void *rt_room(struct jobrec *rec)
{
	return rec + 1;
}

/* A zeroed record with its room. */
static struct jobrec *rec_alloc(struct registry *reg)
{
	struct jobrec *rec;
#if OWN_ALLOCATIONS
	(void)reg;
	rec = xmalloc(REC_SIZE);
#else
	if (reg->nunused > 0) {
		rec = reg->unused[--reg->nunused];
	} else {
		if (reg->blocks == NULL || reg->block_used == REC_BLOCK) {
			struct rec_block *b = xmalloc(sizeof(*b));
			b->next = reg->blocks;
			reg->blocks = b;
			reg->block_used = 0;
		}
		rec = (struct jobrec *)(void *)&reg->blocks->recs[reg->block_used++ * REC_SIZE];
	}
#endif
	memset(rec, 0, REC_SIZE);
	return rec;
}

static void rec_release(struct registry *reg, struct jobrec *rec)
{
#if OWN_ALLOCATIONS
	(void)reg;
	free(rec);
#else
	if (reg->nunused == reg->capunused) {
		reg->capunused = reg->capunused ? reg->capunused * 2 : 64;
		reg->unused = xrealloc(reg->unused, reg->capunused * sizeof(*reg->unused));
	}
	reg->unused[reg->nunused++] = rec;
#endif
}

static void rt_init(const struct registry *reg, struct jobrec *rec)
{
	if (reg->init_rt == NULL)
		return;
	memset(rt_room(rec), 0, REGISTRY_RT_BYTES);
	rec->rt = rt_room(rec);
	reg->init_rt(reg->rt_ctx, rec);
}

static void rt_fini(const struct registry *reg, struct jobrec *rec)
{
	if (rec->rt && reg->fini_rt)
		reg->fini_rt(reg->rt_ctx, rec);
	rec->rt = NULL;
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

/* What a record owns (not the record). */
static void rec_clear(const struct registry *reg, struct jobrec *rec)
{
	rt_fini(reg, rec);
	job_free(rec->job);
	free(rec->node.edges);
}

void registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->nslots; i++) {
		if (reg->slots[i]) {
			rec_clear(reg, reg->slots[i]);
#if OWN_ALLOCATIONS
			free(reg->slots[i]);
#endif
		}
	}
	free(reg->slots);
#if !OWN_ALLOCATIONS
	while (reg->blocks) {
		struct rec_block *b = reg->blocks;
		reg->blocks = b->next;
		free(b);
	}
	free(reg->unused);
#endif
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

void registry_set_runtime(struct registry *reg, void (*init_rt)(void *ctx, struct jobrec *rec),
    void (*fini_rt)(void *ctx, struct jobrec *rec), void *ctx)
{
	/* An engine that stops takes its state with it: the next one starts from nothing. */
	for (size_t i = 0; i < reg->nslots; i++)
		if (reg->slots[i])
			rt_fini(reg, reg->slots[i]);
	reg->init_rt = init_rt;
	reg->fini_rt = fini_rt;
	reg->rt_ctx = ctx;
	for (size_t i = 0; i < reg->nslots; i++)
		if (reg->slots[i])
			rt_init(reg, reg->slots[i]);
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
		rec = rec_alloc(reg);
		rec->job = job;
		graph_node_init(&rec->node);
		rt_init(reg, rec);
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
	rec_clear(reg, rec);
	rec_release(reg, rec);
	compact(reg);
}

void registry_clear(struct registry *reg)
{
	for (size_t i = 0; i < reg->nslots; i++) {
		struct jobrec *rec = reg->slots[i];
		if (rec == NULL)
			continue;
		graph_node_clear(&rec->node);
		strmap_remove(reg->by_name, rec->job->name);
		reg->slots[i] = NULL;
		reg->holes++;
		rec_clear(reg, rec);
		rec_release(reg, rec);
	}
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
