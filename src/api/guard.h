/* What a request must pass before its body is read and a handler runs (README, "Security"), so that a web page
 * in an operator's browser cannot drive the API:
 * - a server listening on a loopback address answers only a Host that is a loopback name or its --hostname
 *   (421 otherwise): a DNS-rebinding page reaches it under a name of the attacker's;
 * - a request that may change something (any method but GET, HEAD and OPTIONS) that a browser marks as coming
 *   from another origin (an Origin that is not the server's own, or Sec-Fetch-Site cross-site or same-site) is
 *   refused (403) unless its origin is listed in --cors-origins; requests without those fields (curl, scripts,
 *   Chronos clients) are not concerned;
 * - a request body must be application/json (415), so no HTML form can post one;
 * - CORS headers go to listed origins only; "*" in the list lets any origin read (GET, HEAD), never change. */
#ifndef GNOMON_API_GUARD_H
#define GNOMON_API_GUARD_H

#include <stdbool.h>
#include <stddef.h>

struct api_guard;
struct http_request;

/* The guard of a server listening on address and known as hostname, with --cors-origins (comma-separated
 * origins as browsers send them, scheme://host[:port], or "*"; NULL or "": none). Returns 0 with *out (free with
 * api_guard_free), or -EINVAL with a message naming the item that is not an origin. */
int api_guard_new(const char *cors_origins, const char *address, const char *hostname, struct api_guard **out,
    char *err, size_t errlen) __attribute__((warn_unused_result));
void api_guard_free(struct api_guard *g);
/* Does the server listen on a loopback address only? */
bool api_guard_loopback(const struct api_guard *g);

/* Check a request whose head is in: answer it (421, 403 or 415, naming the field at fault) when it is refused,
 * else add the CORS headers its origin gets, if any. */
void api_guard_check(const struct api_guard *g, struct http_request *req);

/* Answer an OPTIONS request for a path whose methods are allow ("GET, DELETE"): a CORS preflight gets what its
 * origin may do (403 when nothing), a plain OPTIONS the Allow header. */
void api_guard_options(const struct api_guard *g, struct http_request *req, const char *allow);

#endif
