/* Allocation wrappers that abort on out-of-memory, so callers never handle it (tmux, Redis). */
#ifndef GNOMON_UTIL_XMALLOC_H
#define GNOMON_UTIL_XMALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Returns a copy the caller frees. */
char *xstrdup(const char *s);
/* Returns a copy of the first n bytes (NUL-terminated) the caller frees. */
char *xstrndup(const char *s, size_t n);
/* Returns a formatted string the caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
