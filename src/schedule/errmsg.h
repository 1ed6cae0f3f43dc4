/* One-line error messages for the schedule parsers. Private to src/schedule. */
#ifndef GNOMON_SCHEDULE_ERRMSG_H
#define GNOMON_SCHEDULE_ERRMSG_H

#include <stddef.h>

#define ERRMSG_QUOTE_MAX 128

/* Write a formatted message into err (truncated to errlen; nothing if err is NULL or errlen is 0). */
void errmsg_set(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Copy at most n bytes of s into buf for quoting: control characters become '?', long input is cut (at a UTF-8
 * boundary) and ends in "...". Returns buf. */
const char *errmsg_quote(const char *s, size_t n, char buf[ERRMSG_QUOTE_MAX]);

#endif
