#include "schedule/errmsg.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void errmsg_set(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	if (err != NULL && errlen > 0)
		vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *errmsg_quote(const char *s, size_t n, char buf[ERRMSG_QUOTE_MAX])
{
	size_t keep = strnlen(s, n), max = ERRMSG_QUOTE_MAX - 4, i;
	int cut = keep > max;

	if (cut) {
		keep = max;
		while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80)
			keep--;
	}
	for (i = 0; i < keep; i++) {
		unsigned char c = (unsigned char)s[i];
		buf[i] = s[i];
		if (c < 0x20 || c == 0x7F)
			buf[i] = '?';
	}
	if (cut) {
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
	return buf;
}
