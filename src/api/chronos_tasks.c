#include "api/chronos_tasks.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api_json.h"
#include "api/api_who.h"
#include "api/http.h"
#include "control/control.h"
#include "util/xmalloc.h"

void chronos_run_job(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *arguments = http_request_query(req, "arguments");
	char err[512];
	struct api_who who;
	int rc;

	api_who_of(env, req, &who);
	rc = control_run_now(env->control, args[0], arguments && *arguments ? arguments : NULL, api_who_control(&who),
	    err, sizeof(err));
	if (rc < 0) {
		http_respond_error(req, api_control_status(rc), "%s", err); /* 400: bad arguments */
		return;
	}
	http_respond(req, 204, NULL, NULL, 0);
}

void chronos_mark_success(struct api_env *env, struct http_request *req, const char *const *args)
{
	char err[512];
	struct api_who who;
	int rc;

	api_who_of(env, req, &who);
	rc = control_mark_success(env->control, args[0], api_who_control(&who), err, sizeof(err));
	if (rc == -ENOENT || rc == -ENOSPC) {
		http_respond_error(req, api_control_status(rc), "%s", err);
		return;
	}
	/* Chronos answers 200 "false" when the success could not be recorded. */
	char *body = xasprintf("marked job %s as successful: %s", args[0], rc == 0 ? "true" : "false");
	http_respond(req, 200, "text/plain", body, strlen(body));
}

void chronos_kill_tasks(struct api_env *env, struct http_request *req, const char *const *args)
{
	char err[512];
	struct api_who who;
	int killed;

	api_who_of(env, req, &who);
	if (control_kill(env->control, args[0], api_who_control(&who), &killed, err, sizeof(err)) < 0)
		http_respond_error(req, 404, "%s", err);
	else
		http_respond(req, 204, NULL, NULL, 0);
}

void chronos_task_status(struct api_env *env, struct http_request *req, const char *const *args)
{
	size_t len;
	const char *body = http_request_body(req, &len);
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *code;
	char err[512];
	struct api_who who;
	int status, rc;

	if (root == NULL || !json_is_object(root) || !json_is_integer(code = json_object_get(root, "statusCode"))) {
		json_decref(root);
		http_respond_error(req, 400, "statusCode: required, an integer (0 for success)");
		return;
	}
	status = (int)json_integer_value(code);
	json_decref(root);
	api_who_of(env, req, &who);
	rc = control_task_status(env->control, args[0], status, api_who_control(&who), err, sizeof(err));
	if (rc == -ENOENT)
		http_respond_error(req, 404, "%s", err);
	else if (rc < 0)
		http_respond_error(req, 400, "%s", err);
	else
		http_respond(req, 204, NULL, NULL, 0);
}
