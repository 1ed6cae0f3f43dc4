#include "api/chronos_tasks.h"

#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "api/api_json.h"
#include "api/http.h"
#include "job/job.h"
#include "job/task_id.h"
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
	char err[512], peer[HTTP_PEER_MAX];
	int rc;

	if (rec == NULL)
		return;
	http_request_peer(req, peer, sizeof(peer));
	rc = engine_run_now(env->engine, rec, arguments && *arguments ? arguments : NULL, peer, err, sizeof(err));
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
		char peer[HTTP_PEER_MAX];
		http_request_peer(req, peer, sizeof(peer));
		log_info_kv(LOG_FIELDS(.event = "job.marked_success", .job = rec->job->name, .remote = peer),
		    "job '%s' marked successful by %s", rec->job->name, peer);
		struct event ev = {.type = EVENT_JOB_STATE, .job = rec->job, .job_name = rec->job->name};
		events_emit(env->events, &ev);
	}
	char *body = xasprintf("marked job %s as successful: %s", args[0], ok ? "true" : "false");
	http_respond(req, 200, "text/plain", body, strlen(body));
}

void chronos_kill_tasks(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct jobrec *rec = find_job(env, req, args[0]);
	char peer[HTTP_PEER_MAX];
	int n;

	if (rec == NULL)
		return;
	http_request_peer(req, peer, sizeof(peer));
	n = engine_kill_job(env->engine, rec);
	log_info_kv(LOG_FIELDS(.event = "job.killed", .job = rec->job->name, .remote = peer),
	    "job '%s': %d run(s) killed on request of %s", rec->job->name, n, peer);
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
	int status = (int)json_integer_value(code);
	int rc = engine_task_status(env->engine, args[0], status, err, sizeof(err));
	char peer[HTTP_PEER_MAX];
	struct task_id id;

	json_decref(root);
	if (rc == 0) {
		http_request_peer(req, peer, sizeof(peer));
		log_info_kv(LOG_FIELDS(.event = "run.status_reported", .job = task_id_parse(args[0], &id) == 0 ?
				id.job_name : NULL, .task_id = args[0], .remote = peer),
		    "run %s reported status %d from %s", args[0], status, peer);
	}
	if (rc == -ENOENT)
		http_respond_error(req, 404, "%s", err);
	else if (rc < 0)
		http_respond_error(req, 400, "%s", err);
	else
		http_respond(req, 204, NULL, NULL, 0);
}
