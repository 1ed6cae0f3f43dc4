/* GET /api/v1/graph.svg[?job=NAME]: the dependency graph drawn by Graphviz, nodes coloured by last result. */
#ifndef GNOMON_API_GNOMON_GRAPH_H
#define GNOMON_API_GNOMON_GRAPH_H

#include "api/api.h"

void gnomon_graph_svg(struct api_env *env, struct http_request *req, const char *const *args);

#endif
