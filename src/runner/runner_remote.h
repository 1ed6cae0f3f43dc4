/* The fleet: a runner (runner/runner.h) that places each task on an agent, the server's side of the agent
 * protocol (docs/agent-protocol.md), and the operators' view of the agents. The embedded agent (runner_local)
 * is one of its agents, started in process through the same placement; remote agents (`gnomon agent`) take their
 * tasks through polls. It holds what the engine does not know: the agents (resources, attributes, sessions, last
 * heard), which agent has which task, the tasks that fit nowhere yet (the WAITING event says why; past their
 * start_by_ms they end RUNNER_END_SKIPPED), agents that fall silent past the agent timeout (their tasks end
 * RUNNER_END_LOST, for the engine to retry), and the reconciliation of an agent's report with what the engine
 * expects. Everything on the loop thread. */
#ifndef GNOMON_RUNNER_RUNNER_REMOTE_H
#define GNOMON_RUNNER_RUNNER_REMOTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "runner/placement.h"
#include "runner/runner.h"

struct remote;

/* An agent went silent past the agent timeout (for notifications): name, and what became of its tasks. */
typedef void (*remote_agent_lost_fn)(void *ctx, const char *name, const char *hostname, const char *why);

struct run_output;

struct runner_remote_config {
	struct runner *local;        /* the embedded agent (runner_local_new()), taken over; NULL: none */
	const char *local_name;      /* its name in run records and /api/v1/agents */
	const char *local_hostname;  /* its `hostname` attribute */
	struct placement_resources local_total; /* what it offers */
	json_t *local_attributes;    /* its attributes (a JSON object of strings, borrowed); NULL: none */
	json_t *local_cgroups;       /* how it enforces resources (agent_wire_cgroups_json()), borrowed; NULL: not said */
	const char *data_dir;        /* remote tasks' output goes to DATA_DIR/logs (history/run_output_files.h) */
	struct run_output *output;   /* borrowed; with a durable copy (run_output_pg.h) a run's output is shipped
	                              * there when its end is released, and a remote agent is sent its `release`
	                              * only once that copy committed; NULL: none */
	uint64_t agent_timeout_ms;   /* a remote agent silent this long is lost */
	uint64_t poll_ms;            /* how long a poll is held with nothing to say (below agent_timeout_ms) */
	const char *leader;          /* "host:port", told to agents */
	remote_agent_lost_fn agent_lost; /* NULL: none */
	void *ctx;
};

/* The fleet's runner (freed with runner_free(), which frees the embedded agent too) and its protocol side. 0,
 * or a negative errno with a message in err. */
int runner_remote_new(uv_loop_t *loop, const struct runner_remote_config *cfg, struct runner **out,
    struct remote **fleet, char *err, size_t errlen) __attribute__((warn_unused_result));

/* The machine's resources as an agent offers them by default: its cores, its memory and the free space of the
 * file system of dir (MiB). */
void remote_machine_resources(const char *dir, struct placement_resources *out);

/* ---- the protocol (api handlers call these with the request's JSON; docs/agent-protocol.md) ---- */

/* An answer: an HTTP status and a JSON body (a new reference; NULL with err for an error answer). */
struct remote_answer {
	int status;
	json_t *body;
	char err[512];
};

/* POST /api/v1/agent/register, /events: body borrowed. */
void remote_register(struct remote *f, json_t *body, struct remote_answer *out);
void remote_events(struct remote *f, json_t *body, struct remote_answer *out);

/* A poll held until there is something to say: fn(ctx, answer) (answer a new reference, 200) is called once,
 * later, from the loop, unless remote_poll_abandon() came first. */
typedef void (*remote_poll_fn)(void *ctx, json_t *answer);
struct remote_poll;
/* POST /api/v1/agent/poll: answered now in out (out->status != 0), or held: out->status 0 and *held set. */
void remote_poll(struct remote *f, json_t *body, remote_poll_fn fn, void *ctx, struct remote_answer *out,
    struct remote_poll **held);
/* The held poll's request ended (its timeout, or its client went away): forget it. Returns the answer to give
 * on a timeout (a new reference: no commands). */
json_t *remote_poll_abandon(struct remote_poll *p);
/* How long to hold a poll. */
uint64_t remote_poll_ms(const struct remote *f);

/* POST /api/v1/agent/output: a chunk of a task's stream at offset (live), or its final capped content. Returns
 * the HTTP status (204, or 400/404/409 with err). */
struct remote_output {
	const char *id, *session, *task_id;
	int stream;        /* 0 stdout, 1 stderr, 2 the order record (final only) */
	int64_t offset;
	bool final;
	const char *data;
	size_t len;
};
int remote_output(struct remote *f, const struct remote_output *o, char *err, size_t errlen);

/* ---- operators ---- */

/* GET /api/v1/agents: every agent known (a new reference); one by id or name (NULL: none). */
json_t *remote_agents_json(const struct remote *f);
json_t *remote_agent_json(const struct remote *f, const char *id);
/* Drain (no new tasks) or undrain an agent by id or name: 0, or -ENOENT. */
int remote_drain(struct remote *f, const char *id, bool drain);

/* Gauges: agents up, lost, draining; tasks waiting for an agent. */
struct remote_counts {
	size_t up, lost, draining, waiting;
};
void remote_counts(const struct remote *f, struct remote_counts *out);

#endif
