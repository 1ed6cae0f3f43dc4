/* Chronos job JSON in and out (reference section 2).
 *
 * Parsing is as lenient as Chronos's deserializer (unknown keys ignored; numbers and booleans may come as
 * strings; absent fields and cpus/mem/disk of 0 get the defaults baked in; JSON null counts as absent) but a
 * value that cannot be coerced is an error naming the field, e.g. `retries: expected an integer, got "abc"`.
 * Serializing writes Chronos 3.x's field order with every field present, then gnomon's `epsilon`, `async`,
 * `retryDelay` and `retryBackoff`.
 *
 * Three output forms, none of which changes the job:
 * - job_to_json(): every field, Chronos 3.x order; what was posted, normalised. Parse it back for the same job.
 * - job_to_json_compat(): the same plus Chronos's GET /jobs fill: `fetch` from `uris` when fetch is empty and
 *   `uris` from `fetch[].uri` when uris is empty. (Re-posting that output trips the uris-and-fetch check.)
 * - job_to_json_sparse(): job_to_json() minus fields at fixed defaults and minus the outcome (successCount,
 *   errorCount, lastSuccess, lastError, errorsSinceLastSuccess: the job's state holds them); the definition as
 *   stored, where start-up parse time matters. */
#ifndef GNOMON_JOB_JOB_JSON_H
#define GNOMON_JOB_JOB_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "job/job.h"

/* Flags for json_dumps() that print cpus 0.1 as `0.1` and 128 as `128.0`, fields in order, no spaces. */
#define JOB_JSON_DUMP_FLAGS (JSON_PRESERVE_ORDER | JSON_COMPACT | JSON_REAL_PRECISION(15))

/* Parse a job from JSON text. now_ms (UTC epoch ms) dates the `R1/<now>/PT24H` schedule given to a job with
 * neither `schedule` nor `parents`. Returns a new job the caller frees with job_free(), or NULL with the
 * message in err (malformed JSON, not an object, nesting over JOB_JSON_DEPTH_MAX, a string over
 * JOB_STRING_MAX, a value of the wrong type, missing name). Does not run job_validate(). */
struct job *job_from_json(const char *text, size_t len, const struct job_defaults *defaults, int64_t now_ms,
			  char *err, size_t errlen) __attribute__((warn_unused_result));
/* The same from an already parsed value (borrowed, not modified). */
struct job *job_from_json_value(json_t *root, const struct job_defaults *defaults, int64_t now_ms, char *err,
				size_t errlen) __attribute__((warn_unused_result));

/* Returns a new JSON object (the caller decrefs it) in Chronos 3.x field order: the stored form. */
json_t *job_to_json(const struct job *j);
/* Returns a new JSON object (the caller decrefs it) with the GET /jobs uris<->fetch fill applied. */
json_t *job_to_json_compat(const struct job *j);
/* Returns job_to_json() dumped with JOB_JSON_DUMP_FLAGS as a NUL-terminated string the caller frees with free()
 * (it comes from jansson's allocator, malloc unless json_set_alloc_funcs() changed it). */
char *job_to_json_string(const struct job *j);
/* Returns job_to_json_compat() dumped likewise; the caller frees it. */
char *job_to_json_string_compat(const struct job *j);

/* Returns a new JSON object (the caller decrefs it) in the same order but without the fields that are at a
 * fixed default (empty strings and arrays, false, 0, retries 2, shell true, retryBackoff 1). Parsing it gives
 * back the same job (cpus, mem, disk, runAsUser, epsilon and schedule/parents are always kept, as their defaults
 * depend on server flags or the clock). A typical job shrinks from ~640 to ~200 bytes and parses 3x faster: the
 * storage form. */
json_t *job_to_json_sparse(const struct job *j);
/* Returns job_to_json_sparse() dumped with JOB_JSON_DUMP_FLAGS; the caller frees it. */
char *job_to_json_string_sparse(const struct job *j);

/* Returns the container as a new JSON object the caller decrefs, or NULL when the job has none. */
json_t *job_container_json(const struct job *j);

#endif
