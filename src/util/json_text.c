/* A JSON string of any C string (json_text.h). */
#include "util/json_text.h"

#include <stddef.h>

#include "util/buf.h"
#include "util/log.h"

/* The length of the UTF-8 sequence that starts with byte c (0 for a byte no sequence starts with). */
static size_t utf8_len(unsigned char c)
{
	if (c < 0x80)
		return 1;
	if ((c & 0xe0) == 0xc0)
		return 2;
	if ((c & 0xf0) == 0xe0)
		return 3;
	return (c & 0xf8) == 0xf0 ? 4 : 0;
}

json_t *json_text(const char *s)
{
	json_t *v = json_string(s ? s : "");
	struct buf fixed;

	if (v != NULL)
		return v;
	buf_init(&fixed, 0);
	for (const char *p = s; *p;) {
		size_t n = utf8_len((unsigned char)*p);
		json_t *valid = n ? json_stringn(p, n) : NULL;
		int rc = valid ? buf_append(&fixed, p, n) : buf_puts(&fixed, "\xef\xbf\xbd");

		p += valid ? n : 1;
		json_decref(valid);
		if (rc < 0)
			fatalx("unbounded buffer refused data");
	}
	v = json_stringn(fixed.data ? fixed.data : "", fixed.len);
	buf_free(&fixed);
	return v;
}
