/* The request layer over http-parser: heads, limits and bodies (Content-Length and chunked), each row fed byte by
 * byte and whole. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/http_parse.h"

#define CHUNKED_HEAD "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"

/* Feed text[0..len) to r in pieces of step bytes, offering again what a call did not take, until the request is
 * complete or refused or the text ends. Returns the last answer; *used: the bytes taken. */
static int feed(struct http_reader *r, const char *text, size_t len, size_t step, size_t *used, char *err,
    size_t errlen)
{
	size_t off = 0;
	int rc = HTTP_READ_MORE;

	while (off < len) {
		size_t n = len - off < step ? len - off : step, u;
		rc = http_reader_feed(r, text + off, n, &u, err, errlen);
		off += u;
		if (rc == HTTP_READ_DONE || rc >= 400)
			break;
		if (rc == HTTP_READ_MORE)
			assert_int_equal(u, n);
	}
	*used = off;
	return rc;
}

/* Each row is fed byte by byte, then whole. */
static const size_t steps[] = {1, 1 << 20};

static void test_heads(void **state)
{
	static const struct {
		const char *text;
		int status;
		const char *expect; /* for 0: "METHOD PATH"; else a part of the message */
	} rows[] = {
		{"GET / HTTP/1.1\r\nHost: a\r\n\r\n", 0, "GET /"},
		{"GET /x HTTP/1.0\r\n\r\n", 0, "GET /x"},
		{"\r\n\r\nPUT /v1/scheduler/job/a%20b HTTP/1.1\nHost: a\n\n", 0, "PUT /v1/scheduler/job/a b"},
		{"GET http://h:1/p?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GET /p"},
		{"GET http://h:1 HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GET /"},
		{"GET HTTPS://h?q=1 HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GET /"},
		{"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, "OPTIONS *"},
		{"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0, "GET /"},
		/* Words separated by more than one space: RFC 9112 3 lets a recipient split on whitespace. */
		{"GET  /  HTTP/1.1\r\nHost: a\r\n\r\n", 0, "GET /"},
		/* Upgrade is not taken up: the request is answered as HTTP/1.1. */
		{"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", 0, "GET /"},
		{"GARBAGE\r\n\r\n", 400, "is not a method"},
		{"GET\r\n\r\n", 400, "is malformed"},
		{"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "request line: 'G("},
		{"FOO / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "is not a method"},
		{"get / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "is not a method"},
		{"HTTP/1.1 200 OK\r\n\r\n", 400, "is not a method"},
		{"G\0T / HTTP/1.1\r\n\r\n", 400, "request head: contains a NUL byte"},
		{"GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 400, "is not an HTTP version"},
		{"GET / FTP/1.1\r\nHost: a\r\n\r\n", 400, "is not an HTTP version"},
		{"GET / HTTQ/1.1\r\nHost: a\r\n\r\n", 400, "'HTTQ/1.1' is not an HTTP version"},
		{"SOURCE / ICE/1.0\r\n\r\n", 400, "'ICE/1.0' is not an HTTP version"},
		{"GET /\r\nHost: a\r\n\r\n", 400, "'GET /' is malformed: expected METHOD TARGET HTTP/1.1"},
		{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0 is not supported"},
		{"GET / HTTP/0.9\r\n\r\n", 505, "HTTP/0.9 is not supported"},
		/* The request line is judged before a fault further on, however the bytes arrive. */
		{"GET / HTTP/2.0\r\nNoColon\r\n\r\n", 505, "HTTP/2.0 is not supported"},
		{"GET / HTTP/2.0\r\nX: a\rb\r\n\r\n", 505, "HTTP/2.0 is not supported"},
		{"GET / HTTP/2.0\r\nX\r: a\r\n\r\n", 505, "HTTP/2.0 is not supported"},
		{"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "byte 0x01 at offset 1 must be percent-encoded"},
		{"GET /a\tb HTTP/1.1\r\nHost: a\r\n\r\n", 400, "byte 0x09 at offset 2 must be percent-encoded"},
		{"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "byte 0xc3 at offset 1"},
		{"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "must start with '/'"},
		{"GET ftp://h/p HTTP/1.1\r\nHost: a\r\n\r\n", 400, "must start with '/'"},
		{"GET http:///p HTTP/1.1\r\nHost: a\r\n\r\n", 400, "is not a path or an absolute http URI"},
		{"GET http://h:99999/p HTTP/1.1\r\nHost: a\r\n\r\n", 400, "is not a path or an absolute http URI"},
		{"GET http://u@h/ HTTP/1.1\r\nHost: a\r\n\r\n", 400, "has user information"},
		{"GET /a#b HTTP/1.1\r\nHost: a\r\n\r\n", 400, "has a fragment"},
		{"GET /%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "encoded NUL"},
		{"GET /?a=%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "encoded NUL"},
		{"CONNECT h:1 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc", 501, "'CONNECT' is not implemented"},
		{"GET / HTTP/1.1\r\n\r\n", 400, "Host: required"},
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host: given more than once"},
		{"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "is not a host name"},
		{"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "header line 2: starts with whitespace"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX:\r\n folded\r\n\r\n", 400, "header line 3: starts with whitespace"},
		{"GET / HTTP/1.1\r\n folded\r\nHost: a\r\n\r\n", 400, "header line 1: starts with whitespace"},
		{"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, "header line 2: 'NoColon' is not NAME: VALUE"},
		{"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "header line 1: 'Host ' is not a field name"},
		{"GET / HTTP/1.1\r\nHost: a\r\n\x01X: y\r\n\r\n", 400, "header line 2: '\x01"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", 400, "X: control character 0x01 in its value"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 400, "request head: contains a NUL byte"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, "header line 2: a CR stands outside a line end"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX:\rAY: z\r\n\r\n", 400, "header line 2: a CR stands outside a line end"},
		{"GET / HTTP/1.1\r\nHost: a\r\n\rX", 400, "header line 2: a CR stands outside a line end"},
		{"GET / HTTP/1.1\rX\nHost: a\r\n\r\n", 400, "request line: a CR stands outside a line end"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length: 'a"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "Content-Length: '-"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", 400, "Content-Length: '' is not a number"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n", 400, "is not a number"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "more than once"},
		/* Equal ones too: RFC 9112 6.3 lets a recipient refuse them, and one Content-Length is all a client sends. */
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", 400, "more than once"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "'gzip' is not supported"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", 501, "is not supported"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
		    "only chunked, once"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n", 400,
		    "only chunked, once"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400,
		    "may not have both"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
		    "may not have both"},
		{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "not allowed in an HTTP/1.0 request"},
		{"POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417, "Expect: '200-ok' is not supported"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		/* Rows with a NUL: their length runs to the end of the literal. */
		size_t len = strlen(rows[i].text);
		if (strstr(rows[i].expect, "contains a NUL byte"))
			len += 1 + strlen(rows[i].text + len + 1);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct http_head h;
			struct buf body;
			struct http_reader *r;
			char err[512] = "", got[512] = "";
			size_t used;
			int rc;

			buf_init(&body, 100);
			r = http_reader_new(&h, &body);
			rc = feed(r, rows[i].text, len, steps[s], &used, err, sizeof(err));
			if (rc == HTTP_READ_HEAD || rc == HTTP_READ_DONE) {
				snprintf(got, sizeof(got), "%s %s", h.method, h.path);
				rc = 0;
			}
			if (rc != rows[i].status || strstr(rc ? err : got, rows[i].expect) == NULL ||
			    (rc == 0 && strcmp(got, rows[i].expect) != 0))
				fail_msg("row %zu (%s) step %zu: got %d '%s', expected %d '%s'", i, rows[i].text, steps[s], rc,
				    rc ? err : got, rows[i].status, rows[i].expect);
			http_reader_free(r);
			buf_free(&body);
		}
	}
}

static void test_fields_and_params(void **state)
{
	static const char text[] = "POST /a/b%2Fc?x=1&y=a+b%21&flag&&x=2&e= HTTP/1.1\r\nhost:  Example.org:80 \r\n"
				   "Content-Length: 12\r\nConnection: keep-alive, Close\r\nExpect: 100-Continue\r\n"
				   "X-Empty:\r\n\r\nhello world!";
	(void)state;

	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		struct http_head h;
		struct buf body;
		struct http_reader *r;
		const char *v;
		char err[256];
		size_t used;

		buf_init(&body, 0);
		r = http_reader_new(&h, &body);
		assert_int_equal(feed(r, text, strlen(text), steps[s], &used, err, sizeof(err)), HTTP_READ_DONE);
		assert_string_equal(body.data, "hello world!");
		assert_string_equal(h.method, "POST");
		assert_string_equal(h.path, "/a/b/c");
		assert_int_equal(h.minor, 1);
		assert_string_equal(h.host, "Example.org:80");
		assert_string_equal(http_head_field(&h, "HOST"), "Example.org:80");
		assert_string_equal(http_head_field(&h, "x-empty"), "");
		assert_null(http_head_field(&h, "Origin"));
		assert_int_equal(h.nfields, 5);
		assert_int_equal(h.content_length, 12);
		assert_true(h.close);
		assert_true(h.expect_continue);
		assert_false(h.chunked);
		assert_int_equal(h.nparams, 5);
		assert_int_equal(http_head_param(&h, "x", &v), 1);
		assert_string_equal(v, "1"); /* the first one */
		assert_int_equal(http_head_param(&h, "y", &v), 1);
		assert_string_equal(v, "a b!");
		assert_int_equal(http_head_param(&h, "flag", &v), 1);
		assert_null(v);
		assert_int_equal(http_head_param(&h, "e", &v), 1);
		assert_string_equal(v, "");
		assert_int_equal(http_head_param(&h, "none", &v), 0);
		http_reader_free(r);
		buf_free(&body);
	}
}

static void test_absolute_form_and_connection(void **state)
{
	static const struct {
		const char *text;
		const char *host;
		bool close;
	} rows[] = {
		{"GET http://127.0.0.1:8080/ping HTTP/1.1\r\nHost: x\r\n\r\n", "127.0.0.1:8080", false},
		{"GET http://[::1]:80?a=1 HTTP/1.1\r\nHost: x\r\n\r\n", "[::1]:80", false},
		{"GET /ping HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "h", true},
		{"GET /ping HTTP/1.0\r\n\r\n", NULL, true},
		{"GET /ping HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", NULL, true},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct http_head h;
		struct buf body;
		struct http_reader *r;
		char err[256];
		size_t used;

		buf_init(&body, 0);
		r = http_reader_new(&h, &body);
		assert_int_equal(feed(r, rows[i].text, strlen(rows[i].text), 1, &used, err, sizeof(err)), HTTP_READ_DONE);
		if (rows[i].host)
			assert_string_equal(h.host, rows[i].host);
		else
			assert_null(h.host);
		assert_int_equal(h.close, rows[i].close);
		http_reader_free(r);
		buf_free(&body);
	}
}

/* A head made of a request line with target bytes of query and n header fields of size bytes each. */
static char *make_head(size_t target, int nparams, int nfields, size_t field)
{
	size_t cap = target + (size_t)nparams * 8 + (size_t)nfields * (field + 16) + 64, len;
	char *t = malloc(cap);
	len = (size_t)sprintf(t, "GET /");
	memset(t + len, 'a', target);
	len += target;
	for (int i = 0; i < nparams; i++)
		len += (size_t)sprintf(t + len, "%c%d=1", i ? '&' : '?', i % 1000);
	len += (size_t)sprintf(t + len, " HTTP/1.1\r\nHost: a\r\n");
	for (int i = 0; i < nfields; i++) {
		len += (size_t)sprintf(t + len, "X-%d: ", i);
		memset(t + len, 'v', field);
		len += field;
		len += (size_t)sprintf(t + len, "\r\n");
	}
	sprintf(t + len, "\r\n");
	return t;
}

static void test_limits(void **state)
{
	static const struct {
		size_t target;
		int nparams, nfields;
		size_t field;
		int status;
		const char *msg;
	} rows[] = {
		{HTTP_TARGET_MAX - 1, 0, 0, 0, 0, NULL},
		{HTTP_TARGET_MAX, 0, 0, 0, 414, "request target: longer than 8192 bytes"},
		{HTTP_LINE_MAX, 0, 0, 0, 414, "request line: longer than"},
		{0, HTTP_PARAMS_MAX, 0, 0, 0, NULL},
		{0, HTTP_PARAMS_MAX + 1, 0, 0, 414, "more than 100 query parameters"},
		{0, 480, 0, 0, 414, "more than 100 query parameters"},
		{0, 0, HTTP_FIELDS_MAX - 1, 10, 0, NULL}, /* Host is one */
		{0, 0, HTTP_FIELDS_MAX, 10, 431, "request header fields: more than 100"},
		{0, 0, 1, HTTP_HEAD_MAX, 431, "request header fields: more than 32768 bytes"},
		{0, 0, 1, HTTP_HEAD_MAX - 34, 0, NULL}, /* a head of exactly 32768 bytes */
		{0, 0, 1, HTTP_HEAD_MAX - 33, 431, "request header fields: more than 32768 bytes"},
		{0, 0, 40, 1000, 431, "more than 32768 bytes"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *text = make_head(rows[i].target, rows[i].nparams, rows[i].nfields, rows[i].field);
		char err[512] = "";
		struct http_head h;
		struct buf body;
		struct http_reader *r;
		size_t used;
		int rc;

		buf_init(&body, 0);
		r = http_reader_new(&h, &body);
		rc = feed(r, text, strlen(text), 1000, &used, err, sizeof(err));
		if (rc == HTTP_READ_DONE)
			rc = 0;
		if (rc != rows[i].status || (rows[i].msg && strstr(err, rows[i].msg) == NULL))
			fail_msg("row %zu: got %d '%s', expected %d '%s'", i, rc, err, rows[i].status,
			    rows[i].msg ? rows[i].msg : "");
		http_reader_free(r);
		buf_free(&body);
		free(text);
	}
}

/* The caps are seen as soon as the bytes pass them, not at the end of the head: answered at once. */
static void test_limits_found_early(void **state)
{
	static const struct {
		const char *start;
		size_t cap; /* the bytes that are still fine */
		int status;
	} rows[] = {
		{"GET /", HTTP_LINE_MAX, 414},
		{"GET", HTTP_LINE_MAX, 414},                           /* spaces after the method, endlessly */
		{"\r\n", HTTP_LINE_MAX, 400},                          /* empty lines, endlessly */
		{"GET / HTTP/1.1\r\nX: ", HTTP_HEAD_MAX, 431},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *data = malloc(HTTP_HEAD_MAX + 100), err[256];
		struct http_head h;
		struct buf body;
		struct http_reader *r;
		size_t used, n = strlen(rows[i].start);

		memset(data, i == 1 ? ' ' : 'a', HTTP_HEAD_MAX + 100);
		for (size_t k = 0; i == 2 && k < HTTP_HEAD_MAX + 100; k++)
			data[k] = k % 2 ? '\n' : '\r';
		memcpy(data, rows[i].start, n);
		buf_init(&body, 0);
		r = http_reader_new(&h, &body);
		assert_int_equal(feed(r, data, rows[i].cap, 4096, &used, err, sizeof(err)), HTTP_READ_MORE);
		assert_int_equal(feed(r, data + rows[i].cap, 1, 1, &used, err, sizeof(err)), rows[i].status);
		http_reader_free(r);
		buf_free(&body);
		free(data);
	}
}

/* A cap passed comes before a fault further on, as when the bytes come one by one: a request fed whole gets the
 * same status. Each request is start, fill repeated n times, end. */
static void test_caps_before_later_faults(void **state)
{
	static const struct {
		const char *start, *fill;
		size_t n;
		const char *end;
		int status;
		const char *msg;
	} rows[] = {
		{"GET /", "a", HTTP_LINE_MAX, "\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 414, "request line: longer than"},
		{"GET /", "a", HTTP_TARGET_MAX, "0HTTP/1.1\r\nHosta\r\n\r\n", 414, "request target: longer than"},
		{"GET /", "a", HTTP_TARGET_MAX, " HTTP/1.1\r\nX\r: a\r\n\r\n", 414, "request target: longer than"},
		{"", "\n", HTTP_LINE_MAX + 1, "GET / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "missing (only empty lines)"},
		/* a fault in a field name before the head's cap, found while http-parser reads on past the cap */
		{"GET / HTTP/1.1\r\nHost: a\r\nX Y", "y", HTTP_HEAD_MAX, ": v\r\n\r\n", 400, "is not a field name"},
		/* one field too many, whose name has a bad byte after its first */
		{"GET / HTTP/1.1\r\nHost: a\r\n", "X: v\r\n", HTTP_FIELDS_MAX - 1, "A\x01: b\r\n\r\n", 431,
		    "more than 100"},
		{"GET / HTTP/1.1\r\nHost: a\r\n", "X: v\r\n", HTTP_FIELDS_MAX - 1, "A\rB: b\r\n\r\n", 431,
		    "more than 100"},
		{"GET / HTTP/1.1\r\nHost: a\r\n", "X: v\r\n", HTTP_FIELDS_MAX - 1, "A:\rh\r\n\r\n", 431,
		    "more than 100"},
		{"GET / HTTP/1.1\r\nHost: a\r\n", "X: v\r\n", 1, "A B:\rh\r\n\r\n", 400, "is not a field name"},
		/* the last field allowed, with a bad byte after its first: not one too many */
		{"GET / HTTP/1.1\r\nHost: a\r\n", "X: v\r\n", HTTP_FIELDS_MAX - 2, "P/1.1\r\n\r\n", 400,
		    "header line 100: 'P/"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		size_t n1 = strlen(rows[i].start), n2 = strlen(rows[i].fill), n3 = strlen(rows[i].end);
		size_t len = n1 + rows[i].n * n2 + n3;
		char *text = malloc(len);

		memcpy(text, rows[i].start, n1);
		for (size_t k = 0; k < rows[i].n; k++)
			memcpy(text + n1 + k * n2, rows[i].fill, n2);
		memcpy(text + len - n3, rows[i].end, n3);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct http_head h;
			struct buf body;
			struct http_reader *r;
			char err[512] = "";
			size_t used;
			int rc;

			buf_init(&body, 100);
			r = http_reader_new(&h, &body);
			rc = feed(r, text, len, steps[s], &used, err, sizeof(err));
			if (rc != rows[i].status || strstr(err, rows[i].msg) == NULL)
				fail_msg("row %zu step %zu: got %d '%s', expected %d '%s'", i, steps[s], rc, err, rows[i].status,
				    rows[i].msg);
			http_reader_free(r);
			buf_free(&body);
		}
		free(text);
	}
}

/* A head of exactly the cap, then a body (http-parser goes on after a pause at the head's end): fine; a byte
 * more: 431. */
static void test_head_of_the_cap_with_a_body(void **state)
{
	static const char start[] = "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nX: ", end[] = "\r\n\r\n{}";
	(void)state;

	for (size_t head = HTTP_HEAD_MAX - 1; head <= HTTP_HEAD_MAX + 1; head++) {
		size_t fill = head - (sizeof(start) - 1) - 4, len = head + 2, used;
		char *text = malloc(len), err[256] = "";
		struct http_head h;
		struct buf body;
		struct http_reader *r;
		int rc;

		memcpy(text, start, sizeof(start) - 1);
		memset(text + sizeof(start) - 1, 'v', fill);
		memcpy(text + sizeof(start) - 1 + fill, end, sizeof(end) - 1);
		buf_init(&body, 100);
		r = http_reader_new(&h, &body);
		rc = feed(r, text, len, 4096, &used, err, sizeof(err));
		if (rc != (head <= HTTP_HEAD_MAX ? HTTP_READ_DONE : 431))
			fail_msg("a head of %zu bytes: got %d '%s'", head, rc, err);
		http_reader_free(r);
		buf_free(&body);
		free(text);
	}
}

static void test_bodies(void **state)
{
	static const struct {
		const char *in;      /* after the head: CHUNKED_HEAD, or the whole request when it starts with "POST" */
		size_t cap;
		int status;          /* 0: more needed; 1: complete; else refused */
		const char *body_or_msg;
		size_t rest;         /* bytes after the request (the next one's) */
	} rows[] = {
		{"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 100, 1, "hello world", 0},
		{"5;ext=1\r\nhello\r\n0\r\n\r\nGET", 100, 1, "hello", 3},
		{"5 ; a=\"b c\"\r\nhello\r\n0\r\n\r\n", 100, 1, "hello", 0},
		{"A\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n", 100, 1, "0123456789", 0},
		{"0\r\n\r\n", 100, 1, "", 0},
		{"5\r\nhello\r\n", 100, 0, "hello", 0},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhelloGET", 100, 1, "hello", 3},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhel", 100, 0, "hel", 0},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\nGET", 100, 1, "", 3},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello", 3, 413, "over the limit of 3 bytes", 0},
		{"ZZ\r\nabc\r\n0\r\n\r\n", 100, 400, "expected a chunk size in hexadecimal, got byte 0x5a", 0},
		{"\r\n", 100, 400, "expected a chunk size", 0},
		{"5\r\nhello!\r\n0\r\n\r\n", 100, 400, "a chunk is longer than its size", 0},
		{"2\r\n{}XY0\r\n\r\n", 100, 400, "a chunk is longer than its size", 0},
		{"5\rhello", 100, 400, "CR without LF", 0},
		{"0\r\n\rX", 100, 400, "CR without LF", 0},
		/* Lines end in CR LF: a bare LF anywhere in the framing, a chunk extension's included, is refused. */
		{"5\nhello\n0\n\n", 100, 400, "LF without CR", 0},
		{"5;a\nb\r\nhello\r\n0\r\n\r\n", 100, 400, "LF without CR", 0},
		/* The size line's framing comes before its chunk's size, however the bytes arrive: not 413 when whole. */
		{"5;a\nb\r\nhello\r\n0\r\n\r\n", 1, 400, "LF without CR", 0},
		{"5;a\x01\r\nhello\r\n0\r\n\r\n", 1, 400, "byte 0x01 in a chunk-size line", 0},
		{"0\r\nX: y\n\n", 100, 400, "LF without CR", 0},
		{"5 ; x\x01\r\n", 100, 400, "byte 0x01 in a chunk-size line", 0},
		{"FFFFFFFF\r\nabc", 100, 413, "a chunk of 4294967295 bytes takes it over the limit of 100 bytes", 0},
		{"FFFFFFFFFFFFFFF\r\n", 100, 413, "a chunk of 1152921504606846975 bytes", 0},
		/* Sizes from 2^64 - 16 on: http-parser stops at the digit that would overflow. */
		{"FFFFFFFFFFFFFFFF\r\n", 100, 413, "a chunk of 18446744073709551600 bytes or more", 0},
		{"11111111111111111\r\n", 100, 413, "a chunk of 18446744073709551600 bytes or more", 0},
		{"0000000000000000005\r\nhello\r\n0\r\n\r\n", 100, 1, "hello", 0},
		{"32\r\n", 100, 0, "", 0},
		{"32\r\n", 49, 413, "a chunk of 50 bytes", 0},
		{"19\r\naaaaaaaaaaaaaaaaaaaaaaaaa\r\n1A\r\n", 50, 413, "a chunk of 26 bytes", 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char text[512];
		size_t len;

		snprintf(text, sizeof(text), "%s%s", strncmp(rows[i].in, "POST", 4) ? CHUNKED_HEAD : "", rows[i].in);
		len = strlen(text);
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct http_head h;
			struct buf body;
			struct http_reader *r;
			char err[256] = "";
			size_t used;
			int rc, status;
			const char *got;

			buf_init(&body, rows[i].cap);
			r = http_reader_new(&h, &body);
			rc = feed(r, text, len, steps[s], &used, err, sizeof(err));
			status = rc == HTTP_READ_DONE ? 1 : rc == HTTP_READ_MORE || rc == HTTP_READ_HEAD ? 0 : rc;
			got = status > 1 ? err : body.data ? body.data : "";
			if (status != rows[i].status || (status > 1 ? strstr(got, rows[i].body_or_msg) == NULL :
			    strcmp(got, rows[i].body_or_msg) != 0) || (status == 1 && used != len - rows[i].rest))
				fail_msg("row %zu step %zu: got %d '%s' (used %zu of %zu), expected %d '%s'", i, steps[s], status,
				    got, used, len, rows[i].status, rows[i].body_or_msg);
			http_reader_free(r);
			buf_free(&body);
		}
	}
}

/* The caps of a chunked body's framing: a chunk-size line (extensions) or a trailer field, all trailer fields. */
static void test_framing_caps(void **state)
{
	static const struct {
		const char *prefix;
		char fill;
		size_t n;
		const char *msg;
	} rows[] = {
		{"5;", 'x', HTTP_CHUNK_LINE_MAX, "a chunk-size line or a trailer field is longer than 1024 bytes"},
		{"0\r\nX: ", 'x', HTTP_CHUNK_LINE_MAX, "a chunk-size line or a trailer field is longer than 1024 bytes"},
		{"0\r\n", 0, 20, "trailer fields longer than 8192 bytes"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct buf text, body;
		struct http_head h;
		struct http_reader *r;
		char err[256] = "";
		size_t used;
		int rc;

		buf_init(&text, 0);
		assert_int_equal(buf_printf(&text, "%s%s", CHUNKED_HEAD, rows[i].prefix), 0);
		for (size_t k = 0; k < rows[i].n; k++)
			assert_int_equal(rows[i].fill ? buf_append(&text, &rows[i].fill, 1) :
			    buf_printf(&text, "X-%zu: %0500d\r\n", k, 0), 0);
		buf_init(&body, 0);
		r = http_reader_new(&h, &body);
		rc = feed(r, text.data, text.len, 4096, &used, err, sizeof(err));
		if (rc != 400 || strstr(err, rows[i].msg) == NULL)
			fail_msg("row %zu: got %d '%s', expected 400 '%s'", i, rc, err, rows[i].msg);
		http_reader_free(r);
		buf_free(&body);
		buf_free(&text);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heads),
		cmocka_unit_test(test_fields_and_params),
		cmocka_unit_test(test_absolute_form_and_connection),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_limits_found_early),
		cmocka_unit_test(test_caps_before_later_faults),
		cmocka_unit_test(test_head_of_the_cap_with_a_body),
		cmocka_unit_test(test_bodies),
		cmocka_unit_test(test_framing_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
