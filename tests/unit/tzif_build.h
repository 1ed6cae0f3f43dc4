/* Test helper: hand-made TZif files (versions 1 to 4, one designation "ABC", a POSIX footer). Include after
 * <cmocka.h> and "schedule_times.h". */
#ifndef GNOMON_TESTS_TZIF_BUILD_H
#define GNOMON_TESTS_TZIF_BUILD_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define H 3600
#define S(text) (T(text) / 1000)

struct ttype {
	int32_t off;
	uint8_t dst;
};

struct spec {
	int version; /* 1 to 4 */
	int ntypes;
	struct ttype types[4];
	int ntrans;
	const char *at[8]; /* instants as text, or "big bang" (-2^59 s, as zic writes) */
	uint8_t idx[8];
	const char *footer; /* NULL: an empty footer line (version 2+) */
};

static inline uint8_t *put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
	return p + 4;
}

static inline uint8_t *put64(uint8_t *p, int64_t v)
{
	return put32(put32(p, (uint32_t)((uint64_t)v >> 32)), (uint32_t)v);
}

static inline int64_t at_secs(const char *text)
{
	return strcmp(text, "big bang") == 0 ? -(INT64_C(1) << 59) : S(text);
}

static inline uint8_t *header(uint8_t *p, int version, uint32_t timecnt, uint32_t typecnt)
{
	memcpy(p, "TZif", 4);
	p[4] = version == 1 ? 0 : (uint8_t)('0' + version);
	memset(p + 5, 0, 15);
	p = put32(p + 20, 0);         /* isutcnt */
	p = put32(p, 0);              /* isstdcnt */
	p = put32(p, 0);              /* leapcnt */
	p = put32(p, timecnt);
	p = put32(p, typecnt);
	return put32(p, 4);           /* charcnt: "ABC\0" */
}

static inline uint8_t *data(uint8_t *p, const struct spec *s, int timesize)
{
	for (int i = 0; i < s->ntrans; i++)
		p = timesize == 8 ? put64(p, at_secs(s->at[i])) : put32(p, (uint32_t)(int32_t)at_secs(s->at[i]));
	for (int i = 0; i < s->ntrans; i++)
		*p++ = s->idx[i];
	for (int i = 0; i < s->ntypes; i++) {
		p = put32(p, (uint32_t)s->types[i].off);
		*p++ = s->types[i].dst;
		*p++ = 0;
	}
	memcpy(p, "ABC", 4);
	return p + 4;
}

/* The file of a spec into buf; its length. */
static inline size_t build(const struct spec *s, uint8_t *buf)
{
	uint8_t *p = buf;

	if (s->version == 1)
		return (size_t)(data(header(p, 1, (uint32_t)s->ntrans, (uint32_t)s->ntypes), s, 4) - buf);
	/* a minimal version 1 block, as a 64-bit-only writer may leave it */
	p = header(p, s->version, 0, 1);
	p = put32(p, 0);
	*p++ = 0;
	*p++ = 0;
	memcpy(p, "ABC", 4);
	p += 4;
	p = data(header(p, s->version, (uint32_t)s->ntrans, (uint32_t)s->ntypes), s, 8);
	p += sprintf((char *)p, "\n%s\n", s->footer ? s->footer : "");
	return (size_t)(p - buf);
}

#endif
