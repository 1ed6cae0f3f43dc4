/* One HTTP client on the libuv loop: many requests in flight at once, none blocking the thread that owns the
 * scheduler state. For the leader proxy, agents and notifications. Everything here runs on the loop thread:
 * requests are made there and complete there.
 *
 * Two implementations, one contract (tests/unit/test_net*.c run against both):
 * - net_curl.c, in gnomon: libcurl's multi interface driven by the loop (curl tells which sockets to watch and
 *   when its timer is due; uv_poll and uv_timer do the watching). http:// and https://, the environment's proxy
 *   variables as curl reads them.
 * - net_uv.c, in gnomon-agent: HTTP/1.1 on libuv's TCP with http-parser, keep-alive connections, TLS through
 *   net/tls.h (OpenSSL over memory BIOs), no proxy; it exists because libcurl costs a process about 8 MiB of resident memory
 *   (docs/architecture.md). */
#ifndef GNOMON_NET_NET_H
#define GNOMON_NET_NET_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#define NET_TIMEOUT_DEFAULT_MS 30000               /* a whole request, when the caller gives none */
#define NET_RESPONSE_MAX_DEFAULT ((size_t)1 << 20)  /* a response body, when the caller gives no cap */

struct net_client;
struct net_request;

/* What came back; valid only during the completion callback. */
struct net_response {
	long status;              /* the HTTP status code */
	const char *body;         /* NUL-terminated (the body may hold NULs of its own: use body_len) */
	size_t body_len;
	const struct net_request *req; /* for net_response_header() */
};

/* A request ended, on the loop thread, exactly once unless it was cancelled: rc is 0 with the response (of any
 * status), or a negative errno with resp NULL and a message in err: -ETIMEDOUT (its timeout passed),
 * -ECONNREFUSED (nobody listens), -ECONNRESET (the connection ended without a complete answer), -E2BIG (the
 * body passed the cap), -EHOSTUNREACH (the name does not resolve, the host cannot be reached), -EINVAL (a URL
 * or option refused), -EPROTO (TLS failed: the server's certificate refused...), -ECANCELED (the client was closed), -EIO (anything else). */
typedef void (*net_done_fn)(void *ctx, int rc, const struct net_response *resp, const char *err);

struct net_request_options {
	const char *method;          /* NULL: GET (POST when there is a body) */
	const char *url;             /* http:// or https:// only */
	const char *const *headers;  /* "Name: value" lines, NULL-terminated; NULL: none */
	const char *body;            /* copied; NULL: no body */
	size_t body_len;
	uint64_t timeout_ms;         /* the whole request, connecting included; 0: NET_TIMEOUT_DEFAULT_MS */
	size_t max_response;         /* bytes of response body; 0: NET_RESPONSE_MAX_DEFAULT */
	uint32_t dead_after_ms;      /* a new connection for it is given up once the peer has been silent this long
	                              * (net/tcp_dead.h: a partitioned server), the request ending with -ETIMEDOUT
	                              * long before timeout_ms; 0: only timeout_ms. An idle connection made without
	                              * it may still carry the request */
};

/* A client on loop; returns 0 or a negative errno (libcurl or libuv could not start). */
int net_client_new(uv_loop_t *loop, struct net_client **out) __attribute__((warn_unused_result));
/* TLS of the client's https:// requests: ca a PEM file of the CAs servers are verified with (NULL: the system's),
 * cert and key a client certificate (both or neither). Servers' certificates and names are always verified. Call
 * before the first request; 0, or -EINVAL with a message in err (net_uv.c: a file that does not load). */
struct net_tls_options {
	const char *ca;
	const char *cert;
	const char *key;
};
int net_client_set_tls(struct net_client *c, const struct net_tls_options *o, char *err, size_t errlen)
    __attribute__((warn_unused_result));
/* Close the client: every request still in flight completes with -ECANCELED (from inside this call), and the
 * client is freed once its loop handles are closed (keep running the loop). NULL is fine. */
void net_client_close(struct net_client *c);

/* Start a request; fn(ctx, ...) is called from the loop later, never from inside this call. Redirects are not
 * followed. Returns 0 with *out (NULL is fine) valid
 * until fn returns or net_request_cancel(); -ESHUTDOWN when the client is closing, -EINVAL for a missing URL,
 * -EIO when libcurl refuses (net_curl.c). */
int net_request(struct net_client *c, const struct net_request_options *opt, net_done_fn fn, void *ctx,
    struct net_request **out) __attribute__((warn_unused_result));
/* Abandon a request in flight: its connection is closed and fn is not called. Not from inside its own fn. */
void net_request_cancel(struct net_request *r);

/* A streamed request (the leader proxy's event streams and followed logs): the response is handed over as it
 * arrives rather than at its end. Every callback runs on the loop thread, from inside the client: none may cancel
 * its request or close the client (a negative return ends the request instead).
 * - on_head: the status and header fields are in (resp->body is "", net_response_header() works during the
 *   call), at most once, before any on_data; 0 goes on, a negative errno ends the request with it.
 * - on_data: the next bytes of the body; 0 goes on (they are taken), NET_STREAM_PAUSE leaves them and reads no
 *   more until net_request_resume() (they come again then: the reader's way of holding back a fast server), a
 *   negative errno ends the request with it.
 * - on_end: exactly once unless the request was cancelled: rc 0 when the body is complete (on_head was called),
 *   else as net_done_fn's rc (with err), or what on_head or on_data returned. on_head may not have run. */
#define NET_STREAM_PAUSE 1

struct net_stream_callbacks {
	int (*on_head)(void *ctx, const struct net_response *resp);
	int (*on_data)(void *ctx, const char *data, size_t len);
	void (*on_end)(void *ctx, int rc, const char *err);
};

/* Start a streamed request: as net_request(), except that opt->timeout_ms bounds only connecting (0:
 * NET_TIMEOUT_DEFAULT_MS) and the body has no cap and no deadline (the caller bounds what it keeps, and cancels
 * the request when it has waited long enough). cb is borrowed and must outlive the request. net_uv.c (gnomon-agent,
 * which streams nothing) answers -ENOTSUP. */
int net_request_stream(struct net_client *c, const struct net_request_options *opt,
    const struct net_stream_callbacks *cb, void *ctx, struct net_request **out) __attribute__((warn_unused_result));

/* Go on with a streamed request whose on_data answered NET_STREAM_PAUSE: the bytes it left are handed to on_data
 * again, perhaps from inside this call. Nothing when it is not paused. Not from inside its own callbacks. */
void net_request_resume(struct net_request *r);

/* A header field of the response (the last one, when repeated), or NULL; during the completion callback (or a
 * stream's on_head). */
const char *net_response_header(const struct net_response *resp, const char *name);

#endif
