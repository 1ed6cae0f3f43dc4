#include "api/http_internal.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

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
	{503, "Service Unavailable"}, {504, "Gateway Timeout"}, {505, "HTTP Version Not Supported"}, {507, "Insufficient Storage"},
};

const char *http_status_text(int status)
{
	for (size_t i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++)
		if (status_texts[i].code == status)
			return status_texts[i].text;
	return "Unknown";
}

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

/* --- requests and streams ---------------------------------------------------------------------------------- */

struct http_request *http_req_new(struct http_conn *c)
{
	struct http_request *req = xcalloc(1, sizeof(*req));
	req->conn = c;
	buf_init(&req->body, c->srv->max_body);
	buf_init(&req->extra, 0);
	req->reader = http_reader_new(&req->head, &req->body);
	return req;
}

void http_stream_free(struct http_stream *s)
{
	if (s->scheduled) { /* on the list of this turn or of the next */
		struct http_server *srv = s->conn->srv;
		struct http_stream **p = &srv->waking;
		while (*p && *p != s)
			p = &(*p)->next_woken;
		if (*p == NULL)
			for (p = &srv->woken; *p && *p != s;)
				p = &(*p)->next_woken;
		if (*p)
			*p = s->next_woken;
	}
	if (s->free_ctx)
		s->free_ctx(s->ctx);
	buf_free(&s->pending);
	free(s);
}

void http_req_free(struct http_request *req)
{
	if (req == NULL)
		return;
	if (req->stream)
		http_stream_free(req->stream);
	http_reader_free(req->reader);
	buf_free(&req->body);
	buf_free(&req->extra);
	free(req);
}

/* Pump the streams woken until now; those woken meanwhile (a stream that yields) wait for the next turn. */
static void on_wake(uv_idle_t *t)
{
	struct http_server *srv = t->data;
	srv->waking = srv->woken;
	srv->woken = NULL;
	while (srv->waking) {
		struct http_stream *s = srv->waking;
		srv->waking = s->next_woken;
		s->scheduled = false;
		http_stream_pump(s);
	}
	if (srv->woken == NULL)
		uv_idle_stop(&srv->wake);
}

/* Put a stream on the list the wake handle runs through (never from inside a handler: fn runs from the loop). */
static void schedule(struct http_stream *s)
{
	struct http_server *srv = s->conn->srv;
	if (s->scheduled || srv->stopping)
		return;
	s->scheduled = true;
	s->next_woken = srv->woken;
	srv->woken = s;
	uv_idle_start(&srv->wake, on_wake);
}

void http_stream_wake(struct http_stream *s)
{
	if (!s->waiting)
		return;
	s->waiting = false;
	schedule(s);
}

/* The status line and header fields of an answer; framing is "Content-Length: N" or "Transfer-Encoding: chunked"
 * (NULL: neither). Returns the malloc'd text and its length. */
static char *answer_head(struct http_request *req, int status, const char *content_type, const char *framing,
    size_t *len)
{
	struct http_conn *c = req->conn;
	struct buf b;
	int rc;

	buf_init(&b, 0);
	rc = buf_printf(&b, "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: gnomon/%s\r\n", status, http_status_text(status),
	    date_now(c->srv), GNOMON_VERSION);
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
	struct http_conn *c = req->conn;
	if (req->answered) {
		log_warnx("http: a second answer to %s %s is dropped", http_request_method(req), http_request_path(req));
		return -1;
	}
	req->answered = true;
	req->deferred = false;
	/* Answered before its body was read (or stopping): the rest of the body is not read, so no next request. */
	if (!req->complete || c->srv->stopping)
		c->close_after = true;
	c->state = ST_ANSWER;
	http_conn_arm_idle(c);
	return 0;
}

/* An answer may come from outside a handler (a deferred request): a write that fails during it closes the
 * connection (and frees the request) only once the answer is done with the request. */
static void answer_enter(struct http_conn *c)
{
	c->in_call++;
}

static void answer_leave(struct http_conn *c)
{
	if (--c->in_call == 0 && c->failed)
		http_conn_close(c);
}

void http_respond(struct http_request *req, int status, const char *content_type, char *body, size_t len)
{
	struct http_conn *c = req->conn;
	bool no_body = req->is_head || status < 200 || status == 204 || status == 304;
	char framing[48], *head;
	size_t hlen;

	if (begin_answer(req) < 0) {
		free(body);
		return;
	}
	answer_enter(c);
	snprintf(framing, sizeof(framing), "Content-Length: %zu", len);
	head = answer_head(req, status, content_type, status < 200 || status == 204 || status == 304 ? NULL : framing,
	    &hlen);
	if (no_body) {
		free(body);
		body = NULL;
		len = 0;
	}
	http_conn_write(c, head, hlen, body, len, head, body);
	c->complete = true;
	answer_leave(c);
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
	struct http_conn *c = req->conn;
	struct http_stream *s;
	char *head;
	size_t hlen;

	if (begin_answer(req) < 0) {
		if (free_ctx)
			free_ctx(ctx);
		return NULL;
	}
	answer_enter(c);
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
	http_conn_write(c, head, hlen, NULL, 0, head, NULL);
	if (req->is_head) {
		http_stream_free(s);
		c->complete = true;
		answer_leave(c);
		return NULL;
	}
	req->stream = s;
	schedule(s);
	answer_leave(c);
	return c->state == ST_CLOSED ? NULL : s;
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
		http_conn_write(s->conn, out, n, NULL, 0, out, NULL);
		return;
	}
	snprintf(size, sizeof(size), "%zx\r\n", p->len);
	n = strlen(size);
	out = xmalloc(n + p->len + 2);
	memcpy(out, size, n);
	memcpy(out + n, p->data, p->len);
	memcpy(out + n + p->len, "\r\n", 2);
	http_conn_write(s->conn, out, n + p->len + 2, NULL, 0, out, NULL);
}

void http_stream_pump(struct http_stream *s)
{
	static char last_chunk[] = "0\r\n\r\n";
	struct http_conn *c = s->conn;

	while (!s->done && !s->waiting && c->state == ST_ANSWER && c->unsent < HTTP_STREAM_HIGH_WATER) {
		int rc;
		buf_reset(&s->pending);
		rc = s->fn(s->ctx, &s->pending);
		if (rc < 0) {
			http_conn_close(c); /* the client sees the body cut short */
			return;
		}
		if (s->pending.len)
			stream_write(s);
		if (c->state != ST_ANSWER)
			return;
		if (rc == 0) {
			s->done = true;
			if (s->chunked)
				http_conn_write(c, last_chunk, sizeof(last_chunk) - 1, NULL, 0, NULL, NULL);
			c->complete = true;
		} else if (rc == HTTP_STREAM_WAIT && s->pending.len == 0) {
			s->waiting = true;
		} else if (rc == HTTP_STREAM_YIELD) {
			schedule(s); /* the next part on the next turn of the loop */
			break;
		}
	}
	/* A stream asleep with everything sent waits for its news, not for the client: no idle limit. */
	if (c->state == ST_ANSWER && s->waiting && c->writes == 0)
		uv_timer_stop(&c->timer);
	if (c->state == ST_ANSWER && c->writes == 0 && c->complete)
		http_conn_answered(c);
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
	if (strpbrk(name, "\r\n:") || strpbrk(value, "\r\n"))
		fatalx("http: header '%s' would break the answer", name);
	if (buf_printf(&req->extra, "%s: %s\r\n", name, value) < 0)
		fatalx("unbounded buffer refused data");
}

/* --- deferred answers ---------------------------------------------------------------------------------------- */

static void on_defer_timeout(uv_timer_t *t)
{
	struct http_conn *c = t->data;
	struct http_request *req = c->req;

	req->deferred = false;
	answer_enter(c);
	req->defer_fn(req->defer_ctx, req, HTTP_DEFER_TIMEOUT);
	if (!req->answered)
		http_respond_error(req, 504, "request: no answer within the time allowed");
	answer_leave(c);
}

void http_request_defer(struct http_request *req, uint64_t timeout_ms, http_defer_fn fn, void *ctx)
{
	struct http_conn *c = req->conn;

	if (req->answered || req->deferred || !req->complete || c->in_call == 0 ||
	    (c->state != ST_HEAD && c->state != ST_BODY))
		fatalx("http: %s %s deferred outside its handler", http_request_method(req), http_request_path(req));
	req->deferred = true;
	req->defer_fn = fn;
	req->defer_ctx = ctx;
	c->state = ST_DEFERRED;
	if (timeout_ms > 0)
		http_conn_arm(c, on_defer_timeout, timeout_ms);
	else
		uv_timer_stop(&c->timer);
}

void http_request_set_tag(struct http_request *req, const void *tag)
{
	req->tag = tag;
}

const void *http_request_tag(const struct http_request *req)
{
	return req->tag;
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

int http_request_param(const struct http_request *req, int i, const char **key, const char **value)
{
	if (!req->parsed || i < 0 || i >= req->head.nparams)
		return 0;
	*key = req->head.params[i].key;
	*value = req->head.params[i].value;
	return 1;
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

void http_request_peer(const struct http_request *req, char *out, size_t len)
{
	http_conn_peer(req->conn, out, len);
}

void http_conn_peer(struct http_conn *c, char *out, size_t len)
{
	struct sockaddr_storage ss;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&ss;
	int namelen = sizeof(ss);
	char host[INET6_ADDRSTRLEN];

	memset(&ss, 0, sizeof(ss));
	if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &namelen) == 0 && ss.ss_family == AF_INET &&
	    inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host)))
		snprintf(out, len, "%s:%u", host, ntohs(sin->sin_port));
	else if (ss.ss_family == AF_INET6 && inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host)))
		snprintf(out, len, "[%s]:%u", host, ntohs(sin6->sin6_port));
	else
		snprintf(out, len, "unknown");
}
