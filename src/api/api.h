/* The HTTP API: routing of every endpoint (Chronos v1 under /v1/scheduler and /scheduler, the root servlets
 * /ping and /metrics) to handlers that run on the loop thread. */
#ifndef GNOMON_API_API_H
#define GNOMON_API_API_H

#include <stdint.h>
#include <uv.h>

struct api_guard;
struct engine;
struct events;
struct event_stream_hub;
struct http_request;
struct job_defaults;
struct metrics;
struct registry;
struct run_output;
struct schedule_zones;
struct store;

/* What the handlers may use; all owned by the server, borrowed here. */
struct api_env {
	struct registry *reg;
	struct store *store;
	struct schedule_zones *zones;
	const struct job_defaults *defaults;
	struct metrics *metrics;
	const char *leader;          /* "host:port" of the leader (this server when standalone) */
	struct run_output *output;   /* the runs' captured output (history/run_output.h) */
	struct engine *engine;
	struct events *events;       /* job changes made through the API are told here */
	struct event_stream_hub *event_hub; /* GET /api/v1/events clients */
	uv_loop_t *loop;
	long long job_history_limit;
	const struct api_guard *guard; /* Host, origin and content-type rules (api/guard.h) */
};

/* A route's handler; args are the path's {captures} in order. */
typedef void (*api_handler_fn)(struct api_env *env, struct http_request *req, const char *const *args);

/* The http_handler_fn of the server: route one request (env is a struct api_env *). */
void api_handle(void *env, struct http_request *req);
/* The http_head_fn of the server: the guard's checks, before a request's body is read. */
void api_check(void *env, struct http_request *req);

#endif
