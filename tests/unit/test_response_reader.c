/* The pure parts of net_uv.c: responses read over http-parser (status, fields, bodies framed by length, by chunks
 * or by the connection's end, interim responses, keep-alive, every cap), each row fed byte by byte and whole;
 * and the URLs it connects to. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net/net_url.h"
#include "net/response_reader.h"

/* Feed text to r in pieces of step bytes, then the connection's end when eof; returns the last answer. */
static int feed(struct response_reader *r, const char *text, size_t len, size_t step, bool eof, size_t *used,
    char *err, size_t errlen)
{
	size_t off = 0;
	int rc = RESPONSE_MORE;

	while (off < len) {
		size_t n = len - off < step ? len - off : step, u;
		rc = response_reader_feed(r, text + off, n, &u, err, errlen);
		off += u;
		if (rc != RESPONSE_MORE)
			break;
		assert_int_equal(u, n);
	}
	*used = off;
	if (rc == RESPONSE_MORE && eof)
		rc = response_reader_eof(r, err, errlen);
	return rc;
}

static const size_t steps[] = {1, 1 << 20};

static void test_responses(void **state)
{
	static const struct {
		const char *text;
		bool head, eof;
		size_t body_max;
		int rc;
		long status;
		const char *body, *field; /* field: the last X-F */
		bool keep;
		size_t extra;             /* bytes after the response, not taken */
	} rows[] = {
		{"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-F: a\r\n\r\nhello", false, false, 100, RESPONSE_DONE, 200,
		    "hello", "a", true, 0},
		{"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1", false, false, 100, RESPONSE_DONE, 200, "ok", NULL,
		    true, 8},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-F: 1\r\nx-f:  2 \r\n\r\n2\r\nab\r\n1;x=y\r\nc\r\n0\r\n"
		 "T: t\r\n\r\n", false, false, 100, RESPONSE_DONE, 200, "abc", "2", true, 0},
		{"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 1\r\n\r\nx", false, false, 100, RESPONSE_DONE, 200,
		    "x", NULL, false, 0},
		{"HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\nx", false, false, 100, RESPONSE_DONE, 200, "x", NULL, false, 0},
		{"HTTP/1.1 200 OK\r\n\r\nto the end", false, true, 100, RESPONSE_DONE, 200, "to the end", NULL, false, 0},
		{"HTTP/1.1 100 Continue\r\nX-F: interim\r\n\r\nHTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", false,
		    false, 100, RESPONSE_DONE, 404, "", NULL, true, 0},
		{"HTTP/1.1 204 No Content\r\nX-F:\r\n\r\n", false, false, 100, RESPONSE_DONE, 204, "", "", true, 0},
		{"HTTP/1.1 200 OK\r\nContent-Length: 9000\r\n\r\n", true, false, 100, RESPONSE_DONE, 200, "", NULL, true, 0},
		{"HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", false, false, 100, -E2BIG, 0, NULL, NULL, false, 0},
		{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n", false, false, 100, -E2BIG, 0, NULL, NULL, false,
		    0},
		{"HTTP/1.1 200 OK\r\n\r\n0123456789", false, false, 5, -E2BIG, 0, NULL, NULL, false, 0},
		{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", false, true, 100, -ECONNRESET, 0, NULL, NULL, false, 0},
		{"", false, true, 100, -ECONNRESET, 0, NULL, NULL, false, 0},
		{"HTTP/1.1 2x0 OK\r\n\r\n", false, false, 100, -EIO, 0, NULL, NULL, false, 0},
		{"SSH-2.0-OpenSSH\r\n", false, false, 100, -EIO, 0, NULL, NULL, false, 0},
		{"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", false, false, 100, -EIO, 0, NULL, NULL,
		    false, 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
			struct response_reader *r = response_reader_new(rows[i].body_max, rows[i].head);
			size_t len = strlen(rows[i].text), used, blen;
			char err[200] = "";
			int rc = feed(r, rows[i].text, len, steps[s], rows[i].eof, &used, err, sizeof(err));

			if (rc != rows[i].rc)
				fail_msg("row %zu step %zu: %d (%s), expected %d", i, steps[s], rc, err, rows[i].rc);
			assert_int_equal(response_reader_started(r), len > 0);
			if (rc == RESPONSE_DONE) {
				const char *f = response_reader_header(r, "X-F");
				assert_int_equal(response_reader_status(r), rows[i].status);
				assert_string_equal(response_reader_body(r, &blen), rows[i].body);
				assert_int_equal(blen, strlen(rows[i].body));
				if (rows[i].field == NULL)
					assert_null(f);
				else
					assert_string_equal(f, rows[i].field);
				assert_int_equal(response_reader_keep_alive(r), rows[i].keep);
				assert_int_equal(len - used, rows[i].extra);
			} else {
				assert_true(err[0] != '\0');
			}
			response_reader_free(r);
		}
	}
}

/* Heads over their caps: too many fields, too many bytes. */
static void test_head_caps(void **state)
{
	char *text = malloc(RESPONSE_HEAD_MAX + 200);
	size_t len = 0, used;
	char err[200];
	struct response_reader *r;
	(void)state;

	len += (size_t)sprintf(text, "HTTP/1.1 200 OK\r\n");
	for (int i = 0; i <= RESPONSE_FIELDS_MAX; i++)
		len += (size_t)sprintf(text + len, "F%d: v\r\n", i);
	r = response_reader_new(100, false);
	assert_int_equal(feed(r, text, len, 1 << 20, false, &used, err, sizeof(err)), -EIO);
	assert_string_equal(err, "response head: more than 100 header fields");
	response_reader_free(r);

	len = (size_t)sprintf(text, "HTTP/1.1 200 OK\r\nBig: ");
	memset(text + len, 'v', RESPONSE_HEAD_MAX);
	len += RESPONSE_HEAD_MAX;
	r = response_reader_new(100, false);
	assert_int_equal(feed(r, text, len, 4096, false, &used, err, sizeof(err)), -EIO);
	assert_string_equal(err, "response head over 32768 bytes");
	response_reader_free(r);
	free(text);
}

static void test_urls(void **state)
{
	static const struct {
		const char *url;
		int rc;
		bool https;
		const char *host, *authority, *target;
		int port;
	} rows[] = {
		{"http://a", 0, false, "a", "a", "/", 80},
		{"HTTP://sched-1:4400/api/v1/agents?x=1#frag", 0, false, "sched-1", "sched-1:4400", "/api/v1/agents?x=1",
		    4400},
		{"http://h?q", 0, false, "h", "h", "/?q", 80},
		{"https://h/p", 0, true, "h", "h", "/p", 443},
		{"http://[::1]:8080/p", 0, false, "::1", "[::1]:8080", "/p", 8080},
		{"http://[::1]/", 0, false, "::1", "[::1]", "/", 80},
		{"ftp://h/", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://:80/", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://h:0/", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://h:65536/", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://h:8x/", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://u:p@h/", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://[::1/", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://[::1]x/", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://h/a b", -EINVAL, false, NULL, NULL, NULL, 0},
		{"http://h/\r\nX: y", -EINVAL, false, NULL, NULL, NULL, 0},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct net_url u;
		char err[200] = "";
		int rc = net_url_parse(rows[i].url, &u, err, sizeof(err));
		if (rc != rows[i].rc)
			fail_msg("row %zu (%s): %d (%s), expected %d", i, rows[i].url, rc, err, rows[i].rc);
		if (rc < 0) {
			assert_non_null(strstr(err, "URL '"));
			continue;
		}
		assert_int_equal(u.https, rows[i].https);
		assert_string_equal(u.host, rows[i].host);
		assert_string_equal(u.authority, rows[i].authority);
		assert_string_equal(u.target, rows[i].target);
		assert_int_equal(u.port, rows[i].port);
		net_url_free(&u);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_responses),
		cmocka_unit_test(test_head_caps),
		cmocka_unit_test(test_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
