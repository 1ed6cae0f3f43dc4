/* What happens to jobs and runs, told on the loop thread to whoever subscribed: the web UI's event stream and
 * the notifications. Subscribers are called synchronously from the code that made the change, after it is in
 * the store; they must be quick, must not change scheduler state (queue work, do not do it) and must not
 * subscribe or unsubscribe during a call. */
#ifndef GNOMON_SCHEDULER_EVENTS_H
#define GNOMON_SCHEDULER_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

struct job;
struct run_record;
struct events;

enum event_type {
	EVENT_JOB_CREATED,
	EVENT_JOB_UPDATED,
	EVENT_JOB_DELETED,         /* the job is still valid during the call */
	EVENT_JOB_DISABLED,        /* by the engine: recurrences exhausted or too many failures; reason says which */
	EVENT_JOB_STATE,           /* idle/queued/running changed, or its counters did */
	EVENT_RUN_CHANGED,         /* a run was queued, started, or ended in any status */
	EVENT_RUN_SKIPPED,         /* slots recorded as skipped (missed, or a waiting slot that could not wait) */
	EVENT_RETRIES_EXHAUSTED,   /* a run's final failure: no retry left */
	EVENT_JOB_RECOVERED,       /* the first success after failures */
	EVENT_AGENT_LOST,          /* an agent fell silent past --agent-timeout: agent, agent_host, reason; no job */
	EVENT_TYPE_COUNT
};

struct event {
	enum event_type type;
	const struct job *job;        /* NULL when the job is gone (a run of a deleted job), or for an agent's event */
	const char *job_name;
	const struct run_record *run; /* the run concerned, NULL for job events */
	const char *reason;           /* human words for disabled/skipped, NULL otherwise */
	bool by_failures;             /* EVENT_JOB_DISABLED: by --disable-after-failures, not by its schedule's end */
	const char *agent, *agent_host; /* EVENT_AGENT_LOST: the agent's name and hostname; NULL otherwise */
};

typedef void (*event_fn)(void *ctx, const struct event *ev);

struct events *events_new(void);
void events_free(struct events *ev);
/* Call fn(ctx, event) for every event from now on; -ENOSPC when too many subscribe. */
int events_subscribe(struct events *ev, event_fn fn, void *ctx) __attribute__((warn_unused_result));
/* Stop calling fn with ctx. */
void events_unsubscribe(struct events *ev, event_fn fn, void *ctx);
/* Tell every subscriber; ev may be NULL (nobody listens). */
void events_emit(struct events *ev, const struct event *event);
/* Emit EVENT_AGENT_LOST on events (a struct events *): the fleet's agent_lost callback
 * (runner/runner_remote.h's remote_agent_lost_fn), why being what became of the agent's runs. */
void events_agent_lost(void *events, const char *name, const char *hostname, const char *why);
/* "job.created", "run.changed", ... */
const char *event_type_name(enum event_type t);

#endif
