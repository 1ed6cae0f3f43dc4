/* GET /api/v1/openapi.json: the OpenAPI 3.0 document of the Chronos v1 routes and gnomon's own, docs/openapi.json
 * embedded at build time (cmake/embed_file.cmake). tests/unit/test_openapi.c holds it against api_routes(). */
#ifndef GNOMON_API_GNOMON_OPENAPI_H
#define GNOMON_API_GNOMON_OPENAPI_H

#include <stddef.h>

#include "api/api.h"

/* docs/openapi.json's bytes (NUL-terminated) and their count without the NUL. */
extern const unsigned char openapi_json[];
extern const size_t openapi_json_len;

void gnomon_openapi(struct api_env *env, struct http_request *req, const char *const *args);

#endif
