#include "api/http_parse.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define QUOTE 60 /* bytes of client input quoted in a message */

/* RFC 9110 tchar: the characters of a method or a field name. */
static bool is_tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static int hex_value(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int http_head_scan(struct http_scan *s, const char *data, size_t len, size_t *head_len, char *err, size_t errlen)
{
	const char *nl;

	*head_len = 0;
	if (len == 0)
		return 0;
	if (!s->line_done) {
		/* Empty lines before a request line are ignored (RFC 9112 2.2), within the line's cap. */
		while (s->start < len) {
			if (s->start > HTTP_LINE_MAX) {
				snprintf(err, errlen, "request line: missing (only empty lines)");
				return 400;
			}
			if (data[s->start] == '\n')
				s->start++;
			else if (data[s->start] == '\r' && s->start + 1 < len && data[s->start + 1] == '\n')
				s->start += 2;
			else
				break;
		}
		if (s->pos < s->start)
			s->pos = s->start;
		nl = memchr(data + s->pos, '\n', len - s->pos);
		if ((nl ? (size_t)(nl - data) : len) - s->start > HTTP_LINE_MAX) {
			snprintf(err, errlen, "request line: longer than %zu bytes (the request target may have at most "
			    "%zu)", HTTP_LINE_MAX, HTTP_TARGET_MAX);
			return 414;
		}
		if (nl == NULL) {
			s->pos = len;
			return 0;
		}
		s->line_done = true;
		s->pos = (size_t)(nl - data) + 1;
	}
	/* Field lines up to an empty one; s->pos is always at the start of a line not yet complete. */
	for (;;) {
		size_t rest = len - s->pos;
		if (rest >= 1 && data[s->pos] == '\n') {
			*head_len = s->pos + 1;
			break;
		}
		if (rest >= 2 && data[s->pos] == '\r' && data[s->pos + 1] == '\n') {
			*head_len = s->pos + 2;
			break;
		}
		nl = rest ? memchr(data + s->pos, '\n', rest) : NULL;
		if (nl == NULL) {
			if (len - s->start > HTTP_HEAD_MAX)
				goto too_big;
			return 0;
		}
		s->pos = (size_t)(nl - data) + 1;
	}
	if (*head_len - s->start <= HTTP_HEAD_MAX)
		return 0;
	*head_len = 0;
too_big:
	snprintf(err, errlen, "request header fields: more than %zu bytes", HTTP_HEAD_MAX);
	return 431;
}

/* Cut the next line out of [*p, end): NUL-terminated in place without its CR LF (or bare LF). Returns 0, or -1
 * when there is no line end or a CR stands anywhere but before the LF. */
static int take_line(char **p, char *end, char **line, size_t *n)
{
	char *nl = memchr(*p, '\n', (size_t)(end - *p));
	char *stop;

	if (nl == NULL)
		return -1;
	*line = *p;
	stop = nl > *p && nl[-1] == '\r' ? nl - 1 : nl;
	*stop = '\0';
	*n = (size_t)(stop - *p);
	*p = nl + 1;
	return memchr(*line, '\r', *n) ? -1 : 0;
}

/* Decode %XX escapes (and '+' as a space when plus) in place; a malformed escape stays as it is. Returns 0, or
 * -1 when it decodes to a NUL byte. */
static int decode(char *s, bool plus)
{
	char *out = s;
	for (; *s; s++) {
		int hi, lo;
		if (*s == '%' && (hi = hex_value((unsigned char)s[1])) >= 0 && (lo = hex_value((unsigned char)s[2])) >= 0) {
			if (hi == 0 && lo == 0)
				return -1;
			*out++ = (char)(hi * 16 + lo);
			s += 2;
		} else {
			*out++ = plus && *s == '+' ? ' ' : *s;
		}
	}
	*out = '\0';
	return 0;
}

static int parse_request_line(char *line, size_t n, struct http_head *h, char **target, char *err, size_t errlen)
{
	char *sp1 = memchr(line, ' ', n), *sp2 = NULL, *version;
	size_t tlen;

	if (sp1)
		sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - line));
	if (sp1 == NULL || sp2 == NULL || sp1 == line || sp2 == sp1 + 1 || memchr(sp2 + 1, ' ', strlen(sp2 + 1))) {
		snprintf(err, errlen, "request line: '%.*s' is malformed: expected METHOD TARGET HTTP/1.1", QUOTE, line);
		return 400;
	}
	*sp1 = *sp2 = '\0';
	version = sp2 + 1;
	for (const char *m = line; *m; m++) {
		if (!is_tchar((unsigned char)*m)) {
			snprintf(err, errlen, "request line: '%.*s' is not a method", QUOTE, line);
			return 400;
		}
	}
	tlen = (size_t)(sp2 - (sp1 + 1));
	if (tlen > HTTP_TARGET_MAX) {
		snprintf(err, errlen, "request target: longer than %zu bytes", HTTP_TARGET_MAX);
		return 414;
	}
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)sp1[1 + i];
		if (c < 0x21 || c > 0x7e) {
			snprintf(err, errlen, "request target: byte 0x%02x at offset %zu must be percent-encoded", c, i);
			return 400;
		}
	}
	if (strlen(version) != 8 || strncmp(version, "HTTP/", 5) != 0 || version[5] < '0' || version[5] > '9' ||
	    version[6] != '.' || version[7] < '0' || version[7] > '9') {
		snprintf(err, errlen, "request line: '%.*s' is not an HTTP version", QUOTE, version);
		return 400;
	}
	if (version[5] != '1') {
		snprintf(err, errlen, "%s is not supported: use HTTP/1.1", version);
		return 505;
	}
	h->method = line;
	h->minor = version[7] == '0' ? 0 : 1;
	*target = sp1 + 1;
	return 0;
}

static int parse_field_line(char *line, size_t n, int index, struct http_head *h, char *err, size_t errlen)
{
	char *colon = memchr(line, ':', n), *value, *vend;

	if (*line == ' ' || *line == '\t') {
		snprintf(err, errlen, "header line %d: starts with whitespace (folded lines are not accepted)", index);
		return 400;
	}
	if (colon == NULL || colon == line) {
		snprintf(err, errlen, "header line %d: '%.*s' is not NAME: VALUE", index, QUOTE, line);
		return 400;
	}
	for (const char *c = line; c < colon; c++) {
		if (!is_tchar((unsigned char)*c)) {
			snprintf(err, errlen, "header line %d: '%.*s' is not a field name", index,
			    (int)(colon - line) < QUOTE ? (int)(colon - line) : QUOTE, line);
			return 400;
		}
	}
	*colon = '\0';
	value = colon + 1;
	vend = line + n;
	while (*value == ' ' || *value == '\t')
		value++;
	while (vend > value && (vend[-1] == ' ' || vend[-1] == '\t'))
		vend--;
	*vend = '\0';
	for (const unsigned char *c = (const unsigned char *)value; *c; c++) {
		if ((*c < 0x20 && *c != '\t') || *c == 0x7f) {
			snprintf(err, errlen, "%s: control character 0x%02x in its value", line, *c);
			return 400;
		}
	}
	if (h->nfields == HTTP_FIELDS_MAX) {
		snprintf(err, errlen, "request header fields: more than %d", HTTP_FIELDS_MAX);
		return 431;
	}
	h->fields[h->nfields].name = line;
	h->fields[h->nfields].value = value;
	h->nfields++;
	return 0;
}

/* Does the comma-separated list contain token (case-insensitive)? */
static bool list_has(const char *list, const char *token)
{
	size_t n = strlen(token);
	for (const char *p = list; *p;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		const char *t = e;
		while (t > p && (t[-1] == ' ' || t[-1] == '\t'))
			t--;
		if ((size_t)(t - p) == n && strncasecmp(p, token, n) == 0)
			return true;
		p = e;
	}
	return false;
}

static bool valid_host(const char *v)
{
	for (; *v; v++)
		if (!((*v >= '0' && *v <= '9') || (*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') ||
		    strchr("-._~!$&'()*+,;=:[]%", *v)))
			return false;
	return true;
}

/* The fields that frame the message and the connection: Host, Content-Length, Transfer-Encoding, Expect,
 * Connection. */
static int read_framing(struct http_head *h, char *err, size_t errlen)
{
	const char *cl = NULL, *te = NULL;
	int hosts = 0;

	for (int i = 0; i < h->nfields; i++) {
		const char *name = h->fields[i].name, *v = h->fields[i].value;
		if (strcasecmp(name, "Host") == 0) {
			hosts++;
			h->host = v;
		} else if (strcasecmp(name, "Content-Length") == 0) {
			size_t digits = strspn(v, "0123456789");
			if (digits == 0 || v[digits] != '\0' || digits > 18) {
				snprintf(err, errlen, "Content-Length: '%.*s' is not a number of bytes", QUOTE, v);
				return 400;
			}
			if (cl && strcmp(cl, v) != 0) {
				snprintf(err, errlen, "Content-Length: given twice, as %.20s and %.20s", cl, v);
				return 400;
			}
			cl = v;
		} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
			if (te || strcasecmp(v, "chunked") != 0) {
				snprintf(err, errlen, "Transfer-Encoding: '%.*s' is not supported (only chunked, once)", QUOTE,
				    te ? "chunked, chunked" : v);
				return te ? 400 : 501;
			}
			te = v;
		} else if (strcasecmp(name, "Expect") == 0) {
			if (strcasecmp(v, "100-continue") != 0) {
				snprintf(err, errlen, "Expect: '%.*s' is not supported (only 100-continue)", QUOTE, v);
				return 417;
			}
			h->expect_continue = true;
		} else if (strcasecmp(name, "Connection") == 0 && list_has(v, "close")) {
			h->close = true;
		}
	}
	if (hosts > 1 || (h->host && !valid_host(h->host))) {
		snprintf(err, errlen, hosts > 1 ? "Host: given more than once" : "Host: '%.*s' is not a host name",
		    QUOTE, h->host);
		return 400;
	}
	if (hosts == 0 && h->minor >= 1) {
		snprintf(err, errlen, "Host: required in an HTTP/1.1 request");
		return 400;
	}
	if (te && h->minor == 0) {
		snprintf(err, errlen, "Transfer-Encoding: not allowed in an HTTP/1.0 request");
		return 400;
	}
	if (te && cl) {
		snprintf(err, errlen, "Content-Length and Transfer-Encoding: a request may not have both");
		return 400;
	}
	h->chunked = te != NULL;
	h->content_length = cl ? (int64_t)strtoull(cl, NULL, 10) : -1;
	if (h->minor == 0)
		h->close = true;
	return 0;
}

/* The request target: origin form (/path?query), absolute form (http://host/path?query) or * for OPTIONS. */
static int parse_target(char *target, struct http_head *h, char *err, size_t errlen)
{
	char *query, *p;

	if (strncasecmp(target, "http://", 7) == 0 || strncasecmp(target, "https://", 8) == 0) {
		char *auth = strstr(target, "//") + 2;
		size_t n = strcspn(auth, "/?");
		if (n == 0 || n >= sizeof(h->authority)) {
			snprintf(err, errlen, "request target: '%.*s' has no valid authority", QUOTE, target);
			return 400;
		}
		memcpy(h->authority, auth, n);
		h->authority[n] = '\0';
		h->host = h->authority;
		target = auth + n; /* "http://host" or "http://host?q": an empty path, which is "/" */
	} else if (*target != '/' && strcmp(target, "*") != 0) {
		snprintf(err, errlen, "request target: '%.*s' must start with '/'", QUOTE, target);
		return 400;
	}
	query = strchr(target, '?');
	if (query)
		*query++ = '\0';
	if (decode(target, false) < 0) {
		snprintf(err, errlen, "request target: the path contains an encoded NUL (%%00)");
		return 400;
	}
	h->path = *target ? target : "/";
	for (p = query; p && *p;) {
		char *amp = strchr(p, '&'), *eq;
		if (amp)
			*amp = '\0';
		if (*p) {
			if (h->nparams == HTTP_PARAMS_MAX) {
				snprintf(err, errlen, "request target: more than %d query parameters", HTTP_PARAMS_MAX);
				return 414;
			}
			eq = strchr(p, '=');
			if (eq)
				*eq++ = '\0';
			if (decode(p, true) < 0 || (eq && decode(eq, true) < 0)) {
				snprintf(err, errlen, "query: parameter '%.*s' contains an encoded NUL (%%00)", QUOTE, p);
				return 400;
			}
			h->params[h->nparams].key = p;
			h->params[h->nparams].value = eq;
			h->nparams++;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

int http_head_parse(char *head, size_t len, struct http_head *h, char *err, size_t errlen)
{
	char *p = head, *end = head + len, *line, *target = NULL;
	size_t n;
	int rc, index = 0;

	memset(h, 0, sizeof(*h));
	h->content_length = -1;
	if (memchr(head, '\0', len)) {
		snprintf(err, errlen, "request head: contains a NUL byte");
		return 400;
	}
	while (p < end && (*p == '\r' || *p == '\n'))
		p++;
	if (take_line(&p, end, &line, &n) < 0) {
		snprintf(err, errlen, "request line: a CR stands outside a line end");
		return 400;
	}
	if ((rc = parse_request_line(line, n, h, &target, err, errlen)) != 0)
		return rc;
	for (;;) {
		if (take_line(&p, end, &line, &n) < 0) {
			snprintf(err, errlen, "header line %d: a CR stands outside a line end", index + 1);
			return 400;
		}
		if (n == 0)
			break;
		if ((rc = parse_field_line(line, n, ++index, h, err, errlen)) != 0)
			return rc;
	}
	if ((rc = read_framing(h, err, errlen)) != 0)
		return rc;
	return parse_target(target, h, err, errlen);
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

enum { CH_SIZE, CH_SIZE_LF, CH_DATA, CH_DATA_CR, CH_DATA_LF, CH_TRAILER, CH_TRAILER_LINE, CH_END_LF, CH_DONE };

/* A chunk-size line is complete: the next is its data, or the trailer after the last chunk. */
static int size_done(struct http_chunked *c, const struct buf *body, char *err, size_t errlen)
{
	c->line = 0;
	c->ext = false;
	if (c->left == 0) {
		c->state = CH_TRAILER;
		return 0;
	}
	if (body->limit && c->left > body->limit - body->len) {
		snprintf(err, errlen, "request body: a chunk of %llu bytes takes it over the limit of %zu bytes",
		    (unsigned long long)c->left, body->limit);
		return 413;
	}
	c->state = CH_DATA;
	return 0;
}

/* One byte of a chunk-size line: hex digits, then optional extensions, then CR LF. */
static int size_byte(struct http_chunked *c, unsigned char ch, const struct buf *body, char *err, size_t errlen)
{
	int v = hex_value(ch);

	if (v >= 0 && !c->ext) {
		if (c->line == 16) {
			snprintf(err, errlen, "chunked body: a chunk size has more than 16 hexadecimal digits");
			return 400;
		}
		c->left = c->left * 16 + (uint64_t)v;
		c->line++;
		return 0;
	}
	if (c->line == 0) {
		snprintf(err, errlen, "chunked body: expected a chunk size in hexadecimal, got byte 0x%02x", ch);
		return 400;
	}
	if (ch == '\r') {
		c->state = CH_SIZE_LF;
		return 0;
	}
	if (ch == '\n')
		return size_done(c, body, err, errlen);
	if ((!c->ext && ch != ';' && ch != ' ' && ch != '\t') || (ch < 0x20 && ch != '\t') || ch == 0x7f) {
		snprintf(err, errlen, "chunked body: byte 0x%02x in a chunk-size line", ch);
		return 400;
	}
	c->ext = true;
	if (++c->line > HTTP_CHUNK_LINE_MAX) {
		snprintf(err, errlen, "chunked body: a chunk-size line is longer than %d bytes", HTTP_CHUNK_LINE_MAX);
		return 400;
	}
	return 0;
}

int http_chunked_decode(struct http_chunked *c, const char *in, size_t len, size_t *used, struct buf *body,
    char *err, size_t errlen)
{
	size_t i = 0;
	int rc = 0;

	while (i < len && rc == 0 && c->state != CH_DONE) {
		unsigned char ch = (unsigned char)in[i];
		switch (c->state) {
		case CH_SIZE:
			rc = size_byte(c, ch, body, err, errlen);
			i++;
			break;
		case CH_SIZE_LF:
		case CH_DATA_LF:
		case CH_END_LF:
			if (ch != '\n') {
				snprintf(err, errlen, "chunked body: CR without LF");
				rc = 400;
				break;
			}
			i++;
			if (c->state == CH_SIZE_LF)
				rc = size_done(c, body, err, errlen);
			else
				c->state = c->state == CH_END_LF ? CH_DONE : CH_SIZE;
			break;
		case CH_DATA: {
			size_t n = len - i < c->left ? len - i : (size_t)c->left;
			if (buf_append(body, in + i, n) < 0) {
				snprintf(err, errlen, "request body: over the limit of %zu bytes", body->limit);
				rc = 413;
				break;
			}
			i += n;
			c->left -= n;
			if (c->left == 0)
				c->state = CH_DATA_CR;
			break;
		}
		case CH_DATA_CR:
			if (ch != '\r' && ch != '\n') {
				snprintf(err, errlen, "chunked body: a chunk is longer than its size");
				rc = 400;
				break;
			}
			i++;
			c->state = ch == '\r' ? CH_DATA_LF : CH_SIZE;
			break;
		case CH_TRAILER: /* the start of a trailer line, or of the empty line that ends the body */
			if (ch == '\r' || ch == '\n') {
				i++;
				c->state = ch == '\r' ? CH_END_LF : CH_DONE;
			} else {
				c->state = CH_TRAILER_LINE;
			}
			break;
		case CH_TRAILER_LINE:
			i++;
			if (ch == '\n') {
				c->state = CH_TRAILER;
			} else if ((ch < 0x20 && ch != '\t' && ch != '\r') || ch == 0x7f ||
			    ++c->trailers > HTTP_TRAILERS_MAX) {
				snprintf(err, errlen, "chunked body: malformed trailer fields or more than %zu bytes of them",
				    HTTP_TRAILERS_MAX);
				rc = 400;
			}
			break;
		default:
			break;
		}
	}
	*used = i;
	if (rc != 0)
		return rc;
	return c->state == CH_DONE ? 1 : 0;
}
