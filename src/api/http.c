#include "api/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/http_parse.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define CONNECTIONS_MAX 4096
#define BACKLOG 1024
#define IDLE_MS 60000                    /* no byte from a client that owes one, or none taken of an answer */
#define LINGER_MS 5000                   /* after an answer that ends a connection, input is drained this long */
#define DISCARD_MAX ((size_t)64 << 20)   /* ... and this much at most: past it the connection is cut */
#define READ_ROOM ((size_t)16 << 10)     /* free space offered to each read */
#define STREAM_HIGH_WATER ((size_t)256 << 10) /* a stream produces more only while less than this is unsent */

enum conn_state {
	ST_HEAD,   /* reading a request head (or idle between requests) */
	ST_BODY,   /* reading a request body */
	ST_ANSWER, /* the request is answered or being answered; pipelined input waits */
	ST_LINGER, /* the last answer is sent, the write side shut: input is drained, then the connection closed */
	ST_CLOSED,
};

struct http_server {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_timer_t wake; /* runs the streams woken (or just started) since the loop last ran it */
	http_handler_fn handler;
	http_head_fn head;
	void *ctx;
	size_t max_body;
	int port;
	int nconns;
	int handles; /* the listener, the wake timer and every connection not yet freed */
	bool stopping;
	struct conn *conns;
	struct http_stream *woken;
	time_t date_at;
	char date[64];
	char scratch[16384]; /* where drained input goes */
};

struct conn {
	struct http_server *srv;
	uv_tcp_t tcp;
	uv_timer_t timer;
	uv_shutdown_t shutdown;
	struct conn *prev, *next;
	enum conn_state state;
	char *in;        /* bytes read and not yet consumed: a head, body bytes, pipelined requests */
	size_t len, cap;
	struct http_scan scan;
	struct http_request *req;
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
	struct conn *conn;
	char *head_buf;
	struct http_head head;
	bool parsed;
	bool is_head;       /* HEAD: the answer has no body */
	bool complete;      /* the body is all read */
	bool answered;
	int64_t body_left;  /* Content-Length bytes still to come */
	struct http_chunked chunked;
	struct buf body;
	struct buf extra;   /* headers added by the handler, as lines */
	struct http_stream *stream;
};

struct http_stream {
	struct conn *conn;
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

struct write_req {
	uv_write_t w;
	struct conn *conn;
	size_t bytes;
	char *owned[2];
};

static const struct {
	int code;
	const char *text;
} status_texts[] = {
	{100, "Continue"}, {200, "OK"}, {201, "Created"}, {204, "No Content"}, {301, "Moved Permanently"},
	{302, "Found"}, {304, "Not Modified"}, {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
	{404, "Not Found"}, {405, "Method Not Allowed"}, {408, "Request Timeout"}, {409, "Conflict"},
	{413, "Request Entity Too Large"}, {414, "URI Too Long"}, {415, "Unsupported Media Type"},
	{417, "Expectation Failed"}, {421, "Misdirected Request"}, {431, "Request Header Fields Too Large"},
	{500, "Internal Server Error"}, {501, "Not Implemented"}, {502, "Bad Gateway"},
	{503, "Service Unavailable"}, {505, "HTTP Version Not Supported"}, {507, "Insufficient Storage"},
};

const char *http_status_text(int status)
{
	for (size_t i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++)
		if (status_texts[i].code == status)
			return status_texts[i].text;
	return "Unknown";
}

static void conn_close(struct conn *c);
static void process(struct conn *c);
static void pump(struct http_stream *s);

/* The Date field's value, formatted once a second (fixed English names: no locale). */
static const char *date_now(struct http_server *srv)
{
	static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
	static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	    "Nov", "Dec"};
	time_t now = time(NULL);
	struct tm tm;

	if (now != srv->date_at && gmtime_r(&now, &tm)) {
		snprintf(srv->date, sizeof(srv->date), "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday % 7],
		    tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
		srv->date_at = now;
	}
	return srv->date;
}

static void server_release(struct http_server *srv)
{
	if (--srv->handles == 0)
		free(srv);
}

static void on_server_handle_closed(uv_handle_t *h)
{
	server_release(h->data);
}

/* --- requests and streams ---------------------------------------------------------------------------------- */

static struct http_request *request_new(struct conn *c)
{
	struct http_request *req = xcalloc(1, sizeof(*req));
	req->conn = c;
	buf_init(&req->body, c->srv->max_body);
	buf_init(&req->extra, 0);
	return req;
}

static void stream_free(struct http_stream *s)
{
	if (s->scheduled) {
		struct http_stream **p = &s->conn->srv->woken;
		while (*p && *p != s)
			p = &(*p)->next_woken;
		if (*p)
			*p = s->next_woken;
	}
	if (s->free_ctx)
		s->free_ctx(s->ctx);
	buf_free(&s->pending);
	free(s);
}

static void request_free(struct http_request *req)
{
	if (req == NULL)
		return;
	if (req->stream)
		stream_free(req->stream);
	free(req->head_buf);
	buf_free(&req->body);
	buf_free(&req->extra);
	free(req);
}

static void on_wake(uv_timer_t *t)
{
	struct http_server *srv = t->data;
	while (srv->woken) {
		struct http_stream *s = srv->woken;
		srv->woken = s->next_woken;
		s->scheduled = false;
		pump(s);
	}
}

/* Put a stream on the list the wake timer runs through (never from inside a handler: fn runs from the loop). */
static void schedule(struct http_stream *s)
{
	struct http_server *srv = s->conn->srv;
	if (s->scheduled || srv->stopping)
		return;
	s->scheduled = true;
	s->next_woken = srv->woken;
	srv->woken = s;
	uv_timer_start(&srv->wake, on_wake, 0, 0);
}

void http_stream_wake(struct http_stream *s)
{
	if (!s->waiting)
		return;
	s->waiting = false;
	schedule(s);
}

/* --- writing ----------------------------------------------------------------------------------------------- */

static void arm_timer(struct conn *c, uv_timer_cb cb, uint64_t ms);
static void on_idle(uv_timer_t *t);

/* A request is answered and its answer sent: free it, then read the next one or end the connection. */
static void request_done(struct conn *c);

static void on_write(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct conn *c = wr->conn;
	struct http_stream *s;

	c->writes--;
	c->unsent -= wr->bytes;
	free(wr->owned[0]);
	free(wr->owned[1]);
	free(wr);
	if (c->state == ST_CLOSED)
		return;
	if (status < 0) {
		log_debug("http: a client went away: %s", uv_strerror(status));
		conn_close(c);
		return;
	}
	if (c->state != ST_ANSWER)
		return; /* a 100 Continue */
	arm_timer(c, on_idle, IDLE_MS);
	s = c->req ? c->req->stream : NULL;
	if (s && !s->done) {
		if (!s->waiting)
			pump(s); /* it ends the request when it is done */
		else if (c->writes == 0)
			uv_timer_stop(&c->timer);
		return;
	}
	if (c->writes == 0 && c->complete)
		request_done(c);
}

/* Send a and b (either may be empty); the owned pointers are freed once sent. */
static void conn_write(struct conn *c, char *a, size_t alen, char *b, size_t blen, char *own_a, char *own_b)
{
	struct write_req *wr;
	uv_buf_t bufs[2];
	int n = 0, rc;

	if (alen + blen == 0)
		return;
	wr = xcalloc(1, sizeof(*wr));
	if (alen)
		bufs[n++] = uv_buf_init(a, (unsigned)alen);
	if (blen)
		bufs[n++] = uv_buf_init(b, (unsigned)blen);
	wr->conn = c;
	wr->bytes = alen + blen;
	wr->owned[0] = own_a;
	wr->owned[1] = own_b;
	rc = uv_write(&wr->w, (uv_stream_t *)&c->tcp, bufs, (unsigned)n, on_write);
	if (rc < 0) {
		free(own_a);
		free(own_b);
		free(wr);
		log_debug("http: cannot write to a client: %s", uv_strerror(rc));
		if (c->in_call)
			c->failed = true;
		else
			conn_close(c);
		return;
	}
	c->writes++;
	c->unsent += wr->bytes;
}

/* The status line and header fields of an answer; framing is "Content-Length: N" or "Transfer-Encoding: chunked"
 * (NULL: neither). Returns the malloc'd text and its length. */
static char *answer_head(struct http_request *req, int status, const char *content_type, const char *framing,
    size_t *len)
{
	struct conn *c = req->conn;
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = buf_printf(&b, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: gnomon/%s\r\nAccess-Control-Allow-Origin: *\r\n",
	    status, http_status_text(status), date_now(c->srv), GNOMON_VERSION);
	if (rc == 0 && content_type)
		rc = buf_printf(&b, "Content-Type: %s\r\n", content_type);
	if (rc == 0 && req->extra.len)
		rc = buf_append(&b, req->extra.data, req->extra.len);
	if (rc == 0 && framing)
		rc = buf_printf(&b, "%s\r\n", framing);
	if (rc == 0 && c->close_after)
		rc = buf_puts(&b, "Connection: close\r\n");
	if (rc == 0)
		rc = buf_puts(&b, "\r\n");
	if (rc < 0)
		fatalx("unbounded buffer refused data");
	return buf_steal(&b, len);
}

/* Mark req answered; returns -1 (and logs) when it was already. */
static int begin_answer(struct http_request *req)
{
	struct conn *c = req->conn;
	if (req->answered) {
		log_warnx("http: a second answer to %s %s is dropped", http_request_method(req), http_request_path(req));
		return -1;
	}
	req->answered = true;
	/* Answered before its body was read (or stopping): the rest of the body is not read, so no next request. */
	if (!req->complete || c->srv->stopping)
		c->close_after = true;
	c->state = ST_ANSWER;
	arm_timer(c, on_idle, IDLE_MS);
	return 0;
}

void http_respond(struct http_request *req, int status, const char *content_type, char *body, size_t len)
{
	struct conn *c = req->conn;
	bool no_body = req->is_head || status < 200 || status == 204 || status == 304;
	char framing[48], *head;
	size_t hlen;

	if (begin_answer(req) < 0) {
		free(body);
		return;
	}
	snprintf(framing, sizeof(framing), "Content-Length: %zu", len);
	head = answer_head(req, status, content_type, status < 200 || status == 204 || status == 304 ? NULL : framing,
	    &hlen);
	if (no_body) {
		free(body);
		body = NULL;
		len = 0;
	}
	conn_write(c, head, hlen, body, len, head, body);
	c->complete = true;
}

void http_respond_json(struct http_request *req, int status, json_t *value)
{
	char *text = json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15) |
	    JSON_ENCODE_ANY);
	json_decref(value);
	if (text == NULL)
		fatalx("http: out of memory encoding JSON");
	http_respond(req, status, "application/json", text, strlen(text));
}

/* Make text valid UTF-8 in place: a byte that does not start a complete, well-formed sequence becomes '?'
 * (a message may quote raw input, or have been cut in the middle of a character). */
static void utf8_scrub(char *text)
{
	unsigned char *p = (unsigned char *)text;
	while (*p) {
		int n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 && *p >= 0xC2 ? 2 : (*p & 0xF0) == 0xE0 ? 3 :
		    (*p & 0xF8) == 0xF0 && *p <= 0xF4 ? 4 : 0;
		int ok = n > 0;
		for (int i = 1; ok && i < n; i++)
			ok = (p[i] & 0xC0) == 0x80;
		if (ok && n == 3)
			ok = !(p[0] == 0xE0 && p[1] < 0xA0) && !(p[0] == 0xED && p[1] >= 0xA0);
		if (ok && n == 4)
			ok = !(p[0] == 0xF0 && p[1] < 0x90) && !(p[0] == 0xF4 && p[1] >= 0x90);
		if (!ok) {
			*p++ = '?';
			continue;
		}
		p += n;
	}
}

void http_respond_error(struct http_request *req, int status, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	utf8_scrub(msg);
	http_respond_json(req, status, json_pack("{s:s, s:s}", "status", http_status_text(status), "message", msg));
}

struct http_stream *http_respond_stream(struct http_request *req, int status, const char *content_type,
    http_stream_fn fn, void *ctx, void (*free_ctx)(void *))
{
	struct conn *c = req->conn;
	struct http_stream *s;
	char *head;
	size_t hlen;

	if (begin_answer(req) < 0) {
		if (free_ctx)
			free_ctx(ctx);
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->conn = c;
	s->fn = fn;
	s->ctx = ctx;
	s->free_ctx = free_ctx;
	s->chunked = req->head.minor >= 1;
	buf_init(&s->pending, 0);
	if (!s->chunked)
		c->close_after = true; /* HTTP/1.0: the body ends with the connection */
	head = answer_head(req, status, content_type, s->chunked ? "Transfer-Encoding: chunked" : NULL, &hlen);
	conn_write(c, head, hlen, NULL, 0, head, NULL);
	if (req->is_head) {
		stream_free(s);
		c->complete = true;
		return NULL;
	}
	req->stream = s;
	schedule(s);
	return s;
}

/* Send one piece of a streamed body. */
static void stream_write(struct http_stream *s)
{
	struct buf *p = &s->pending;
	char size[24];
	char *out;
	size_t n;

	if (!s->chunked) {
		n = p->len;
		out = buf_steal(p, &n);
		conn_write(s->conn, out, n, NULL, 0, out, NULL);
		return;
	}
	snprintf(size, sizeof(size), "%zx\r\n", p->len);
	n = strlen(size);
	out = xmalloc(n + p->len + 2);
	memcpy(out, size, n);
	memcpy(out + n, p->data, p->len);
	memcpy(out + n + p->len, "\r\n", 2);
	conn_write(s->conn, out, n + p->len + 2, NULL, 0, out, NULL);
}

/* Let a stream produce while its connection takes the bytes. */
static void pump(struct http_stream *s)
{
	static char last_chunk[] = "0\r\n\r\n";
	struct conn *c = s->conn;

	while (!s->done && !s->waiting && c->state == ST_ANSWER && c->unsent < STREAM_HIGH_WATER) {
		int rc;
		buf_reset(&s->pending);
		rc = s->fn(s->ctx, &s->pending);
		if (rc < 0) {
			conn_close(c); /* the client sees the body cut short */
			return;
		}
		if (s->pending.len)
			stream_write(s);
		if (c->state != ST_ANSWER)
			return;
		if (rc == 0) {
			s->done = true;
			if (s->chunked)
				conn_write(c, last_chunk, sizeof(last_chunk) - 1, NULL, 0, NULL, NULL);
			c->complete = true;
		} else if (rc == HTTP_STREAM_WAIT && s->pending.len == 0) {
			s->waiting = true;
		}
	}
	/* A stream asleep with everything sent waits for its news, not for the client: no idle limit. */
	if (c->state == ST_ANSWER && s->waiting && c->writes == 0)
		uv_timer_stop(&c->timer);
	if (c->state == ST_ANSWER && c->writes == 0 && c->complete)
		request_done(c);
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		fatalx("http: header '%s' would break the answer", name);
	if (buf_printf(&req->extra, "%s: %s\r\n", name, value) < 0)
		fatalx("unbounded buffer refused data");
}

/* --- accessors ---------------------------------------------------------------------------------------------- */

const char *http_request_method(const struct http_request *req)
{
	return req->parsed ? req->head.method : "-";
}

const char *http_request_path(const struct http_request *req)
{
	return req->parsed ? req->head.path : "-";
}

const char *http_request_query(const struct http_request *req, const char *key)
{
	const char *v;
	return req->parsed && http_head_param(&req->head, key, &v) ? v : NULL;
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	return req->parsed ? http_head_field(&req->head, name) : NULL;
}

const char *http_request_host(const struct http_request *req)
{
	return req->parsed ? req->head.host : NULL;
}

int http_request_has_body(const struct http_request *req)
{
	return req->parsed && (req->head.content_length > 0 || req->head.chunked);
}

const char *http_request_body(const struct http_request *req, size_t *len)
{
	*len = req->body.len;
	return req->body.data ? req->body.data : "";
}

/* --- connections ------------------------------------------------------------------------------------------- */

static void arm_timer(struct conn *c, uv_timer_cb cb, uint64_t ms)
{
	uv_timer_start(&c->timer, cb, ms, 0);
}

static void on_conn_handle_closed(uv_handle_t *h)
{
	struct conn *c = h->data;
	struct http_server *srv = c->srv;

	if (--c->handles > 0)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		srv->conns = c->next;
	if (c->next)
		c->next->prev = c->prev;
	srv->nconns--;
	free(c->in);
	free(c);
	server_release(srv);
}

/* Close at once: a request or stream in progress is dropped (a stream's free_ctx runs now). */
static void conn_close(struct conn *c)
{
	if (c->state == ST_CLOSED)
		return;
	c->state = ST_CLOSED;
	request_free(c->req);
	c->req = NULL;
	uv_close((uv_handle_t *)&c->tcp, on_conn_handle_closed);
	uv_close((uv_handle_t *)&c->timer, on_conn_handle_closed);
}

/* Answer a request refused before its handler, and end the connection after it. */
static void answer_early(struct conn *c, int status, const char *msg)
{
	if (c->req == NULL)
		c->req = request_new(c);
	log_debug("http: %d for %s %s: %s", status, http_request_method(c->req), http_request_path(c->req), msg);
	c->close_after = true;
	c->in_call++;
	http_respond_error(c->req, status, "%s", msg);
	c->in_call--;
	if (c->failed)
		conn_close(c);
}

static void on_linger_end(uv_timer_t *t)
{
	conn_close(t->data);
}

static void on_shutdown(uv_shutdown_t *sr, int status)
{
	struct conn *c = sr->data;
	if (status < 0 && status != UV_ECANCELED && c->state != ST_CLOSED)
		conn_close(c);
}

static void start_reading(struct conn *c);

/* The last answer is sent: shut the write side (the client sees the end), then drain what it still sends so
 * that closing does not reset the connection under an answer it has not read yet. */
static void linger(struct conn *c)
{
	c->state = ST_LINGER;
	c->len = 0;
	c->shutdown.data = c;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->tcp, on_shutdown) < 0) {
		conn_close(c);
		return;
	}
	arm_timer(c, on_linger_end, LINGER_MS);
	start_reading(c);
}

static void request_done(struct conn *c)
{
	request_free(c->req);
	c->req = NULL;
	c->complete = false;
	if (c->close_after) {
		linger(c);
		return;
	}
	c->state = ST_HEAD;
	memset(&c->scan, 0, sizeof(c->scan));
	if (c->len == 0 && c->cap > READ_ROOM) { /* an idle connection keeps no big buffer */
		free(c->in);
		c->in = NULL;
		c->cap = 0;
	}
	arm_timer(c, on_idle, IDLE_MS);
	start_reading(c);
	process(c);
}

/* Call the head hook or (must_answer) the handler; returns -1 when the connection failed meanwhile (and is
 * closed now). */
static int call(struct conn *c, http_handler_fn fn, bool must_answer)
{
	struct http_request *req = c->req;
	c->in_call++;
	fn(c->srv->ctx, req);
	if (must_answer && !req->answered) {
		log_warnx("http: no answer for %s %s", http_request_method(req), http_request_path(req));
		http_respond_error(req, 500, "no handler answered");
	}
	c->in_call--;
	if (c->failed) {
		conn_close(c);
		return -1;
	}
	return 0;
}

static void consume(struct conn *c, size_t n)
{
	memmove(c->in, c->in + n, c->len - n);
	c->len -= n;
}

/* A head is in: parse it, let the hook look at it, and go on to the body or the handler. Returns 0 when it
 * moved on, -1 when more bytes are needed, or a status to answer with err. */
static int read_head(struct conn *c, char *err, size_t errlen)
{
	static char continue_line[] = "HTTP/1.1 100 Continue\r\n\r\n";
	struct http_request *req;
	size_t head_len;
	int rc = http_head_scan(&c->scan, c->in, c->len, &head_len, err, errlen);

	if (rc != 0)
		return rc;
	if (head_len == 0)
		return -1;
	req = c->req = request_new(c);
	req->head_buf = xmalloc(head_len + 1);
	memcpy(req->head_buf, c->in, head_len);
	req->head_buf[head_len] = '\0';
	consume(c, head_len);
	if ((rc = http_head_parse(req->head_buf, head_len, &req->head, err, errlen)) != 0)
		return rc;
	req->parsed = true;
	req->is_head = strcmp(req->head.method, "HEAD") == 0;
	req->complete = !http_request_has_body(req);
	if (req->head.close)
		c->close_after = true;
	if (c->srv->head && (call(c, c->srv->head, false) < 0 || req->answered))
		return 0;
	if (req->head.content_length > 0 && (uint64_t)req->head.content_length > c->srv->max_body) {
		snprintf(err, errlen, "request body: %lld bytes is over the limit of %zu bytes",
		    (long long)req->head.content_length, c->srv->max_body);
		return 413;
	}
	if (req->complete) {
		(void)call(c, c->srv->handler, true);
		return 0;
	}
	req->body_left = req->head.content_length > 0 ? req->head.content_length : 0;
	if (req->head.expect_continue)
		conn_write(c, continue_line, sizeof(continue_line) - 1, NULL, 0, NULL, NULL);
	if (c->state != ST_CLOSED)
		c->state = ST_BODY;
	return 0;
}

/* Body bytes are in: take them; when the body is complete, call the handler. Returns like read_head. */
static int read_body(struct conn *c, char *err, size_t errlen)
{
	struct http_request *req = c->req;

	if (req->head.chunked) {
		size_t used;
		int rc = http_chunked_decode(&req->chunked, c->in, c->len, &used, &req->body, err, errlen);
		consume(c, used);
		if (rc > 1)
			return rc;
		if (rc == 0)
			return -1;
	} else {
		size_t n = c->len < (uint64_t)req->body_left ? c->len : (size_t)req->body_left;
		if (buf_append(&req->body, c->in, n) < 0) {
			snprintf(err, errlen, "request body: over the limit of %zu bytes", c->srv->max_body);
			return 413;
		}
		consume(c, n);
		req->body_left -= (int64_t)n;
		if (req->body_left > 0)
			return -1;
	}
	req->complete = true;
	(void)call(c, c->srv->handler, true);
	return 0;
}

/* Go through the input as far as it takes the connection. */
static void process(struct conn *c)
{
	char err[512];
	while ((c->state == ST_HEAD || c->state == ST_BODY) && c->len > 0) {
		int rc = c->state == ST_HEAD ? read_head(c, err, sizeof(err)) : read_body(c, err, sizeof(err));
		if (rc < 0)
			return;
		if (rc > 0) {
			answer_early(c, rc, err);
			return;
		}
	}
}

static void on_idle(uv_timer_t *t)
{
	struct conn *c = t->data;
	if ((c->state == ST_HEAD && c->len > 0) || c->state == ST_BODY)
		answer_early(c, 408, "request: nothing more received for 60 seconds");
	else
		conn_close(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct conn *c = h->data;
	(void)suggested;
	if (c->state == ST_LINGER) {
		*b = uv_buf_init(c->srv->scratch, sizeof(c->srv->scratch));
		return;
	}
	if (c->cap - c->len < READ_ROOM / 2) {
		c->cap = c->len + READ_ROOM;
		c->in = xrealloc(c->in, c->cap);
	}
	*b = uv_buf_init(c->in + c->len, (unsigned)(c->cap - c->len));
}

static void on_read(uv_stream_t *stream, ssize_t n, const uv_buf_t *b)
{
	struct conn *c = stream->data;
	(void)b;

	if (n == 0 || c->state == ST_CLOSED)
		return;
	if (n < 0) {
		uv_read_stop(stream);
		c->reading = false;
		/* A client that stops sending after a complete request still gets its (buffered) answer; one that
		 * leaves a stream or an unfinished request is gone. */
		if (c->state == ST_ANSWER && !(c->req && c->req->stream))
			c->close_after = true;
		else
			conn_close(c);
		return;
	}
	if (c->state == ST_LINGER) {
		c->drained += (size_t)n;
		if (c->drained > DISCARD_MAX)
			conn_close(c);
		return;
	}
	c->len += (size_t)n;
	if (c->state == ST_HEAD || c->state == ST_BODY) {
		arm_timer(c, on_idle, IDLE_MS);
		process(c);
	} else if (c->len >= HTTP_HEAD_MAX) { /* pipelined requests wait until this answer is sent */
		uv_read_stop(stream);
		c->reading = false;
	}
}

static void start_reading(struct conn *c)
{
	if (c->reading || c->state == ST_CLOSED)
		return;
	if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) < 0) {
		conn_close(c);
		return;
	}
	c->reading = true;
}

static void on_connection(uv_stream_t *listener, int status)
{
	struct http_server *srv = listener->data;
	struct conn *c;

	if (status < 0) {
		log_warnx("http: accepting a connection: %s", uv_strerror(status));
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->srv = srv;
	uv_tcp_init(srv->loop, &c->tcp);
	uv_timer_init(srv->loop, &c->timer);
	c->tcp.data = c->timer.data = c;
	c->handles = 2;
	c->next = srv->conns;
	if (srv->conns)
		srv->conns->prev = c;
	srv->conns = c;
	srv->nconns++;
	srv->handles++;
	if (uv_accept(listener, (uv_stream_t *)&c->tcp) < 0 || srv->stopping) {
		conn_close(c);
		return;
	}
	if (srv->nconns > CONNECTIONS_MAX) {
		log_warnx("http: more than %d connections: one refused", CONNECTIONS_MAX);
		conn_close(c);
		return;
	}
	uv_tcp_nodelay(&c->tcp, 1);
	arm_timer(c, on_idle, IDLE_MS);
	start_reading(c);
}

/* --- the server -------------------------------------------------------------------------------------------- */

int http_server_start(uv_loop_t *loop, const struct http_server_options *opt, http_handler_fn fn, void *ctx,
    struct http_server **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	int namelen = sizeof(ss), rc, ipv6 = 0;
	struct http_server *srv;

	memset(&ss, 0, sizeof(ss));
	if (uv_ip4_addr(opt->address, opt->port, (struct sockaddr_in *)&ss) != 0) {
		if (uv_ip6_addr(opt->address, opt->port, (struct sockaddr_in6 *)&ss) != 0) {
			snprintf(err, errlen, "--http-address: '%s' is not an IPv4 or IPv6 address", opt->address);
			return -EINVAL;
		}
		ipv6 = 1;
	}
	srv = xcalloc(1, sizeof(*srv));
	srv->loop = loop;
	srv->handler = fn;
	srv->head = opt->head;
	srv->ctx = ctx;
	srv->max_body = opt->max_body;
	uv_tcp_init(loop, &srv->listener);
	srv->listener.data = srv;
	srv->handles = 1;
	rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&ss, ipv6 ? UV_TCP_IPV6ONLY : 0);
	if (rc == 0)
		rc = uv_listen((uv_stream_t *)&srv->listener, BACKLOG, on_connection);
	if (rc == 0)
		rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &namelen);
	if (rc < 0) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s", opt->address, opt->port, uv_strerror(rc));
		uv_close((uv_handle_t *)&srv->listener, on_server_handle_closed);
		return rc;
	}
	srv->port = ntohs(ipv6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
	uv_timer_init(loop, &srv->wake);
	srv->wake.data = srv;
	srv->handles++;
	*out = srv;
	return 0;
}

int http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_stop(struct http_server *srv)
{
	if (srv == NULL || srv->stopping)
		return;
	srv->stopping = true;
	uv_close((uv_handle_t *)&srv->listener, on_server_handle_closed);
	uv_close((uv_handle_t *)&srv->wake, on_server_handle_closed);
	for (struct conn *c = srv->conns; c; c = c->next)
		conn_close(c);
}
