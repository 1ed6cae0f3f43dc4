#include "scheduler/registry.h"

#include <errno.h>
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
	uint32_t generation;
};

struct registry *registry_new(void)
{
	struct registry *reg = xcalloc(1, sizeof(*reg));
	reg->by_name = strmap_new();
	return reg;
}

static void rec_free(struct jobrec *rec)
{
	for (uint32_t i = 0; i < rec->nround; i++) {
		free(rec->round[i].parent);
		free(rec->round[i].task_id);
	}
	free(rec->round);
	job_free(rec->job);
	free(rec->children);
	free(rec);
}

void registry_free(struct registry *reg)
{
	if (reg == NULL)
		return;
	for (size_t i = 0; i < reg->nslots; i++)
		if (reg->slots[i])
			rec_free(reg->slots[i]);
	free(reg->slots);
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

static void add_child(struct jobrec *parent, struct jobrec *child)
{
	for (uint32_t i = 0; i < parent->nchildren; i++)
		if (parent->children[i] == child)
			return;
	if (parent->nchildren == parent->capchildren) {
		parent->capchildren = parent->capchildren ? parent->capchildren * 2 : 2;
		parent->children = xrealloc(parent->children, parent->capchildren * sizeof(*parent->children));
	}
	parent->children[parent->nchildren++] = child;
}

static void drop_child(struct jobrec *parent, const struct jobrec *child)
{
	for (uint32_t i = 0; i < parent->nchildren; i++) {
		if (parent->children[i] == child) {
			memmove(&parent->children[i], &parent->children[i + 1],
			    (parent->nchildren - i - 1) * sizeof(*parent->children));
			parent->nchildren--;
			return;
		}
	}
}

/* Wire rec's parent edges; returns how many parents were not found. */
static size_t link_parents(struct registry *reg, struct jobrec *rec)
{
	size_t missing = 0;
	for (size_t i = 0; i < rec->job->n_parents; i++) {
		struct jobrec *p = registry_get(reg, rec->job->parents[i]);
		if (p && p != rec)
			add_child(p, rec);
		else
			missing++;
	}
	return missing;
}

static void unlink_parents(struct registry *reg, struct jobrec *rec)
{
	for (size_t i = 0; i < rec->job->n_parents; i++) {
		struct jobrec *p = registry_get(reg, rec->job->parents[i]);
		if (p)
			drop_child(p, rec);
	}
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

struct jobrec *registry_put(struct registry *reg, struct job *job)
{
	struct jobrec *rec = registry_get(reg, job->name);

	if (rec) {
		struct job *old = rec->job;
		unlink_parents(reg, rec);
		rec->job = job;
		strmap_put(reg->by_name, job->name, rec); /* re-key before the old name is freed */
		job_free(old);
	} else {
		rec = xcalloc(1, sizeof(*rec));
		rec->job = job;
		heap_node_init(&rec->fire);
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
	unlink_parents(reg, rec);
	/* Children that still name this job keep the name but lose the edge. */
	strmap_remove(reg->by_name, name);
	reg->slots[rec->order] = NULL;
	reg->holes++;
	rec_free(rec);
	compact(reg);
}

size_t registry_relink(struct registry *reg)
{
	size_t missing = 0;
	for (size_t i = 0; i < reg->nslots; i++)
		if (reg->slots[i])
			reg->slots[i]->nchildren = 0;
	for (size_t i = 0; i < reg->nslots; i++)
		if (reg->slots[i])
			missing += link_parents(reg, reg->slots[i]);
	return missing;
}

/* Depth-first search from start's children for target; on success, writes the path start -> ... -> target
 * into err. Iterative, with an explicit stack, so deep chains cannot overflow the C stack. */
static int find_path(struct registry *reg, struct jobrec *start, const struct jobrec *target, char *err,
    size_t errlen)
{
	struct frame {
		struct jobrec *rec;
		uint32_t next;
	} *stack;
	size_t depth = 0, cap = 64;
	int found = 0;

	reg->generation++;
	stack = xmalloc(cap * sizeof(*stack));
	stack[depth++] = (struct frame){start, 0};
	start->mark = reg->generation;
	while (depth > 0 && !found) {
		struct frame *f = &stack[depth - 1];
		if (f->next == f->rec->nchildren) {
			depth--;
			continue;
		}
		struct jobrec *c = f->rec->children[f->next++];
		if (c->mark == reg->generation)
			continue;
		c->mark = reg->generation;
		if (depth == cap) {
			cap *= 2;
			stack = xrealloc(stack, cap * sizeof(*stack));
		}
		stack[depth++] = (struct frame){c, 0};
		if (c == target)
			found = 1;
	}
	if (found) {
		size_t used = 0;
		for (size_t i = 0; i < depth && used < errlen; i++)
			used += (size_t)snprintf(err + used, errlen - used, "%s -> ", stack[i].rec->job->name);
		if (used < errlen)
			snprintf(err + used, errlen - used, "%s", start->job->name);
	}
	free(stack);
	return found;
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
			if (find_path(reg, self, p, path, sizeof(path))) {
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
