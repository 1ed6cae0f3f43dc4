/* A request's target read into its head (http_parse.c's part after http-parser framed the request): the origin
 * form /path?query, the absolute form http://host/path?query (its authority becomes the host), or "*". The path
 * and the query parameters are percent-decoded in place ('+' is a space in the query); an encoded NUL is refused.
 * No I/O, no allocation. */
#ifndef GNOMON_API_HTTP_TARGET_H
#define GNOMON_API_HTTP_TARGET_H

#include <stddef.h>

#include "api/http_parse.h"

/* Read target (a NUL-terminated copy, changed in place) into h's path, params and, for the absolute form, host
 * (copied into authority, which has room for the target's length). Returns 0, or the refusal's HTTP status (400,
 * or 414 past HTTP_PARAMS_MAX parameters) with the message, quoting the client's bytes, in msg. */
int http_target_read(struct http_head *h, char *target, char *authority, char *msg, size_t msglen);

#endif
