#include "job/job_words.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xmalloc.h"

static bool blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n';
}

/* The words of s, each followed by a NUL, into buf (strlen(s) + 1 bytes always suffice: a word of n bytes takes
 * at least n input characters plus a blank or the end); returns the word count or -EINVAL with err. */
static int split(const char *s, char *buf, char *err, size_t errlen)
{
	char *w = buf;
	int words = 0;

	for (const char *p = s; *p;) {
		if (blank(*p)) {
			p++;
			continue;
		}
		for (; *p && !blank(*p); p++) {
			if (*p == '\'') {
				const char *end = strchr(p + 1, '\'');
				if (end == NULL) {
					snprintf(err, errlen, "arguments: unterminated single quote");
					return -EINVAL;
				}
				memcpy(w, p + 1, (size_t)(end - p - 1));
				w += end - p - 1;
				p = end;
			} else if (*p == '"') {
				for (p++; *p && *p != '"'; p++) {
					if (*p == '\\' && p[1] == '\n')
						p++;
					else if (*p == '\\' && p[1] && strchr("$`\"\\", p[1]))
						*w++ = *++p;
					else
						*w++ = *p;
				}
				if (*p == '\0') {
					snprintf(err, errlen, "arguments: unterminated double quote");
					return -EINVAL;
				}
			} else if (*p == '\\' && p[1] == '\n') {
				p++;
			} else if (*p == '\\' && p[1]) {
				*w++ = *++p;
			} else {
				*w++ = *p;
			}
		}
		*w++ = '\0';
		words++;
	}
	return words;
}

int job_words_split(const char *s, char ***out, size_t *n, char *err, size_t errlen)
{
	size_t len = strlen(s) + 1;
	char *buf = xmalloc(len), **v, *dst;
	int words = split(s, buf, err, errlen);

	if (words < 0) {
		free(buf);
		return words;
	}
	v = xmalloc((size_t)(words + 1) * sizeof(*v) + len);
	dst = (char *)(v + words + 1);
	memcpy(dst, buf, len);
	for (int i = 0; i < words; i++) {
		v[i] = dst;
		dst += strlen(dst) + 1;
	}
	v[words] = NULL;
	free(buf);
	*out = v;
	if (n)
		*n = (size_t)words;
	return 0;
}
