/* net.h without libcurl: HTTP/1.1 over libuv's TCP, responses read with http-parser (response_reader.h), for
 * processes that must stay small (gnomon-agent: libcurl and the TLS libraries it loads cost about 8 MiB of
 * resident memory at start, docs/architecture.md). https:// goes through net/tls.h (OpenSSL over memory BIOs,
 * set up at the first https:// request, so that a client that never makes one pays nothing for it). The
 * environment's proxy variables are not read: it connects to the URL's host.
 *
 * One timer per client runs what is due: a new request's start (so that fn is never called from inside
 * net_request()), a request's deadline, an idle connection's expiry. A request goes to an idle connection to the
 * same host and port when there is one (keep-alive), else to a new one: names resolve through uv_getaddrinfo,
 * and each address is tried in turn. A connection that had carried a request before and ends before any byte
 * of the answer came (the server closed it while it was idle) costs nothing: the request is sent once more, on
 * a new connection. */
#include "net/net.h"

#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_url.h"
#include "net/request_wire.h"
#include "net/response_reader.h"
#include "net/tcp_dead.h"
#include "net/tls.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define IDLE_MS 30000         /* an idle connection is closed after this long (gnomon's server: 60 s) */
#define IDLE_MAX 8            /* idle connections kept */
#define ADDRS_MAX 8           /* addresses of a name tried */
#define READ_SIZE ((size_t)64 << 10) /* bytes read at once */
#define MS 1000000ULL

enum req_state { REQ_NEW, REQ_RESOLVING, REQ_CONNECTING, REQ_SENT };

struct net_client {
	uv_loop_t *loop;
	uv_timer_t timer;
	struct net_request *reqs;  /* in flight */
	struct conn *conns;        /* open connections, busy and idle */
	char *readbuf;             /* what every connection reads into: reads are taken one at a time */
	int pending;               /* the timer, connections and name lookups not yet closed or ended */
	bool closing;
	struct tls_ctx *tls;       /* https://'s settings: net_client_set_tls()'s, or made at the first https:// */
};

struct net_request {
	struct net_client *client;
	net_done_fn fn;
	void *ctx;
	enum req_state state;
	struct net_url url;
	char *key;                 /* "host:port": which idle connections it may use */
	char *wire;                /* the request as sent */
	size_t wire_len;
	struct response_reader *reader;
	size_t max_response;
	bool head;                 /* a HEAD request: no body in the answer */
	uint64_t timeout_ms;
	uint32_t dead_after_ms;
	uint64_t deadline;         /* uv_hrtime() */
	struct conn *conn;
	struct lookup *lookup;
	struct sockaddr_storage addrs[ADDRS_MAX];
	int naddrs, next_addr;
	int connect_rc;            /* the last address's failure */
	bool retried;              /* sent once more already, on a new connection */
	int fail_rc;               /* a fault found in net_request(), told from the timer */
	char err[256];
	struct net_request *prev, *next;
	bool linked;               /* on the client's list: not yet told how it ended */
};

struct conn {
	uv_tcp_t tcp;
	uv_connect_t connect;
	uv_write_t write;
	struct net_client *client;
	struct net_request *req;   /* the request it carries; NULL: idle */
	char *key;
	char *held;                /* the bytes of a request that left while they were being written */
	struct tls *tls;           /* https://: what is read and written goes through it */
	int tls_writes;            /* its ciphertext writes in flight */
	uint64_t idle_since;
	bool writing, reused, closing;
	struct conn *prev, *next;
};

/* A name lookup, which outlives the request that asked for it when that ends first. */
struct lookup {
	uv_getaddrinfo_t gai;
	struct net_client *client;
	struct net_request *req;   /* NULL once the request is gone */
};

static void start(struct net_request *r);
static void schedule(struct net_client *c);

static void client_release(struct net_client *c)
{
	if (--c->pending > 0)
		return;
	tls_ctx_free(c->tls);
	free(c->readbuf);
	free(c);
}

static void on_timer_closed(uv_handle_t *h)
{
	client_release(h->data);
}

/* --- connections ------------------------------------------------------------------------------------------ */

static void on_conn_closed(uv_handle_t *h)
{
	struct conn *k = h->data;
	struct net_client *c = k->client;

	free(k->held);
	free(k->key);
	tls_free(k->tls);
	free(k);
	client_release(c);
}

static void conn_close(struct conn *k)
{
	struct net_client *c = k->client;

	if (k->closing)
		return;
	k->closing = true;
	if (k->prev)
		k->prev->next = k->next;
	else
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	if (k->req)
		k->req->conn = NULL;
	k->req = NULL;
	uv_close((uv_handle_t *)&k->tcp, on_conn_closed);
}

/* A new connection for r (not yet connected) to an address of family; NULL when libuv refuses a handle. Its
 * socket is made now, so that r's dead_after_ms applies to the connect too. */
static struct conn *conn_new(struct net_request *r, int family)
{
	struct net_client *c = r->client;
	struct conn *k = xcalloc(1, sizeof(*k));
	uv_os_fd_t fd;
	int rc;

	if (uv_tcp_init_ex(c->loop, &k->tcp, (unsigned int)family) < 0) {
		free(k);
		return NULL;
	}
	if (r->dead_after_ms && ((rc = uv_fileno((uv_handle_t *)&k->tcp, &fd)) < 0 ||
	    (rc = tcp_dead_after(fd, r->dead_after_ms)) < 0))
		log_warnx("net: %s: cannot set TCP keepalive and user timeout (%s)", r->key, strerror(-rc));
	k->client = c;
	k->key = xstrdup(r->key);
	k->tcp.data = k->connect.data = k->write.data = k;
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	c->pending++;
	k->req = r;
	r->conn = k;
	return k;
}

/* r leaves its connection, which is closed unless keep (it then waits idle for the next request). */
static void conn_leave(struct net_request *r, bool keep)
{
	struct conn *k = r->conn;

	if (k == NULL)
		return;
	r->conn = NULL;
	k->req = NULL;
	if (k->writing && k->held == NULL) { /* libuv still reads r's bytes: they live until on_written, r gets a copy */
		k->held = r->wire;
		r->wire = memcpy(xmalloc(r->wire_len), k->held, r->wire_len);
	}
	if (keep) {
		k->idle_since = uv_hrtime();
		return;
	}
	conn_close(k);
}

/* An idle connection to r's host and port, or NULL. */
static struct conn *conn_idle(struct net_client *c, const char *key)
{
	for (struct conn *k = c->conns; k; k = k->next)
		if (k->req == NULL && !k->closing && strcmp(k->key, key) == 0)
			return k;
	return NULL;
}

static int idle_count(const struct net_client *c)
{
	int n = 0;

	for (const struct conn *k = c->conns; k; k = k->next)
		n += k->req == NULL;
	return n;
}

/* --- requests: how they end ------------------------------------------------------------------------------- */

static void unlink_request(struct net_request *r)
{
	struct net_client *c = r->client;

	if (!r->linked)
		return;
	r->linked = false;
	if (r->prev)
		r->prev->next = r->next;
	else
		c->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
}

/* Let go of the name lookup in flight: it ends on its own (cancelled if it has not started). */
static void lookup_leave(struct net_request *r)
{
	if (r->lookup == NULL)
		return;
	r->lookup->req = NULL;
	(void)uv_cancel((uv_req_t *)&r->lookup->gai);
	r->lookup = NULL;
}

static void request_free(struct net_request *r)
{
	unlink_request(r);
	conn_leave(r, false);
	lookup_leave(r);
	response_reader_free(r->reader);
	net_url_free(&r->url);
	free(r->key);
	free(r->wire);
	free(r);
}

/* Tell r's owner that it failed, then free it. It leaves the list first, so that an owner who closes the client
 * from its callback does not hear of it twice. */
static void request_fail(struct net_request *r, int rc, const char *err)
{
	struct net_client *c = r->client;

	unlink_request(r);
	conn_leave(r, false);
	lookup_leave(r);
	r->fn(r->ctx, rc, NULL, err);
	request_free(r);
	if (!c->closing)
		schedule(c);
}

/* r's response is complete: its connection waits for the next request when keep (and there is room). */
static void request_done(struct net_request *r, bool keep)
{
	struct net_client *c = r->client;
	struct net_response resp = {.req = r};

	conn_leave(r, keep && idle_count(c) < IDLE_MAX);
	unlink_request(r);
	resp.status = response_reader_status(r->reader);
	resp.body = response_reader_body(r->reader, &resp.body_len);
	r->fn(r->ctx, 0, &resp, "");
	request_free(r);
	if (!c->closing)
		schedule(c);
}

/* The connection broke before the response was complete. A connection that had carried a request before and
 * gave no byte of this one's answer was closed by the server while idle: r is sent once more, on a new one. Not
 * when it timed out (uverr UV_ETIMEDOUT: the peer went silent, net/tcp_dead.h): a new connection would wait for
 * the same silence. */
static void request_broken(struct net_request *r, int uverr, const char *why)
{
	bool reused = r->conn && r->conn->reused;

	if (reused && !r->retried && uverr != UV_ETIMEDOUT && !response_reader_started(r->reader)) {
		conn_leave(r, false);
		response_reader_free(r->reader);
		r->reader = response_reader_new(r->max_response, r->head);
		r->retried = true;
		start(r);
		return;
	}
	if (why == NULL) {
		snprintf(r->err, sizeof(r->err), "%s: the connection ended before the response was complete (%s)",
		    r->url.authority, uv_strerror(uverr));
		why = r->err;
	}
	request_fail(r, -ECONNRESET, why);
}

/* --- a connection's bytes --------------------------------------------------------------------------------- */

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *k = h->data;
	(void)suggested;

	*b = uv_buf_init(k->client->readbuf, READ_SIZE);
}

static int tls_flush(struct conn *k);

/* TLS: the plaintext of the ciphertext b[n] into plain; 0, or -1 when r failed (told). */
static int decrypt(struct conn *k, const char *data, size_t n, struct buf *plain)
{
	struct net_request *r = k->req;
	char err[200];
	int rc = tls_feed(k->tls, data, n, plain, err, sizeof(err));

	if (tls_flush(k) < 0)
		return -1;
	if (rc == 0)
		return 0;
	snprintf(r->err, sizeof(r->err), "%s: %s", r->url.authority, rc == TLS_PLAIN_HTTP ? "not TLS" : err);
	request_fail(r, -EPROTO, r->err);
	return -1;
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct conn *k = s->data;
	struct net_request *r = k->req;
	struct buf plain;
	const char *data = b->base;
	char err[200];
	size_t used;
	int rc;

	if (n == 0 || k->closing)
		return;
	if (r == NULL) { /* idle: the server closed it, or sent what nobody asked for */
		conn_close(k);
		return;
	}
	if (n < 0) {
		if (n == UV_EOF && response_reader_eof(r->reader, err, sizeof(err)) == RESPONSE_DONE) {
			request_done(r, false);
			return;
		}
		if (n == UV_EOF)
			snprintf(r->err, sizeof(r->err), "%s: %s", r->url.authority, err);
		request_broken(r, (int)n, n == UV_EOF ? r->err : NULL);
		return;
	}
	buf_init(&plain, 0);
	if (k->tls) {
		if (decrypt(k, b->base, (size_t)n, &plain) < 0 || plain.len == 0) {
			buf_free(&plain);
			return;
		}
		data = plain.data;
		n = (ssize_t)plain.len;
	}
	rc = response_reader_feed(r->reader, data, (size_t)n, &used, err, sizeof(err));
	buf_free(&plain);
	if (rc == RESPONSE_MORE)
		return;
	if (rc < 0) {
		if (rc == -E2BIG) /* as curl's (net_curl.c) says it */
			snprintf(r->err, sizeof(r->err), "%s", err);
		else
			snprintf(r->err, sizeof(r->err), "%s: %s", r->url.authority, err);
		request_fail(r, rc, r->err);
		return;
	}
	/* bytes after the response, or a request still being written (answered early): not reused */
	request_done(r, response_reader_keep_alive(r->reader) && used == (size_t)n && !k->writing);
}

static void on_written(uv_write_t *w, int status)
{
	struct conn *k = w->data;

	k->writing = false;
	free(k->held);
	k->held = NULL;
	if (status < 0 && !k->closing && k->req)
		request_broken(k->req, status, NULL);
}

/* A write of TLS ciphertext. */
struct tls_write {
	uv_write_t w;
	struct conn *k;
	char *data;
};

static void on_tls_written(uv_write_t *w, int status)
{
	struct tls_write *tw = (struct tls_write *)w;
	struct conn *k = tw->k;

	free(tw->data);
	free(tw);
	k->writing = --k->tls_writes > 0;
	if (status < 0 && !k->closing && k->req)
		request_broken(k->req, status, NULL);
}

/* Send the ciphertext the TLS engine has (a handshake's, a request's); 0, or -1 after request_broken() when it
 * cannot. */
static int tls_flush(struct conn *k)
{
	struct tls_write *tw;
	struct buf out;
	uv_buf_t b;
	size_t len;
	int rc;

	buf_init(&out, 0);
	tls_take(k->tls, &out);
	if (out.len == 0)
		return 0;
	tw = xcalloc(1, sizeof(*tw));
	tw->k = k;
	tw->data = buf_steal(&out, &len);
	b = uv_buf_init(tw->data, (unsigned)len);
	if ((rc = uv_write(&tw->w, (uv_stream_t *)&k->tcp, &b, 1, on_tls_written)) < 0) {
		free(tw->data);
		free(tw);
		if (k->req)
			request_broken(k->req, rc, NULL);
		return -1;
	}
	k->tls_writes++;
	k->writing = true;
	return 0;
}

static void send_request(struct net_request *r)
{
	struct conn *k = r->conn;
	uv_buf_t b = uv_buf_init(r->wire, (unsigned)r->wire_len);
	int rc;

	r->state = REQ_SENT;
	if ((rc = uv_read_start((uv_stream_t *)&k->tcp, on_alloc, on_read)) < 0 && rc != UV_EALREADY) {
		request_broken(r, rc, NULL);
		return;
	}
	if (k->tls) { /* encrypted now (or once the handshake is done): r->wire is not the write's */
		char err[200];
		if (tls_write(k->tls, r->wire, r->wire_len, err, sizeof(err)) < 0) {
			snprintf(r->err, sizeof(r->err), "%s: %s", r->url.authority, err);
			request_fail(r, -EPROTO, r->err);
			return;
		}
		(void)tls_flush(k); /* a failure is told */
		return;
	}
	if ((rc = uv_write(&k->write, (uv_stream_t *)&k->tcp, &b, 1, on_written)) < 0) {
		request_broken(r, rc, NULL);
		return;
	}
	k->writing = true;
}

/* --- connecting ------------------------------------------------------------------------------------------- */

static void connect_next(struct net_request *r);

static void on_connect(uv_connect_t *req, int status)
{
	struct conn *k = req->data;
	struct net_request *r = k->req;

	if (k->closing || r == NULL)
		return;
	if (status < 0) {
		r->connect_rc = status;
		conn_leave(r, false);
		connect_next(r);
		return;
	}
	(void)uv_tcp_nodelay(&k->tcp, 1);
	if (r->url.https)
		k->tls = tls_new(r->client->tls, r->url.host); /* its ClientHello goes first */
	send_request(r);
}

/* A connect that failed as a negative errno: refused, or the host cannot be reached. */
static int connect_errno(int uverr)
{
	switch (uverr) {
	case UV_ENETUNREACH:
	case UV_EHOSTUNREACH:
	case UV_EADDRNOTAVAIL:
	case UV_EAFNOSUPPORT:
		return -EHOSTUNREACH;
	case UV_ETIMEDOUT:
		return -ETIMEDOUT;
	default:
		return -ECONNREFUSED;
	}
}

/* Connect to r's next address; when none is left, r fails with the last one's error. */
static void connect_next(struct net_request *r)
{
	while (r->next_addr < r->naddrs) {
		const struct sockaddr *sa = (const struct sockaddr *)&r->addrs[r->next_addr++];
		struct conn *k = conn_new(r, sa->sa_family);
		int rc;

		if (k == NULL) {
			r->connect_rc = UV_ENOMEM;
			continue;
		}
		if ((rc = uv_tcp_connect(&k->connect, &k->tcp, sa, on_connect)) == 0) {
			r->state = REQ_CONNECTING;
			return;
		}
		r->connect_rc = rc;
		conn_leave(r, false);
	}
	snprintf(r->err, sizeof(r->err), "cannot connect to %s: %s", r->url.authority, uv_strerror(r->connect_rc));
	request_fail(r, connect_errno(r->connect_rc), r->err);
}

/* Keep an address of host (port: r's) to try. */
static void add_addr(struct net_request *r, const struct sockaddr *sa)
{
	struct sockaddr_storage *ss;

	if (r->naddrs == ADDRS_MAX || (sa->sa_family != AF_INET && sa->sa_family != AF_INET6))
		return;
	ss = &r->addrs[r->naddrs];
	memset(ss, 0, sizeof(*ss));
	if (sa->sa_family == AF_INET) {
		memcpy(ss, sa, sizeof(struct sockaddr_in));
		((struct sockaddr_in *)ss)->sin_port = htons(r->url.port);
	} else {
		memcpy(ss, sa, sizeof(struct sockaddr_in6));
		((struct sockaddr_in6 *)ss)->sin6_port = htons(r->url.port);
	}
	r->naddrs++;
}

static void on_resolved(uv_getaddrinfo_t *gai, int status, struct addrinfo *res)
{
	struct lookup *l = gai->data;
	struct net_request *r = l->req;
	struct net_client *c = l->client;

	free(l);
	client_release(c); /* the last reference only when r is gone and the client closed */
	if (r == NULL) {
		uv_freeaddrinfo(res);
		return;
	}
	r->lookup = NULL;
	for (struct addrinfo *ai = status == 0 ? res : NULL; ai; ai = ai->ai_next)
		add_addr(r, ai->ai_addr);
	uv_freeaddrinfo(res);
	if (r->naddrs == 0) {
		snprintf(r->err, sizeof(r->err), "cannot resolve the host name '%s': %s", r->url.host,
		    status < 0 ? uv_strerror(status) : "no IPv4 or IPv6 address");
		request_fail(r, -EHOSTUNREACH, r->err);
		return;
	}
	connect_next(r);
}

/* Find r's addresses: at once for an IP address, else through a lookup. */
static void resolve(struct net_request *r)
{
	struct net_client *c = r->client;
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_protocol = IPPROTO_TCP};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct lookup *l;
	int rc;

	r->naddrs = r->next_addr = 0;
	if (uv_inet_pton(AF_INET, r->url.host, &sin.sin_addr) == 0)
		add_addr(r, (const struct sockaddr *)&sin);
	else if (uv_inet_pton(AF_INET6, r->url.host, &sin6.sin6_addr) == 0)
		add_addr(r, (const struct sockaddr *)&sin6);
	if (r->naddrs > 0) {
		connect_next(r);
		return;
	}
	l = xcalloc(1, sizeof(*l));
	l->client = c;
	l->req = r;
	l->gai.data = l;
	if ((rc = uv_getaddrinfo(c->loop, &l->gai, on_resolved, r->url.host, NULL, &hints)) < 0) {
		free(l);
		snprintf(r->err, sizeof(r->err), "cannot resolve the host name '%s': %s", r->url.host, uv_strerror(rc));
		request_fail(r, -EHOSTUNREACH, r->err);
		return;
	}
	c->pending++;
	r->lookup = l;
	r->state = REQ_RESOLVING;
}

/* Send r: on an idle connection to its host and port, else on a new one (always for a retry). */
static void start(struct net_request *r)
{
	struct conn *k;

	if (r->fail_rc) {
		request_fail(r, r->fail_rc, r->err);
		return;
	}
	if (!r->retried && (k = conn_idle(r->client, r->key)) != NULL) {
		k->req = r;
		k->reused = true;
		r->conn = k;
		send_request(r);
		return;
	}
	resolve(r);
}

/* --- the timer -------------------------------------------------------------------------------------------- */

/* What is due: requests to start or past their deadline, then idle connections past their time. */
static void on_timer(uv_timer_t *t)
{
	struct net_client *c = t->data;

	for (;;) {
		uint64_t now = uv_hrtime();
		struct net_request *r = c->reqs;
		while (r && r->state != REQ_NEW && r->deadline > now)
			r = r->next;
		if (r == NULL)
			break;
		if (r->state == REQ_NEW) {
			start(r);
		} else {
			snprintf(r->err, sizeof(r->err), "%s: no complete answer within %" PRIu64 " ms", r->url.authority,
			    r->timeout_ms);
			request_fail(r, -ETIMEDOUT, r->err);
		}
		if (c->closing) /* an owner closed the client */
			return;
	}
	for (struct conn *k = c->conns, *next; k; k = next) {
		next = k->next;
		if (k->req == NULL && uv_hrtime() - k->idle_since >= IDLE_MS * MS)
			conn_close(k);
	}
	schedule(c);
}

/* Run the timer when the next thing is due: a new request (at once), a deadline, an idle connection's end. */
static void schedule(struct net_client *c)
{
	uint64_t now = uv_hrtime(), next = UINT64_MAX;

	for (const struct net_request *r = c->reqs; r; r = r->next) {
		uint64_t due = r->state == REQ_NEW ? now : r->deadline;
		next = due < next ? due : next;
	}
	for (const struct conn *k = c->conns; k; k = k->next) {
		uint64_t due = k->idle_since + IDLE_MS * MS;
		if (k->req == NULL && due < next)
			next = due;
	}
	if (next == UINT64_MAX)
		uv_timer_stop(&c->timer);
	else /* in whole milliseconds, rounded up: never early */
		uv_timer_start(&c->timer, on_timer, next > now ? (next - now + MS - 1) / MS : 0, 0);
}

/* --- the interface ---------------------------------------------------------------------------------------- */

int net_client_new(uv_loop_t *loop, struct net_client **out)
{
	struct net_client *c = xcalloc(1, sizeof(*c));
	int rc;

	if ((rc = uv_timer_init(loop, &c->timer)) < 0) {
		free(c);
		return rc;
	}
	c->loop = loop;
	c->timer.data = c;
	c->readbuf = xmalloc(READ_SIZE);
	c->pending = 1;
	*out = c;
	return 0;
}

int net_client_set_tls(struct net_client *c, const struct net_tls_options *o, char *err, size_t errlen)
{
	static const struct tls_labels flags = {"--tls-cert", "--tls-key", "--tls-ca"};

	if (o->ca == NULL && o->cert == NULL && o->key == NULL)
		return 0; /* the system's CAs, loaded at the first https:// request */
	tls_ctx_free(c->tls);
	c->tls = NULL;
	return tls_ctx_client_new(o->ca, o->cert, o->key, &flags, &c->tls, err, errlen);
}

void net_client_close(struct net_client *c)
{
	if (c == NULL || c->closing)
		return;
	c->closing = true;
	while (c->reqs) {
		struct net_request *r = c->reqs;
		unlink_request(r);
		conn_leave(r, false);
		lookup_leave(r);
		r->fn(r->ctx, -ECANCELED, NULL, "the HTTP client is closing");
		request_free(r);
	}
	while (c->conns)
		conn_close(c->conns);
	uv_timer_stop(&c->timer);
	uv_close((uv_handle_t *)&c->timer, on_timer_closed);
}

int net_request(struct net_client *c, const struct net_request_options *opt, net_done_fn fn, void *ctx,
    struct net_request **out)
{
	struct net_request *r;

	if (out)
		*out = NULL;
	if (c->closing)
		return -ESHUTDOWN;
	if (opt->url == NULL || opt->url[0] == '\0')
		return -EINVAL;
	r = xcalloc(1, sizeof(*r));
	r->client = c;
	r->fn = fn;
	r->ctx = ctx;
	r->timeout_ms = opt->timeout_ms ? opt->timeout_ms : NET_TIMEOUT_DEFAULT_MS;
	r->dead_after_ms = opt->dead_after_ms;
	r->deadline = uv_hrtime() + r->timeout_ms * MS;
	r->max_response = opt->max_response ? opt->max_response : NET_RESPONSE_MAX_DEFAULT;
	r->head = opt->method && strcmp(opt->method, "HEAD") == 0;
	r->reader = response_reader_new(r->max_response, r->head);
	/* a fault here is told from the timer, as curl tells it from its transfer */
	if ((r->fail_rc = net_url_parse(opt->url, &r->url, r->err, sizeof(r->err))) == 0) {
		/* the system's CAs, unless net_client_set_tls() said otherwise */
		if (r->url.https && c->tls == NULL)
			r->fail_rc = tls_ctx_client_new(NULL, NULL, NULL, NULL, &c->tls, r->err, sizeof(r->err));
		if (r->fail_rc == 0) {
			r->key = xasprintf("%s://%s:%u", r->url.https ? "https" : "http", r->url.host, r->url.port);
			r->fail_rc = request_wire(opt, &r->url, &r->wire, &r->wire_len, r->err, sizeof(r->err));
		}
	}
	r->state = REQ_NEW;
	r->next = c->reqs;
	if (c->reqs)
		c->reqs->prev = r;
	c->reqs = r;
	r->linked = true;
	schedule(c);
	if (out)
		*out = r;
	return 0;
}

int net_request_stream(struct net_client *c, const struct net_request_options *opt,
    const struct net_stream_callbacks *cb, void *ctx, struct net_request **out)
{
	(void)c;
	(void)opt;
	(void)cb;
	(void)ctx;
	if (out)
		*out = NULL;
	return -ENOTSUP; /* gnomon-agent streams nothing (net.h) */
}

void net_request_resume(struct net_request *r)
{
	(void)r; /* no streamed request is ever started here */
}

void net_request_cancel(struct net_request *r)
{
	struct net_client *c;

	if (r == NULL)
		return;
	c = r->client;
	request_free(r);
	if (!c->closing)
		schedule(c);
}

const char *net_response_header(const struct net_response *resp, const char *name)
{
	return response_reader_header(resp->req->reader, name);
}
