/* libFuzzer target: the HTTP client's response reader (src/net/response_reader.c over http-parser, what
 * gnomon-agent reads from its servers) and its URL parser (src/net/net_url.c). Input: a byte choosing the body cap
 * and whether the request was a HEAD, a byte seeding the piece sizes, then the response. It is fed twice, whole
 * and in pseudo-random pieces, then the connection's end: both ways end alike (the same answer, bytes taken,
 * status, body, fields and keep-alive), the body keeps its cap, a fault comes with a message. The same bytes are
 * also read as a URL: one that parses has a host, a port and a target that starts with '/'. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "net/net_url.h"
#include "net/response_reader.h"

static const size_t LIMITS[] = {1, 16, 100, 1000, 4096, 65536, 1 << 20, 1 << 20};
static const char *const FIELDS[] = {"Content-Length", "Transfer-Encoding", "Connection", "X-Test", "Content-Type"};

struct outcome {
	int rc;
	size_t used;
	char err[200];
	struct response_reader *r;
};

/* A small xorshift generator for the piece sizes. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Feed data in pieces (0: whole), then the end; as net_uv.c does, nothing more once an answer is not MORE. */
static void feed(struct outcome *o, const uint8_t *data, size_t n, size_t cap, bool head, uint64_t seed)
{
	memset(o, 0, sizeof(*o));
	o->r = response_reader_new(cap, head);
	o->rc = RESPONSE_MORE;
	while (o->used < n && o->rc == RESPONSE_MORE) {
		size_t piece = seed ? 1 + next_rand(&seed) % 16 : n, u;
		if (piece > n - o->used)
			piece = n - o->used;
		o->rc = response_reader_feed(o->r, (const char *)data + o->used, piece, &u, o->err, sizeof(o->err));
		CHECK(u <= piece, "took %zu of %zu", u, piece);
		CHECK(o->rc != RESPONSE_MORE || u == piece, "MORE after taking %zu of %zu", u, piece);
		o->used += u;
	}
	if (o->rc == RESPONSE_MORE)
		o->rc = response_reader_eof(o->r, o->err, sizeof(o->err));
	CHECK(o->rc == RESPONSE_DONE || o->rc == -E2BIG || o->rc == -EIO || o->rc == -ECONNRESET, "answer %d", o->rc);
	CHECK(o->rc == RESPONSE_DONE || o->err[0], "a fault without a message");
}

static void check_url(const uint8_t *data, size_t n)
{
	char *text = malloc(n + 1), err[200];
	struct net_url u;

	memcpy(text, data, n);
	text[n] = '\0';
	if (net_url_parse(text, &u, err, sizeof(err)) == 0) {
		CHECK(u.host[0] && u.port > 0 && u.target[0] == '/' && u.authority[0], "url '%s'", text);
		CHECK(strpbrk(u.target, " \r\n#") == NULL, "target '%s'", u.target);
		net_url_free(&u);
	} else {
		CHECK(err[0], "no message for '%s'", text);
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;
	size_t cap, len1, len2;

	if (size < 2)
		return 0;
	check_url(data + 2, size - 2);
	cap = LIMITS[data[0] & 7];
	feed(&whole, data + 2, size - 2, cap, data[0] & 8, 0);
	feed(&pieces, data + 2, size - 2, cap, data[0] & 8, (uint64_t)data[1] * 2654435761u + 1);
	CHECK(whole.rc == pieces.rc, "whole %d (%s), in pieces %d (%s)", whole.rc, whole.err, pieces.rc, pieces.err);
	if (whole.rc == RESPONSE_DONE) {
		const char *b1 = response_reader_body(whole.r, &len1), *b2 = response_reader_body(pieces.r, &len2);
		CHECK(whole.used == pieces.used, "took %zu and %zu", whole.used, pieces.used);
		CHECK(len1 <= cap && len1 == len2 && memcmp(b1, b2, len1) == 0 && b1[len1] == '\0', "bodies differ");
		CHECK(response_reader_status(whole.r) == response_reader_status(pieces.r), "statuses differ");
		CHECK(response_reader_keep_alive(whole.r) == response_reader_keep_alive(pieces.r), "keep-alive differs");
		for (size_t i = 0; i < sizeof(FIELDS) / sizeof(FIELDS[0]); i++) {
			const char *f1 = response_reader_header(whole.r, FIELDS[i]), *f2 = response_reader_header(pieces.r, FIELDS[i]);
			CHECK((f1 == NULL) == (f2 == NULL) && (f1 == NULL || strcmp(f1, f2) == 0), "field %s differs", FIELDS[i]);
		}
	}
	response_reader_free(whole.r);
	response_reader_free(pieces.r);
	return 0;
}
