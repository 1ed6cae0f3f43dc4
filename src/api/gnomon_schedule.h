/* GET /api/v1/schedule/preview?schedule=&tz=&count=: the next fire times of a schedule. */
#ifndef GNOMON_API_GNOMON_SCHEDULE_H
#define GNOMON_API_GNOMON_SCHEDULE_H

#include "api/api.h"

void gnomon_schedule_preview(struct api_env *env, struct http_request *req, const char *const *args);

#endif
