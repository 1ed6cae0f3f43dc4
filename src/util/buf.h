/* A growable byte buffer with a hard size cap (curl's dynbuf): appends past the cap fail with -E2BIG. */
#ifndef GNOMON_UTIL_BUF_H
#define GNOMON_UTIL_BUF_H

#include <stddef.h>

struct buf {
	char *data;    /* always NUL-terminated when non-NULL */
	size_t len;
	size_t cap;    /* allocated bytes */
	size_t limit;  /* maximum len; 0 means unlimited */
};

void buf_init(struct buf *b, size_t limit);
void buf_free(struct buf *b);
void buf_reset(struct buf *b);
/* Append n bytes; returns 0 or -E2BIG when the result would pass the limit. */
int buf_append(struct buf *b, const void *data, size_t n) __attribute__((warn_unused_result));
int buf_puts(struct buf *b, const char *s) __attribute__((warn_unused_result));
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3), warn_unused_result));
/* Hand the contents to the caller, who frees them; the buffer is left empty. */
char *buf_steal(struct buf *b, size_t *len);

#endif
