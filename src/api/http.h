/* The HTTP/1.1 server, on the libuv loop: every handler runs on the loop thread that owns the scheduler state.
 * Requests are parsed by http_parse (every part capped); whatever is refused before a handler sees it gets a
 * JSON answer in Chronos's error shape, as early as the fault is known: a head over its caps (414, 431), a
 * malformed one (400), a body over the cap, by its Content-Length or by a chunk's size (413), an unsupported
 * version or coding (505, 501). Connections are kept alive and may pipeline; an answer given before the body
 * was read closes the connection (after draining what the client still sends, within limits). */
#ifndef GNOMON_API_HTTP_H
#define GNOMON_API_HTTP_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "util/buf.h"

struct http_server;
struct http_request;

/* Called once per complete request; it must answer with one of the http_respond* functions. */
typedef void (*http_handler_fn)(void *ctx, struct http_request *req);
/* Called once a request's head is in, before its body is read: it may answer (the body is then never read and
 * the handler not called), or leave the request to go on. */
typedef void (*http_head_fn)(void *ctx, struct http_request *req);

/* Produce the next part of a streamed body into out. Returns 1 when more follows, 0 at the end, <0 on error,
 * HTTP_STREAM_WAIT when there is nothing yet (the connection then sleeps until http_stream_wake()), or
 * HTTP_STREAM_YIELD when more follows but the loop should run first (a long walk over many jobs, in slices). */
typedef int (*http_stream_fn)(void *ctx, struct buf *out);
#define HTTP_STREAM_WAIT 2
#define HTTP_STREAM_YIELD 3

struct http_stream;

/* A request is finished: its answer is all sent, or its connection ended after the answer began. nanos is the
 * time from its complete head to then. The request's accessors still work during the call. */
typedef void (*http_done_fn)(void *ctx, struct http_request *req, uint64_t nanos);

struct http_server_options {
	const char *address; /* IPv4 or IPv6 literal */
	int port;            /* 0: any free port */
	size_t max_body;     /* bytes */
	http_head_fn head;   /* NULL: none */
	http_done_fn done;   /* NULL: none */
	const char *tls_cert;      /* PEM certificate (and chain): the port speaks HTTPS only; NULL: plain HTTP */
	const char *tls_key;       /* its PEM private key */
	const char *tls_client_ca; /* PEM CAs whose client certificates are asked for (http_request_tls_client) */
};

int http_server_start(uv_loop_t *loop, const struct http_server_options *opt, http_handler_fn fn, void *ctx,
    struct http_server **out, char *err, size_t errlen) __attribute__((warn_unused_result));
/* Stop accepting, close connections and release the loop handles (freed in their close callbacks). */
void http_server_stop(struct http_server *srv);
/* The port actually bound (useful with port 0). */
int http_server_port(const struct http_server *srv);
/* Does it speak TLS? */
bool http_server_tls(const struct http_server *srv);
/* Read the TLS certificate, key and client CAs again (SIGHUP): new connections get them, those open keep theirs.
 * 0 (also without TLS), or -EINVAL with err, the old ones kept. */
int http_server_reload_tls(struct http_server *srv, char *err, size_t errlen) __attribute__((warn_unused_result));

const char *http_request_method(const struct http_request *req);
/* The decoded path, without the query string. */
const char *http_request_path(const struct http_request *req);
/* A decoded query parameter, or NULL (also for a key without '='). */
const char *http_request_query(const struct http_request *req, const char *key);
/* The i-th query parameter, in the order sent: 1 with its decoded key and value (NULL for a key without '='), or
 * 0 when there are not that many. */
int http_request_param(const struct http_request *req, int i, const char **key, const char **value);
/* A header field (case-insensitive name), or NULL. */
const char *http_request_header(const struct http_request *req, const char *name);
/* The Host the request names (its Host field, or the authority of an absolute-form target), or NULL. */
const char *http_request_host(const struct http_request *req);
/* Does a body follow the head (a Content-Length over 0, or a chunked one)? */
int http_request_has_body(const struct http_request *req);
const char *http_request_body(const struct http_request *req, size_t *len);
/* The caller's address as "ip:port" ("[ip6]:port"), for the log; "unknown" when the connection has none. */
#define HTTP_PEER_MAX 64
void http_request_peer(const struct http_request *req, char *out, size_t len);
/* Did the request come over TLS (the session cookie's Secure)? */
bool http_request_tls(const struct http_request *req);
/* Did it come over TLS with a client certificate that the server's --tls-client-ca verified? */
bool http_request_tls_client(const struct http_request *req);

/* Answer with body (malloc'd, ownership passes to the server; may be NULL for an empty body). */
void http_respond(struct http_request *req, int status, const char *content_type, char *body, size_t len);
/* Answer with a JSON document; steals the reference to value. */
void http_respond_json(struct http_request *req, int status, json_t *value);
/* Answer with Chronos's error shape {"status": "<reason phrase>", "message": "..."}. */
void http_respond_error(struct http_request *req, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Answer with a body produced piece by piece (chunked; HTTP/1.0: until the connection closes); fn is first
 * called from the loop, after this returns. free_ctx(ctx) runs when the response is done or the client went away.
 * Returns the stream, valid until free_ctx runs, for http_stream_wake(); NULL when no body is sent (HEAD, or the
 * connection failed as a deferred request was answered), in which case free_ctx(ctx) has already run. */
struct http_stream *http_respond_stream(struct http_request *req, int status, const char *content_type,
    http_stream_fn fn, void *ctx, void (*free_ctx)(void *));
/* A stream that answered HTTP_STREAM_WAIT has more to say: call its function again. */
void http_stream_wake(struct http_stream *s);
/* Add a header to the response about to be sent (call before http_respond*; name and value are ours, not a
 * client's bytes with line breaks). */
void http_add_header(struct http_request *req, const char *name, const char *value);

/* Deferred answers (long-polls, answers that wait for another server): a handler calls http_request_defer()
 * and returns without answering; the request stays valid and is answered later, on the loop thread, with
 * any http_respond* function. Until then the connection reads nothing more of the client's (pipelined requests
 * wait), and the owner hears through fn, at most once and never after its answer:
 * - HTTP_DEFER_TIMEOUT: timeout_ms passed. fn may answer now; if it does not, the server answers 504.
 * - HTTP_DEFER_GONE: the client went away (or the server is stopping): the request cannot be answered.
 * Either way, req is not the owner's any more once fn returns: forget it. */
enum http_defer_end { HTTP_DEFER_TIMEOUT, HTTP_DEFER_GONE };
typedef void (*http_defer_fn)(void *ctx, struct http_request *req, enum http_defer_end why);
/* Only from the handler of a request not yet answered; timeout_ms 0: no limit but the client's patience. */
void http_request_defer(struct http_request *req, uint64_t timeout_ms, http_defer_fn fn, void *ctx);

/* A pointer of the handler's own kept with the request (the router's route), for the done hook; NULL until set. */
void http_request_set_tag(struct http_request *req, const void *tag);
const void *http_request_tag(const struct http_request *req);

/* The reason phrase of a status code ("Bad Request"). */
const char *http_status_text(int status);

#endif
