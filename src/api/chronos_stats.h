/* Chronos v1 run statistics: GET /job/stat/{name} and GET /stats/{percentile}. */
#ifndef GNOMON_API_CHRONOS_STATS_H
#define GNOMON_API_CHRONOS_STATS_H

#include <stddef.h>

#include "api/api.h"

void chronos_job_stat(struct api_env *env, struct http_request *req, const char *const *args);
void chronos_stats_percentile(struct api_env *env, struct http_request *req, const char *const *args);

#endif
