/* gnomon's own run API, what Chronos never showed: a job's runs, one run, and its captured output. */
#ifndef GNOMON_API_GNOMON_RUNS_H
#define GNOMON_API_GNOMON_RUNS_H

#include "api/api.h"

/* GET /api/v1/jobs/{name}/runs?limit=&before= */
void gnomon_list_runs(struct api_env *env, struct http_request *req, const char *const *args);
/* GET /api/v1/runs/{taskId} */
void gnomon_get_run(struct api_env *env, struct http_request *req, const char *const *args);
/* GET /api/v1/runs/{taskId}/log?stream=stdout|stderr|both[&follow=1] (both: api/gnomon_log_both.h, not followed) */
void gnomon_run_log(struct api_env *env, struct http_request *req, const char *const *args);

#endif
