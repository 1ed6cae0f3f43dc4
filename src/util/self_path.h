/* The programs built and installed beside gnomon (gnomon-executor, gnomon-agent): found in the directory of this
 * process's own binary (/proc/self/exe), whichever of them is running. */
#ifndef GNOMON_UTIL_SELF_PATH_H
#define GNOMON_UTIL_SELF_PATH_H

#include <stddef.h>

/* The path of the program name beside this process's binary, into *out (to free); it is not checked. 0, or a
 * negative errno with a one-line message in err when /proc/self/exe cannot be read. */
int self_path_beside(const char *name, char **out, char *err, size_t errlen) __attribute__((warn_unused_result));

#endif
