/* Fire times: GET /api/v1/schedule/preview?schedule=&tz=&count=&epsilon= for a schedule, and
 * GET /api/v1/jobs/{name}/next?count= for a stored job, as the engine runs them. */
#ifndef GNOMON_API_GNOMON_SCHEDULE_H
#define GNOMON_API_GNOMON_SCHEDULE_H

#include "api/api.h"

void gnomon_schedule_preview(struct api_env *env, struct http_request *req, const char *const *args);
/* {"job": name, "next": [{"utc": ..., "local": ...}, ...], "zone": ...}; 404 for an unknown job. */
void gnomon_job_next(struct api_env *env, struct http_request *req, const char *const *args);

#endif
