#include "scheduler/events.h"

#include <errno.h>
#include <stdlib.h>

#include "util/xmalloc.h"

#define MAX_SUBSCRIBERS 16

struct events {
	struct {
		event_fn fn;
		void *ctx;
	} sub[MAX_SUBSCRIBERS];
	int n;
};

static const char *const type_names[EVENT_TYPE_COUNT] = {
	[EVENT_JOB_CREATED] = "job.created",
	[EVENT_JOB_UPDATED] = "job.updated",
	[EVENT_JOB_DELETED] = "job.deleted",
	[EVENT_JOB_DISABLED] = "job.disabled",
	[EVENT_JOB_STATE] = "job.state",
	[EVENT_RUN_CHANGED] = "run.changed",
	[EVENT_RUN_SKIPPED] = "run.skipped",
	[EVENT_RETRIES_EXHAUSTED] = "run.retries_exhausted",
	[EVENT_JOB_RECOVERED] = "job.recovered",
	[EVENT_AGENT_LOST] = "agent.lost",
};

struct events *events_new(void)
{
	return xcalloc(1, sizeof(struct events));
}

void events_free(struct events *ev)
{
	free(ev);
}

int events_subscribe(struct events *ev, event_fn fn, void *ctx)
{
	if (ev->n == MAX_SUBSCRIBERS)
		return -ENOSPC;
	ev->sub[ev->n].fn = fn;
	ev->sub[ev->n].ctx = ctx;
	ev->n++;
	return 0;
}

void events_unsubscribe(struct events *ev, event_fn fn, void *ctx)
{
	for (int i = 0; i < ev->n; i++) {
		if (ev->sub[i].fn == fn && ev->sub[i].ctx == ctx) {
			ev->sub[i] = ev->sub[--ev->n];
			return;
		}
	}
}

void events_emit(struct events *ev, const struct event *event)
{
	if (ev == NULL)
		return;
	for (int i = 0; i < ev->n; i++)
		ev->sub[i].fn(ev->sub[i].ctx, event);
}

void events_agent_lost(void *events, const char *name, const char *hostname, const char *why)
{
	struct event e = {.type = EVENT_AGENT_LOST, .reason = why, .agent = name, .agent_host = hostname};

	events_emit(events, &e);
}

const char *event_type_name(enum event_type t)
{
	return (unsigned)t < EVENT_TYPE_COUNT ? type_names[t] : "unknown";
}
