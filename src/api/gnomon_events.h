/* GET /api/v1/events: the job and run changes as server-sent events, so the web UI updates what it shows
 * without polling. One hub subscribes to the server's events and fans each one out to every connected client;
 * a client that cannot keep up (its unsent events pass a cap) is told so and disconnected, to reconnect and
 * reload. */
#ifndef GNOMON_API_GNOMON_EVENTS_H
#define GNOMON_API_GNOMON_EVENTS_H

#include <uv.h>

#include "api/api.h"

struct event_stream_hub;
struct events;

/* A hub subscribed to events; env is what the event payloads are built with (borrowed, outlives the hub). */
struct event_stream_hub *event_stream_hub_new(uv_loop_t *loop, struct events *events, struct api_env *env);
/* Unsubscribe and close the hub's timer (the loop finishes closing it); clients still connected stay valid
 * until the HTTP server has closed them. */
void event_stream_hub_close(struct event_stream_hub *hub);
/* Free a closed hub once the loop has run dry (no client is left). */
void event_stream_hub_free(struct event_stream_hub *hub);
/* GET /api/v1/events */
void gnomon_events(struct api_env *env, struct http_request *req, const char *const *args);

#endif
