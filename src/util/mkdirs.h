/* Making a directory and its missing parents (mkdir -p). */
#ifndef GNOMON_UTIL_MKDIRS_H
#define GNOMON_UTIL_MKDIRS_H

#include <sys/types.h>

/* Make dir and every missing parent with mode (those that exist are left as they are). 0 or -errno. */
int mkdirs(const char *dir, mode_t mode) __attribute__((warn_unused_result));

#endif
