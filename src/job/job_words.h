/* Split a manual run's arguments string into argv words as a POSIX shell would, without expanding anything.
 * Pure: no I/O. */
#ifndef GNOMON_JOB_JOB_WORDS_H
#define GNOMON_JOB_JOB_WORDS_H

#include <stddef.h>

/* Split s into words: unquoted blanks (space, tab, newline) separate them; '...' keeps everything up to the next
 * single quote; "..." keeps everything except that a backslash before $ ` " \ keeps just that character and a
 * backslash-newline disappears; an unquoted backslash keeps the next character (backslash-newline disappears, a
 * final backslash stays). Nothing is expanded: $, `, *, ~, | and the like are plain characters. Returns 0 with a
 * NULL-terminated array in ONE allocation the caller frees with free() (its count in *n, may be NULL), or -EINVAL
 * with "arguments: unterminated single quote" or "... double quote" in err. */
int job_words_split(const char *s, char ***out, size_t *n, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
