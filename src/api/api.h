/* The HTTP API: routing of every endpoint (Chronos v1 under /v1/scheduler and /scheduler, the root servlets
 * /ping and /metrics) to handlers that run on the loop thread. */
#ifndef GNOMON_API_API_H
#define GNOMON_API_API_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct api_auth;
struct api_guard;
struct control;
struct events;
struct event_stream_hub;
struct http_request;
struct job_defaults;
struct json_t;
struct metrics;
struct net_client;
struct prometheus;
struct remote;
struct history;
struct registry;
struct run_output;
struct schedule_zones;
struct state;
struct proxy_call;

/* What the handlers may use; all owned by the server, borrowed here. */
struct api_env {
	struct registry *reg;
	struct state *state;
	struct schedule_zones *zones;
	const struct job_defaults *defaults;
	struct metrics *metrics;
	const char *leader;          /* "host:port" of the leader (this server when it leads), "" when none is known;
	                              * every answer carries it as X-Gnomon-Leader */
	struct history *history;     /* the ended runs (history/history.h) */
	struct run_output *output;   /* the runs' captured output (history/run_output.h) */
	struct control *control;     /* every change to jobs and runs, and the engine's state (control/control.h) */
	struct events *events;       /* what GET /api/v1/events streams */
	struct event_stream_hub *event_hub; /* GET /api/v1/events clients */
	uv_loop_t *loop;
	long long job_history_limit;
	const struct api_guard *guard; /* Host, origin and content-type rules (api/guard.h) */
	struct api_auth *auth;       /* who may do what (api/auth.h); NULL: everyone everything */
	struct prometheus *prom;     /* GET /metrics/prometheus and the request timings (api/prometheus.h) */
	bool follower;               /* this server does not lead (HA: another one does, or none is known; standalone:
	                              * stepped down): the routes that need the leader go to it (api/proxy.h) */
	const char *self;            /* this server's advertised "host:port": never proxied to */
	struct net_client *net;      /* the HTTP client the proxy forwards with (net/net.h) */
	struct proxy_call *proxy_calls; /* the requests it forwards now (api/proxy.h) */
	/* Why no leader is known ("no leader: election in progress"), a static string; NULL: "unknown". */
	const char *(*no_leader)(void *ctx);
	struct remote *fleet;        /* the agents (runner/runner_remote.h) */
	const char *agent_token;     /* the agents' shared secret (--agent-token-file); NULL: loopback agents only */
	bool tls;                    /* this server (and so the cluster's) speaks HTTPS: the proxy's https:// */
	bool agent_client_cert;      /* agents must present a client certificate (--tls-client-ca) */
	/* GET /api/v1/cluster's body (a new reference): this server's role, the leader, ZooKeeper's health. */
	struct json_t *(*cluster_view)(void *ctx);
	void *cluster_ctx;
	const char *sqlite_dir;      /* the data dir of the SQLite store; NULL with PostgreSQL (--state) */
	unsigned backups;            /* POST /api/v1/backup answers under way (api/gnomon_backup.h) */
};

/* Who may use a route (DESIGN.md) and which server answers it, checked in one place before its handler
 * (api/router.h; a follower's choice is api_proxy_decide(), api/proxy.h). */
enum api_policy {
	API_ANY,    /* anyone, on any server: this server answers (reads of the store) */
	API_LEADER, /* changes what the scheduler holds, or reads what only its engine knows: a follower proxies it
	             * to the leader, and answers 503 (Retry-After) when none is known */
	API_AGENT,  /* the agents' protocol: needs the agents' token (401), or without one a loopback peer (403);
	             * then as API_LEADER (an agent may register with any server) */
	API_ADMIN,  /* administration answered by any server (the tokens' list); changes of it are API_LEADER's with
	             * the admin role (api/router.h's role) */
	API_LIVE,   /* a read that shows the engine's live state (running, queued, next fires): a follower answers
	             * with the leader's answer when a leader is known, else with its own */
	API_EVENTS, /* the event stream: as API_LIVE, the leader's stream passed on as it comes */
	API_LOG,    /* a run's output: this server's, but follow=1 streams the leader's as API_EVENTS */
};

/* A route's handler; args are the path's {captures} in order. */
typedef void (*api_handler_fn)(struct api_env *env, struct http_request *req, const char *const *args);

/* The http_handler_fn of the server: route one request (env is a struct api_env *). */
void api_handle(void *env, struct http_request *req);
/* The http_head_fn of the server: the guard's checks, before a request's body is read. */
void api_check(void *env, struct http_request *req);
/* The http_done_fn of the server: a routed request's time, for gnomon_http_request_duration_seconds. */
void api_done(void *env, struct http_request *req, uint64_t nanos);

#endif
