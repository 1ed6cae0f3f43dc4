/* JSON pieces shared by gnomon's own API handlers: client-sent text made safe, times, runs, and integer query
 * parameters with 400 answers that name the parameter. */
#ifndef GNOMON_API_API_JSON_H
#define GNOMON_API_API_JSON_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "history/run_record.h"

#define API_QUOTE_MAX 256 /* longest client-sent value quoted in an error message */

struct http_request;

/* A JSON string of s (NULL: ""); bytes that are not valid UTF-8 become U+FFFD. */
json_t *api_text(const char *s);
/* A copy of s fit to quote in an error message, into buf (valid UTF-8, cut with "..." when too long). */
const char *api_quoted(const char *s, char *buf, size_t len);
/* An ISO 8601 UTC time, or null for RUN_TIME_NONE. */
json_t *api_time_or_null(int64_t ms);
/* The JSON of a run (the shape of GET /api/v1/runs/{taskId}); now_ms gives a running run's duration so far. */
json_t *api_run_json(const struct run_record *r, int64_t now_ms);
/* The status of an answer to a store failure rc: 507 Insufficient Storage when the disk is full (-ENOSPC),
 * 500 otherwise. */
int api_store_status(int rc);
/* The status of an answer to a control command's failure rc (control/control.h): 404 no such job, 400 refused,
 * 503 not leading, busy or the store out of reach (-EAGAIN, -EBUSY, -ENOTCONN, -ECONNRESET, -ETIMEDOUT, -ESTALE,
 * -ECANCELED), else as a store failure. */
int api_control_status(int rc);
/* Parse an integer query parameter in [min, max] (def when absent or empty); returns 0, or -EINVAL after
 * answering 400 with a message naming the parameter and what was expected (what). */
int api_query_int(struct http_request *req, const char *key, long long def, long long min, long long max,
    const char *what, long long *out) __attribute__((warn_unused_result));

#endif
