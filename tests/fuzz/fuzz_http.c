/* libFuzzer target: the HTTP request layer (src/api/http_parse.c over http-parser). Input: a byte choosing the
 * body cap, a byte seeding the piece sizes, then the request, in which 0xFF k repeats the byte before it k * 64
 * times and 0xFE n k repeats the n bytes before it k + 1 times (0xFF 0 and 0xFE 0 are the bytes themselves), so
 * that short inputs reach the caps of a 32 KiB head. Each request is fed three ways, as the server offers bytes
 * (again what a call did not take): whole, byte by byte, and in pseudo-random pieces. Either all three refuse,
 * with the same status (one of the documented set, with a message), or none does; then all three took the same
 * bytes, read the same head and the same body, and the head keeps its caps and promises. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/http_parse.h"
#include "fuzz_check.h"

#define EXPANDED_MAX ((size_t)96 << 10)
#define ERR_LEN 512

static const size_t LIMITS[] = { 0, 0, 1, 16, 100, 1000, 4096, 1 << 20 };

/* How one way of feeding ended. */
struct outcome {
	int rc;            /* the last answer: HTTP_READ_* or a status */
	bool head;         /* the head was read (HTTP_READ_HEAD or HTTP_READ_DONE seen) */
	size_t used;       /* bytes taken in all */
	size_t head_used;  /* bytes taken up to the answer that completed the head */
	char err[ERR_LEN];
	struct http_head h;
	struct buf body;
	struct http_reader *r;
};

/* A small xorshift generator for the piece sizes. */
static uint64_t next_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* The size of the next piece: mostly a few bytes, sometimes more. */
static size_t piece_size(uint64_t *s)
{
	uint64_t v = next_rand(s);
	switch (v & 7) {
	case 0:
		return 1 + (v >> 3) % 1024;
	case 1:
		return 1 + (v >> 3) % 64;
	default:
		return 1 + (v >> 3) % 8;
	}
}

/* The request the input describes, its repetitions written out; returns its length. */
static size_t expand(const uint8_t *in, size_t n, uint8_t *out)
{
	size_t len = 0;

	for (size_t i = 0; i < n && len < EXPANDED_MAX; i++) {
		if (in[i] == 0xFF && i + 1 < n && in[i + 1] != 0 && len > 0) {
			size_t k = (size_t)in[++i] * 64;
			for (; k > 0 && len < EXPANDED_MAX; k--, len++)
				out[len] = out[len - 1];
		} else if (in[i] == 0xFE && i + 2 < n && in[i + 1] != 0 && in[i + 1] <= len) {
			size_t span = in[i + 1], times = (size_t)in[i + 2] + 1;
			i += 2;
			for (size_t t = 0; t < times && len + span <= EXPANDED_MAX; t++, len += span)
				memmove(out + len, out + len - span, span);
		} else {
			out[len++] = in[i];
			if ((in[i] == 0xFF || in[i] == 0xFE) && i + 1 < n && in[i + 1] == 0)
				i++;
		}
	}
	return len;
}

static bool is_status(int rc)
{
	return rc == 400 || rc == 413 || rc == 414 || rc == 417 || rc == 431 || rc == 501 || rc == 505;
}

/* Feed data[0..len) in pieces (step 0: pseudo-random sizes from seed), offering again what a call did not take,
 * until the request is complete or refused or the data ends. */
static void feed(struct outcome *o, const uint8_t *data, size_t len, size_t limit, size_t step, uint64_t seed)
{
	size_t off = 0;

	buf_init(&o->body, limit);
	o->r = http_reader_new(&o->h, &o->body);
	o->rc = HTTP_READ_MORE;
	o->head = false;
	o->err[0] = '\0';
	while (off < len) {
		size_t n = step ? step : piece_size(&seed), u = SIZE_MAX;
		if (n > len - off)
			n = len - off;
		o->rc = http_reader_feed(o->r, (const char *)data + off, n, &u, o->err, sizeof(o->err));
		CHECK(u <= n, "took %zu of %zu bytes", u, n);
		off += u;
		if (o->rc == HTTP_READ_HEAD || o->rc == HTTP_READ_DONE) {
			if (!o->head)
				o->head_used = off;
			CHECK(o->rc == HTTP_READ_DONE || !o->head, "a second HTTP_READ_HEAD at %zu", off);
			o->head = true;
		}
		if (o->rc == HTTP_READ_DONE || o->rc >= 400)
			break;
		CHECK(o->rc == HTTP_READ_HEAD || u == n, "HTTP_READ_MORE took %zu of %zu bytes", u, n);
		CHECK(o->rc == HTTP_READ_MORE || o->rc == HTTP_READ_HEAD, "unknown answer %d", o->rc);
	}
	o->used = off;
}

/* What holds for one way of feeding, whatever the others did. */
static void check_one(struct outcome *o, const uint8_t *data, size_t len, const char *how)
{
	const struct http_head *h = &o->h;
	char err2[ERR_LEN] = "";
	size_t u = 1;

	if (o->rc >= 400) {
		CHECK(is_status(o->rc), "%s: status %d is not in the documented set", how, o->rc);
		CHECK(o->err[0] != '\0' && memchr(o->err, '\0', sizeof(o->err)) != NULL, "%s: %d without a message", how,
			o->rc);
		/* after a refusal the reader takes nothing more, and says the same */
		CHECK(http_reader_feed(o->r, "x", 1, &u, err2, sizeof(err2)) == o->rc && u == 0 &&
			strcmp(err2, o->err) == 0, "%s: a refused reader answers %s (took %zu)", how, err2, u);
	}
	CHECK(o->body.limit == 0 || o->body.len <= o->body.limit, "%s: body of %zu over the cap %zu", how, o->body.len,
		o->body.limit);
	if (!o->head)
		return;
	CHECK(h->method != NULL && h->method[0] != '\0', "%s: no method", how);
	CHECK(h->path != NULL && h->path[0] != '\0' && strlen(h->path) <= HTTP_TARGET_MAX, "%s: path", how);
	CHECK(h->minor == 0 || h->minor == 1, "%s: HTTP/1.%d", how, h->minor);
	CHECK(h->minor == 0 || h->host != NULL, "%s: an HTTP/1.1 request without a host", how);
	CHECK(h->nfields >= 0 && h->nfields <= HTTP_FIELDS_MAX, "%s: %d fields", how, h->nfields);
	CHECK(h->nparams >= 0 && h->nparams <= HTTP_PARAMS_MAX, "%s: %d params", how, h->nparams);
	CHECK(!(h->chunked && h->content_length >= 0), "%s: chunked with a Content-Length", how);
	CHECK(h->content_length >= -1, "%s: Content-Length %lld", how, (long long)h->content_length);
	for (int i = 0; i < h->nfields; i++) {
		const char *name = h->fields[i].name, *v = h->fields[i].value;
		size_t vlen = strlen(v);
		CHECK(name[0] != '\0' && strpbrk(name, " \t\r\n:") == NULL, "%s: field name '%s'", how, name);
		CHECK(strpbrk(v, "\r\n") == NULL, "%s: field %s has a line end in its value", how, name);
		CHECK(vlen == 0 || (v[0] != ' ' && v[0] != '\t' && v[vlen - 1] != ' ' && v[vlen - 1] != '\t'),
			"%s: field %s value '%s' is not trimmed", how, name, v);
	}
	for (int i = 0; i < h->nparams; i++)
		CHECK(h->params[i].key != NULL, "%s: param %d without a key", how, i);
	/* the head, without the empty lines before it, keeps its cap */
	size_t lead = 0;
	while (lead < o->head_used && (data[lead] == '\r' || data[lead] == '\n'))
		lead++;
	CHECK(o->head_used - lead <= HTTP_HEAD_MAX, "%s: a head of %zu bytes", how, o->head_used - lead);
	if (o->rc != HTTP_READ_DONE)
		return;
	/* a Content-Length body is the bytes after the head */
	if (!h->chunked) {
		size_t cl = h->content_length > 0 ? (size_t)h->content_length : 0;
		CHECK(o->body.len == cl && o->used >= o->head_used + cl &&
			(cl == 0 || memcmp(o->body.data, data + o->used - cl, cl) == 0),
			"%s: body of %zu bytes for Content-Length %zu (head %zu, used %zu)", how, o->body.len, cl,
			o->head_used, o->used);
	}
	CHECK(o->used <= len, "%s: used %zu of %zu", how, o->used, len);
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* The heads and bodies two ways of feeding read are the same. */
static void check_same(const struct outcome *a, const struct outcome *b, const char *how)
{
	const struct http_head *x = &a->h, *y = &b->h;

	CHECK((a->rc >= 400) == (b->rc >= 400), "whole: %d '%s', %s: %d '%s'", a->rc, a->err, how, b->rc, b->err);
	CHECK(a->rc == b->rc, "whole: %d '%s', %s: %d '%s'", a->rc, a->err, how, b->rc, b->err);
	if (a->rc >= 400)
		return;
	CHECK(a->used == b->used, "whole took %zu bytes, %s %zu", a->used, how, b->used);
	CHECK(a->head == b->head, "whole %s the head, %s not", a->head ? "read" : "did not read", how);
	if (!a->head)
		return;
	CHECK(a->head_used == b->head_used, "whole: head of %zu bytes, %s %zu", a->head_used, how, b->head_used);
	CHECK(strcmp(x->method, y->method) == 0 && strcmp(x->path, y->path) == 0 && x->minor == y->minor,
		"whole: %s %s 1.%d, %s: %s %s 1.%d", x->method, x->path, x->minor, how, y->method, y->path, y->minor);
	CHECK(x->nfields == y->nfields, "whole: %d fields, %s %d", x->nfields, how, y->nfields);
	for (int i = 0; i < x->nfields; i++)
		CHECK(strcmp(x->fields[i].name, y->fields[i].name) == 0 && strcmp(x->fields[i].value, y->fields[i].value) == 0,
			"field %d: whole '%s: %s', %s '%s: %s'", i, x->fields[i].name, x->fields[i].value, how,
			y->fields[i].name, y->fields[i].value);
	CHECK(x->nparams == y->nparams, "whole: %d params, %s %d", x->nparams, how, y->nparams);
	for (int i = 0; i < x->nparams; i++)
		CHECK(strcmp(x->params[i].key, y->params[i].key) == 0 && same_str(x->params[i].value, y->params[i].value),
			"param %d: whole '%s', %s '%s'", i, x->params[i].key, how, y->params[i].key);
	CHECK(same_str(x->host, y->host), "host: whole '%s', %s '%s'", x->host ? x->host : "(none)", how,
		y->host ? y->host : "(none)");
	CHECK(x->content_length == y->content_length && x->chunked == y->chunked &&
		x->expect_continue == y->expect_continue && x->close == y->close,
		"framing: whole %lld/%d/%d/%d, %s %lld/%d/%d/%d", (long long)x->content_length, x->chunked,
		x->expect_continue, x->close, how, (long long)y->content_length, y->chunked, y->expect_continue, y->close);
	CHECK(a->body.len == b->body.len && (a->body.len == 0 || memcmp(a->body.data, b->body.data, a->body.len) == 0),
		"body: whole %zu bytes, %s %zu", a->body.len, how, b->body.len);
}

static void release(struct outcome *o)
{
	http_reader_free(o->r);
	buf_free(&o->body);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t text[EXPANDED_MAX];
	static struct outcome whole, bytes, pieces;
	uint64_t seed;
	size_t len, limit;

	if (size < 2)
		return 0;
	limit = LIMITS[data[0] % (sizeof(LIMITS) / sizeof(LIMITS[0]))];
	seed = 0x9E3779B97F4A7C15u ^ ((uint64_t)data[1] << 32 | size);
	len = expand(data + 2, size - 2, text);
	feed(&whole, text, len, limit, len ? len : 1, 0);
	feed(&bytes, text, len, limit, 1, 0);
	feed(&pieces, text, len, limit, 0, seed);
	check_one(&whole, text, len, "whole");
	check_one(&bytes, text, len, "byte by byte");
	check_one(&pieces, text, len, "in pieces");
	check_same(&whole, &bytes, "byte by byte");
	check_same(&whole, &pieces, "in pieces");
	release(&whole);
	release(&bytes);
	release(&pieces);
	return 0;
}
