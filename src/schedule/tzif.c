#include "schedule/tzif.h"

#include <string.h>

#include "util/xmalloc.h"

#define HEADER_LEN 44
#define FOOTER_MAX 256

struct header {
	int version; /* 1, 2, 3, 4 ... */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

bool tzif_is_tzif(const uint8_t *buf, size_t len)
{
	return len >= 4 && memcmp(buf, "TZif", 4) == 0;
}

static const char *read_header(const uint8_t *p, size_t len, struct header *h)
{
	if (len < HEADER_LEN || !tzif_is_tzif(p, len))
		return "not a TZif file (no TZif header)";
	if (p[4] == 0)
		h->version = 1;
	else if (p[4] >= '2' && p[4] <= '9')
		h->version = p[4] - '0';
	else
		return "unknown TZif version";
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	if (h->typecnt == 0 || h->typecnt > 256)
		return "the number of local time types must be 1 to 256";
	if (h->charcnt == 0)
		return "no time zone designations";
	if ((h->isutcnt != 0 && h->isutcnt != h->typecnt) || (h->isstdcnt != 0 && h->isstdcnt != h->typecnt))
		return "the UT and standard indicators must be none or one per type";
	if (h->timecnt > TZIF_MAX_TRANSITIONS)
		return "too many transitions";
	if (h->leapcnt != 0)
		return "leap seconds are not supported (a right/ zone?)";
	return NULL;
}

/* Bytes of the data block after a header, with times of timesize bytes. */
static uint64_t block_len(const struct header *h, unsigned timesize)
{
	return (uint64_t)h->timecnt * timesize + h->timecnt + (uint64_t)h->typecnt * 6 + h->charcnt +
		(uint64_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

/* The offsets of the local time types, checked. */
static const char *read_types(const struct header *h, const uint8_t *p, int32_t off[256])
{
	for (uint32_t i = 0; i < h->typecnt; i++, p += 6) {
		off[i] = (int32_t)be32(p);
		if (off[i] < TZ_OFFSET_MIN || off[i] > TZ_OFFSET_MAX)
			return "a UT offset is out of range";
		if (p[4] > 1)
			return "a DST indicator is neither 0 nor 1";
		if (p[5] >= h->charcnt)
			return "a designation index is out of range";
	}
	return NULL;
}

/* The transitions of a data block into r (which owns the arrays from then on). */
static const char *read_block(const struct header *h, const uint8_t *p, unsigned timesize, struct tz_rules *r)
{
	const uint8_t *idx = p + (size_t)h->timecnt * timesize;
	int32_t off[256];
	const char *why = read_types(h, idx + h->timecnt, off);
	int64_t prev = 0;

	if (why != NULL)
		return why;
	r->off0 = off[0];
	r->at = xmalloc((h->timecnt ? h->timecnt : 1) * sizeof(*r->at));
	r->off = xmalloc((h->timecnt ? h->timecnt : 1) * sizeof(*r->off));
	for (uint32_t i = 0; i < h->timecnt; i++) {
		int64_t t = timesize == 8 ? be64(p + (size_t)i * 8) : (int32_t)be32(p + (size_t)i * 4);
		if (idx[i] >= h->typecnt)
			return "a transition's type index is out of range";
		if (i > 0 && t <= prev)
			return "transition times are not in increasing order";
		prev = t;
		if (t > TZ_TIME_LIMIT)
			return "a transition time is out of range";
		if (t < -TZ_TIME_LIMIT) {
			r->off0 = off[idx[i]]; /* long before any schedule: its offset is the earliest one */
			continue;
		}
		r->at[r->n] = t;
		r->off[r->n++] = off[idx[i]];
	}
	return NULL;
}

/* The footer after a version 2+ data block: "\n" TZ string "\n". */
static const char *read_footer(const uint8_t *p, size_t len, struct tz_rules *r)
{
	const uint8_t *nl;
	const char *why;

	if (len == 0 || p[0] != '\n')
		return "the footer must begin with a newline";
	nl = memchr(p + 1, '\n', len - 1 < FOOTER_MAX ? len - 1 : FOOTER_MAX);
	if (nl == NULL)
		return "the footer must end with a newline (and be short)";
	if (nl == p + 1)
		return NULL;
	if ((why = tz_posix_parse((const char *)p + 1, (size_t)(nl - p - 1), &r->footer)) != NULL)
		return why;
	r->has_footer = true;
	return NULL;
}

const char *tzif_parse(const uint8_t *buf, size_t len, struct tz_rules **out)
{
	struct tz_rules *r = xcalloc(1, sizeof(*r));
	struct header h;
	const char *why;
	size_t pos = 0;
	uint64_t n;

	*out = NULL;
	if ((why = read_header(buf, len, &h)) != NULL)
		goto fail;
	n = block_len(&h, 4);
	if (n > len - HEADER_LEN) {
		why = "the file is shorter than its header says";
		goto fail;
	}
	if (h.version == 1) {
		why = read_block(&h, buf + HEADER_LEN, 4, r);
		goto done;
	}
	/* version 2+: the 32-bit block is for old readers; the 64-bit one and the footer follow */
	pos = HEADER_LEN + (size_t)n;
	if ((why = read_header(buf + pos, len - pos, &h)) != NULL)
		goto fail;
	n = block_len(&h, 8);
	if (n > len - pos - HEADER_LEN) {
		why = "the file is shorter than its second header says";
		goto fail;
	}
	if ((why = read_block(&h, buf + pos + HEADER_LEN, 8, r)) != NULL)
		goto fail;
	pos += HEADER_LEN + (size_t)n;
	why = read_footer(buf + pos, len - pos, r);
done:
	if (why == NULL) {
		*out = r;
		return NULL;
	}
fail:
	tz_rules_free(r);
	return why;
}
