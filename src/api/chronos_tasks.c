#include "api/chronos_tasks.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api_json.h"
#include "api/http.h"
#include "job/job.h"
#include "scheduler/engine.h"
#include "scheduler/events.h"
#include "scheduler/registry.h"
#include "store/store.h"
#include "util/log.h"
#include "util/xmalloc.h"

static struct jobrec *find_job(struct api_env *env, struct http_request *req, const char *name)
{
	struct jobrec *rec = registry_get(env->reg, name);
	if (rec == NULL)
		http_respond_error(req, 404, "Job '%s' not found", name);
	return rec;
}

void chronos_run_job(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct jobrec *rec = find_job(env, req, args[0]);
	const char *arguments = http_request_query(req, "arguments");
	char err[512];
	int rc;

	if (rec == NULL)
		return;
	rc = engine_run_now(env->engine, rec, arguments && *arguments ? arguments : NULL, err, sizeof(err));
	if (rc < 0) {
		http_respond_error(req, rc == -EINVAL ? 400 : api_store_status(rc), "%s", err); /* 400: bad arguments */
		return;
	}
	http_respond(req, 204, NULL, NULL, 0);
}

void chronos_mark_success(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct jobrec *rec = find_job(env, req, args[0]);
	int rc, ok;
	if (rec == NULL)
		return;
	rc = engine_mark_success(env->engine, rec);
	if (rc == -ENOSPC) {
		http_respond_error(req, 507, "store: could not record the success: %s", store_errmsg(env->store));
		return;
	}
	ok = rc == 0;
	if (ok) {
		struct event ev = {.type = EVENT_JOB_STATE, .job = rec->job, .job_name = rec->job->name};
		events_emit(env->events, &ev);
	}
	char *body = xasprintf("marked job %s as successful: %s", args[0], ok ? "true" : "false");
	http_respond(req, 200, "text/plain", body, strlen(body));
}

void chronos_kill_tasks(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct jobrec *rec = find_job(env, req, args[0]);
	if (rec == NULL)
		return;
	log_info("job '%s': %d run(s) killed on request", args[0], engine_kill_job(env->engine, rec));
	http_respond(req, 204, NULL, NULL, 0);
}

void chronos_task_status(struct api_env *env, struct http_request *req, const char *const *args)
{
	size_t len;
	const char *body = http_request_body(req, &len);
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *code;
	char err[512];

	if (root == NULL || !json_is_object(root) || !json_is_integer(code = json_object_get(root, "statusCode"))) {
		json_decref(root);
		http_respond_error(req, 400, "statusCode: required, an integer (0 for success)");
		return;
	}
	int rc = engine_task_status(env->engine, args[0], (int)json_integer_value(code), err, sizeof(err));
	json_decref(root);
	if (rc == -ENOENT)
		http_respond_error(req, 404, "%s", err);
	else if (rc < 0)
		http_respond_error(req, 400, "%s", err);
	else
		http_respond(req, 204, NULL, NULL, 0);
}
