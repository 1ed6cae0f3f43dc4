#include "api/http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/log.h"
#include "util/xmalloc.h"

#define MAX_EXTRA_HEADERS 8
/* How much of a chunked body over the limit is read and dropped before the 413 (beyond it: close). */
#define DISCARD_MAX ((size_t)64 << 20)

struct http_server {
	struct MHD_Daemon *daemon;
	uv_poll_t poll;
	uv_timer_t timer;
	http_handler_fn handler;
	void *ctx;
	size_t max_body;
	int port;
	int open_handles;
	int stopping;
	int run_again; /* a stream was resumed: MHD must run once more, whatever its own timeout says */
	struct http_stream *suspended; /* streams waiting for data: resumed before the daemon stops */
};

struct http_request {
	struct http_server *srv;
	struct MHD_Connection *conn;
	const char *method;
	const char *path;
	struct buf body;
	int too_big;
	size_t discarded; /* bytes dropped after too_big */
	int answered;
	int nheaders;
	char *headers[MAX_EXTRA_HEADERS][2];
};

struct http_stream {
	http_stream_fn fn;
	void *ctx;
	void (*free_ctx)(void *);
	struct buf pending;
	size_t off;
	int done;
	struct http_server *srv;
	struct MHD_Connection *conn;
	int suspended;
	struct http_stream *next_suspended;
};

static const struct {
	int code;
	const char *text;
} status_texts[] = {
	{200, "OK"}, {201, "Created"}, {204, "No Content"}, {301, "Moved Permanently"}, {302, "Found"},
	{304, "Not Modified"}, {400, "Bad Request"}, {401, "Unauthorized"}, {403, "Forbidden"},
	{404, "Not Found"}, {405, "Method Not Allowed"}, {409, "Conflict"}, {413, "Request Entity Too Large"},
	{415, "Unsupported Media Type"}, {500, "Internal Server Error"}, {502, "Bad Gateway"},
	{503, "Service Unavailable"},
};

const char *http_status_text(int status)
{
	for (size_t i = 0; i < sizeof(status_texts) / sizeof(status_texts[0]); i++)
		if (status_texts[i].code == status)
			return status_texts[i].text;
	return "Unknown";
}

static void rearm(struct http_server *srv);

static void on_poll(uv_poll_t *h, int status, int events)
{
	struct http_server *srv = h->data;
	(void)status;
	(void)events;
	MHD_run(srv->daemon);
	rearm(srv);
}

static void on_timer(uv_timer_t *h)
{
	struct http_server *srv = h->data;
	MHD_run(srv->daemon);
	rearm(srv);
}

/* Ask MHD when it next needs to run even without socket activity, and arm the timer for that; at once when a
 * stream was resumed meanwhile (from a handler inside MHD_run, say), which MHD's own timeout does not count. */
static void rearm(struct http_server *srv)
{
	MHD_UNSIGNED_LONG_LONG ms;
	if (srv->run_again) {
		srv->run_again = 0;
		uv_timer_start(&srv->timer, on_timer, 0, 0);
	} else if (MHD_get_timeout(srv->daemon, &ms) == MHD_YES)
		uv_timer_start(&srv->timer, on_timer, ms, 0);
	else
		uv_timer_stop(&srv->timer);
}

static void free_request(struct http_request *req)
{
	buf_free(&req->body);
	for (int i = 0; i < req->nheaders; i++) {
		free(req->headers[i][0]);
		free(req->headers[i][1]);
	}
	free(req);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode t)
{
	(void)cls;
	(void)conn;
	(void)t;
	if (*con_cls) {
		free_request(*con_cls);
		*con_cls = NULL;
	}
}

/* Queue the response (which is then released); -1 when MHD refused it (its free callbacks have run then). */
static int queue(struct http_request *req, int status, struct MHD_Response *resp)
{
	int rc = 0;

	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(resp, "Server", "gnomon/" GNOMON_VERSION);
	for (int i = 0; i < req->nheaders; i++)
		MHD_add_response_header(resp, req->headers[i][0], req->headers[i][1]);
	if (MHD_queue_response(req->conn, (unsigned)status, resp) != MHD_YES) {
		log_warnx("http: could not queue a %d response for %s %s", status, req->method, req->path);
		rc = -1;
	}
	MHD_destroy_response(resp);
	req->answered = 1;
	return rc;
}

void http_add_header(struct http_request *req, const char *name, const char *value)
{
	if (req->nheaders == MAX_EXTRA_HEADERS)
		fatalx("http: more than %d extra headers", MAX_EXTRA_HEADERS);
	req->headers[req->nheaders][0] = xstrdup(name);
	req->headers[req->nheaders][1] = xstrdup(value);
	req->nheaders++;
}

void http_respond(struct http_request *req, int status, const char *content_type, char *body, size_t len)
{
	struct MHD_Response *resp;
	if (body == NULL) {
		resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	} else {
		resp = MHD_create_response_from_buffer_with_free_callback(len, body, free);
	}
	if (resp == NULL)
		fatalx("http: out of memory creating a response");
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	queue(req, status, resp);
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

static ssize_t stream_read(void *cls, uint64_t pos, char *out, size_t max)
{
	struct http_stream *s = cls;
	(void)pos;
	while (s->off == s->pending.len) {
		if (s->done)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (s->srv->stopping)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		buf_reset(&s->pending);
		s->off = 0;
		int rc = s->fn(s->ctx, &s->pending);
		if (rc < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (rc == 0)
			s->done = 1;
		if (rc == HTTP_STREAM_WAIT && s->pending.len == 0) {
			/* Returning 0 without suspending would make MHD call again at once: a busy loop. */
			s->suspended = 1;
			s->next_suspended = s->srv->suspended;
			s->srv->suspended = s;
			MHD_suspend_connection(s->conn);
			return 0;
		}
	}
	size_t n = s->pending.len - s->off;
	if (n > max)
		n = max;
	memcpy(out, s->pending.data + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

/* Take s off the server's list of suspended streams. */
static void unlist(struct http_stream *s)
{
	for (struct http_stream **p = &s->srv->suspended; *p; p = &(*p)->next_suspended) {
		if (*p == s) {
			*p = s->next_suspended;
			return;
		}
	}
}

void http_stream_wake(struct http_stream *s)
{
	if (!s->suspended)
		return;
	s->suspended = 0;
	unlist(s);
	MHD_resume_connection(s->conn);
	s->srv->run_again = 1; /* in case this runs inside MHD_run, whose rearm() would replace the timer below */
	uv_timer_start(&s->srv->timer, on_timer, 0, 0); /* let MHD run for the resumed connection */
}

static void stream_free(void *cls)
{
	struct http_stream *s = cls;
	if (s->suspended)
		unlist(s);
	if (s->free_ctx)
		s->free_ctx(s->ctx);
	buf_free(&s->pending);
	free(s);
}

struct http_stream *http_respond_stream(struct http_request *req, int status, const char *content_type,
    http_stream_fn fn, void *ctx, void (*free_ctx)(void *))
{
	struct http_stream *s = xcalloc(1, sizeof(*s));
	struct MHD_Response *resp;

	s->fn = fn;
	s->ctx = ctx;
	s->free_ctx = free_ctx;
	s->srv = req->srv;
	s->conn = req->conn;
	buf_init(&s->pending, 0);
	resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64 * 1024, stream_read, s, stream_free);
	if (resp == NULL)
		fatalx("http: out of memory creating a streamed response");
	if (content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, content_type);
	return queue(req, status, resp) == 0 ? s : NULL;
}

const char *http_request_method(const struct http_request *req)
{
	return req->method;
}

const char *http_request_path(const struct http_request *req)
{
	return req->path;
}

const char *http_request_query(const struct http_request *req, const char *key)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *http_request_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

const char *http_request_body(const struct http_request *req, size_t *len)
{
	*len = req->body.len;
	return req->body.data ? req->body.data : "";
}

void http_request_peer(const struct http_request *req, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci = MHD_get_connection_info(req->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;
	char host[INET6_ADDRSTRLEN];

	if (sa && sa->sa_family == AF_INET &&
	    inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, host, sizeof(host)))
		snprintf(out, len, "%s:%u", host, ntohs(((const struct sockaddr_in *)(const void *)sa)->sin_port));
	else if (sa && sa->sa_family == AF_INET6 &&
	    inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, host, sizeof(host)))
		snprintf(out, len, "[%s]:%u", host, ntohs(((const struct sockaddr_in6 *)(const void *)sa)->sin6_port));
	else
		snprintf(out, len, "unknown");
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
    const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
	struct http_server *srv = cls;
	struct http_request *req = *con_cls;
	(void)version;

	if (req == NULL) {
		const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
		req = xcalloc(1, sizeof(*req));
		req->srv = srv;
		req->conn = conn;
		req->method = method;
		req->path = url;
		buf_init(&req->body, srv->max_body);
		*con_cls = req;
		if (cl && strtoull(cl, NULL, 10) > srv->max_body) {
			http_respond_error(req, 413, "request body of %s bytes is over the limit of %zu bytes", cl,
			    srv->max_body);
		}
		return MHD_YES;
	}
	if (req->answered) {
		*upload_size = 0;
		return MHD_YES;
	}
	if (*upload_size) {
		/* MHD refuses a response while body data is being handed over: a body found too big here
		 * (chunked, no Content-Length) is read and dropped, and answered by the final call below. The
		 * discarding is capped too: past it the connection is closed without an answer. */
		if (req->too_big) {
			req->discarded += *upload_size;
			*upload_size = 0;
			return req->discarded > DISCARD_MAX ? MHD_NO : MHD_YES;
		}
		if (buf_append(&req->body, upload, *upload_size) < 0) {
			req->too_big = 1;
			buf_free(&req->body);
		}
		*upload_size = 0;
		return MHD_YES;
	}
	if (req->too_big) {
		http_add_header(req, MHD_HTTP_HEADER_CONNECTION, "close");
		http_respond_error(req, 413, "request body is over the limit of %zu bytes", srv->max_body);
		return MHD_YES;
	}
	srv->handler(srv->ctx, req);
	if (!req->answered) {
		log_warnx("http: no answer for %s %s", method, url);
		http_respond_error(req, 500, "no handler answered");
	}
	return MHD_YES;
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[512];
	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	msg[strcspn(msg, "\n")] = '\0';
	log_debug("http: %s", msg);
}

static void on_handle_closed(uv_handle_t *h)
{
	struct http_server *srv = h->data;
	if (--srv->open_handles == 0)
		free(srv);
}

int http_server_start(uv_loop_t *loop, const struct http_server_options *opt, http_handler_fn fn, void *ctx,
    struct http_server **out, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	unsigned flags = MHD_USE_EPOLL | MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
	struct http_server *srv;
	const union MHD_DaemonInfo *info;

	memset(&ss, 0, sizeof(ss));
	if (inet_pton(AF_INET, opt->address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)opt->port);
	} else if (inet_pton(AF_INET6, opt->address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)opt->port);
		flags |= MHD_USE_IPv6;
	} else {
		snprintf(err, errlen, "--http-address: '%s' is not an IPv4 or IPv6 address", opt->address);
		return -EINVAL;
	}
	srv = xcalloc(1, sizeof(*srv));
	srv->handler = fn;
	srv->ctx = ctx;
	srv->max_body = opt->max_body;
	srv->daemon = MHD_start_daemon(flags, (uint16_t)opt->port, NULL, NULL, on_access, srv,
	    MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
	    MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)60,
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)4096,
	    MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
	    MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, NULL,
	    MHD_OPTION_END);
	if (srv->daemon == NULL) {
		snprintf(err, errlen, "cannot listen on %s port %d: %s", opt->address, opt->port,
		    errno ? strerror(errno) : "libmicrohttpd failed to start");
		free(srv);
		return -EADDRINUSE;
	}
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_BIND_PORT);
	srv->port = info ? info->port : opt->port;
	info = MHD_get_daemon_info(srv->daemon, MHD_DAEMON_INFO_EPOLL_FD);
	if (info == NULL)
		fatalx("http: libmicrohttpd has no epoll fd");
	uv_timer_init(loop, &srv->timer);
	srv->timer.data = srv;
	if (uv_poll_init(loop, &srv->poll, info->epoll_fd) < 0)
		fatalx("http: cannot poll libmicrohttpd's epoll fd");
	srv->poll.data = srv;
	srv->open_handles = 2;
	uv_poll_start(&srv->poll, UV_READABLE, on_poll);
	rearm(srv);
	*out = srv;
	return 0;
}

int http_server_port(const struct http_server *srv)
{
	return srv->port;
}

void http_server_stop(struct http_server *srv)
{
	if (srv == NULL)
		return;
	/* MHD must not stop with suspended connections: wake them, and they end (stream_read sees stopping). */
	srv->stopping = 1;
	while (srv->suspended)
		http_stream_wake(srv->suspended);
	/* Release libuv's interest in the epoll fd before libmicrohttpd closes it. */
	uv_close((uv_handle_t *)&srv->poll, on_handle_closed);
	uv_close((uv_handle_t *)&srv->timer, on_handle_closed);
	MHD_stop_daemon(srv->daemon);
	srv->daemon = NULL;
}
