/* The agent protocol's routes and the operators' view of the agents (gnomon_agents.h). */
#include "api/gnomon_agents.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_who.h"
#include "api/auth.h"
#include "api/http.h"
#include "control/control.h"
#include "runner/runner_remote.h"
#include "util/json_text.h"
#include "util/log.h"
#include "util/xmalloc.h"

static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = (unsigned char)(la != lb);

	for (size_t i = 0; i < la; i++)
		diff |= (unsigned char)(a[i] ^ b[i % (lb ? lb : 1)]);
	return diff == 0;
}

static bool loopback_peer(const struct http_request *req)
{
	char peer[HTTP_PEER_MAX];

	http_request_peer(req, peer, sizeof(peer));
	return strncmp(peer, "127.", 4) == 0 || strncmp(peer, "[::1]:", 6) == 0 ||
	    strncmp(peer, "[::ffff:127.", 12) == 0;
}

bool gnomon_agent_allowed(struct api_env *env, struct http_request *req)
{
	const char *auth = http_request_header(req, "Authorization");
	const char *bearer = auth && strncmp(auth, "Bearer ", 7) == 0 ? auth + 7 : NULL;
	struct api_identity who;

	if (env->fleet == NULL) {
		http_respond_error(req, 503, "this server runs no fleet of agents");
		return false;
	}
	if (env->agent_client_cert && !http_request_tls_client(req)) {
		http_respond_error(req, 403, "agents must present a TLS client certificate signed by the server's "
		    "--tls-client-ca (gnomon agent --tls-cert and --tls-key)");
		return false;
	}
	if (bearer && env->agent_token && same_secret(bearer, env->agent_token))
		return true;
	if (bearer && env->auth && api_auth_agent_token(env, bearer, &who))
		return true; /* an agent's own token: revoked, and that agent is refused from its next request on */
	if (env->agent_token == NULL && bearer == NULL) {
		if (loopback_peer(req))
			return true;
		http_add_header(req, "WWW-Authenticate", "Bearer realm=\"gnomon agents\"");
		http_respond_error(req, 401, "Authorization: missing: an agent from elsewhere than this machine must send "
		    "an agent's token (gnomon token create NAME --role agent) or the server's --agent-token-file");
		return false;
	}
	if (bearer && env->auth) {
		api_auth_refuse(env, req, "Authorization: Bearer: not an agent's token nor the agents' shared token");
		return false;
	}
	http_add_header(req, "WWW-Authenticate", "Bearer realm=\"gnomon agents\"");
	http_respond_error(req, 401, "Authorization: %s: agents must send the token of --agent-token-file or one of "
	    "the role agent", auth ? "wrong token" : "missing");
	return false;
}

/* The request's JSON body, or NULL after answering 400. */
static json_t *body_json(struct http_request *req)
{
	size_t len;
	const char *body = http_request_body(req, &len);
	json_error_t jerr;
	json_t *j = json_loadb(body ? body : "", len, 0, &jerr);

	if (j == NULL || !json_is_object(j)) {
		json_decref(j);
		http_respond_error(req, 400, "body: a JSON object is required (%s)", j ? "not an object" : jerr.text);
		return NULL;
	}
	return j;
}

static void answer(struct http_request *req, struct remote_answer *a)
{
	if (a->body)
		http_respond_json(req, a->status, a->body);
	else
		http_respond_error(req, a->status ? a->status : 500, "%s", a->err);
}

/* The cluster's instances as URLs ("servers" in the answers to registrations and polls, docs/agent-protocol.md):
 * the agents add them to the servers they try, so one told of a single server still finds the leader once that
 * one is gone; the polls keep them current as instances come and go. Their scheme is this server's (a cluster's
 * servers speak TLS alike). Nothing standalone, nor for an instance
 * whose address is not known. */
static void add_servers(const struct api_env *env, json_t *answer)
{
	json_t *view, *instances, *it, *servers;
	const char *mode;
	size_t i;

	if (env->cluster_view == NULL || answer == NULL)
		return;
	view = env->cluster_view(env->cluster_ctx);
	instances = json_object_get(view, "instances");
	mode = json_string_value(json_object_get(view, "mode"));
	if (mode == NULL || strcmp(mode, "ha") != 0 || !json_is_array(instances)) {
		json_decref(view);
		return;
	}
	servers = json_array();
	json_array_foreach(instances, i, it) {
		const char *address = json_string_value(json_object_get(it, "address"));
		if (address && address[0])
			json_array_append_new(servers, json_sprintf("%s://%s", env->tls ? "https" : "http", address));
	}
	json_object_set_new(answer, "servers", servers);
	json_decref(view);
}

void gnomon_agent_register(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct remote_answer a;
	json_t *body = body_json(req);

	(void)args;
	if (body == NULL)
		return;
	remote_register(env->fleet, body, &a);
	json_decref(body);
	if (a.status == 200)
		add_servers(env, a.body);
	answer(req, &a);
}

void gnomon_agent_events(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct remote_answer a;
	json_t *body = body_json(req);

	(void)args;
	if (body == NULL)
		return;
	remote_events(env->fleet, body, &a);
	json_decref(body);
	answer(req, &a);
}

/* A poll held until the fleet has commands for its agent, or its time is up. */
struct held_poll {
	struct api_env *env;
	struct http_request *req;
	struct remote_poll *held;
};

static void on_commands(void *ctx, json_t *commands)
{
	struct held_poll *h = ctx;

	add_servers(h->env, commands);
	http_respond_json(h->req, 200, commands);
	free(h);
}

static void on_poll_end(void *ctx, struct http_request *req, enum http_defer_end why)
{
	struct held_poll *h = ctx;
	json_t *nothing = remote_poll_abandon(h->held);

	if (why == HTTP_DEFER_TIMEOUT) {
		add_servers(h->env, nothing);
		http_respond_json(req, 200, nothing);
	} else {
		json_decref(nothing);
	}
	free(h);
}

void gnomon_agent_poll(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct remote_answer a;
	struct held_poll *h;
	json_t *body = body_json(req);

	(void)args;
	if (body == NULL)
		return;
	h = xcalloc(1, sizeof(*h));
	h->req = req;
	h->env = env;
	remote_poll(env->fleet, body, on_commands, h, &a, &h->held);
	json_decref(body);
	if (h->held == NULL) {
		free(h);
		if (a.status == 200)
			add_servers(env, a.body);
		answer(req, &a);
		return;
	}
	http_request_defer(req, remote_poll_ms(env->fleet), on_poll_end, h);
}

void gnomon_agent_output(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *stream = http_request_query(req, "stream"), *offset = http_request_query(req, "offset");
	const char *final = http_request_query(req, "final");
	struct remote_output o = {
		.id = http_request_query(req, "id"),
		.session = http_request_query(req, "session"),
		.task_id = http_request_query(req, "taskId"),
	};
	char err[512] = "", *end = NULL;
	int status;

	(void)args;
	o.final = final && strcmp(final, "1") == 0;
	/* order: the streams' order record (history/run_output.h), whole: the final one, or the live one so far */
	if (stream == NULL || (strcmp(stream, "stdout") != 0 && strcmp(stream, "stderr") != 0 &&
	    strcmp(stream, "order") != 0)) {
		http_respond_error(req, 400, "stream: stdout, stderr or order");
		return;
	}
	o.stream = strcmp(stream, "order") == 0 ? RUN_ORDER : strcmp(stream, "stderr") == 0 ? RUN_STDERR : RUN_STDOUT;
	errno = 0;
	o.offset = offset ? strtoll(offset, &end, 10) : -1;
	if (offset == NULL || errno || end == offset || *end || o.offset < 0) {
		http_respond_error(req, 400, "offset: a byte offset, 0 or more");
		return;
	}
	o.data = http_request_body(req, &o.len);
	status = remote_output(env->fleet, &o, err, sizeof(err));
	if (status == 204)
		http_respond(req, 204, NULL, NULL, 0);
	else
		http_respond_error(req, status, "%s", err);
}

void gnomon_list_agents(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	http_respond_json(req, 200, env->fleet ? remote_agents_json(env->fleet) : json_array());
}

void gnomon_get_agent(struct api_env *env, struct http_request *req, const char *const *args)
{
	json_t *a = env->fleet ? remote_agent_json(env->fleet, args[0]) : NULL;

	if (a == NULL) {
		http_respond_error(req, 404, "agent '%s' not found", args[0]);
		return;
	}
	http_respond_json(req, 200, a);
}

static void drain(struct api_env *env, struct http_request *req, const char *id, bool on)
{
	struct api_who who;
	json_t *o;
	char *after;
	int rc;

	if (env->fleet == NULL || remote_drain(env->fleet, id, on) < 0) {
		http_respond_error(req, 404, "agent '%s' not found", id);
		return;
	}
	/* its audit entry in a transaction of its own: draining is the fleet's, in memory */
	api_who_of(env, req, &who);
	o = json_pack("{s:o, s:b}", "agent", json_text(id), "drained", on);
	after = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if ((rc = after ? control_audit_alone(env->control, api_who_control(&who), on ? "agent.drain" : "agent.undrain",
		 NULL, NULL, after) : -ENOMEM) < 0)
		log_warnx("audit: agent '%s' %s by %s: not recorded (%s)", id, on ? "drained" : "undrained", who.actor,
		    strerror(-rc));
	free(after);
	http_respond_json(req, 200, remote_agent_json(env->fleet, id));
}

void gnomon_drain_agent(struct api_env *env, struct http_request *req, const char *const *args)
{
	drain(env, req, args[0], true);
}

void gnomon_undrain_agent(struct api_env *env, struct http_request *req, const char *const *args)
{
	drain(env, req, args[0], false);
}
