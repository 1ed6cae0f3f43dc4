/* The fleet's state, shared by runner_remote*.c only. */
#ifndef GNOMON_RUNNER_RUNNER_REMOTE_INTERNAL_H
#define GNOMON_RUNNER_RUNNER_REMOTE_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "runner/agent_wire.h"
#include "runner/placement.h"
#include "runner/runner.h"
#include "runner/runner_remote.h"

#define AGENT_ID_BUF (AGENT_WIRE_ID_MAX + 1)

#define REMOTE_REFUSAL_MAX 240         /* bytes of an agent's last refusal kept for the fleet view */
#define REMOTE_REFUSAL_PAUSE_MS 1000   /* an agent that refuses a task is sent none for this long, */
#define REMOTE_REFUSAL_PAUSE_MAX 8000  /* doubled at each refusal up to this, until it starts one */

struct ragent {
	struct ragent *next;
	char id[AGENT_ID_BUF], name[AGENT_ID_BUF], session[AGENT_ID_BUF];
	char *hostname, *version;
	struct placement_attr *attrs; /* point into attrs_json */
	json_t *attrs_json;
	json_t *cgroups;              /* how it enforces resources (agent_wire_cgroups_json), NULL: not said */
	struct placement_agent pa;    /* placement's view: name, hostname, attrs, total, used, running, state */
	bool local;                   /* the embedded agent */
	bool up;                      /* heard from within the agent timeout (the embedded one always) */
	bool drained;
	uint64_t last_heard;          /* uv_now() of its last request */
	int64_t last_heard_wall, registered_wall;
	uint64_t epoch_told;          /* the epoch its last registration was answered with */
	json_t *outbox;               /* commands not yet sent (an array) */
	struct remote_poll *poll;     /* its poll held, or NULL */
	uint64_t refusing_until;      /* uv_now() until which it is sent no task: it refused one (a full disk) */
	uint64_t refusal_backoff;     /* ms of its last such pause, doubled at each refusal, 0 once it starts one */
	char refusal[REMOTE_REFUSAL_MAX]; /* what it said when it last refused a task */
};

enum rtask_state { T_WAITING, T_ASSIGNED, T_RUNNING, T_ENDED };

struct rtask {
	struct rtask *prev, *next;    /* every task */
	struct rtask *wnext;          /* the waiting queue */
	char *task_id;
	void *ctx;                    /* the engine's */
	struct ragent *agent;         /* NULL while waiting */
	struct runner_task *local;    /* on the embedded agent: its handle there */
	enum rtask_state st;
	json_t *assignment;           /* the spec (agent_wire), kept until it runs */
	struct placement_resources need;
	struct placement_constraints *cons; /* NULL: none */
	int64_t due_ms, start_by_ms;
	uint64_t sent_at;             /* uv_now() of its last start command */
	struct runner_result *result; /* T_ENDED: its result, until the engine heard it */
	int64_t start_ms, pid;        /* T_RUNNING: as its agent said */
	bool reserved;                /* counted in its agent's used/running */
	bool heard;                   /* its ENDED event was delivered */
	int64_t out_len[2];           /* bytes of each stream written to the output files (live chunks) */
	bool order_final;             /* its final order record came (a live one no longer replaces it) */
	size_t cap;                   /* live chunks are kept up to this many bytes of each stream */
	char reason[PLACEMENT_REASON_MAX]; /* why it waits */
};

/* An event waiting for its turn on the loop (never from inside a call to the runner). */
struct pev {
	struct pev *next;
	enum runner_event_type type;
	struct rtask *t;
	char *reason;                 /* WAITING */
	char *late_id;                /* LATE (t NULL): the task, its agent and its result */
	char late_agent[AGENT_ID_BUF];
	struct runner_result late;
};

struct remote_poll {
	struct ragent *agent;
	remote_poll_fn fn;
	void *ctx;
	uv_loop_t *loop;
	uint64_t arrived;             /* uv_now() when it came */
};

struct remote_reconcile;

struct remote {
	struct runner base;
	uv_loop_t *loop;
	struct runner_listener listener;
	bool attached;
	struct runner *local;
	struct ragent *agents;        /* the embedded agent first */
	size_t n_agents;
	struct strmap *tasks;         /* task id -> rtask */
	struct rtask *all;            /* every task */
	struct rtask *wait_head, *wait_tail;
	struct pev *ev_head, *ev_tail;
	bool place_soon;              /* room was freed: the waiting tasks are placed after the events */
	struct rtask *delivering;     /* the task whose event is being delivered (NULL once it is freed) */
	struct strmap *gone;          /* the tasks of lost agents, ended lost: task id -> its slot in gone_ring */
	char **gone_ring;             /* the last REMOTE_GONE_MAX of them, oldest first from gone_next */
	size_t gone_next;
	uv_timer_t flush;             /* delivers the events, then answers the polls with commands */
	uv_timer_t sweep;             /* every second: silent agents, late waiting tasks, lost assignments */
	uint64_t epoch;
	char *data_dir, *leader;
	uint64_t agent_timeout_ms, poll_ms;
	struct remote_reconcile *rec; /* a reconciliation waiting for agents */
	bool reconciled;              /* the engine reconciled once: a task an agent reports that nobody holds is
	                               * killed (before, it is kept for the reconciliation to come) */
	remote_agent_lost_fn agent_lost;
	void *ctx;
	int closing;                  /* handles left to close */
	struct run_output *output;    /* the output store, with its durable copy or not (borrowed) */
	struct remote_release *releases; /* releases waiting for their run's output to be durable */
};

#define REMOTE(r) ((struct remote *)(r))

/* runner_remote.c */
struct rtask *remote_task_new(struct remote *f, const char *task_id);
void remote_task_free(struct remote *f, struct rtask *t);
void remote_emit(struct remote *f, enum runner_event_type type, struct rtask *t, const char *reason);
/* End a task the engine holds: its result is kept and an ENDED event goes out. */
void remote_end(struct remote *f, struct rtask *t, const struct runner_result *res);
void remote_end_lost(struct remote *f, struct rtask *t, enum runner_end end, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Give back what a task held on its agent; waiting tasks are then placed soon. */
void remote_unreserve(struct remote *f, struct rtask *t);
#define REMOTE_GONE_MAX 4096 /* tasks of lost agents remembered, for their late results */
/* A result came for a task this fleet no longer holds: a LATE event when it was ended lost with its agent. */
void remote_late(struct remote *f, struct ragent *a, const char *task_id, const struct runner_result *res);
/* Send a command to an agent with its next poll. */
void remote_command(struct remote *f, struct ragent *a, json_t *cmd);
/* runner_remote_place.c */
/* The agent that takes t now, or NULL with the reason why none can. */
struct ragent *remote_choose(struct remote *f, struct rtask *t, char *reason, size_t len);
/* A task's constraints, compiled: its job's, and for a container task the runtime an agent must have (NULL:
 * none). */
struct placement_constraints *remote_constraints(const struct runner_spec *s);
/* Take attrs (a JSON object of strings, its reference taken over) as the agent's attributes. */
void remote_agent_set_attributes(struct ragent *a, json_t *attrs);
/* Send t to its remote agent a with a's next poll. */
void remote_assign(struct remote *f, struct rtask *t, struct ragent *a);
/* Start n tasks (already reserved) on the embedded agent as one batch; out as runner_start_many()'s. */
void remote_start_local(struct remote *f, struct rtask **ts, const struct runner_spec *specs, size_t n,
    struct runner_start *out);
/* Count t's needs on agent a, which has it from now on. */
void remote_reserve(struct rtask *t, struct ragent *a);
/* Take t off the waiting queue (wherever it is in it). */
void remote_wait_unlink(struct remote *f, struct rtask *t);
/* Queue a task to wait for an agent (it is on none). */
void remote_wait_push(struct remote *f, struct rtask *t);
/* Agent a refused a task (not permanently: its disk is full, say): it is sent none for a while, so that the
 * tasks go to the agents that have room; the pause doubles while it keeps refusing. */
void remote_agent_refused(struct remote *f, struct ragent *a, const char *reason);
/* Place what waits, where it fits now. */
void remote_place_waiting(struct remote *f);
void remote_kick(struct remote *f);
/* Answer an agent's held poll with nothing (it is replaced, or the agent is gone). */
void remote_poll_close(struct ragent *a);
/* answer (returned) is a held poll's: it gets heldMs, and the agent counts as heard now. */
json_t *remote_poll_answer(struct remote_poll *p, json_t *answer);
struct ragent *remote_agent_find(const struct remote *f, const char *id_or_name);
int64_t remote_wall_ms(void);

/* runner_remote_reconcile.c */
void remote_reconcile(struct runner *r, uint64_t epoch, const char *const *task_ids, const char *const *agents,
    size_t n, runner_reconciled_fn done, void *ctx);
/* An agent registered: a reconciliation waiting for it may be done. */
void remote_reconcile_agent_came(struct remote *f, struct ragent *a);
/* Whether a reconciliation waits for this task (an agent reports it: adopt it). */
bool remote_reconcile_awaits(const struct remote *f, const char *task_id);
void remote_reconcile_tick(struct remote *f);
void remote_reconcile_free(struct remote *f);

#endif
