#include "net/response_reader.h"

#include <errno.h>
#include <stdarg.h>
#include <http_parser.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/xmalloc.h"

struct response_reader {
	http_parser parser;
	struct buf head;     /* the fields' names and values, each NUL-terminated (offsets below) */
	struct buf body;
	uint32_t names[RESPONSE_FIELDS_MAX], values[RESPONSE_FIELDS_MAX];
	int nfields;
	bool in_value;       /* the last field callback was for a value */
	bool head_done;      /* of the final (not 1xx) response: later fields are trailers, not kept */
	bool head_request;
	bool started, done, keep_alive;
	long status;
	size_t trailer_bytes;
	int rc;              /* a fault found in a callback: -E2BIG or -EIO, with msg */
	char msg[160];
};

static int fault(struct response_reader *r, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Keep the first fault; returns -1, which makes http-parser stop. */
static int fault(struct response_reader *r, int rc, const char *fmt, ...)
{
	va_list ap;

	if (r->rc)
		return -1;
	r->rc = rc;
	va_start(ap, fmt);
	vsnprintf(r->msg, sizeof(r->msg), fmt, ap);
	va_end(ap);
	return -1;
}

struct response_reader *response_reader_new(size_t body_max, bool head)
{
	struct response_reader *r = xcalloc(1, sizeof(*r));

	http_parser_init(&r->parser, HTTP_RESPONSE);
	r->parser.data = r;
	buf_init(&r->head, RESPONSE_HEAD_MAX);
	buf_init(&r->body, body_max);
	r->head_request = head;
	return r;
}

void response_reader_free(struct response_reader *r)
{
	if (r == NULL)
		return;
	buf_free(&r->head);
	buf_free(&r->body);
	free(r);
}

static int on_message_begin(http_parser *p)
{
	struct response_reader *r = p->data;

	/* a new message after an interim one: its fields are not this one's */
	buf_reset(&r->head);
	r->nfields = 0;
	r->in_value = false;
	return 0;
}

static int too_big_head(struct response_reader *r)
{
	return fault(r, -EIO, "response head over %zu bytes", RESPONSE_HEAD_MAX);
}

/* A piece of a field's name (value false) or value: the first piece of either ends the one before it. */
static int field_piece(struct response_reader *r, bool value, const char *at, size_t n)
{
	if (r->head_done) { /* a trailer field */
		r->trailer_bytes += n;
		return r->trailer_bytes > RESPONSE_HEAD_MAX ? too_big_head(r) : 0;
	}
	if (!value && (r->in_value || r->nfields == 0)) {
		if (r->nfields == RESPONSE_FIELDS_MAX)
			return fault(r, -EIO, "response head: more than %d header fields", RESPONSE_FIELDS_MAX);
		if (r->nfields > 0 && buf_append(&r->head, "", 1) < 0)
			return too_big_head(r);
		r->names[r->nfields] = (uint32_t)r->head.len;
		r->values[r->nfields] = UINT32_MAX; /* no value yet */
		r->nfields++;
		r->in_value = false;
	} else if (value && !r->in_value) {
		if (buf_append(&r->head, "", 1) < 0)
			return too_big_head(r);
		r->values[r->nfields - 1] = (uint32_t)r->head.len;
		r->in_value = true;
	}
	return buf_append(&r->head, at, n) < 0 ? too_big_head(r) : 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	return field_piece(p->data, false, at, n);
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct response_reader *r = p->data;

	if (!r->head_done && r->nfields == 0)
		return fault(r, -EIO, "malformed response: a header value without a name");
	return field_piece(r, true, at, n);
}

/* End the last field and cut the white space around the values. */
static int fields_end(struct response_reader *r)
{
	if (r->nfields > 0 && buf_append(&r->head, "", 1) < 0)
		return too_big_head(r);
	for (int i = 0; i < r->nfields; i++) {
		char *v, *end;
		if (r->values[i] == UINT32_MAX) { /* a name without a value: an empty one */
			r->values[i] = r->names[i] + (uint32_t)strlen(r->head.data + r->names[i]);
			continue;
		}
		v = r->head.data + r->values[i];
		while (*v == ' ' || *v == '\t')
			v++;
		r->values[i] = (uint32_t)(v - r->head.data);
		end = v + strlen(v);
		while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
	}
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct response_reader *r = p->data;

	if (fields_end(r) < 0)
		return -1;
	r->status = p->status_code;
	if (p->status_code / 100 == 1 && p->status_code != 101)
		return 0; /* interim: http-parser ends it here, with no body */
	r->head_done = true;
	if ((p->flags & F_CONTENTLENGTH) && r->body.limit && p->content_length > r->body.limit && !r->head_request)
		return fault(r, -E2BIG, "response body over %zu bytes", r->body.limit);
	return r->head_request ? 1 : 0; /* 1: no body follows */
}

static int on_body(http_parser *p, const char *at, size_t n)
{
	struct response_reader *r = p->data;

	if (buf_append(&r->body, at, n) < 0)
		return fault(r, -E2BIG, "response body over %zu bytes", r->body.limit);
	return 0;
}

/* A chunk's size is known before its data: one that cannot fit is refused at once. */
static int on_chunk_header(http_parser *p)
{
	struct response_reader *r = p->data;

	if (r->body.limit && p->content_length > r->body.limit - r->body.len)
		return fault(r, -E2BIG, "response body over %zu bytes", r->body.limit);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct response_reader *r = p->data;

	if (!r->head_done)
		return 0; /* an interim response: the final one follows */
	r->done = true;
	r->keep_alive = http_should_keep_alive(p) && p->status_code != 101;
	http_parser_pause(p, 1); /* whatever follows is not this response's */
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_body = on_body,
	.on_chunk_header = on_chunk_header,
	.on_message_complete = on_message_complete,
};

/* What http-parser stopped at, as the reader's result. */
static int result(struct response_reader *r, char *err, size_t errlen)
{
	enum http_errno e = HTTP_PARSER_ERRNO(&r->parser);

	if (r->rc == 0 && e != HPE_OK && e != HPE_PAUSED)
		fault(r, -EIO, "malformed response: %s", http_errno_description(e));
	if (r->rc) {
		snprintf(err, errlen, "%s", r->msg);
		return r->rc;
	}
	return r->done ? RESPONSE_DONE : RESPONSE_MORE;
}

int response_reader_feed(struct response_reader *r, const char *data, size_t len, size_t *used, char *err,
    size_t errlen)
{
	*used = 0;
	if (r->rc || r->done)
		return result(r, err, errlen);
	if (len > 0)
		r->started = true;
	*used = http_parser_execute(&r->parser, &settings, data, len);
	return result(r, err, errlen);
}

int response_reader_eof(struct response_reader *r, char *err, size_t errlen)
{
	int rc;

	if (r->rc || r->done)
		return result(r, err, errlen);
	(void)http_parser_execute(&r->parser, &settings, NULL, 0);
	rc = result(r, err, errlen);
	if (rc == RESPONSE_MORE || (rc == -EIO && !r->done)) {
		snprintf(err, errlen, r->started ? "the connection ended before the response was complete" :
		    "the server closed the connection without answering");
		return -ECONNRESET;
	}
	return rc;
}

bool response_reader_started(const struct response_reader *r)
{
	return r->started;
}

bool response_reader_keep_alive(const struct response_reader *r)
{
	return r->done && r->keep_alive;
}

long response_reader_status(const struct response_reader *r)
{
	return r->status;
}

const char *response_reader_body(const struct response_reader *r, size_t *len)
{
	*len = r->body.len;
	return r->body.data ? r->body.data : "";
}

const char *response_reader_header(const struct response_reader *r, const char *name)
{
	if (!r->head_done)
		return NULL;
	for (int i = r->nfields - 1; i >= 0; i--)
		if (strcasecmp(r->head.data + r->names[i], name) == 0)
			return r->head.data + r->values[i];
	return NULL;
}
