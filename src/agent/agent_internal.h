/* Private to the agent's files: agent_config.c (options, token, attributes, resources), agent_journal.c (the data
 * directory), agent_session.c (registration, polls, events over net), agent_tasks.c (commands, the runner's
 * events, the task table), agent_output.c (output uploads), agent.c (start-up and stop). Everything on the loop
 * thread. */
#ifndef GNOMON_AGENT_AGENT_INTERNAL_H
#define GNOMON_AGENT_AGENT_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "agent/agent.h"
#include "exec/container.h"
#include "exec/exec_lease.h"
#include "exec/exec_order.h"
#include "history/run_output.h"
#include "runner/runner.h"
#include "util/buf.h"
#include "util/config.h"

#define AGENT_BACKOFF_MIN_MS 500
#define AGENT_BACKOFF_MAX_MS 5000
#define AGENT_BACKOFF_ELECTION_MS 1000 /* at most, while a server answers but reaches no leader: an election */
#define AGENT_BODY_MAX ((size_t)1 << 20)  /* a request body, at most (the protocol's bound) */
#define AGENT_CHUNK_MAX ((size_t)256 << 10) /* live output waiting to go up per stream; past it the stream's live
                                             * upload gives up (the final upload still carries it) */
#define AGENT_TASKS_MAX 1024              /* tasks in a registration, events in one request */

struct agent_config {
	char *servers;
	char *data_dir;
	char *name;
	char *attributes;          /* CONFIG_LIST */
	double cpus;
	long long mem, disk;
	char *token_file;
	char *tls_ca, *tls_cert, *tls_key;
	long long lease;
	char *keep_work_dirs;
	long long keep_work_dirs_max_size;
	long long spawn_threads;
	bool stop_tasks_on_exit;
	char *container_runtime;   /* auto, podman, docker or none */
	bool enforce_resources;     /* --enforce-resources */
	long long task_pids_max;    /* --task-pids-max */
	char *container_host_paths; /* what container volumes may mount: prefixes, comma-separated ("": default) */
	char *log_level;
	bool log_json;
	char *config_file;
};

extern const struct config_option agent_options[];

/* One task the agent holds: journaled, running or ended with a result the server has not released yet. */
struct agent_task {
	struct agent *a;
	char *task_id, *job;
	json_t *assignment;          /* as the server sent it (the journal's) */
	struct runner_task *handle;  /* while it runs */
	bool ended;                  /* result is its end, kept until a release */
	struct runner_result result;
	int64_t pid, start_ms;
	bool release_pending;        /* released while running: killed, released once it ends */
	enum runner_outcome release_outcome;
	/* output (agent_output.c) */
	int64_t output_cap;          /* bytes of each stream the server keeps from its start */
	int64_t seen[2];             /* bytes each stream carried so far (the offset of the next chunk) */
	bool live_off[2];            /* live chunks of that stream no longer go up */
	struct buf chunk[2];         /* what came and has not gone up yet, from chunk_off */
	int64_t chunk_off[2];
	struct order_rec order;      /* the streams' arrival order as the chunks came (exec/exec_order.h) */
	struct buf order_live;       /* its head entries, encoded: the live order record, sent whole when dirty */
	bool order_dirty, order_off; /* changed since it last went up; no longer sent (the server refused it) */
	struct agent_call *out_call; /* at most one output request in flight */
	int out_stream;              /* its stream */
	bool out_live;               /* it is a live chunk (not a final copy) */
	int final_stream;            /* ended: the stream whose final output goes up next (enum run_stream: stdout,
	                              * stderr, the order record; RUN_NSTREAMS: all went) */
	bool ended_queued;           /* its ended event is queued or sent */
	struct agent_task *prev, *next;
};

/* A request in flight (agent_session.c). */
struct agent_call;

/* How a request came back: rc 0 with status (and body, its JSON when it had one, else NULL), or a negative errno
 * (no answer) with err. */
typedef void (*agent_answer_fn)(struct agent *a, void *ctx, int rc, long status, json_t *body, const char *err);

struct agent {
	struct agent_config cfg;
	uv_loop_t *loop;
	uv_signal_t sigint, sigterm;
	uv_timer_t session_timer;    /* the next registration attempt */
	uv_timer_t retry_timer;      /* the next attempt of events and final output that failed */
	struct net_client *net;
	struct runner *runner;
	char id[AGENT_ID_LEN + 1];
	char hostname[256];
	char *auth_header;           /* "Authorization: Bearer ..." or NULL */
	json_t *attributes;
	struct container_runtime ctr; /* what runs its container tasks (detected at start) */
	double cpus;
	int64_t mem, disk;
	char **servers;              /* base URLs without a trailing '/': --server's, then the learned ones */
	size_t n_servers, server;    /* the one in use */
	size_t n_configured;         /* --server's, first in servers */
	size_t tried;                /* servers that did not answer in this round */
	bool answered;               /* one of them answered (5xx) in this round: an election, not an outage */
	int busy;                    /* 5xx answers in a row from the current server (agent_session_failed) */
	uint64_t epoch;              /* the highest seen */
	char *session;               /* NULL: not registered */
	uint64_t sessions;           /* registrations so far */
	int64_t poll_ms;
	char *leader;
	uint64_t heard_ms;           /* monotonic: when the newest request that got a 2xx answer was sent */
	bool heard;
	struct exec_lease lease;     /* heard_ms shared with the tasks' executors (exec/exec_lease.h) */
	uint64_t exec_lease_ms;      /* the lease they enforce (0: none yet) */
	uint64_t session_backoff, retry_backoff;
	struct agent_call *reg_call, *poll_call, *events_call;
	json_t *events;              /* queued */
	json_t *sending;             /* in flight */
	struct agent_task *tasks;
	struct strmap *by_id;
	bool stopping;
};

/* agent_config.c */
/* Parse the options into a->cfg and everything derived from them (servers, token, attributes, name, resources,
 * logging); -1 to go on, or an exit code (0 after --help or --check-config, 2 for invalid options). */
int agent_configure(struct agent *a, int argc, char **argv);
/* The machine's resources where the options left them 0 (the data directory exists). */
void agent_default_resources(struct agent *a);

/* agent_servers.c */
/* --server's URLs into a->servers. 0, or -EINVAL with err. */
int agent_servers_parse(struct agent *a, char *err, size_t errlen);
/* The servers learned before (DATA_DIR/servers) after --server's (start-up, the data directory exists). */
void agent_servers_restore(struct agent *a);
/* A registration's "servers" (the cluster's instances, absent standalone): the learned ones become these, kept in
 * the data directory; the server in use stays in use. */
void agent_servers_learn(struct agent *a, json_t *servers);
void agent_servers_free(struct agent *a);

/* agent_session.c */
/* POST a request to the server in use: path_query under its base URL, a JSON body or bytes (binary). fn is called
 * once, on the loop, never from inside this call, unless the call is cancelled. Returns the call, or NULL (logged)
 * when it could not be made: the caller tries again later. */
struct agent_call *agent_post(struct agent *a, const char *path_query, const char *body, size_t len, bool binary,
    uint64_t timeout_ms, agent_answer_fn fn, void *ctx);
void agent_call_cancel(struct agent_call *c);
/* Register with the server in use (again), unless a registration is under way. */
void agent_register(struct agent *a);
/* The session is gone (a 409, a server that stopped answering): register again, after a backoff when asked. */
void agent_session_lost(struct agent *a, bool next_server);
/* The server does not know the session (a 409): register again at once. */
void agent_session_unknown(struct agent *a);
/* Queue an event (taken) and send it when nothing else is in flight. */
void agent_event(struct agent *a, json_t *ev);
void agent_events_flush(struct agent *a);
/* Send the events and final output that wait again after a backoff. */
void agent_retry_later(struct agent *a);
/* Raise the highest epoch seen (kept in the data directory when it rises). */
void agent_epoch_seen(struct agent *a, uint64_t epoch);
/* The lease: an answer was heard within --lease seconds of now. */
bool agent_lease_valid(const struct agent *a, char *why, size_t len);
uint64_t agent_backoff_next(uint64_t *backoff);

/* agent_tasks.c */
void agent_listener(struct agent *a, struct runner_listener *out);
struct agent_task *agent_task_add(struct agent *a, const char *task_id, const char *job, json_t *assignment);
void agent_task_free(struct agent_task *t);
/* Load the journal and reconcile it with the runner (start-up). 0, or -1 (logged). */
int agent_tasks_recover(struct agent *a, const struct agent_journal_entry *e, size_t n);
/* The tasks of a registration (a new reference). */
json_t *agent_tasks_json(const struct agent *a);
/* Carry out the commands of a poll answer. */
void agent_commands_run(struct agent *a, json_t *commands);
/* Queue a task's ended event (once its final output went up). */
void agent_task_report_end(struct agent_task *t);

/* agent_output.c */
void agent_output_chunk(struct agent_task *t, enum run_stream s, const char *data, size_t len);
/* Send what waits of a task's output (live chunks, or its final output once it ended), one request at a time. */
void agent_output_kick(struct agent_task *t);
void agent_output_kick_all(struct agent *a);
/* Drop what waits (a release, the task's end before its final output). */
void agent_output_stop(struct agent_task *t);

#endif
