/* Typed reads of JSON values with Chronos's leniency and messages that name the field. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job/job_internal.h"
#include "util/log.h"

/* Render a path such as `container.volumes[0].mode` into buf; returns the length written. */
static size_t path_render(const struct jpath *path, char *buf, size_t size)
{
	const struct jpath *chain[JOB_JSON_DEPTH_MAX + 8];
	size_t n = 0, off = 0;

	for (; path != NULL && n < sizeof(chain) / sizeof(chain[0]); path = path->up)
		chain[n++] = path;
	buf[0] = '\0';
	while (n-- > 0 && off + 1 < size) {
		const struct jpath *p = chain[n];
		int w;
		if (p->key == NULL)
			w = snprintf(buf + off, size - off, "[%zu]", p->index);
		else
			w = snprintf(buf + off, size - off, "%s%s", off > 0 ? "." : "", p->key);
		off += w > 0 ? (size_t)w : 0;
		if (off >= size)
			off = size - 1;
	}
	return off;
}

int jfail(const struct jerr *e, const struct jpath *path, const char *fmt, ...)
{
	va_list ap;
	size_t off;

	va_start(ap, fmt);
	if (e->len > 0) {
		off = path_render(path, e->buf, e->len);
		if (off > 0 && off + 2 < e->len) {
			memcpy(e->buf + off, ": ", 3);
			off += 2;
		}
		vsnprintf(e->buf + off, e->len - off, fmt, ap);
	}
	va_end(ap);
	return -EINVAL;
}

const char *job_clip(const char *s, char *buf, size_t size)
{
	size_t len = strlen(s), room = size - 4;

	if (len < size) {
		memcpy(buf, s, len + 1);
		return buf;
	}
	while (room > 0 && ((unsigned char)s[room] & 0xC0) == 0x80)
		room--;
	memcpy(buf, s, room);
	memcpy(buf + room, "...", 4);
	return buf;
}

/* Where jdescribe's dump goes: the first size bytes are kept, the rest only counted. */
struct clipbuf {
	char *buf;
	size_t size;
	size_t used;
};

static int clip_cb(const char *data, size_t n, void *arg)
{
	struct clipbuf *c = arg;
	size_t room = c->used < c->size ? c->size - c->used : 0;

	if (room > 0)
		memcpy(c->buf + c->used, data, n < room ? n : room);
	c->used += n;
	return c->used > c->size ? -1 : 0; /* stop once it cannot fit */
}

void jdescribe(const json_t *v, char *buf, size_t size)
{
	const size_t flags = JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15);
	struct clipbuf c = {buf, size - 1, 0};
	size_t room = size - 4;

	json_dump_callback(v, clip_cb, &c, flags);
	if (c.used < size) {
		buf[c.used] = '\0';
		return;
	}
	/* Cut on a UTF-8 character boundary so the message stays valid UTF-8. */
	while (room > 0 && ((unsigned char)buf[room] & 0xC0) == 0x80)
		room--;
	memcpy(buf + room, "...", 4);
}

/* Fail with "expected <what>, got <value>". */
static int expected(const struct jerr *e, const struct jpath *path, const char *what, const json_t *v)
{
	char got[64];
	jdescribe(v, got, sizeof(got));
	return jfail(e, path, "expected %s, got %s", what, got);
}

int jget_string(const struct jerr *e, const struct jpath *path, const json_t *v, const char **s, size_t *len)
{
	if (!json_is_string(v))
		return expected(e, path, "a string", v);
	*len = json_string_length(v);
	if (*len > JOB_STRING_MAX)
		return jfail(e, path, "longer than %d bytes", JOB_STRING_MAX);
	*s = json_string_value(v);
	return 0;
}

int jget_bool(const struct jerr *e, const struct jpath *path, const json_t *v, bool *out)
{
	if (json_is_boolean(v)) {
		*out = json_is_true(v);
		return 0;
	}
	if (json_is_string(v) && (strcmp(json_string_value(v), "true") == 0 ||
				  strcmp(json_string_value(v), "false") == 0)) {
		*out = json_string_value(v)[0] == 't';
		return 0;
	}
	if (json_is_integer(v) && (json_integer_value(v) == 0 || json_integer_value(v) == 1)) {
		*out = json_integer_value(v) == 1;
		return 0;
	}
	return expected(e, path, "true or false", v);
}

/* True if s is a plain decimal number: [+-]digits[.digits][e[+-]digits], no spaces, hex, inf or nan. */
static bool is_decimal(const char *s)
{
	size_t mantissa = 0;

	if (*s == '+' || *s == '-')
		s++;
	for (; *s >= '0' && *s <= '9'; s++)
		mantissa++;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			mantissa++;
	if (mantissa == 0)
		return false;
	if (*s == 'e' || *s == 'E') {
		s++;
		if (*s == '+' || *s == '-')
			s++;
		if (*s < '0' || *s > '9')
			return false;
		while (*s >= '0' && *s <= '9')
			s++;
	}
	return *s == '\0';
}

/* A JSON number, or a string holding a decimal number, as a double. */
static bool to_double(const json_t *v, double *out)
{
	if (json_is_integer(v)) {
		*out = (double)json_integer_value(v);
		return true;
	}
	if (json_is_real(v)) {
		*out = json_real_value(v);
		return true;
	}
	if (json_is_string(v) && is_decimal(json_string_value(v))) {
		*out = strtod(json_string_value(v), NULL);
		return true;
	}
	return false;
}

int jget_number(const struct jerr *e, const struct jpath *path, const json_t *v, double *out)
{
	if (!to_double(v, out))
		return expected(e, path, "a number", v);
	return 0;
}

/* Read an integer exactly: JSON integers, integral reals and strings of either. Returns false if not one;
 * *range_ok says whether it fits an int64. */
static bool to_int64(const json_t *v, int64_t *out, bool *range_ok)
{
	double d;

	*range_ok = true;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
		return true;
	}
	if (json_is_string(v) && is_decimal(json_string_value(v)) && strpbrk(json_string_value(v), ".eE") == NULL) {
		errno = 0;
		*out = strtoll(json_string_value(v), NULL, 10);
		*range_ok = errno != ERANGE;
		return true;
	}
	if (!to_double(v, &d) || !isfinite(d) || d != trunc(d))
		return false;
	*range_ok = d >= -9223372036854775808.0 && d < 9223372036854775808.0;
	*out = *range_ok ? (int64_t)d : 0;
	return true;
}

int jget_int(const struct jerr *e, const struct jpath *path, const json_t *v, int64_t min, int64_t max,
	     int64_t *out)
{
	bool range_ok;
	char what[80];

	if (!to_int64(v, out, &range_ok))
		return expected(e, path, "an integer", v);
	if (!range_ok || *out < min || *out > max) {
		snprintf(what, sizeof(what), "an integer between %lld and %lld", (long long)min, (long long)max);
		return expected(e, path, what, v);
	}
	return 0;
}

int jexpect(const struct jerr *e, const struct jpath *path, const json_t *v, json_type type)
{
	if (json_typeof(v) == type)
		return 0;
	return expected(e, path, type == JSON_ARRAY ? "an array" : "an object", v);
}

void jset(json_t *obj, const char *key, json_t *value)
{
	if (json_object_set_new_nocheck(obj, key, value) != 0)
		fatalx("out of memory building JSON");
}

void jappend(json_t *arr, json_t *value)
{
	if (json_array_append_new(arr, value) != 0)
		fatalx("out of memory building JSON");
}

json_t *jstr(const char *s)
{
	json_t *v = json_string_nocheck(s);
	if (v == NULL)
		fatalx("out of memory building JSON");
	return v;
}
