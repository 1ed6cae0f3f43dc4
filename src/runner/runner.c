#include "runner/runner.h"

#include <stddef.h>

void runner_attach(struct runner *r, const struct runner_listener *l)
{
	r->ops->attach(r, l);
}

void runner_start_many(struct runner *r, const struct runner_spec *specs, size_t n, struct runner_start *out)
{
	r->ops->start_many(r, specs, n, out);
}

int runner_kill(struct runner *r, struct runner_task *t, uint64_t grace_ms)
{
	return r->ops->kill(r, t, grace_ms);
}

void runner_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids, const char *const *agents,
    size_t n, runner_reconciled_fn done, void *ctx)
{
	r->ops->reconcile(r, epoch, task_ids, agents, n, done, ctx);
}

void runner_adopt(struct runner *r, struct runner_task *t, void *ctx)
{
	r->ops->adopt(r, t, ctx);
}

void runner_release(struct runner *r, const struct runner_ref *ref, enum runner_outcome outcome)
{
	r->ops->release(r, ref, outcome);
}

void runner_purge(struct runner *r, const struct runner_ref *ref)
{
	r->ops->purge(r, ref);
}

void runner_free(struct runner *r)
{
	if (r)
		r->ops->free(r);
}
