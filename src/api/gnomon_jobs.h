/* gnomon's job listing for people (the web UI): filtered, sorted and paged on the server, each job with its
 * schedule in words, its state, last result and next run; and the overview of the whole scheduler. */
#ifndef GNOMON_API_GNOMON_JOBS_H
#define GNOMON_API_GNOMON_JOBS_H

#include <jansson.h>
#include <stdbool.h>

#include "api/api.h"

struct jobrec;

/* GET /api/v1/jobs?q=&name=&command=&owner=&state=&result=&sort=&order=&limit=&offset=&strip= (strip=N: each job
 * with its last N runs, brief, as "recent", and its retries + 1 as "tries") */
void gnomon_list_jobs(struct api_env *env, struct http_request *req, const char *const *args);
/* GET /api/v1/jobs/{name}: one job as the listing shows it; 404 if unknown */
void gnomon_get_job_summary(struct api_env *env, struct http_request *req, const char *const *args);
/* GET /api/v1/overview */
void gnomon_overview(struct api_env *env, struct http_request *req, const char *const *args);
/* One job as the listing shows it (new reference). */
json_t *gnomon_job_summary(struct api_env *env, const struct jobrec *rec);

/* The listing's filters (q, name, command, owner, state, result) of a request: 0, or -EINVAL after answering 400
 * for a state or result it does not know. */
int gnomon_jobs_check_filter(struct http_request *req) __attribute__((warn_unused_result));
/* Whether a job passes the request's filters. */
bool gnomon_jobs_match(struct api_env *env, struct http_request *req, const struct jobrec *rec);

#endif
