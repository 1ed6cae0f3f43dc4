#include "api/gnomon_events.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_json.h"
#include "api/gnomon_jobs.h"
#include "api/http.h"
#include "api/proxy.h"
#include "job/job.h"
#include "scheduler/events.h"
#include "scheduler/registry.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define CLIENT_BACKLOG_MAX ((size_t)4 << 20) /* unsent bytes a client may fall behind by */
#define KEEPALIVE_MS 15000                   /* a comment line this often keeps idle connections open */
#define TICK_MS 1000                         /* how often a follower looks whether a leader is known now */
#define CLIENTS_MAX 256

struct client {
	struct event_stream_hub *hub;
	struct http_stream *stream;
	struct buf backlog;
	bool overflowed; /* told to reload; the stream ends once that is sent */
	bool moved;      /* a follower's own stream once a leader is known: it ends, the client comes back proxied */
	struct client *prev, *next;
};

struct event_stream_hub {
	struct events *events;
	struct api_env *env;
	uv_timer_t keepalive;    /* every TICK_MS while there are clients */
	uint64_t ticks;
	struct client *clients;
	int nclients;
	bool subscribed;
};

/* Queue text for one client and wake its stream; past the cap the client is told to reload instead. */
static void client_send(struct client *c, const char *text, size_t len)
{
	static const char overflow[] = "event: overflow\ndata: {}\n\n";

	if (c->overflowed)
		return;
	if (c->backlog.len + len > CLIENT_BACKLOG_MAX) {
		buf_reset(&c->backlog);
		c->overflowed = true;
		if (buf_append(&c->backlog, overflow, sizeof(overflow) - 1) < 0)
			fatalx("unbounded buffer refused data");
	} else if (buf_append(&c->backlog, text, len) < 0) {
		fatalx("unbounded buffer refused data");
	}
	http_stream_wake(c->stream);
}

static void broadcast(struct event_stream_hub *hub, const char *text, size_t len)
{
	for (struct client *c = hub->clients; c; c = c->next)
		client_send(c, text, len);
}

/* The data of an event: {"type": ..., "job": summary or {"name"}, "run": ..., "reason": ..., "agent": {"name",
 * "hostname"} (agent.lost)}. */
static json_t *event_json(struct event_stream_hub *hub, const struct event *ev)
{
	json_t *o = json_pack("{s:s}", "type", event_type_name(ev->type));
	struct jobrec *rec = ev->job_name ? registry_get(hub->env->reg, ev->job_name) : NULL;

	if (ev->type != EVENT_JOB_DELETED && rec)
		json_object_set_new(o, "job", gnomon_job_summary(hub->env, rec));
	else
		json_object_set_new(o, "job", json_pack("{s:o}", "name", api_text(ev->job_name ? ev->job_name : "")));
	if (ev->run)
		json_object_set_new(o, "run", api_run_json(ev->run, clock_now_ms()));
	if (ev->reason)
		json_object_set_new(o, "reason", api_text(ev->reason));
	if (ev->agent)
		json_object_set_new(o, "agent", json_pack("{s:o, s:o}", "name", api_text(ev->agent), "hostname",
		    api_text(ev->agent_host ? ev->agent_host : "")));
	return o;
}

static void on_event(void *ctx, const struct event *ev)
{
	struct event_stream_hub *hub = ctx;
	struct buf text;
	json_t *data;
	char *json;

	if (hub->clients == NULL)
		return;
	data = event_json(hub, ev);
	json = json_dumps(data, JSON_COMPACT);
	json_decref(data);
	buf_init(&text, 0);
	if (buf_printf(&text, "event: %s\ndata: %s\n\n", event_type_name(ev->type), json) < 0)
		fatalx("unbounded buffer refused data");
	free(json);
	broadcast(hub, text.data, text.len);
	buf_free(&text);
}

/* Keep idle connections open; on a follower that now knows the leader, end its own streams instead (an
 * EventSource reconnects within its retry time, and is proxied to the leader's stream). */
static void on_keepalive(uv_timer_t *t)
{
	static const char ping[] = ": keepalive\n\n";
	struct event_stream_hub *hub = t->data;

	if (!api_proxy_leader_known(hub->env)) {
		if (++hub->ticks % (KEEPALIVE_MS / TICK_MS) == 0)
			broadcast(hub, ping, sizeof(ping) - 1);
		return;
	}
	for (struct client *c = hub->clients; c; c = c->next) {
		c->moved = true;
		http_stream_wake(c->stream);
	}
}

struct event_stream_hub *event_stream_hub_new(uv_loop_t *loop, struct events *events, struct api_env *env)
{
	struct event_stream_hub *hub = xcalloc(1, sizeof(*hub));

	hub->events = events;
	hub->env = env;
	uv_timer_init(loop, &hub->keepalive);
	hub->keepalive.data = hub;
	if (events_subscribe(events, on_event, hub) < 0)
		log_warnx("events: too many subscribers; the web UI will not update live");
	else
		hub->subscribed = true;
	return hub;
}

void event_stream_hub_close(struct event_stream_hub *hub)
{
	if (hub == NULL || uv_is_closing((uv_handle_t *)&hub->keepalive))
		return;
	if (hub->subscribed)
		events_unsubscribe(hub->events, on_event, hub);
	hub->subscribed = false;
	uv_close((uv_handle_t *)&hub->keepalive, NULL);
}

void event_stream_hub_free(struct event_stream_hub *hub)
{
	free(hub);
}

static int client_next(void *arg, struct buf *out)
{
	struct client *c = arg;

	if (c->backlog.len == 0)
		return c->overflowed || c->moved ? 0 : HTTP_STREAM_WAIT;
	if (buf_append(out, c->backlog.data, c->backlog.len) < 0)
		return -1;
	buf_reset(&c->backlog);
	return 1;
}

static void client_free(void *arg)
{
	struct client *c = arg;
	struct event_stream_hub *hub = c->hub;

	if (c->prev)
		c->prev->next = c->next;
	else
		hub->clients = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (--hub->nclients == 0 && !uv_is_closing((uv_handle_t *)&hub->keepalive))
		uv_timer_stop(&hub->keepalive);
	buf_free(&c->backlog);
	free(c);
}

void gnomon_events(struct api_env *env, struct http_request *req, const char *const *args)
{
	static const char hello[] = "retry: 2000\nevent: hello\ndata: {}\n\n";
	struct event_stream_hub *hub = env->event_hub;
	struct http_stream *stream;
	struct client *c;
	(void)args;

	if (hub->nclients >= CLIENTS_MAX) {
		http_respond_error(req, 503, "too many event streams are open (at most %d)", CLIENTS_MAX);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->hub = hub;
	buf_init(&c->backlog, 0);
	if (buf_append(&c->backlog, hello, sizeof(hello) - 1) < 0)
		fatalx("unbounded buffer refused data");
	c->next = hub->clients;
	if (hub->clients)
		hub->clients->prev = c;
	hub->clients = c;
	if (hub->nclients++ == 0)
		uv_timer_start(&hub->keepalive, on_keepalive, TICK_MS, TICK_MS);
	http_add_header(req, "Cache-Control", "no-cache");
	http_add_header(req, "X-Accel-Buffering", "no");
	stream = http_respond_stream(req, 200, "text/event-stream", client_next, c, client_free);
	if (stream != NULL) /* else c is gone already */
		c->stream = stream;
}
