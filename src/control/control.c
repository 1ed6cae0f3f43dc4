/* A control's lifetime, and the reads of what the engine holds. */
#include "control/control.h"

#include <stdlib.h>

#include "control/control_internal.h"
#include "scheduler/engine.h"
#include "util/xmalloc.h"

struct control *control_new(const struct control_config *cfg)
{
	struct control *c = xcalloc(1, sizeof(*c));
	c->cfg = *cfg;
	return c;
}

void control_free(struct control *c)
{
	free(c);
}

void control_job_view(const struct control *c, const struct jobrec *rec, struct control_job_view *out)
{
	(void)c;
	engine_job_load(rec, &out->running, &out->queued);
	out->next_fire = engine_job_next_fire(rec);
	out->sched = engine_job_schedule(rec);
}

const char *control_job_state(const struct control *c, const struct jobrec *rec, char *buf, size_t len)
{
	(void)c;
	return engine_job_state(rec, buf, len);
}

int control_job_next_fires(const struct control *c, const struct jobrec *rec, int64_t *out, int n)
{
	return engine_job_next_fires(c->cfg.engine, rec, out, n);
}

size_t control_upcoming(const struct control *c, size_t n, struct jobrec **recs, int64_t *at)
{
	return engine_upcoming(c->cfg.engine, n, recs, at);
}

void control_foreach_run(const struct control *c, void (*fn)(void *ctx, const struct run_record *r), void *ctx)
{
	engine_foreach_run(c->cfg.engine, fn, ctx);
}

bool control_run_active(const struct control *c, const char *task_id)
{
	return engine_run_active(c->cfg.engine, task_id);
}

int control_running(const struct control *c)
{
	return engine_running(c->cfg.engine);
}

size_t control_queue_size(const struct control *c, bool high_priority)
{
	return engine_queue_size(c->cfg.engine, high_priority ? 1 : 0);
}
