/* The HTTP request parser: heads (scan and parse), limits, and chunked bodies, whole and byte by byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/http_parse.h"

/* Scan then parse text (fed in pieces of step bytes); returns the status (0: parsed) with err. */
static int parse(const char *text, size_t step, struct http_head *h, char **copy, char *err, size_t errlen)
{
	size_t len = strlen(text), head_len = 0;
	struct http_scan scan = {0};
	int rc = 0;

	for (size_t fed = 0; fed < len && head_len == 0 && rc == 0;) {
		fed = fed + step < len ? fed + step : len;
		rc = http_head_scan(&scan, text, fed, &head_len, err, errlen);
	}
	if (rc != 0)
		return rc;
	assert_true(head_len > 0);
	*copy = strndup(text, head_len);
	return http_head_parse(*copy, head_len, h, err, errlen);
}

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
		{"OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", 0, "OPTIONS *"},
		{"GET / HTTP/1.2\r\nHost: a\r\n\r\n", 0, "GET /"},
		{"GARBAGE\r\n\r\n", 400, "request line: 'GARBAGE' is malformed"},
		{"GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "is malformed"},
		{"GET / HTTP/1.1 x\r\nHost: a\r\n\r\n", 400, "is malformed"},
		{"G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400, "is not a method"},
		{"GET / FTP/1.1\r\nHost: a\r\n\r\n", 400, "'FTP/1.1' is not an HTTP version"},
		{"GET / HTTP/2.0\r\nHost: a\r\n\r\n", 505, "HTTP/2.0 is not supported"},
		{"GET /\x01 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "byte 0x01 at offset 1 must be percent-encoded"},
		{"GET /\xc3\xa9 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "byte 0xc3"},
		{"GET x HTTP/1.1\r\nHost: a\r\n\r\n", 400, "must start with '/'"},
		{"GET /%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "encoded NUL"},
		{"GET /?a=%00 HTTP/1.1\r\nHost: a\r\n\r\n", 400, "encoded NUL"},
		{"GET / HTTP/1.1\r\n\r\n", 400, "Host: required"},
		{"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "Host: given more than once"},
		{"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400, "is not a host name"},
		{"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", 400, "starts with whitespace"},
		{"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n", 400, "header line 2: 'NoColon' is not NAME: VALUE"},
		{"GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400, "is not a field name"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\x01\r\n\r\n", 400, "control character 0x01"},
		{"GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n", 400, "a CR stands outside a line end"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: abc\r\n\r\n", 400, "Content-Length: 'abc' is not a number"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400, "'-1' is not a number"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1234567890123456789\r\n\r\n", 400, "is not a number"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", 400, "given twice"},
		{"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n", 0, "POST /"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "'gzip' is not supported"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
		    "not supported"},
		{"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n", 400,
		    "may not have both"},
		{"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400, "not allowed in an HTTP/1.0 request"},
		{"POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\n\r\n", 417, "Expect: '200-ok' is not supported"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (size_t step = 1; step <= 4096; step *= 4096) { /* byte by byte, then whole */
			struct http_head h;
			char err[512] = "", *copy = NULL, got[512];
			int rc = parse(rows[i].text, step, &h, &copy, err, sizeof(err));
			if (rc == 0)
				snprintf(got, sizeof(got), "%s %s", h.method, h.path);
			if (rc != rows[i].status || strstr(rc ? err : got, rows[i].expect) == NULL ||
			    (rc == 0 && strcmp(got, rows[i].expect) != 0))
				fail_msg("row %zu (%s): got %d '%s', expected %d '%s'", i, rows[i].text, rc, rc ? err : got,
				    rows[i].status, rows[i].expect);
			free(copy);
		}
	}
}

static void test_fields_and_params(void **state)
{
	char text[] = "POST /a/b%2Fc?x=1&y=a+b%21&flag&&x=2&e= HTTP/1.1\r\nhost:  Example.org:80 \r\n"
		      "Content-Length: 12\r\nConnection: keep-alive, Close\r\nExpect: 100-Continue\r\n\r\n";
	struct http_head h;
	const char *v;
	char err[256];
	size_t head_len;
	struct http_scan scan = {0};
	(void)state;

	assert_int_equal(http_head_scan(&scan, text, strlen(text), &head_len, err, sizeof(err)), 0);
	assert_int_equal(head_len, strlen(text));
	assert_int_equal(http_head_parse(text, head_len, &h, err, sizeof(err)), 0);
	assert_string_equal(h.path, "/a/b/c");
	assert_string_equal(h.host, "Example.org:80");
	assert_string_equal(http_head_field(&h, "HOST"), "Example.org:80");
	assert_null(http_head_field(&h, "Origin"));
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
		{0, 0, 40, 1000, 431, "more than 32768 bytes"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *text = make_head(rows[i].target, rows[i].nparams, rows[i].nfields, rows[i].field), *copy = NULL;
		char err[512] = "";
		struct http_head h;
		int rc = parse(text, 1000, &h, &copy, err, sizeof(err));
		if (rc != rows[i].status || (rows[i].msg && strstr(err, rows[i].msg) == NULL))
			fail_msg("row %zu: got %d '%s', expected %d '%s'", i, rc, err, rows[i].status,
			    rows[i].msg ? rows[i].msg : "");
		free(copy);
		free(text);
	}
}

/* The caps are seen as soon as the bytes pass them, not at the end of the head: answered at once. */
static void test_limits_found_early(void **state)
{
	char *data = malloc(HTTP_HEAD_MAX + 100), err[256];
	struct http_scan scan = {0};
	size_t head_len;
	(void)state;

	memset(data, 'a', HTTP_HEAD_MAX + 100);
	memcpy(data, "GET /", 5);
	assert_int_equal(http_head_scan(&scan, data, HTTP_LINE_MAX, &head_len, err, sizeof(err)), 0);
	assert_int_equal(http_head_scan(&scan, data, HTTP_LINE_MAX + 1, &head_len, err, sizeof(err)), 414);
	memset(&scan, 0, sizeof(scan));
	memcpy(data, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(http_head_scan(&scan, data, HTTP_HEAD_MAX, &head_len, err, sizeof(err)), 0);
	assert_int_equal(head_len, 0);
	assert_int_equal(http_head_scan(&scan, data, HTTP_HEAD_MAX + 1, &head_len, err, sizeof(err)), 431);
	free(data);
}

/* Decode in (fed step bytes at a time) with a body cap; returns the status and what was decoded. */
static int decode(const char *in, size_t len, size_t step, size_t cap, struct buf *body, size_t *used, char *err)
{
	struct http_chunked c = {0};
	size_t off = 0;
	int rc = 0;

	buf_init(body, cap);
	while (off < len && rc == 0) {
		size_t n = len - off < step ? len - off : step, u;
		rc = http_chunked_decode(&c, in + off, n, &u, body, err, 256);
		off += u;
		if (rc == 0)
			assert_int_equal(u, n);
	}
	*used = off;
	return rc;
}

static void test_chunked(void **state)
{
	static const struct {
		const char *in;
		size_t cap;
		int status;
		const char *body_or_msg;
		size_t used; /* bytes consumed (0: all) */
	} rows[] = {
		{"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", 100, 1, "hello world", 0},
		{"5;ext=1\r\nhello\r\n0\r\n\r\nGET", 100, 1, "hello", 21},
		{"5\nhello\n0\n\n", 100, 1, "hello", 0},
		{"A\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n", 100, 1, "0123456789", 0},
		{"0\r\n\r\n", 100, 1, "", 0},
		{"5\r\nhello\r\n", 100, 0, "hello", 0},
		{"ZZ\r\nabc\r\n0\r\n\r\n", 100, 400, "expected a chunk size in hexadecimal, got byte 0x5a", 0},
		{"\r\n", 100, 400, "expected a chunk size", 0},
		{"5\r\nhello!\r\n0\r\n\r\n", 100, 400, "a chunk is longer than its size", 0},
		{"5\rhello", 100, 400, "CR without LF", 0},
		{"11111111111111111\r\n", 100, 400, "more than 16 hexadecimal digits", 0},
		{"FFFFFFFF\r\nabc", 100, 413, "a chunk of 4294967295 bytes takes it over the limit of 100 bytes", 10},
		{"FFFFFFFFFFFFFFFF\r\n", 100, 413, "over the limit of 100 bytes", 0},
		{"32\r\n", 100, 0, "", 0},
		{"32\r\n", 49, 413, "a chunk of 50 bytes", 0},
		{"19\r\naaaaaaaaaaaaaaaaaaaaaaaaa\r\n1A\r\n", 50, 413, "a chunk of 26 bytes", 0},
		{"5 ; x\x01\r\n", 100, 400, "byte 0x01 in a chunk-size line", 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (size_t step = 1; step <= 4096; step *= 4096) {
			struct buf body;
			char err[256] = "";
			size_t used, len = strlen(rows[i].in);
			int rc = decode(rows[i].in, len, step, rows[i].cap, &body, &used, err);
			const char *got = rc > 1 ? err : body.data ? body.data : "";
			if (rc != rows[i].status || (rc > 1 ? strstr(got, rows[i].body_or_msg) == NULL :
			    strcmp(got, rows[i].body_or_msg) != 0) || (rc == 1 && used != (rows[i].used ? rows[i].used : len)))
				fail_msg("row %zu step %zu: got %d '%s' (used %zu), expected %d '%s'", i, step, rc, got, used,
				    rows[i].status, rows[i].body_or_msg);
			buf_free(&body);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_heads),
		cmocka_unit_test(test_fields_and_params),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_limits_found_early),
		cmocka_unit_test(test_chunked),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
