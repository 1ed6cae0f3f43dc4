/* The leader proxy (issue 13: any instance answers): a follower forwards what needs the leader to it, never
 * redirects. Which server answers a route is its policy's (api.h), decided by api_proxy_decide() from what this
 * server knows: whether it leads, the leader's address (read from ZooKeeper while connected, "" otherwise), and
 * whether the request was proxied already (the hop marker, X-Gnomon-Proxied-By).
 *
 * A forwarded request goes to http://LEADER with its method, path, query and body, and the end-to-end fields
 * that matter (api_proxy_request_field()), plus X-Forwarded-For (the client's address appended) and the hop
 * marker (this server's address). The leader's status, the fields that matter (api_proxy_answer_field()) and
 * its body come back unchanged; this server's own fields (X-Gnomon-Leader, the guard's CORS fields for the
 * client's origin, which the guard has checked here: Origin is not forwarded) go with them. Two ways:
 * - whole: the answer is collected (at most API_PROXY_BODY_MAX) and sent with its length; the whole exchange
 *   has API_PROXY_TIMEOUT_MS (longer than an agent's long poll is held);
 * - streamed (the event stream, a followed log): a 2xx answer's head is sent as soon as it comes, then its body
 *   as it comes; the head has API_PROXY_HEAD_TIMEOUT_MS, the body no limit (it ends when either side ends). At
 *   most API_PROXY_STREAM_BUFFER bytes wait for a slow client: past that the leader's are not read until the
 *   client took them (NET_STREAM_PAUSE). Any other answer comes whole.
 * The leader out of reach: 503 with Retry-After naming it; no answer in time: 504; an answer over the cap or
 * cut short before its head: 502. Everything runs on the loop thread (net_curl.c's client): no thread of its own. */
#ifndef GNOMON_API_PROXY_H
#define GNOMON_API_PROXY_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

struct http_request;

#define API_PROXY_HOP_FIELD "X-Gnomon-Proxied-By"
#define API_PROXY_TIMEOUT_MS 30000          /* a whole answer (agents' polls are held at most 10 s) */
#define API_PROXY_CONNECT_MS 5000           /* connecting to the leader */
#define API_PROXY_DEAD_AFTER_MS 3000        /* a leader silent this long (a partition) is given up (net/tcp_dead.h) */
#define API_PROXY_HEAD_TIMEOUT_MS 10000     /* a streamed answer's head */
#define API_PROXY_BODY_MAX ((size_t)64 << 20) /* a whole answer's body */
#define API_PROXY_STREAM_BUFFER ((size_t)1 << 20) /* a stream's bytes waiting for a slow client, at most */
#define API_PROXY_RETRY_AFTER "2"           /* seconds, on a 503 for want of a leader */

/* Where a route's request is answered. */
enum api_proxy_way {
	API_PROXY_NO,        /* here */
	API_PROXY_WHOLE,     /* by the leader, its answer passed on whole */
	API_PROXY_STREAM,    /* by the leader, its answer passed on as it comes */
	API_PROXY_LOOP,      /* it needs the leader, came proxied, and this server does not lead: 503 (no loops) */
	API_PROXY_NO_LEADER, /* it needs the leader and none is known (or the one named is this server): 503 */
};

/* What the decision depends on. */
struct api_proxy_view {
	bool follower;      /* this server does not lead */
	const char *leader; /* the leader's "host:port", "" or NULL when none is known */
	const char *self;   /* this server's advertised address: a leader named so is not one to proxy to */
	bool proxied;       /* the request carries the hop marker */
	bool follow;        /* follow=1 (or true) was asked for */
};

/* Pure: where a request of a route of policy is answered. */
enum api_proxy_way api_proxy_decide(enum api_policy policy, const struct api_proxy_view *v);
/* The fields that pass, as below (constant tables, NULL-terminated). */
extern const char *const api_proxy_request_fields[];
extern const char *const api_proxy_answer_fields[];
/* Does env name a leader that is not this server while this server follows (what needs the leader would go to
 * it)? The event streams a follower serves itself end once it does, so that their clients come back to the
 * leader's (gnomon_events.c). */
bool api_proxy_leader_known(const struct api_env *env);
/* Pure: is a request's header field called name forwarded (case-insensitive)? Content-Type, Accept,
 * Authorization (the agents' token, or a user's credentials), Last-Event-ID, Cache-Control; not hop-by-hop
 * fields, Host, Origin (checked here), lengths and codings (the client's, not the forwarded request's). */
bool api_proxy_request_field(const char *name);
/* Pure: is a field of the leader's answer passed back? Retry-After, Location, WWW-Authenticate, Allow,
 * Cache-Control, X-Accel-Buffering (Content-Type is the answer's type). */
bool api_proxy_answer_field(const char *name);
/* Pure: the leader's URL for a request: "http://" leader (a leader that names its scheme, "https://host:port",
 * as it is), the decoded path percent-encoded again (what the path
 * may hold unencoded stays so), and the query parameters (n of them, keys[i] and values[i], a NULL value for a
 * key without '='), each encoded. Returns the length, or -ENAMETOOLONG when it does not fit out[len]. */
int api_proxy_url(const char *leader, const char *path, const char *const *keys, const char *const *values, int n,
    char *out, size_t len) __attribute__((warn_unused_result));
/* Pure: the client's address for X-Forwarded-For from http_request_peer()'s "ip:port" or "[ip6]:port". */
void api_proxy_peer_ip(const char *peer, char *out, size_t len);

/* The leader changed (env's leader and follower were updated): every forwarded request in flight to another server
 * ends now rather than when it times out (a paused leader holds agents' long polls for the poll and more): one
 * not answered yet gets 503 with Retry-After naming the change, a stream is cut (its client comes back). */
void api_proxy_leader_changed(struct api_env *env);
/* Answer req (routed, its body read, a follower's) with the leader's answer, whole or streamed: it is deferred
 * until then. On a failure to start, it is answered at once (503 or 502, naming the leader). */
void api_proxy_forward(struct api_env *env, struct http_request *req, bool stream);
/* Answer req 503 with Retry-After because no leader is known, or because it came proxied to a server that does
 * not lead (loop), saying why. */
void api_proxy_refuse(struct api_env *env, struct http_request *req, enum api_proxy_way why);

#endif
