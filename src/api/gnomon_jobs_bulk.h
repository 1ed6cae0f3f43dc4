/* Many jobs in one request (restores, imports, `gnomon job add` of an array): POST /api/v1/jobs. */
#ifndef GNOMON_API_GNOMON_JOBS_BULK_H
#define GNOMON_API_GNOMON_JOBS_BULK_H

#include "api/api.h"

/* POST /api/v1/jobs[?dryRun=1]: the body a JSON array of Chronos jobs, checked together and written in one
 * transaction, parents first (control_put_jobs_then). 200 {"jobs": [{"name", "result": "created"|"updated"}],
 * "dryRun"} once durable (in the array's order); 400 naming every refused job (then nothing is written). */
void gnomon_post_jobs(struct api_env *env, struct http_request *req, const char *const *args);

#endif
