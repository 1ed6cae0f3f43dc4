/* Chronos v1 job endpoints: create/replace (iso8601, dependency), list, search, summary, get, delete. */
#ifndef GNOMON_API_CHRONOS_JOBS_H
#define GNOMON_API_CHRONOS_JOBS_H

#include <stddef.h>

#include "api/api.h"
#include "auth/auth_token.h"

struct job;

/* The role a post of a job (iso8601, dependency) needs: admin, but operator when it only enables or disables an
 * existing job (the job as stored but for `disabled`, the outcome's counters left aside: what a client posts back
 * from a GET). The router asks it. */
enum auth_role chronos_job_change_role(struct api_env *env, struct http_request *req);
void chronos_post_iso8601(struct api_env *env, struct http_request *req, const char *const *args);
void chronos_post_dependency(struct api_env *env, struct http_request *req, const char *const *args);
void chronos_get_jobs(struct api_env *env, struct http_request *req, const char *const *args);
void chronos_search_jobs(struct api_env *env, struct http_request *req, const char *const *args);
void chronos_jobs_summary(struct api_env *env, struct http_request *req, const char *const *args);
void chronos_get_job(struct api_env *env, struct http_request *req, const char *const *args);
void chronos_delete_job(struct api_env *env, struct http_request *req, const char *const *args);

/* "success", "failure" or "fresh", from a job's last success and error times (Chronos Exporter.getLastState). */
const char *chronos_last_state(const struct job *j);

#endif
