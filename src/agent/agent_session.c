/* The agent's exchanges with its servers (docs/agent-protocol.md): registration (again at any 409), one long poll
 * at a time, one events request at a time. Every answer raises the highest epoch seen and, when it is a success,
 * renews the lease from the moment its request left. A server that does not answer hands over to the next one
 * of --server; once none answers, the agent backs off (0.5 s doubling to 5 s) before the next round. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent/agent_internal.h"
#include "exec/cgroup.h"
#include "net/net.h"
#include "runner/agent_wire.h"
#include "runner/runner_local.h"
#include "util/log.h"
#include "util/strmap.h"
#include "util/xmalloc.h"

/* A paused server's kernel still acknowledges what it is sent (no TCP timeout fires): only these end a request
 * to it. A live server registers at once and answers a poll within its pollMs; a paused one held the agent from the
 * new leader past the --agent-timeout of its reconciliation with 10 s (test_ha_failover). */
#define REGISTER_TIMEOUT_MS 5000
#define EVENTS_TIMEOUT_MS 30000
/* A server silent this long (its kernel acknowledges nothing: a partition, a paused or dead machine) is given up
 * for the next one, long before a poll's own timeout (net/tcp_dead.h). */
#define SERVER_DEAD_AFTER_MS 3000
#define BUSY_TRIES 3 /* 5xx answers from one server before the next is tried (session_failed) */
#define POLL_MARGIN_MS 4000        /* a poll may take the server's pollMs and this much more */
#define POLL_MS_DEFAULT 10000

struct agent_call {
	struct agent *a;
	struct net_request *req;
	uint64_t sent_ms;          /* monotonic */
	uint64_t session;          /* the registration it was sent in (agent.sessions) */
	agent_answer_fn fn;
	void *ctx;
};

static uint64_t mono_ms(void)
{
	return uv_hrtime() / 1000000;
}

uint64_t agent_backoff_next(uint64_t *backoff)
{
	uint64_t ms = *backoff < AGENT_BACKOFF_MIN_MS ? AGENT_BACKOFF_MIN_MS : *backoff;

	*backoff = ms * 2 > AGENT_BACKOFF_MAX_MS ? AGENT_BACKOFF_MAX_MS : ms * 2;
	return ms;
}

void agent_epoch_seen(struct agent *a, uint64_t epoch)
{
	char err[512];

	if (epoch <= a->epoch)
		return;
	log_info_kv(LOG_FIELDS(.event = "agent.epoch"), "epoch %" PRIu64 " seen (was %" PRIu64 ")", epoch, a->epoch);
	a->epoch = epoch;
	if (agent_epoch_store(a->cfg.data_dir, epoch, err, sizeof(err)) < 0)
		log_warnx("%s", err);
}

bool agent_lease_valid(const struct agent *a, char *why, size_t len)
{
	uint64_t now = mono_ms();

	if (a->heard && now - a->heard_ms <= (uint64_t)a->cfg.lease * 1000)
		return true;
	if (a->heard)
		snprintf(why, len, "lease expired: this agent last heard from a server %.1f s ago (--lease %lld)",
		    (double)(now - a->heard_ms) / 1000, a->cfg.lease);
	else
		snprintf(why, len, "lease expired: this agent has not heard from a server yet");
	return false;
}

/* What every answer does before its caller sees it: the epoch, the lease, a refused token. */
static void on_answer(void *ctx, int rc, const struct net_response *resp, const char *err)
{
	struct agent_call *c = ctx;
	struct agent *a = c->a;
	json_t *body = NULL;
	long status = resp ? resp->status : 0;

	if (a->stopping) { /* net_client_close() cancels what is in flight */
		free(c);
		return;
	}
	if (rc == 0 && resp->body_len > 0)
		body = json_loadb(resp->body, resp->body_len, 0, NULL);
	json_t *epoch = json_object_get(body, "epoch");
	if (json_is_integer(epoch) && json_integer_value(epoch) > 0)
		agent_epoch_seen(a, (uint64_t)json_integer_value(epoch));
	/* the lease: a success, not from a leader older than one already seen (a deposed one that does not know it),
	 * from when the request left, or as much later as the server says it held it (a poll's heldMs: the server
	 * counts this agent heard from its answer, which is no earlier) */
	json_t *held = json_object_get(body, "heldMs");
	uint64_t heard = c->sent_ms, now = mono_ms();
	if (json_is_integer(held) && json_integer_value(held) > 0)
		heard += (uint64_t)json_integer_value(held) < now - c->sent_ms ? (uint64_t)json_integer_value(held)
										: now - c->sent_ms;
	if (rc == 0 && status >= 200 && status < 300 && (!a->heard || heard > a->heard_ms) &&
	    !(json_is_integer(epoch) && (uint64_t)json_integer_value(epoch) < a->epoch)) {
		a->heard = true;
		a->heard_ms = heard;
		lease_renew(&a->lease, heard);
	}
	if (rc == 0 && status == 409 && c->session != a->sessions) {
		/* a request of an earlier session, answered after the agent registered again: not this one's end */
		rc = -ESTALE;
		err = "answered for an earlier session";
	}
	if (rc == 0 && status == 401)
		log_warnx_kv(LOG_FIELDS(.event = "agent.unauthorized"), "%s: the server refused this agent's token (401): "
		    "the first line of --agent-token-file must be the servers' token", a->servers[a->server]);
	c->fn(a, c->ctx, rc, status, body, err);
	json_decref(body);
	free(c);
}

struct agent_call *agent_post(struct agent *a, const char *path_query, const char *body, size_t len, bool binary,
    uint64_t timeout_ms, agent_answer_fn fn, void *ctx)
{
	struct agent_call *c = xcalloc(1, sizeof(*c));
	const char *headers[3] = {binary ? "Content-Type: application/octet-stream" : "Content-Type: application/json",
		a->auth_header, NULL};
	char *url = xasprintf("%s%s", a->servers[a->server], path_query);
	struct net_request_options opt = {
		.method = "POST", .url = url, .headers = headers, .body = body ? body : "", .body_len = len,
		.timeout_ms = timeout_ms, .max_response = AGENT_BODY_MAX, .dead_after_ms = SERVER_DEAD_AFTER_MS,
	};
	int rc;

	*c = (struct agent_call){a, NULL, mono_ms(), a->sessions, fn, ctx};
	if ((rc = net_request(a->net, &opt, on_answer, c, &c->req)) < 0) {
		log_warnx("%s: cannot send a request (%s)", url, strerror(-rc));
		free(c);
		c = NULL;
	}
	free(url);
	return c;
}

void agent_call_cancel(struct agent_call *c)
{
	if (c == NULL)
		return;
	net_request_cancel(c->req);
	free(c);
}

/* A JSON body (compact) of j, which is taken. */
static char *dump(json_t *j, size_t *len)
{
	char *text = json_dumps(j, JSON_COMPACT);

	json_decref(j);
	if (text == NULL)
		abort(); /* out of memory: every string in j is valid UTF-8 */
	*len = strlen(text);
	return text;
}

static void on_session_timer(uv_timer_t *h)
{
	agent_register(h->data);
}

/* Try the next registration after ms (0: at once, on the loop's next turn). */
static void register_in(struct agent *a, uint64_t ms)
{
	uv_timer_start(&a->session_timer, on_session_timer, ms, 0);
}

void agent_session_lost(struct agent *a, bool next_server)
{
	agent_call_cancel(a->poll_call);
	a->poll_call = NULL;
	free(a->session);
	a->session = NULL;
	if (a->reg_call || uv_is_active((uv_handle_t *)&a->session_timer))
		return;
	if (next_server && ++a->tried < a->n_servers) {
		a->server = (a->server + 1) % a->n_servers;
		register_in(a, 0);
		return;
	}
	if (next_server) {
		a->tried = 0;
		a->server = (a->server + 1) % a->n_servers;
	}
	uint64_t ms = agent_backoff_next(&a->session_backoff);
	if (a->answered && ms > AGENT_BACKOFF_ELECTION_MS) {
		/* the servers are up and know no leader (yet): the next one may be elected any moment */
		ms = AGENT_BACKOFF_ELECTION_MS;
		a->session_backoff = ms;
	}
	a->answered = false;
	register_in(a, ms);
}

/* A request to the current server failed: rc < 0 (no answer) or a 5xx answer. A server that answers is up, and
 * what it answers in an election (no leader yet, or "the leader changed while it was forwarded") passes within a
 * second: the agent asks it again BUSY_TRIES times before the next server, which may be the old leader, paused or
 * cut off, that answers nothing for seconds. (The chaos suite: agents sent from a new leader's follower to the
 * paused old one, the slots due meanwhile passing their epsilon.) */
static void session_failed(struct agent *a, int rc)
{
	if (rc == 0 && ++a->busy < BUSY_TRIES) {
		a->answered = true;
		agent_session_lost(a, false);
		return;
	}
	a->busy = 0;
	a->answered |= rc == 0;
	agent_session_lost(a, true);
}

void agent_session_unknown(struct agent *a)
{
	agent_session_lost(a, false);
	register_in(a, 0);
}

static void poll_start(struct agent *a);

static void on_poll(struct agent *a, void *ctx, int rc, long status, json_t *body, const char *err)
{
	json_t *commands = json_object_get(body, "commands");

	(void)ctx;
	a->poll_call = NULL;
	if (rc == 0 && status == 200 && (commands == NULL || json_is_array(commands))) {
		a->tried = 0;
		agent_servers_learn(a, json_object_get(body, "servers"));
		if (json_is_string(json_object_get(body, "leader")))
			log_debug("poll: the leader is %s", json_string_value(json_object_get(body, "leader")));
		if (commands)
			agent_commands_run(a, commands);
		if (a->session && !a->poll_call)
			poll_start(a);
		return;
	}
	if (rc < 0 || status >= 500) {
		log_warnx("%s: poll: %s: trying %s", a->servers[a->server], rc < 0 ? err : "server error",
		    a->n_servers > 1 && (rc < 0 || a->busy + 1 >= BUSY_TRIES) ? "the next server" : "again");
		session_failed(a, rc);
		return;
	}
	if (status != 409 && status != 401)
		log_warnx("%s: poll answered %ld: %s", a->servers[a->server], status,
		    json_string_value(json_object_get(body, "message")) ? json_string_value(json_object_get(body, "message"))
									 : "(no message)");
	if (status == 409)
		agent_session_unknown(a);
	else
		agent_session_lost(a, false);
}

static void poll_start(struct agent *a)
{
	size_t len;
	char *body = dump(json_pack("{s:i, s:s, s:s, s:I}", "version", AGENT_PROTOCOL_VERSION, "id", a->id, "session",
	    a->session, "epoch", (json_int_t)a->epoch), &len);

	a->poll_call = agent_post(a, "/api/v1/agent/poll", body, len, false, (uint64_t)a->poll_ms + POLL_MARGIN_MS,
	    on_poll, NULL);
	free(body);
	if (a->poll_call == NULL)
		agent_session_lost(a, false);
}

/* Take a registration's answer: the session, the heartbeat, the leader. 0, or -EINVAL with err. */
static int registered(struct agent *a, json_t *body, char *err, size_t errlen)
{
	const char *session = json_string_value(json_object_get(body, "session"));
	const char *leader = json_string_value(json_object_get(body, "leader"));
	json_t *poll = json_object_get(body, "pollMs"), *timeout = json_object_get(body, "agentTimeoutMs");

	if (!agent_wire_name_ok(session)) {
		snprintf(err, errlen, "session: missing or not a name");
		return -EINVAL;
	}
	if (poll && (!json_is_integer(poll) || json_integer_value(poll) < 0 || json_integer_value(poll) > 3600000)) {
		snprintf(err, errlen, "pollMs: must be an integer from 0 to 3600000");
		return -EINVAL;
	}
	if (timeout && (!json_is_integer(timeout) || json_integer_value(timeout) < 1000 ||
	    json_integer_value(timeout) > 86400000)) {
		snprintf(err, errlen, "agentTimeoutMs: must be an integer from 1000 to 86400000");
		return -EINVAL;
	}
	if (timeout) {
		/* the executors kill the tasks once the agent was silent this long, before a server calls them lost */
		uint64_t lease = lease_for_timeout((uint64_t)json_integer_value(timeout));
		if (lease != a->exec_lease_ms)
			log_info_kv(LOG_FIELDS(.event = "agent.lease"), "tasks are killed once no server was heard for %.1f "
			    "s (the servers' --agent-timeout %.1f s less a margin)", (double)lease / 1000,
			    (double)json_integer_value(timeout) / 1000);
		a->exec_lease_ms = lease;
		lease_set(&a->lease, lease);
	}
	free(a->session);
	a->session = xstrdup(session);
	a->sessions++;
	a->poll_ms = poll ? json_integer_value(poll) : POLL_MS_DEFAULT;
	if (leader && (a->leader == NULL || strcmp(leader, a->leader) != 0)) {
		log_info_kv(LOG_FIELDS(.event = "agent.leader"), "the leader is %s", leader);
		free(a->leader);
		a->leader = xstrdup(leader);
	}
	agent_servers_learn(a, json_object_get(body, "servers"));
	return 0;
}

static void on_register(struct agent *a, void *ctx, int rc, long status, json_t *body, const char *err)
{
	const char *message = json_string_value(json_object_get(body, "message"));
	char why[512];

	(void)ctx;
	a->reg_call = NULL;
	if (rc < 0 || status >= 500) {
		log_warnx("%s: registration: %s", a->servers[a->server], rc < 0 ? err : message ? message : "server error");
		session_failed(a, rc);
		return;
	}
	if (status != 200 || registered(a, body, why, sizeof(why)) < 0) {
		if (status != 401)
			log_warnx("%s: registration refused (%ld): %s", a->servers[a->server], status,
			    status == 200 ? why : message ? message : "(no message)");
		register_in(a, agent_backoff_next(&a->session_backoff));
		return;
	}
	a->tried = 0;
	a->answered = false;
	a->busy = 0;
	a->session_backoff = 0;
	log_info_kv(LOG_FIELDS(.event = "agent.registered"), "registered with %s as %s (session %s, epoch %" PRIu64
	    ", heartbeat %" PRId64 " ms, %zu task%s held)", a->servers[a->server], a->cfg.name, a->session, a->epoch,
	    a->poll_ms, strmap_count(a->by_id), strmap_count(a->by_id) == 1 ? "" : "s");
	poll_start(a);
	agent_events_flush(a);
	/* A result held is sent again after every registration, final output and then its ended event (the protocol):
	 * the server that took them before may have lost them with its leadership (one cut off from its database),
	 * and the one registered with now records a held result only when its ended event comes. */
	for (struct agent_task *t = a->tasks; t; t = t->next) {
		if (t->ended && !t->release_pending && t->ended_queued) {
			t->ended_queued = false;
			t->final_stream = 0;
		}
	}
	agent_output_kick_all(a);
}

void agent_register(struct agent *a)
{
	struct cgroup_host cg;
	json_t *j;
	size_t len;
	char *body;

	if (a->reg_call || a->stopping)
		return;
	uv_timer_stop(&a->session_timer);
	j = json_pack("{s:i, s:s, s:s, s:s, s:s, s:O, s:{s:f, s:I, s:I}, s:I, s:o}", "version",
	    AGENT_PROTOCOL_VERSION, "id", a->id, "name", a->cfg.name, "hostname", a->hostname, "agentVersion",
	    GNOMON_VERSION, "attributes", a->attributes, "resources", "cpus", a->cpus, "mem", (json_int_t)a->mem, "disk",
	    (json_int_t)a->disk, "epoch", (json_int_t)a->epoch, "tasks", agent_tasks_json(a));
	if (j == NULL)
		abort();
	runner_local_cgroups(a->runner, &cg);
	json_object_set_new(j, "cgroups", agent_wire_cgroups_json(&cg));
	body = dump(j, &len);
	a->reg_call = agent_post(a, "/api/v1/agent/register", body, len, false, REGISTER_TIMEOUT_MS, on_register, NULL);
	free(body);
	if (a->reg_call == NULL)
		register_in(a, agent_backoff_next(&a->session_backoff));
}

/* ---- events ---- */

static void on_retry_timer(uv_timer_t *h)
{
	struct agent *a = h->data;

	agent_events_flush(a);
	agent_output_kick_all(a);
}

void agent_retry_later(struct agent *a)
{
	if (!uv_is_active((uv_handle_t *)&a->retry_timer))
		uv_timer_start(&a->retry_timer, on_retry_timer, agent_backoff_next(&a->retry_backoff), 0);
}

/* Put the batch that did not go back before what came meanwhile. */
static void events_requeue(struct agent *a)
{
	json_array_extend(a->sending, a->events);
	json_decref(a->events);
	a->events = a->sending;
	a->sending = NULL;
}

static void on_events(struct agent *a, void *ctx, int rc, long status, json_t *body, const char *err)
{
	const char *message = json_string_value(json_object_get(body, "message"));

	(void)ctx;
	a->events_call = NULL;
	if (rc == 0 && status >= 200 && status < 300) {
		json_decref(a->sending);
		a->sending = NULL;
		a->retry_backoff = 0;
		agent_events_flush(a);
		return;
	}
	if (rc == 0 && (status == 400 || status == 413)) {
		/* the server will never take this batch: what it says comes again in the next registration */
		log_warnx("%s: events refused (%ld): %s; %zu event%s dropped", a->servers[a->server], status,
		    message ? message : "(no message)", json_array_size(a->sending),
		    json_array_size(a->sending) == 1 ? "" : "s");
		json_decref(a->sending);
		a->sending = NULL;
		agent_events_flush(a);
		return;
	}
	events_requeue(a);
	if (rc == 0 && status == 409) {
		agent_session_unknown(a); /* sent again once registered */
		return;
	}
	if (rc < 0 || status != 401)
		log_warnx("%s: events: %s; sent again later", a->servers[a->server],
		    rc < 0 ? err : message ? message : "server error");
	agent_retry_later(a);
}

void agent_event(struct agent *a, json_t *ev)
{
	json_array_append_new(a->events, ev);
	agent_events_flush(a);
}

void agent_events_flush(struct agent *a)
{
	size_t len, n = json_array_size(a->events);
	char *body;

	if (a->events_call || a->session == NULL || a->stopping || n == 0 ||
	    uv_is_active((uv_handle_t *)&a->retry_timer))
		return;
	if (n <= AGENT_TASKS_MAX) {
		a->sending = a->events;
		a->events = json_array();
	} else { /* the protocol's bound: the rest goes next */
		a->sending = json_array();
		for (size_t i = 0; i < AGENT_TASKS_MAX; i++)
			json_array_append(a->sending, json_array_get(a->events, i));
		for (size_t i = 0; i < AGENT_TASKS_MAX; i++)
			json_array_remove(a->events, 0);
	}
	body = dump(json_pack("{s:i, s:s, s:s, s:O}", "version", AGENT_PROTOCOL_VERSION, "id", a->id, "session",
	    a->session, "events", a->sending), &len);
	a->events_call = agent_post(a, "/api/v1/agent/events", body, len, false, EVENTS_TIMEOUT_MS, on_events, NULL);
	free(body);
	if (a->events_call == NULL) {
		events_requeue(a);
		agent_retry_later(a);
	}
}

