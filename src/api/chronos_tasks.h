/* Chronos v1 run control: manual run, kill, mark success, and Chronos 2's async task status. */
#ifndef GNOMON_API_CHRONOS_TASKS_H
#define GNOMON_API_CHRONOS_TASKS_H

#include "api/api.h"

/* PUT /job/{name}?arguments=... */
void chronos_run_job(struct api_env *env, struct http_request *req, const char *const *args);
/* PUT /job/success/{name} */
void chronos_mark_success(struct api_env *env, struct http_request *req, const char *const *args);
/* DELETE /task/kill/{name} */
void chronos_kill_tasks(struct api_env *env, struct http_request *req, const char *const *args);
/* PUT /task/{taskId} with {"statusCode": n} */
void chronos_task_status(struct api_env *env, struct http_request *req, const char *const *args);

#endif
