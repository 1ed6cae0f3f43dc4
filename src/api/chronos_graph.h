/* Chronos v1 dependency graph exports: GET /graph/dot and GET /graph/csv. */
#ifndef GNOMON_API_CHRONOS_GRAPH_H
#define GNOMON_API_CHRONOS_GRAPH_H

#include "api/api.h"

void chronos_graph_dot(struct api_env *env, struct http_request *req, const char *const *args);
void chronos_graph_csv(struct api_env *env, struct http_request *req, const char *const *args);

#endif
