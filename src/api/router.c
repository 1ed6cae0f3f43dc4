#include "api/router.h"

#include <stdio.h>
#include <string.h>
#include <uv.h>

#include "api/chronos_graph.h"
#include "api/chronos_jobs.h"
#include "api/chronos_stats.h"
#include "api/chronos_tasks.h"
#include "api/auth.h"
#include "api/gnomon_agents.h"
#include "api/gnomon_audit.h"
#include "api/gnomon_backup.h"
#include "api/gnomon_events.h"
#include "api/gnomon_graph.h"
#include "api/gnomon_jobs.h"
#include "api/gnomon_jobs_bulk.h"
#include "api/gnomon_openapi.h"
#include "api/gnomon_runs.h"
#include "api/gnomon_schedule.h"
#include "api/gnomon_session.h"
#include "api/gnomon_tokens.h"
#include "api/gnomon_timeline.h"
#include "api/gnomon_ui.h"
#include "api/guard.h"
#include "api/http.h"
#include "api/prometheus.h"
#include "api/proxy.h"
#include "control/control.h"
#include "scheduler/registry.h"
#include "util/clock.h"
#include "runner/runner_remote.h"
#include "util/metrics.h"
#include "util/xmalloc.h"

#define MAX_SEGMENTS 64
#define MAX_ARGS 2

static void handle_ping(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)env;
	(void)args;
	http_respond(req, 200, "text/plain", xstrdup("pong\n"), 5);
}

static void handle_leader(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	http_respond_json(req, 200, json_pack("{s:s}", "leader", env->leader));
}

static void handle_cluster(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	if (env->cluster_view == NULL) {
		http_respond_error(req, 503, "GET /api/v1/cluster: not available on this server");
		return;
	}
	http_respond_json(req, 200, env->cluster_view(env->cluster_ctx));
}

static void handle_metrics(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct remote_counts fleet = {0};

	(void)args;
	if (env->fleet)
		remote_counts(env->fleet, &fleet);
	json_t *gauges = json_pack("{s:{s:I}, s:{s:I}, s:{s:I}, s:{s:i}, s:{s:I}, s:{s:I}, s:{s:I}, s:{s:I}}",
	    "org.apache.mesos.chronos.scheduler.jobs.TaskManager.queueSize", "value",
	    (json_int_t)control_queue_size(env->control, false),
	    "org.apache.mesos.chronos.scheduler.jobs.TaskManager.highQueueSize", "value",
	    (json_int_t)control_queue_size(env->control, true),
	    "gnomon.jobs.count", "value", (json_int_t)registry_count(env->reg),
	    "gnomon.runs.running", "value", control_running(env->control),
	    "gnomon.agents.up", "value", (json_int_t)fleet.up,
	    "gnomon.agents.draining", "value", (json_int_t)fleet.draining,
	    "gnomon.agents.lost", "value", (json_int_t)fleet.lost,
	    "gnomon.runs.waiting_for_agent", "value", (json_int_t)fleet.waiting);
	http_respond_json(req, 200, metrics_to_json(env->metrics, gauges, clock_now_ms()));
}

/* Every route that changes something needs the leader, and so does what only its engine or its fleet knows
 * (API_LEADER, API_AGENT: a follower proxies them); reads of the store are served by any server (API_ANY); the
 * reads that show the engine's live state, the event stream and a followed log are the leader's when one is
 * known (API_LIVE, API_EVENTS, API_LOG). api/proxy.h decides. */
/* The roles (README, "Access"): reads viewer, run now, kill, mark success operator, everything else admin; a job's
 * post that only enables or disables it operator (route_role). */
static const struct api_route routes[] = {
	{"POST", "iso8601", chronos_post_iso8601, "api.iso8601.post", 1, API_LEADER, AUTH_ADMIN},
	{"PUT", "iso8601", chronos_post_iso8601, "api.iso8601.post", 1, API_LEADER, AUTH_ADMIN},
	{"POST", "dependency", chronos_post_dependency, "api.dependency.post", 1, API_LEADER, AUTH_ADMIN},
	{"PUT", "dependency", chronos_post_dependency, "api.dependency.post", 1, API_LEADER, AUTH_ADMIN},
	{"GET", "jobs", chronos_get_jobs, "api.jobs.list", 1, API_ANY, AUTH_VIEWER},
	{"GET", "jobs/search", chronos_search_jobs, "api.jobs.search", 1, API_ANY, AUTH_VIEWER},
	{"GET", "jobs/summary", chronos_jobs_summary, "api.jobs.summary", 1, API_LIVE, AUTH_VIEWER},
	{"GET", "job/stat/{}", chronos_job_stat, "api.job.stat", 1, API_ANY, AUTH_VIEWER},
	{"GET", "job/{}", chronos_get_job, "api.job.get", 1, API_ANY, AUTH_VIEWER},
	{"DELETE", "job/{}", chronos_delete_job, "api.job.delete", 1, API_LEADER, AUTH_ADMIN},
	{"PUT", "job/{}", chronos_run_job, "api.job.run", 1, API_LEADER, AUTH_OPERATOR},
	{"PUT", "job/success/{}", chronos_mark_success, "api.job.success", 1, API_LEADER, AUTH_OPERATOR},
	{"DELETE", "task/kill/{}", chronos_kill_tasks, "api.task.kill", 1, API_LEADER, AUTH_OPERATOR},
	{"PUT", "task/{**}", chronos_task_status, "api.task.status", 1, API_LEADER, AUTH_ADMIN},
	{"GET", "stats/{}", chronos_stats_percentile, "api.stats", 1, API_ANY, AUTH_VIEWER},
	{"GET", "graph/dot", chronos_graph_dot, "api.graph.dot", 1, API_ANY, AUTH_VIEWER},
	{"GET", "graph/csv", chronos_graph_csv, "api.graph.csv", 1, API_LIVE, AUTH_VIEWER},
	{"GET", "leader", handle_leader, "api.leader", 1, API_ANY, AUTH_VIEWER},
	{"GET", "leader", handle_leader, "api.leader", 0, API_ANY, AUTH_VIEWER},
	{"GET", "api/v1/jobs", gnomon_list_jobs, "api.v1.jobs.list", 0, API_ANY, AUTH_VIEWER},
	{"POST", "api/v1/jobs", gnomon_post_jobs, "api.v1.jobs.post", 0, API_LEADER, AUTH_ADMIN},
	{"GET", "api/v1/overview", gnomon_overview, "api.v1.overview", 0, API_LIVE, AUTH_VIEWER},
	{"GET", "api/v1/cluster", handle_cluster, "api.v1.cluster", 0, API_ANY, AUTH_VIEWER},
	{"GET", "api/v1/events", gnomon_events, "api.v1.events", 0, API_EVENTS, AUTH_VIEWER},
	{"GET", "api/v1/jobs/{}", gnomon_get_job_summary, "api.v1.jobs.get", 0, API_LIVE, AUTH_VIEWER},
	{"GET", "api/v1/jobs/{}/runs", gnomon_list_runs, "api.v1.runs.list", 0, API_ANY, AUTH_VIEWER},
	{"GET", "api/v1/jobs/{}/next", gnomon_job_next, "api.v1.jobs.next", 0, API_LIVE, AUTH_VIEWER},
	{"GET", "api/v1/runs/{**}/log", gnomon_run_log, "api.v1.runs.log", 0, API_LOG, AUTH_VIEWER},
	{"GET", "api/v1/runs/{**}", gnomon_get_run, "api.v1.runs.get", 0, API_ANY, AUTH_VIEWER},
	{"POST", "api/v1/agent/register", gnomon_agent_register, "api.v1.agent.register", 0, API_AGENT, AUTH_OPEN},
	{"POST", "api/v1/agent/poll", gnomon_agent_poll, "api.v1.agent.poll", 0, API_AGENT, AUTH_OPEN},
	{"POST", "api/v1/agent/events", gnomon_agent_events, "api.v1.agent.events", 0, API_AGENT, AUTH_OPEN},
	{"POST", "api/v1/agent/output", gnomon_agent_output, "api.v1.agent.output", 0, API_AGENT, AUTH_OPEN},
	{"GET", "api/v1/agents", gnomon_list_agents, "api.v1.agents.list", 0, API_LEADER, AUTH_VIEWER},
	{"GET", "api/v1/agents/{}", gnomon_get_agent, "api.v1.agents.get", 0, API_LEADER, AUTH_VIEWER},
	{"POST", "api/v1/agents/{}/drain", gnomon_drain_agent, "api.v1.agents.drain", 0, API_LEADER, AUTH_ADMIN},
	{"POST", "api/v1/agents/{}/undrain", gnomon_undrain_agent, "api.v1.agents.undrain", 0, API_LEADER, AUTH_ADMIN},
	{"GET", "api/v1/timeline", gnomon_timeline, "api.v1.timeline", 0, API_LIVE, AUTH_VIEWER},
	{"GET", "api/v1/schedule/preview", gnomon_schedule_preview, "api.v1.schedule.preview", 0, API_ANY, AUTH_VIEWER},
	{"GET", "api/v1/graph.svg", gnomon_graph_svg, "api.v1.graph.svg", 0, API_ANY, AUTH_VIEWER},
	{"POST", "api/v1/backup", gnomon_backup, "api.v1.backup", 0, API_ANY, AUTH_ADMIN},
	{"GET", "api/v1/openapi.json", gnomon_openapi, "api.v1.openapi", 0, API_ANY, AUTH_VIEWER},
	{"GET", "", gnomon_ui_root, "ui.root", 0, API_ANY, AUTH_OPEN},
	{"GET", "ui", gnomon_ui_file, "ui.file", 0, API_ANY, AUTH_OPEN},
	{"GET", "ui/{**}", gnomon_ui_file, "ui.file", 0, API_ANY, AUTH_OPEN},
	{"GET", "ping", handle_ping, "api.ping", 0, API_ANY, AUTH_OPEN},
	{"GET", "metrics", handle_metrics, "api.metrics", 0, API_ANY, AUTH_VIEWER},
	{"GET", "metrics/prometheus", prometheus_handle, "api.metrics.prometheus", 0, API_ANY, AUTH_VIEWER},
	{"POST", "api/v1/tokens", gnomon_post_token, "api.v1.tokens.post", 0, API_LEADER, AUTH_ADMIN},
	{"GET", "api/v1/tokens", gnomon_list_tokens, "api.v1.tokens.list", 0, API_ANY, AUTH_ADMIN},
	{"DELETE", "api/v1/tokens/{}", gnomon_delete_token, "api.v1.tokens.delete", 0, API_LEADER, AUTH_ADMIN},
	{"GET", "api/v1/audit", gnomon_list_audit, "api.v1.audit.list", 0, API_LIVE, AUTH_ADMIN},
	{"POST", "api/v1/session", gnomon_post_session, "api.v1.session.post", 0, API_ANY, AUTH_OPEN},
	{"GET", "api/v1/session", gnomon_get_session, "api.v1.session.get", 0, API_ANY, AUTH_OPEN},
	{"DELETE", "api/v1/session", gnomon_delete_session, "api.v1.session.delete", 0, API_ANY, AUTH_OPEN},
};


/* Split path into segments at every '/' in place (a leading and a trailing '/' are dropped, empty segments in
 * between kept, so "{**}" captures can be glued back exactly); returns the count or -1 when too many. */
static int split(char *path, char **seg)
{
	int n = 0;
	char *p = path + (*path == '/');
	size_t len = strlen(p);

	if (len > 0 && p[len - 1] == '/')
		p[--len] = '\0';
	if (*p == '\0')
		return 0;
	for (;;) {
		if (n == MAX_SEGMENTS)
			return -1;
		seg[n++] = p;
		p = strchr(p, '/');
		if (p == NULL)
			return n;
		*p++ = '\0';
	}
}

/* Does route r match the segments? Fills args with the captures: "{}" takes one segment, "{**}" as many as
 * leave the rest of the pattern to match (a task id may contain '/'). Glues a "{**}" capture back together in
 * place, so call it only for the route that will run. */
static int match(const struct api_route *r, char **seg, int nseg, const char **args, int glue)
{
	char pattern[64], *pseg[MAX_SEGMENTS];
	int npseg, nargs = 0, i = 0;

	snprintf(pattern, sizeof(pattern), "%s", r->pattern);
	npseg = split(pattern, pseg);
	for (int k = 0; k < npseg; k++) {
		if (strcmp(pseg[k], "{**}") == 0) {
			int take = nseg - i - (npseg - k - 1);
			if (take < 1)
				return 0;
			if (nargs < MAX_ARGS)
				args[nargs++] = seg[i];
			for (int g = 1; glue && g < take; g++)
				seg[i + g][-1] = '/';
			i += take;
			continue;
		}
		if (i >= nseg)
			return 0;
		if (strcmp(pseg[k], "{}") == 0) {
			if (nargs < MAX_ARGS)
				args[nargs++] = seg[i];
		} else if (strcmp(pseg[k], seg[i]) != 0) {
			return 0;
		}
		i++;
	}
	return i == nseg;
}

/* Strip a Chronos prefix; returns the rest of the path and whether a prefix was there. */
static const char *strip_prefix(const char *path, int *chronos)
{
	static const char *const prefixes[] = {"/v1/scheduler/", "/scheduler/"};
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t n = strlen(prefixes[i]);
		if (strncmp(path, prefixes[i], n) == 0) {
			*chronos = 1;
			return path + n;
		}
	}
	*chronos = 0;
	return path;
}

/* Is follow=1 (or true) asked for? */
static bool follow_asked(const struct http_request *req)
{
	const char *f = http_request_query(req, "follow");
	return f && (strcmp(f, "1") == 0 || strcmp(f, "true") == 0);
}

/* The role req needs on route r: the route's, but a job's post (Chronos's iso8601, dependency) that only enables
 * or disables the job is an operator's. */
static enum auth_role route_role(struct api_env *env, struct http_request *req, const struct api_route *r)
{
	if (r->policy == API_ADMIN)
		return AUTH_ADMIN;
	if ((r->fn == chronos_post_iso8601 || r->fn == chronos_post_dependency) && env->auth &&
	    api_auth_on(env->auth, env->state))
		return chronos_job_change_role(env, req); /* parses the body: only when it matters */
	return r->role;
}

/* Does this server's handler answer the request? When it does not, the request has been answered (a refusal),
 * or handed to the proxy (the leader answers). */
static bool policy_allows(struct api_env *env, struct http_request *req, const struct api_route *r)
{
	struct api_proxy_view view = {.follower = env->follower, .leader = env->leader, .self = env->self,
		.proxied = http_request_header(req, API_PROXY_HOP_FIELD) != NULL};
	enum api_proxy_way way;

	if (r->policy == API_ADMIN && (env->auth == NULL || !api_auth_on(env->auth, env->state))) {
		http_respond_error(req, 403, "%s %s: needs administrator credentials, %s", http_request_method(req),
		    http_request_path(req), env->auth ? "and access control is off (no token, no --http-credentials)" :
							"which this server cannot check yet");
		return false;
	}
	if (!api_auth_allows(env, req, route_role(env, req, r)))
		return false; /* checked on every server a request passes: the leader checks a proxied one again */
	if (r->policy == API_AGENT && !gnomon_agent_allowed(env, req))
		return false; /* checked here too: the leader's check sees the proxy's address, not the agent's */
	view.follow = r->policy == API_LOG && follow_asked(req);
	way = api_proxy_decide(r->policy, &view);
	switch (way) {
	case API_PROXY_NO:
		return true;
	case API_PROXY_WHOLE:
	case API_PROXY_STREAM:
		api_proxy_forward(env, req, way == API_PROXY_STREAM);
		return false;
	case API_PROXY_LOOP:
	case API_PROXY_NO_LEADER:
		api_proxy_refuse(env, req, way);
		return false;
	}
	return false;
}

void api_route(struct api_env *env, struct http_request *req, const struct api_route *table, size_t n)
{
	const char *method = http_request_method(req), *rest, *args[MAX_ARGS] = {NULL, NULL};
	char path[4096], *seg[MAX_SEGMENTS], allow[128] = "";
	int chronos, nseg;
	uint64_t t0 = uv_hrtime();

	if (strcmp(method, "HEAD") == 0)
		method = "GET";
	rest = strip_prefix(http_request_path(req), &chronos);
	snprintf(path, sizeof(path), "%s", rest);
	nseg = split(path, seg);
	for (size_t i = 0; nseg >= 0 && i < n; i++) {
		const struct api_route *r = &table[i];
		if (r->chronos != chronos || !match(r, seg, nseg, args, 0))
			continue;
		if (strcmp(r->method, method) == 0) {
			http_request_set_tag(req, r);
			if (!policy_allows(env, req, r))
				return;
			match(r, seg, nseg, args, 1);
			r->fn(env, req, args);
			if (env->metrics)
				metrics_timer(env->metrics, r->metric, (int64_t)(uv_hrtime() - t0), clock_now_ms());
			return;
		}
		if (strstr(allow, r->method) == NULL) {
			size_t used = strlen(allow);
			snprintf(allow + used, sizeof(allow) - used, "%s%s", used ? ", " : "", r->method);
		}
	}
	if (allow[0] && strcmp(method, "OPTIONS") == 0) {
		api_guard_options(env->guard, req, allow);
	} else if (allow[0]) {
		http_add_header(req, "Allow", allow);
		http_respond_error(req, 405, "method %s is not allowed on %s (allowed: %s)", method,
		    http_request_path(req), allow);
	} else {
		http_respond_error(req, 404, "no such endpoint: %s %s", method, http_request_path(req));
	}
}

const struct api_route *api_route_find(const struct api_route *table, size_t n, const char *method,
    const char *path)
{
	const char *rest, *args[MAX_ARGS];
	char copy[4096], *seg[MAX_SEGMENTS];
	int chronos, nseg;

	rest = strip_prefix(path, &chronos);
	snprintf(copy, sizeof(copy), "%s", rest);
	nseg = split(copy, seg);
	for (size_t i = 0; nseg >= 0 && i < n; i++)
		if (table[i].chronos == chronos && strcmp(table[i].method, method) == 0 &&
		    match(&table[i], seg, nseg, args, 0))
			return &table[i];
	return NULL;
}

const struct api_route *api_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

void api_route_label(const struct api_route *r, char *out, size_t len)
{
	snprintf(out, len, "%s%s", r->chronos ? "/v1/scheduler/" : "/", r->pattern);
}

void api_handle(void *arg, struct http_request *req)
{
	api_route(arg, req, routes, sizeof(routes) / sizeof(routes[0]));
}

void api_done(void *arg, struct http_request *req, uint64_t nanos)
{
	struct api_env *env = arg;
	const struct api_route *r = http_request_tag(req);
	char label[128];

	if (r == NULL || env->prom == NULL)
		return; /* refused before routing, or no route */
	api_route_label(r, label, sizeof(label));
	prometheus_observe_request(env->prom, http_request_method(req), label, nanos);
}

void api_check(void *arg, struct http_request *req)
{
	struct api_env *env = arg;

	if (env->leader && env->leader[0])
		http_add_header(req, "X-Gnomon-Leader", env->leader);
	api_guard_check(env->guard, req);
}
