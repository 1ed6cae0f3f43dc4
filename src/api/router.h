/* The router: a table of routes (method, path pattern, handler, policy), the one place where a request's path
 * picks its handler and where the route's policy is checked before the handler runs. api_handle() routes with
 * the server's table; tests route with tables of their own. */
#ifndef GNOMON_API_ROUTER_H
#define GNOMON_API_ROUTER_H

#include <stddef.h>

#include "api/api.h"
#include "auth/auth_token.h"

struct api_route {
	const char *method;
	const char *pattern;  /* segments; "{}" captures one, "{**}" one or more (a task id may hold '/') */
	api_handler_fn fn;
	const char *metric;   /* the /metrics timer's name */
	int chronos;          /* served under /v1/scheduler and /scheduler */
	enum api_policy policy;
	enum auth_role role;  /* who may use it when auth is on (api/auth.h); 0: viewer */
};

/* Route req through table: 404 for an unknown path, 405 (with Allow) for a known path and another method, the
 * refusal of access control (401, 403: api/auth.h) when the caller lacks the route's role, the policy's refusal (403,
 * or 503 on a follower for API_LEADER) when the request does not satisfy it; else the
 * handler. The request is tagged with its route (http_request_tag) for api_done(). */
void api_route(struct api_env *env, struct http_request *req, const struct api_route *table, size_t n);
/* The route of table that method and path (a request's decoded path) reach, or NULL. */
const struct api_route *api_route_find(const struct api_route *table, size_t n, const char *method,
    const char *path);
/* The server's routes. */
const struct api_route *api_routes(size_t *n);
/* The route's label in metrics: its pattern as a path, "/v1/scheduler/job/{}" (a Chronos route under either
 * prefix), "/api/v1/runs/{**}/log", "/" for the root. */
void api_route_label(const struct api_route *r, char *out, size_t len);

#endif
