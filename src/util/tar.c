#include "util/tar.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define OFF_NAME 0
#define OFF_MODE 100
#define OFF_UID 108
#define OFF_GID 116
#define OFF_SIZE 124
#define OFF_MTIME 136
#define OFF_CHKSUM 148
#define OFF_TYPE 156
#define OFF_MAGIC 257
#define OFF_VERSION 263
#define OFF_PREFIX 345
#define LEN_PREFIX 155
#define OCTAL_SIZE_MAX 077777777777ULL /* 11 octal digits */

/* Write v as len-1 octal digits and a NUL; a size that does not fit is written in base 256 (GNU tar). */
static void put_number(unsigned char *field, size_t len, uint64_t v)
{
	if (len == 12 && v > OCTAL_SIZE_MAX) {
		field[0] = 0x80;
		for (size_t i = len - 1; i >= 1; i--, v >>= 8)
			field[i] = (unsigned char)(v & 0xff);
		return;
	}
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(len - 1), (unsigned long long)v);
	memcpy(field, tmp, len - 1);
	field[len - 1] = '\0';
}

/* The sum of the header's bytes, its checksum field taken as spaces. */
static unsigned checksum(const unsigned char *b)
{
	unsigned sum = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += (i >= OFF_CHKSUM && i < OFF_CHKSUM + 8) ? ' ' : b[i];
	return sum;
}

int tar_header(unsigned char out[TAR_BLOCK], const char *name, unsigned mode, uint64_t size, int64_t mtime)
{
	size_t n = strlen(name);
	char sum[8];

	if (n >= TAR_NAME_MAX)
		return -ENAMETOOLONG;
	memset(out, 0, TAR_BLOCK);
	memcpy(out + OFF_NAME, name, n);
	put_number(out + OFF_MODE, 8, mode & 07777);
	put_number(out + OFF_UID, 8, 0);
	put_number(out + OFF_GID, 8, 0);
	put_number(out + OFF_SIZE, 12, size);
	put_number(out + OFF_MTIME, 12, mtime > 0 ? (uint64_t)mtime : 0);
	out[OFF_TYPE] = '0';
	memcpy(out + OFF_MAGIC, "ustar", 6);
	memcpy(out + OFF_VERSION, "00", 2);
	snprintf(sum, sizeof(sum), "%06o", checksum(out) & 0777777);
	memcpy(out + OFF_CHKSUM, sum, 7); /* six digits and a NUL; the eighth byte stays a space */
	out[OFF_CHKSUM + 7] = ' ';
	return 0;
}

size_t tar_padding(uint64_t size)
{
	return (size_t)((TAR_BLOCK - size % TAR_BLOCK) % TAR_BLOCK);
}

/* Read an octal field (leading spaces, digits, then NUL or spaces) or a base-256 one; -1 when it is neither. */
static int get_number(const unsigned char *field, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if (field[0] & 0x80) {
		if (field[0] != 0x80)
			return -1; /* negative, or too large */
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return -1;
			v = (v << 8) | field[i];
		}
		*out = v;
		return 0;
	}
	while (i < len && field[i] == ' ')
		i++;
	if (i == len || field[i] < '0' || field[i] > '7')
		return -1;
	for (; i < len && field[i] >= '0' && field[i] <= '7'; i++) {
		if (v >> 61)
			return -1;
		v = v * 8 + (uint64_t)(field[i] - '0');
	}
	for (; i < len; i++)
		if (field[i] != '\0' && field[i] != ' ')
			return -1;
	*out = v;
	return 0;
}

int tar_parse(const unsigned char in[TAR_BLOCK], struct tar_entry *e, char *err, size_t errlen)
{
	uint64_t sum, mode;
	size_t plen, nlen;
	int zero = 1;

	for (size_t i = 0; i < TAR_BLOCK && zero; i++)
		zero = in[i] == 0;
	if (zero)
		return 0;
	if (memcmp(in + OFF_MAGIC, "ustar", 5) != 0) {
		snprintf(err, errlen, "not a ustar header");
		return -EINVAL;
	}
	if (get_number(in + OFF_CHKSUM, 8, &sum) < 0 || sum != checksum(in)) {
		snprintf(err, errlen, "header checksum mismatch");
		return -EINVAL;
	}
	if (get_number(in + OFF_SIZE, 12, &e->size) < 0 || get_number(in + OFF_MODE, 8, &mode) < 0) {
		snprintf(err, errlen, "header field is not a number");
		return -EINVAL;
	}
	e->mode = (unsigned)(mode & 07777);
	e->type = (char)in[OFF_TYPE];
	plen = strnlen((const char *)in + OFF_PREFIX, LEN_PREFIX);
	nlen = strnlen((const char *)in + OFF_NAME, TAR_NAME_MAX);
	if (nlen == 0) {
		snprintf(err, errlen, "header without a name");
		return -EINVAL;
	}
	if (plen > 0) {
		memcpy(e->name, in + OFF_PREFIX, plen);
		e->name[plen++] = '/';
	}
	memcpy(e->name + plen, in + OFF_NAME, nlen);
	e->name[plen + nlen] = '\0';
	return 1;
}
