/* Private to the HTTP server (http.c: connections, reading, writing; http_answer.c: answers, streams, request
 * accessors): the state they share. */
#ifndef GNOMON_API_HTTP_INTERNAL_H
#define GNOMON_API_HTTP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <uv.h>

#include "api/http.h"
#include "api/http_parse.h"
#include "net/tls.h"
#include "util/buf.h"

#define HTTP_IDLE_MS 60000 /* no byte from a client that owes one, or none taken of an answer */
#define HTTP_TLS_HANDSHAKE_MS 10000 /* a TLS client's handshake, from its connection on */
#define HTTP_STREAM_HIGH_WATER ((size_t)256 << 10) /* a stream produces more only while less is unsent */

enum conn_state {
	ST_HEAD,   /* reading a request head (or idle between requests) */
	ST_BODY,   /* reading a request body */
	ST_DEFERRED, /* the handler left the request to be answered later; pipelined input waits */
	ST_ANSWER, /* the request is answered or being answered; pipelined input waits */
	ST_LINGER, /* the last answer is sent, the write side shut: input is drained, then the connection closed */
	ST_CLOSED,
};

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_idle_t wake;  /* once a turn of the loop while active: runs the streams woken (or just started) since its
	                  * last run (an idle handle, not a 0 ms timer: libuv 1.44 runs a timer re-armed with 0 again
	                  * in the same turn, so a stream that yields would never let I/O in) */
	http_handler_fn handler;
	http_head_fn head;
	http_done_fn done;
	void *ctx;
	size_t max_body;
	int port;
	int nconns;
	int handles; /* the listener, the wake handle and every connection not yet freed */
	bool stopping;
	struct http_conn *conns;
	struct http_stream *woken;  /* streams to pump at the wake handle's next run */
	struct http_stream *waking; /* those its current run has still to pump */
	struct tls_ctx *tls; /* --tls-cert's, or NULL: plain HTTP */
	char *tls_cert, *tls_key, *tls_client_ca; /* its files, read again by http_server_reload_tls() */
	time_t date_at;
	char date[64];
	char scratch[16384]; /* where drained input goes */
};

struct http_conn {
	struct http_server *srv;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	struct http_conn *prev, *next;
	enum conn_state state;
	char *in;        /* bytes read and not yet taken by the request's reader: its rest, pipelined requests */
	size_t len, cap;
	struct http_request *req;  /* from the first byte of a request on */
	struct tls *tls;    /* the TLS server's connections: in and out go through it (http_tls.c) */
	int writes;         /* uv_write requests in flight */
	size_t unsent;      /* their bytes */
	int handles;        /* tcp and timer, until both are closed */
	int in_call;        /* inside a handler or the head hook: a failure closes the connection afterwards */
	bool reading;
	bool close_after;   /* the connection ends once the current answer is sent */
	bool complete;      /* the current answer is all queued */
	bool failed;        /* a write failed while in_call */
	size_t drained;
};

struct http_request {
	struct http_conn *conn;
	struct http_reader *reader;
	struct http_head head;  /* filled by the reader; its strings live there */
	bool parsed;
	bool is_head;       /* HEAD: the answer has no body */
	bool complete;      /* the body is all read */
	bool answered;
	bool deferred;      /* waiting for its owner's answer (ST_DEFERRED) */
	http_defer_fn defer_fn;
	void *defer_ctx;
	const void *tag;
	uint64_t t0;        /* uv_hrtime() when its head was complete */
	struct buf body;
	struct buf extra;   /* headers added by the handler, as lines */
	struct http_stream *stream;
};

struct http_stream {
	struct http_conn *conn;
	http_stream_fn fn;
	void *ctx;
	void (*free_ctx)(void *);
	struct buf pending;
	bool chunked;
	bool done;
	bool waiting;   /* fn said HTTP_STREAM_WAIT: asleep until http_stream_wake */
	bool scheduled; /* on the server's woken list */
	struct http_stream *next_woken;
};

/* http.c */
/* Send a and b (either may be empty); the owned pointers are freed once sent. */
void http_conn_write(struct http_conn *c, char *a, size_t alen, char *b, size_t blen, char *own_a, char *own_b);
/* Close at once: a request or stream in progress is dropped (a stream's free_ctx runs now). */
void http_conn_close(struct http_conn *c);
/* The current answer is sent: free the request, then read the next one or end the connection. */
void http_conn_answered(struct http_conn *c);
/* (Re)start the limit on a client's silence. */
void http_conn_arm_idle(struct http_conn *c);
/* Its timer calls cb after ms. */
void http_conn_arm(struct http_conn *c, uv_timer_cb cb, uint64_t ms);
/* The timer's callback for a client's silence (or an unfinished TLS handshake). */
void http_conn_on_idle(uv_timer_t *t);
/* Send data as it is (owned, freed once sent); bytes is what it counts as of the answer's unsent bytes. */
void http_conn_send(struct http_conn *c, char *data, size_t len, size_t bytes);
/* The client's address, as http_request_peer(). */
void http_conn_peer(struct http_conn *c, char *out, size_t len);

/* http_answer.c */
struct http_request *http_req_new(struct http_conn *c);
void http_req_free(struct http_request *req);
void http_stream_free(struct http_stream *s);
/* Let a stream produce while its connection takes the bytes; ends the request when the stream is done. */
void http_stream_pump(struct http_stream *s);

/* http_tls.c: the TLS transport */
#define HTTP_TLS_HANDSHAKE 1 /* http_tls_input(): the handshake goes on, no plaintext yet */
#define HTTP_TLS_PLAIN 2     /* http_tls_input(): the client spoke plain HTTP (the connection is plain now) */
/* With opt's --tls-cert and --tls-key, the server speaks TLS only; 0, or -EINVAL with err. */
int http_tls_configure(struct http_server *srv, const struct http_server_options *opt, char *err, size_t errlen);
void http_tls_release(struct http_server *srv);
/* A new connection of a TLS server: its handshake begins, under HTTP_TLS_HANDSHAKE_MS. */
void http_tls_accept(struct http_conn *c);
/* Ciphertext received: its plaintext is appended to c->in. 0, HTTP_TLS_HANDSHAKE, HTTP_TLS_PLAIN, or a negative
 * errno (logged: close the connection). */
int http_tls_input(struct http_conn *c, const char *data, size_t len);
/* Encrypt a and b into *out (malloc'd, *outlen bytes, perhaps 0); 0 or -EPROTO (logged). */
int http_tls_encrypt(struct http_conn *c, const char *a, size_t alen, const char *b, size_t blen, char **out,
    size_t *outlen);
/* Send close_notify, before the write side is shut. */
void http_tls_close_notify(struct http_conn *c);

#endif
