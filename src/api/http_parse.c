#include "api/http_parse.h"

#include <http_parser.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/http_target.h"
#include "util/xmalloc.h"

#define QUOTE 60                          /* bytes of client input quoted in a message */
#define RAW_MAX (HTTP_HEAD_MAX + 1024)    /* head bytes kept: http-parser refuses a head before it has this many */
#define LINE_TOO_LONG "request line: longer than %zu bytes (the request target may have at most %zu)"

/* Where a part of the head is in the bytes received. */
struct span {
	uint32_t off, len;
};

struct http_reader {
	http_parser parser;
	struct http_head *h;
	struct buf *body;
	/* The head as received (kept whole for the checks and messages that look back), where its parts are in it,
	 * and those parts copied out as strings once it is complete (h points into them). */
	struct buf raw;
	size_t start;        /* where the request line starts in raw: after the empty lines before it */
	bool started;        /* the request line's first byte has come */
	size_t cr_from;      /* raw has been looked through for a CR without LF up to here */
	size_t bad_cr;       /* the first such CR, or SIZE_MAX */
	struct span target;
	struct span names[HTTP_FIELDS_MAX], values[HTTP_FIELDS_MAX];
	int nfields;
	bool in_value;       /* the last field callback was for a value */
	bool target_long;
	bool line_done;      /* the request line is complete and checked */
	bool head_done;
	bool done;
	char *strings;
	size_t room;         /* where the strings have room left for an absolute-form target's authority */
	/* The bytes of a chunked body around its chunks' data: size lines, the CR LF after data, trailer fields. */
	const char *scan_from;
	uint64_t chunk_left;
	int crlf;            /* 2: a chunk's data just ended, a CR LF must follow */
	unsigned char prev;
	size_t line;
	bool trailers;       /* the last chunk has been seen */
	size_t trailer_bytes;
	/* A refusal found in a callback (or the last one returned). */
	int status;
	char msg[512];
};

static int on_url(http_parser *p, const char *at, size_t n);
static int on_header_field(http_parser *p, const char *at, size_t n);
static int on_header_value(http_parser *p, const char *at, size_t n);
static int on_headers_complete(http_parser *p);
static int on_body(http_parser *p, const char *at, size_t n);
static int on_chunk_header(http_parser *p);
static int on_message_complete(http_parser *p);

static const http_parser_settings settings = {
	.on_url = on_url,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
	.on_chunk_header = on_chunk_header,
};

static int refuse(struct http_reader *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Keep the first refusal (status and message); returns -1, which makes http-parser stop. */
static int refuse(struct http_reader *r, int status, const char *fmt, ...)
{
	va_list ap;

	if (r->status)
		return -1;
	r->status = status;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return -1;
}

static int quote_len(size_t n)
{
	return n < QUOTE ? (int)n : QUOTE;
}

/* --- the head as received --------------------------------------------------------------------------------- */

/* Where the request line starts in raw: after the empty lines that may come before it (counted by
 * find_line_start as the bytes come, so that a reader given them one by one stays linear). */
static size_t line_start(const struct http_reader *r)
{
	return r->start;
}

/* Count the empty lines before the request line in the bytes received since the last call. */
static void find_line_start(struct http_reader *r)
{
	for (; !r->started && r->start < r->raw.len; r->start++) {
		if (r->raw.data[r->start] != '\r' && r->raw.data[r->start] != '\n') {
			r->started = true;
			break;
		}
	}
}

/* The length of the line that starts at off in raw, up to its CR or LF (or what has been received of it). */
static size_t line_length(const struct http_reader *r, size_t off)
{
	size_t n = 0;
	while (off + n < r->raw.len && r->raw.data[off + n] != '\r' && r->raw.data[off + n] != '\n')
		n++;
	return n;
}

/* Name the line of the head that holds byte pos ("request line", "header line 2"); returns where it starts. */
static size_t line_at(const struct http_reader *r, size_t pos, char *name, size_t namelen)
{
	size_t start = line_start(r), at = start;
	int n = 0;

	for (size_t i = start; i < pos && i < r->raw.len; i++) {
		if (r->raw.data[i] == '\n') {
			n++;
			at = i + 1;
		}
	}
	if (n == 0)
		snprintf(name, namelen, "request line");
	else
		snprintf(name, namelen, "header line %d", n);
	return at;
}

/* The request line's words as received: method, target, and the rest (the version, or more). */
static void line_words(const struct http_reader *r, struct span w[3])
{
	size_t start = line_start(r), end = start + line_length(r, start), i = start;

	for (int k = 0; k < 3; k++) {
		while (k > 0 && i < end && r->raw.data[i] == ' ')
			i++;
		w[k].off = (uint32_t)i;
		while (i < end && (k == 2 || r->raw.data[i] != ' '))
			i++;
		w[k].len = (uint32_t)(i - w[k].off);
	}
}

/* Look through the bytes received since the last call for a CR that is not followed by LF: http-parser built
 * without HTTP_PARSER_STRICT takes any byte after some CRs for the LF. */
static void find_bare_cr(struct http_reader *r)
{
	for (; r->cr_from < r->raw.len; r->cr_from++) {
		if (r->raw.data[r->cr_from] != '\r')
			continue;
		if (r->cr_from + 1 == r->raw.len)
			return; /* its next byte has not come yet */
		if (r->raw.data[r->cr_from + 1] != '\n' && r->bad_cr == SIZE_MAX)
			r->bad_cr = r->cr_from;
	}
}

/* The request line is complete: its length, its target's and its version. */
static int line_checks(struct http_reader *r)
{
	const http_parser *p = &r->parser;
	size_t start = line_start(r), n = line_length(r, start);
	const char *line = r->raw.data + start;
	struct span w[3];

	r->line_done = true;
	if (n > HTTP_LINE_MAX)
		return refuse(r, 414, LINE_TOO_LONG, HTTP_LINE_MAX, HTTP_TARGET_MAX);
	if (r->target_long)
		return refuse(r, 414, "request target: longer than %zu bytes", HTTP_TARGET_MAX);
	/* http-parser reads any "H???/d.d" as a version, and a line without one as HTTP/0.9. */
	if (n < 8 || memcmp(line + n - 8, "HTTP/", 5) != 0) {
		line_words(r, w);
		if (w[2].len == 0)
			return refuse(r, 400, "request line: '%.*s' is malformed: expected METHOD TARGET HTTP/1.1",
			    quote_len(n), line);
		return refuse(r, 400, "request line: '%.*s' is malformed: '%.*s' is not an HTTP version", quote_len(n),
		    line, quote_len(w[2].len), r->raw.data + w[2].off);
	}
	if (p->http_major != 1)
		return refuse(r, 505, "HTTP/%u.%u is not supported: use HTTP/1.1", p->http_major, p->http_minor);
	return 0;
}

/* http-parser stopped at raw[pos] (at a fault, or past a CR outside a line end there) before it handed
 * on_header_field a field name begun before pos; a reader given the bytes one by one has had them checked: say one
 * field too many first, as it does. Returns -1 when refused. */
static int pending_field(struct http_reader *r, size_t pos)
{
	const char *raw = r->raw.data;
	size_t at = line_at(r, pos, NULL, 0);

	if (at != line_start(r) && pos > at && r->nfields == HTTP_FIELDS_MAX && r->names[r->nfields - 1].off != at &&
	    raw[at] != ' ' && raw[at] != '\t' && memchr(raw + at, ':', pos - at) == NULL)
		return refuse(r, 431, "request header fields: more than %d", HTTP_FIELDS_MAX);
	return 0;
}

/* http-parser stopped at raw[pos] with e while reading the head: the status and the message naming the part. */
static int head_refusal(struct http_reader *r, enum http_errno e, size_t pos)
{
	const char *raw = r->raw.data;
	size_t start = line_start(r), n = line_length(r, start), at, len;
	unsigned char ch = pos < r->raw.len ? (unsigned char)raw[pos] : 0;
	const char *colon;
	struct span w[3];
	char where[32];

	if (pending_field(r, pos) < 0)
		return -1;
	at = line_at(r, pos, where, sizeof(where));
	if (pos < r->raw.len && ch == '\0')
		return refuse(r, 400, "request head: contains a NUL byte");
	len = line_length(r, at);
	line_words(r, w);
	if (at != start && at < r->raw.len && (raw[at] == ' ' || raw[at] == '\t'))
		return refuse(r, 400, "%s: starts with whitespace (folded lines are not accepted)", where);
	switch (e) {
	case HPE_HEADER_OVERFLOW:
		if (at == start)
			return refuse(r, 414, LINE_TOO_LONG, HTTP_LINE_MAX, HTTP_TARGET_MAX);
		return refuse(r, 431, "request header fields: more than %zu bytes", HTTP_HEAD_MAX);
	case HPE_INVALID_METHOD:
		/* http-parser knows 34 methods; where it stops, an unknown token and garbage cannot be told apart yet. */
		return refuse(r, 400, "request line: '%.*s' is malformed: '%.*s' is not a method", quote_len(n),
		    raw + start, quote_len(w[0].len), raw + w[0].off);
	case HPE_INVALID_URL:
		if (ch != ' ' && ch != '\r' && ch != '\n' && (ch < 0x21 || ch > 0x7e))
			return refuse(r, 400, "request target: byte 0x%02x at offset %zu must be percent-encoded", ch,
			    pos - w[1].off);
		return refuse(r, 400, "request target: '%.*s' must start with '/' (or be an absolute http URI, or '*')",
		    quote_len(w[1].len), raw + w[1].off);
	case HPE_INVALID_CONSTANT:
	case HPE_INVALID_VERSION:
	case HPE_STRICT:
		if (at == start)
			return refuse(r, 400, "request line: '%.*s' is malformed: '%.*s' is not an HTTP version",
			    quote_len(n), raw + start, quote_len(w[2].len), raw + w[2].off);
		return refuse(r, 400, "%s: a CR stands outside a line end", where);
	case HPE_LF_EXPECTED:
		return refuse(r, 400, "%s: a CR stands outside a line end", where);
	case HPE_INVALID_HEADER_TOKEN:
		colon = memchr(raw + at, ':', len);
		if (colon == NULL && at + len < r->raw.len) /* the whole line is in */
			return refuse(r, 400, "%s: '%.*s' is not NAME: VALUE", where, quote_len(len), raw + at);
		if (colon == NULL || pos < (size_t)(colon - raw))
			return refuse(r, 400, "%s: '%.*s' is not a field name", where,
			    quote_len(colon ? (size_t)(colon - raw) - at : len), raw + at);
		return refuse(r, 400, "%.*s: control character 0x%02x in its value", quote_len((size_t)(colon - raw) - at),
		    raw + at, ch);
	case HPE_INVALID_CONTENT_LENGTH:
		/* The field being read is Content-Length; quote its value as far as it came. */
		at = r->nfields ? r->names[r->nfields - 1].off + r->names[r->nfields - 1].len + 1 : pos;
		len = line_length(r, at);
		while (len && (raw[at] == ' ' || raw[at] == '\t')) {
			at++;
			len--;
		}
		while (len && (raw[at + len - 1] == ' ' || raw[at + len - 1] == '\t'))
			len--;
		return refuse(r, 400, "Content-Length: '%.*s' is not a number of bytes", quote_len(len), raw + at);
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		len = 0;
		for (int i = 0; i < r->nfields; i++)
			len += r->names[i].len == 14 && strncasecmp(raw + r->names[i].off, "Content-Length", 14) == 0;
		if (len > 1)
			return refuse(r, 400, "Content-Length: given more than once");
		return refuse(r, 400, "Content-Length and Transfer-Encoding: a request may not have both");
	default:
		return refuse(r, 400, "request head: %s", http_errno_description(e));
	}
}

/* --- callbacks: the head ---------------------------------------------------------------------------------- */

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct http_reader *r = p->data;

	if (r->target.len == 0)
		r->target.off = (uint32_t)(at - r->raw.data);
	/* Without HTTP_PARSER_STRICT, http-parser lets tabs and bytes over 0x7f through. */
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)at[i] < 0x21 || (unsigned char)at[i] > 0x7e)
			return refuse(r, 400, "request target: byte 0x%02x at offset %zu must be percent-encoded",
			    (unsigned char)at[i], r->target.len + i);
	r->target.len += (uint32_t)n;
	/* Told when the line is complete: a line that never ends is refused as a line. */
	if (r->target.len > HTTP_TARGET_MAX)
		r->target_long = true;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct http_reader *r = p->data;
	struct span *name;

	if (r->head_done)
		return 0; /* a trailer field: its bytes are checked with the body's framing */
	if (!r->line_done && line_checks(r) < 0)
		return -1;
	if (r->in_value || r->nfields == 0) {
		if (r->nfields == HTTP_FIELDS_MAX)
			return refuse(r, 431, "request header fields: more than %d", HTTP_FIELDS_MAX);
		r->names[r->nfields] = (struct span){(uint32_t)(at - r->raw.data), 0};
		r->values[r->nfields] = (struct span){0, 0};
		r->nfields++;
		r->in_value = false;
	}
	name = &r->names[r->nfields - 1];
	name->len += (uint32_t)n;
	/* Without HTTP_PARSER_STRICT, a space is taken as part of a name ("Host : x", " folded"); RFC 9112 5.1 and
	 * 5.2 say 400. */
	if (r->raw.data[name->off] == ' ')
		return refuse(r, 400, "header line %d: starts with whitespace (folded lines are not accepted)", r->nfields);
	if (memchr(at, ' ', n))
		return refuse(r, 400, "header line %d: '%.*s' is not a field name", r->nfields, quote_len(name->len),
		    r->raw.data + name->off);
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct http_reader *r = p->data;
	struct span *name, *value;
	size_t off = (size_t)(at - r->raw.data);

	if (r->head_done)
		return 0;
	name = &r->names[r->nfields - 1];
	value = &r->values[r->nfields - 1];
	r->in_value = true;
	if (n == 0)
		return 0;
	/* A value that goes on after a line end is an obs-fold (RFC 9112 5.2): refused, not joined. */
	if (value->len ? value->off + value->len != off :
	    memchr(r->raw.data + name->off + name->len, '\n', off - (name->off + name->len)) != NULL)
		return refuse(r, 400, "header line %d: starts with whitespace (folded lines are not accepted)",
		    r->nfields + 1);
	if (value->len == 0)
		value->off = (uint32_t)off;
	value->len += (uint32_t)n;
	return 0;
}

/* Copy raw[s] into the strings at *at (NUL-terminated); returns the copy. */
static char *copy_span(struct http_reader *r, size_t *at, struct span s)
{
	char *out = r->strings + *at;
	memcpy(out, r->raw.data + s.off, s.len);
	out[s.len] = '\0';
	*at += s.len + 1;
	return out;
}

/* The head's parts as strings in h; returns the target's copy. */
static char *head_strings(struct http_reader *r)
{
	struct http_head *h = r->h;
	size_t total = r->target.len + 1, at = 0;
	char *target;

	for (int i = 0; i < r->nfields; i++)
		total += r->names[i].len + r->values[i].len + 2;
	r->strings = xmalloc(total + r->target.len + 1); /* and room for an absolute-form target's authority */
	target = copy_span(r, &at, r->target);
	for (int i = 0; i < r->nfields; i++) {
		struct span v = r->values[i];
		while (v.len && (r->raw.data[v.off + v.len - 1] == ' ' || r->raw.data[v.off + v.len - 1] == '\t'))
			v.len--;
		h->fields[i].name = copy_span(r, &at, r->names[i]);
		h->fields[i].value = copy_span(r, &at, v);
	}
	h->nfields = r->nfields;
	r->room = at;
	return target;
}

static bool valid_host(const char *v)
{
	for (; *v; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		    strchr("-._~!$&'()*+,;=:[]%", *v)))
			return false;
	return true;
}

/* What http-parser leaves to its user in the fields that frame the request: one valid Host (required in
 * HTTP/1.1), a Content-Length that fits, only the chunked coding (and not in HTTP/1.0), Expect. */
static int framing_fields(struct http_reader *r)
{
	struct http_head *h = r->h;
	const char *cl = NULL, *te = NULL;
	int hosts = 0, tes = 0;

	for (int i = 0; i < h->nfields; i++) {
		const char *name = h->fields[i].name, *v = h->fields[i].value;
		if (strcasecmp(name, "Host") == 0) {
			hosts++;
			h->host = v;
		} else if (strcasecmp(name, "Content-Length") == 0) {
			cl = v;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			tes++;
			te = v;
		} else if (strcasecmp(name, "Expect") == 0) {
			if (strcasecmp(v, "100-continue") != 0)
				return refuse(r, 417, "Expect: '%.*s' is not supported (only 100-continue)", QUOTE, v);
			h->expect_continue = true;
		}
	}
	if (hosts > 1)
		return refuse(r, 400, "Host: given more than once");
	if (h->host && !valid_host(h->host))
		return refuse(r, 400, "Host: '%.*s' is not a host name", QUOTE, h->host);
	if (hosts == 0 && h->minor >= 1)
		return refuse(r, 400, "Host: required in an HTTP/1.1 request");
	/* http-parser has checked the digits; more than 18 would not fit the sizes the server counts in. */
	if (cl && strlen(cl) > 18)
		return refuse(r, 400, "Content-Length: '%.*s' is not a number of bytes", QUOTE, cl);
	if (tes > 1)
		return refuse(r, 400, "Transfer-Encoding: given more than once (only chunked, once)");
	if (te && strcasecmp(te, "chunked") != 0)
		return refuse(r, 501, "Transfer-Encoding: '%.*s' is not supported (only chunked)", QUOTE, te);
	if (te && h->minor == 0)
		return refuse(r, 400, "Transfer-Encoding: not allowed in an HTTP/1.0 request");
	return 0;
}

/* The target (http_target.h): the decoded path, the parameters, and an absolute form's authority as the host. */
static int read_target(struct http_reader *r, char *target)
{
	char msg[sizeof(r->msg)];
	int status = http_target_read(r->h, target, r->strings + r->room, msg, sizeof(msg));

	return status ? refuse(r, status, "%s", msg) : 0;
}

/* Does a body follow the head, as http-parser frames the request? */
static bool has_body(const http_parser *p)
{
	return (p->flags & F_CHUNKED) || ((p->flags & F_CONTENTLENGTH) && p->content_length > 0);
}

static int on_headers_complete(http_parser *p)
{
	struct http_reader *r = p->data;
	struct http_head *h = r->h;
	char *target;

	if (!r->line_done && line_checks(r) < 0)
		return -1;
	h->method = http_method_str((enum http_method)p->method);
	h->minor = p->http_minor == 0 ? 0 : 1;
	target = head_strings(r);
	if (framing_fields(r) < 0)
		return -1;
	if (p->method == HTTP_CONNECT)
		return refuse(r, 501, "request line: method 'CONNECT' is not implemented");
	if (read_target(r, target) < 0)
		return -1;
	h->chunked = (p->flags & F_CHUNKED) != 0;
	h->content_length = (p->flags & F_CONTENTLENGTH) ? (int64_t)p->content_length : -1;
	h->close = !http_should_keep_alive(p) || h->minor == 0;
	r->head_done = true;
	r->prev = '\r'; /* the head's last LF is the first byte of a chunked body's framing */
	if (has_body(p))
		http_parser_pause(p, 1); /* the server looks at the head before it reads the body */
	return 0;
}

/* --- callbacks: the body ---------------------------------------------------------------------------------- */

/* Check the bytes of a chunked body that are not chunk data: a CR LF after each chunk's data, lines that end in
 * CR LF, no control characters, lines and trailer fields within their caps. http-parser built without
 * HTTP_PARSER_STRICT takes any two bytes after a chunk's data for its CR LF and ignores everything (a bare LF
 * included) after a ';' up to a CR: the ways a request is smuggled past a proxy that reads them otherwise. */
static int check_framing(struct http_reader *r, const char *from, const char *to)
{
	for (const unsigned char *q = (const unsigned char *)from; q < (const unsigned char *)to; q++) {
		unsigned char ch = *q;
		if (r->crlf == 2 && ch != '\r')
			return refuse(r, 400, "chunked body: a chunk is longer than its size");
		if (r->prev == '\r' && ch != '\n')
			return refuse(r, 400, "chunked body: CR without LF");
		if (ch == '\n' && r->prev != '\r')
			return refuse(r, 400, "chunked body: LF without CR");
		if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f)
			return refuse(r, 400, "chunked body: byte 0x%02x in a chunk-size line or a trailer field", ch);
		r->crlf -= r->crlf > 0;
		r->line = ch == '\n' ? 0 : r->line + 1;
		if (r->line > HTTP_CHUNK_LINE_MAX)
			return refuse(r, 400, "chunked body: a chunk-size line or a trailer field is longer than %d bytes",
			    HTTP_CHUNK_LINE_MAX);
		if (r->trailers && ++r->trailer_bytes > HTTP_TRAILERS_MAX)
			return refuse(r, 400, "chunked body: trailer fields longer than %zu bytes", HTTP_TRAILERS_MAX);
		r->prev = ch;
	}
	return 0;
}

static int on_chunk_header(http_parser *p)
{
	struct http_reader *r = p->data;
	const struct buf *body = r->body;

	r->chunk_left = p->content_length; /* the chunk's size, as http-parser hands it to this callback */
	if (r->chunk_left == 0)
		r->trailers = true;
	else if (body->limit && r->chunk_left > body->limit - body->len)
		return refuse(r, 413, "request body: a chunk of %llu bytes takes it over the limit of %zu bytes",
		    (unsigned long long)r->chunk_left, body->limit);
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct http_reader *r = p->data;

	if (r->h->chunked) {
		if (check_framing(r, r->scan_from, at) < 0)
			return -1;
		r->scan_from = at + n;
		r->chunk_left -= n;
		if (r->chunk_left == 0)
			r->crlf = 2;
	}
	if (buf_append(r->body, at, n) < 0)
		return refuse(r, 413, "request body: over the limit of %zu bytes", r->body->limit);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_reader *r = p->data;
	r->done = true;
	http_parser_pause(p, 1); /* what follows is the next request's */
	return 0;
}

/* --- the reader ------------------------------------------------------------------------------------------- */

struct http_reader *http_reader_new(struct http_head *h, struct buf *body)
{
	struct http_reader *r = xcalloc(1, sizeof(*r));

	/* One more than the cap, which feed_head holds: http-parser counts the head's last LF again when it goes on
	 * after the pause at the end of the head, so that a head of exactly HTTP_HEAD_MAX bytes would overflow. */
	http_parser_set_max_header_size(HTTP_HEAD_MAX + 1);
	http_parser_init(&r->parser, HTTP_REQUEST);
	r->parser.data = r;
	r->h = h;
	r->body = body;
	buf_init(&r->raw, RAW_MAX);
	r->bad_cr = SIZE_MAX;
	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	return r;
}

void http_reader_free(struct http_reader *r)
{
	if (r == NULL)
		return;
	buf_free(&r->raw);
	free(r->strings);
	free(r);
}

/* The status of the refusal kept in r, with its message in err. */
static int refusal(const struct http_reader *r, char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", r->msg);
	return r->status;
}

/* Give http-parser the next bytes of the head, data[0..len), and check what it read. */
static int feed_head_step(struct http_reader *r, const char *data, size_t len, size_t *used)
{
	size_t before = r->raw.len, take = len < RAW_MAX - before ? len : RAW_MAX - before, n, end, start;
	enum http_errno e;
	char where[32];

	*used = 0;
	if (take == 0 || buf_append(&r->raw, data, take) < 0)
		return refuse(r, 431, "request header fields: more than %zu bytes", HTTP_HEAD_MAX);
	find_line_start(r);
	find_bare_cr(r);
	n = http_parser_execute(&r->parser, &settings, r->raw.data + before, take);
	*used = n;
	e = HTTP_PARSER_ERRNO(&r->parser);
	/* The head ends where http-parser stopped; a head paused before its body leaves its last LF. */
	end = before + n + (e == HPE_PAUSED && !r->done);
	/* A CR that comes before where http-parser stopped, or at the byte it refused; a callback that refused
	 * (r->status) stopped it one byte further, on a byte it had read. */
	if (r->bad_cr < end || (e != HPE_OK && e != HPE_PAUSED && !r->status && r->bad_cr <= before + n)) {
		r->status = 0;
		if (pending_field(r, r->bad_cr) < 0)
			return -1;
		line_at(r, r->bad_cr, where, sizeof(where));
		return refuse(r, 400, "%s: a CR stands outside a line end", where);
	}
	if (e != HPE_OK && e != HPE_PAUSED)
		return r->status ? -1 : head_refusal(r, e, before + n);
	if (end > HTTP_HEAD_MAX)
		return head_refusal(r, HPE_HEADER_OVERFLOW, HTTP_HEAD_MAX);
	if (e == HPE_PAUSED)
		return 0;
	start = line_start(r);
	if (start == r->raw.len && start > HTTP_LINE_MAX)
		return refuse(r, 400, "request line: missing (only empty lines)");
	if (!r->line_done) {
		size_t from = start > before ? start : before; /* an LF before these would have done the line */
		if (memchr(r->raw.data + from, '\n', r->raw.len - from))
			return line_checks(r);
		if (r->raw.len - start > HTTP_LINE_MAX)
			return refuse(r, 414, LINE_TOO_LONG, HTTP_LINE_MAX, HTTP_TARGET_MAX);
	}
	return 0;
}

/* How many of the n bytes at d may go to http-parser in one step: no further than the head's cap and, while the
 * request line is not complete, its LF, its cap or the cap on the empty lines before it. What is judged there
 * (the line's length, its target's, its version; the head's length) is judged where a reader given the bytes one
 * by one judges it, before a fault further on, and http-parser hands over the field it is reading (which
 * on_header_field checks) before it passes the cap. */
static size_t head_step(const struct http_reader *r, const char *d, size_t n)
{
	size_t have = r->raw.len, start = line_start(r), from, stop = HTTP_HEAD_MAX + 1, line;
	const char *lf;

	if (!r->line_done) {
		if (start == have) /* only empty lines so far: they may go on in d */
			for (size_t i = 0; i < n && (d[i] == '\r' || d[i] == '\n'); i++)
				start++;
		line = start > HTTP_LINE_MAX ? HTTP_LINE_MAX + 1 : start + HTTP_LINE_MAX + 1;
		from = start > have ? start - have : 0;
		lf = from < n ? memchr(d + from, '\n', n - from) : NULL;
		if (lf != NULL && have + (size_t)(lf - d) + 1 < line)
			line = have + (size_t)(lf - d) + 1;
		stop = line < stop ? line : stop;
	}
	return stop > have && stop - have < n ? stop - have : n;
}

/* Give http-parser the bytes of the head in the steps head_step allows. */
static int feed_head(struct http_reader *r, const char *data, size_t len, size_t *used)
{
	size_t off = 0, step, n;
	int rc;

	do {
		step = head_step(r, data + off, len - off);
		rc = feed_head_step(r, data + off, step, &n);
		off += n;
	} while (rc == 0 && n == step && !r->head_done && off < len);
	*used = off;
	return rc;
}

/* on_chunk_header refused a chunk over the cap when http-parser had read its size line up to to: the framing of
 * that line comes first, as it does when the bytes come one by one (a bare LF in a chunk extension is 400 however
 * the bytes arrive, not 413 when the line comes whole). */
static void framing_first(struct http_reader *r, const char *to)
{
	int status = r->status;
	char msg[sizeof(r->msg)];

	memcpy(msg, r->msg, sizeof(msg));
	r->status = 0;
	if (check_framing(r, r->scan_from, to) == 0) {
		r->status = status;
		memcpy(r->msg, msg, sizeof(msg));
	}
}

static int feed_body(struct http_reader *r, const char *data, size_t len, size_t *used)
{
	enum http_errno e;
	size_t n;

	if (HTTP_PARSER_ERRNO(&r->parser) == HPE_PAUSED)
		http_parser_pause(&r->parser, 0);
	r->scan_from = data;
	n = http_parser_execute(&r->parser, &settings, data, len);
	*used = n;
	e = HTTP_PARSER_ERRNO(&r->parser);
	if (r->status && e == HPE_CB_chunk_header)
		framing_first(r, data + n);
	if (r->status)
		return -1;
	/* The byte http-parser stopped at is framing too: checked first, for the message that says most. */
	if (r->h->chunked && check_framing(r, r->scan_from, data + n + (e != HPE_OK && e != HPE_PAUSED && n < len)) < 0)
		return -1;
	switch (e) {
	case HPE_OK:
	case HPE_PAUSED:
		return 0;
	case HPE_INVALID_CHUNK_SIZE:
		return refuse(r, 400, "chunked body: expected a chunk size in hexadecimal, got byte 0x%02x",
		    n < len ? (unsigned char)data[n] : 0);
	case HPE_INVALID_CONTENT_LENGTH:
		/* http-parser stops a chunk size before it passes 2^64 - 16: over any cap, but not said exactly. */
		if (r->body->limit)
			return refuse(r, 413, "request body: a chunk of %llu bytes or more takes it over the limit of %zu "
			    "bytes", (unsigned long long)(UINT64_MAX - 15), r->body->limit);
		return refuse(r, 400, "chunked body: a chunk size does not fit in 64 bits");
	case HPE_HEADER_OVERFLOW:
		return refuse(r, 400, "chunked body: a chunk-size line or the trailer fields are longer than %zu bytes",
		    HTTP_HEAD_MAX);
	case HPE_INVALID_HEADER_TOKEN:
	case HPE_LF_EXPECTED:
		return refuse(r, 400, "chunked body: malformed trailer field");
	default:
		return refuse(r, 400, "chunked body: %s", http_errno_description(e));
	}
}

int http_reader_feed(struct http_reader *r, const char *data, size_t len, size_t *used, char *err, size_t errlen)
{
	bool head = !r->head_done;
	int rc;

	*used = 0;
	if (r->status)
		return refusal(r, err, errlen);
	if (len == 0)
		return HTTP_READ_MORE;
	rc = head ? feed_head(r, data, len, used) : feed_body(r, data, len, used);
	if (rc < 0)
		return refusal(r, err, errlen);
	if (head && r->head_done) { /* the head's bytes are not needed any more: its strings are copied */
		buf_free(&r->raw);
		r->raw.limit = 0;
	}
	return r->done ? HTTP_READ_DONE : r->head_done && head ? HTTP_READ_HEAD : HTTP_READ_MORE;
}

const char *http_head_field(const struct http_head *h, const char *name)
{
	for (int i = 0; i < h->nfields; i++)
		if (strcasecmp(h->fields[i].name, name) == 0)
			return h->fields[i].value;
	return NULL;
}

int http_head_param(const struct http_head *h, const char *key, const char **value)
{
	for (int i = 0; i < h->nparams; i++) {
		if (strcmp(h->params[i].key, key) == 0) {
			*value = h->params[i].value;
			return 1;
		}
	}
	*value = NULL;
	return 0;
}
