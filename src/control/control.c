/* A control's lifetime, and the reads of what the engine holds. */
#include "control/control.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "control/control_internal.h"
#include "scheduler/engine.h"
#include "state/state.h"
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

void control_set_engine(struct control *c, struct engine *e)
{
	c->cfg.engine = e;
}

int control_need_engine(const struct control *c, char *err, size_t errlen)
{
	if (c->cfg.engine)
		return 0;
	snprintf(err, errlen, "this server does not lead the scheduling now (it stepped down, or another server "
	    "leads): try again when it leads");
	return -EAGAIN;
}

void control_state_error(const struct control *c, int rc, const char *what, char *err, size_t errlen)
{
	if (rc == -EAGAIN)
		snprintf(err, errlen, "the scheduler is recording an earlier change: try again");
	else
		snprintf(err, errlen, "store: could not %s: %s", what, state_errmsg(c->cfg.state));
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
	if (c->cfg.engine == NULL)
		return 0;
	return engine_job_next_fires(c->cfg.engine, rec, out, n);
}

size_t control_upcoming(const struct control *c, size_t n, struct jobrec **recs, int64_t *at)
{
	if (c->cfg.engine == NULL)
		return 0;
	return engine_upcoming(c->cfg.engine, n, recs, at);
}

int control_fires(const struct control *c, const struct control_fires_query *q)
{
	if (c->cfg.engine == NULL)
		return 0;
	return engine_fires(c->cfg.engine, &(struct engine_fires_query){.from = q->from, .to = q->to, .max = q->max,
		.want = q->want, .fire = q->fire, .ctx = q->ctx});
}

void control_foreach_run(const struct control *c, void (*fn)(void *ctx, const struct run_record *r), void *ctx)
{
	if (c->cfg.engine)
		engine_foreach_run(c->cfg.engine, fn, ctx);
}

bool control_run_active(const struct control *c, const char *task_id)
{
	return c->cfg.engine && engine_run_active(c->cfg.engine, task_id);
}

int control_running(const struct control *c)
{
	return c->cfg.engine == NULL ? 0 : engine_running(c->cfg.engine);
}

size_t control_queue_size(const struct control *c, bool high_priority)
{
	return c->cfg.engine == NULL ? 0 : engine_queue_size(c->cfg.engine, high_priority ? 1 : 0);
}
