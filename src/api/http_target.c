/* A request's target (http_target.h). */
#include "api/http_target.h"

#include <http_parser.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define QUOTE 60 /* bytes of client input quoted in a message */

static int refuse(char *msg, size_t msglen, int status, const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* The refusal's status, its message in msg. */
static int refuse(char *msg, size_t msglen, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, msglen, fmt, ap);
	va_end(ap);
	return status;
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

/* Split the query into parameters, decoded in place. */
static int split_query(struct http_head *h, char *query, char *msg, size_t msglen)
{

	for (char *p = query; p && *p;) {
		char *amp = strchr(p, '&'), *eq;
		if (amp)
			*amp = '\0';
		if (*p) {
			if (h->nparams == HTTP_PARAMS_MAX)
				return refuse(msg, msglen, 414, "request target: more than %d query parameters", HTTP_PARAMS_MAX);
			eq = strchr(p, '=');
			if (eq)
				*eq++ = '\0';
			if (decode(p, true) < 0 || (eq && decode(eq, true) < 0))
				return refuse(msg, msglen, 400, "query: parameter '%.*s' contains an encoded NUL (%%00)", QUOTE, p);
			h->params[h->nparams].key = p;
			h->params[h->nparams].value = eq;
			h->nparams++;
		}
		p = amp ? amp + 1 : NULL;
	}
	return 0;
}

int http_target_read(struct http_head *h, char *target, char *authority, char *msg, size_t msglen)
{
	struct http_parser_url u;
	size_t len = strlen(target);
	char *path = NULL, *query = NULL;

	http_parser_url_init(&u);
	if (http_parser_parse_url(target, len, 0, &u) != 0)
		return refuse(msg, msglen, 400, "request target: '%.*s' is not a path or an absolute http URI", QUOTE, target);
	if (u.field_set & (1 << UF_FRAGMENT))
		return refuse(msg, msglen, 400, "request target: '%.*s' has a fragment ('#'), which is not sent in a request", QUOTE,
		    target);
	if (u.field_set & (1 << UF_SCHEMA)) {
		size_t slen = u.field_data[UF_SCHEMA].len, end = len;
		if ((slen != 4 || strncasecmp(target, "http", 4) != 0) && (slen != 5 || strncasecmp(target, "https", 5) != 0))
			return refuse(msg, msglen, 400, "request target: '%.*s' must start with '/' (or be an absolute http URI, or '*')",
			    QUOTE, target);
		if (u.field_set & (1 << UF_USERINFO))
			return refuse(msg, msglen, 400, "request target: '%.*s' has user information, which an http URI may not",
			    QUOTE, target);
		if (u.field_set & (1 << UF_PATH))
			end = u.field_data[UF_PATH].off;
		else if (u.field_set & (1 << UF_QUERY))
			end = u.field_data[UF_QUERY].off - 1u;
		memcpy(authority, target + slen + 3, end - (slen + 3));
		authority[end - (slen + 3)] = '\0';
		h->host = authority;
	}
	if (u.field_set & (1 << UF_PATH)) {
		path = target + u.field_data[UF_PATH].off;
		path[u.field_data[UF_PATH].len] = '\0';
	}
	if (u.field_set & (1 << UF_QUERY))
		query = target + u.field_data[UF_QUERY].off;
	if (path && decode(path, false) < 0)
		return refuse(msg, msglen, 400, "request target: the path contains an encoded NUL (%%00)");
	h->path = path && *path ? path : "/";
	return split_query(h, query, msg, msglen);
}
