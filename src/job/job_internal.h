/* Helpers shared by the files of src/job/ only; not part of the job interface. */
#ifndef GNOMON_JOB_JOB_INTERNAL_H
#define GNOMON_JOB_JOB_INTERNAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "job/job.h"

/* Returns shared static storage for "" and a few common values, else a heap copy; release with str_release. */
const char *job_str_new(const char *s, size_t len);
/* Free a string from job_str_new() unless it is shared. */
void job_str_release(const char *s);

/* Return ONE allocation holding a copy of the array and its strings (NULL when n is 0); free() releases it. */
char **job_strv_pack(const char *const *v, size_t n);
struct job_fetch *job_fetch_pack(const struct job_fetch *v, size_t n);
struct job_env *job_env_pack(const struct job_env *v, size_t n);
struct job_constraint *job_constraints_pack(const struct job_constraint *v, size_t n);
/* Drop later duplicates from v[0..n-1] in place, keeping first-seen order; returns the new count. */
size_t job_strv_unique(const char **v, size_t n);

/* Where a JSON value sits, as a chain to the root, rendered only when an error names it: `fetch[1].uri`. */
struct jpath {
	const struct jpath *up;
	const char *key;  /* NULL for an array element */
	size_t index;
};

/* Where a parse error message goes. */
struct jerr {
	char *buf;
	size_t len;
};

/* Write "<path>: <message>" into e; returns -EINVAL. */
int jfail(const struct jerr *e, const struct jpath *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Type checks and coercions that each write "<path>: expected ..., got <value>" on failure (0 or -EINVAL). */
int jget_string(const struct jerr *e, const struct jpath *path, const json_t *v, const char **s, size_t *len)
	__attribute__((warn_unused_result));
int jget_bool(const struct jerr *e, const struct jpath *path, const json_t *v, bool *out)
	__attribute__((warn_unused_result));
int jget_int(const struct jerr *e, const struct jpath *path, const json_t *v, int64_t min, int64_t max,
	     int64_t *out) __attribute__((warn_unused_result));
int jget_number(const struct jerr *e, const struct jpath *path, const json_t *v, double *out)
	__attribute__((warn_unused_result));
int jexpect(const struct jerr *e, const struct jpath *path, const json_t *v, json_type type)
	__attribute__((warn_unused_result));
/* Copy s into buf for a message, cut on a UTF-8 boundary with "..." when it does not fit; returns buf. */
const char *job_clip(const char *s, char *buf, size_t size);
/* Describe a value for a message, compact and cut to fit: `"abc"`, `[1]`, `5`. */
void jdescribe(const json_t *v, char *buf, size_t size);

/* Normalise a `container` object into compact JSON text (Chronos field order, defaults filled, type, network
 * and volume modes upper-cased, ports as strings). *text is NULL when the container has no image (ignored,
 * as Chronos does); otherwise the caller frees it. Returns 0 or -EINVAL. */
int job_container_normalize(const struct jerr *e, const struct jpath *path, json_t *in, char **text)
	__attribute__((warn_unused_result));
/* Check the enumerations of a normalised container (type, network, volume modes). Returns 0 or -EINVAL. */
int job_container_validate(const char *text, char *err, size_t errlen) __attribute__((warn_unused_result));

/* Set a key of a JSON object being built, aborting on out-of-memory like xmalloc. */
void jset(json_t *obj, const char *key, json_t *value);
/* Append to a JSON array being built, aborting on out-of-memory. */
void jappend(json_t *arr, json_t *value);
/* Return a new JSON string of s (UTF-8 checked when it was parsed), aborting on out-of-memory. */
json_t *jstr(const char *s);

#endif
