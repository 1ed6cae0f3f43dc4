#include "api/chronos_jobs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <uv.h>

#include "api/api_change.h"
#include "api/api_json.h"
#include "api/api_who.h"
#include "api/http.h"
#include "control/control.h"
#include "job/job.h"
#include "job/job_json.h"
#include "schedule/schedule.h"
#include "scheduler/registry.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define LIST_CHUNK 256 /* jobs serialized per chunk of a streamed listing */

const char *chronos_last_state(const struct job *j)
{
	if (j->last_success_ms == JOB_TIME_NONE && j->last_error_ms == JOB_TIME_NONE)
		return "fresh";
	if (j->last_error_ms == JOB_TIME_NONE || j->last_success_ms > j->last_error_ms)
		return "success";
	return "failure";
}

/* A job's creation or replacement (name NULL: the request's body), or deletion (api/api_change.h: answered 204
 * once durable). */
struct job_change {
	struct api_env *env;
	char *name;
	enum control_put_kind kind;
	struct api_who who;
};

static void job_change_free(void *ctx)
{
	struct job_change *jc = ctx;
	free(jc->name);
	free(jc);
}

static void job_change_answered(void *ctx, int status)
{
	api_change_answered(ctx, status, NULL);
}

static int job_change_try(struct api_change *ch, void *ctx, const char *body, size_t len, char *err, size_t errlen)
{
	struct job_change *jc = ctx;

	if (jc->name)
		return control_delete_job_then(jc->env->control, jc->name, api_who_control(&jc->who), err, errlen,
		    job_change_answered, ch);
	return control_put_job_then(jc->env->control, body, len, jc->kind, api_who_control(&jc->who), err, errlen,
	    job_change_answered, ch);
}

/* Make a change (name: a deletion) for req: answered now or later. */
static void change_start(struct api_env *env, struct http_request *req, const char *name, enum control_put_kind kind)
{
	struct job_change *jc = xcalloc(1, sizeof(*jc));

	jc->env = env;
	jc->name = name ? xstrdup(name) : NULL;
	jc->kind = kind;
	api_who_of(env, req, &jc->who);
	api_change_start(env, req, job_change_try, jc, job_change_free);
}

/* Create or replace a job: stored (committed) before it is acknowledged. */
static void put_job(struct api_env *env, struct http_request *req, enum control_put_kind kind)
{
	change_start(env, req, NULL, kind);
}

/* Does req's body only enable or disable an existing job: the job as stored but for `disabled` (the outcome's
 * counters, which a client posts back from a GET, left aside)? */
static bool toggle_only(struct api_env *env, struct http_request *req)
{
	size_t len;
	const char *body = http_request_body(req, &len);
	char err[256];
	struct job *j = job_from_json(body ? body : "", len, env->defaults, clock_now_ms(), err, sizeof(err));
	struct jobrec *rec = j && j->name ? registry_get(env->reg, j->name) : NULL;
	json_t *posted, *stored;
	bool same;

	if (rec == NULL) {
		job_free(j);
		return false;
	}
	j->disabled = rec->job->disabled;
	posted = job_to_json_sparse(j);
	stored = job_to_json_sparse(rec->job);
	same = json_equal(posted, stored);
	json_decref(posted);
	json_decref(stored);
	job_free(j);
	return same;
}

enum auth_role chronos_job_change_role(struct api_env *env, struct http_request *req)
{
	return toggle_only(env, req) ? AUTH_OPERATOR : AUTH_ADMIN;
}

void chronos_post_iso8601(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	put_job(env, req, CONTROL_PUT_ANY);
}

void chronos_post_dependency(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	put_job(env, req, CONTROL_PUT_DEPENDENT);
}

/* A streamed listing of every job in creation order: GET /jobs and GET /jobs/summary. Slots keep their
 * index while the listing holds the registry, so jobs deleted meanwhile are skipped, not shifted. */
struct listing {
	struct api_env *env;
	size_t next;
	size_t emitted;
	bool summary;
	bool started;
};

static void append_summary(const struct control *control, struct buf *out, const struct jobrec *rec)
{
	const struct job *j = rec->job;
	char state[32];
	json_t *parents = json_array();
	for (uint32_t i = 0; i < j->n_parents; i++)
		json_array_append_new(parents, json_string(j->parents[i]));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "name", j->name, "status", chronos_last_state(j),
	    "state", control_job_state(control, rec, state, sizeof(state)), "schedule", j->dependent ? "" : j->schedule,
	    "parents", parents, "disabled", j->disabled);
	char *text = json_dumps(o, JOB_JSON_DUMP_FLAGS);
	json_decref(o);
	if (buf_puts(out, text) < 0)
		fatalx("unbounded buffer refused data");
	free(text);
}

static int listing_next(void *arg, struct buf *out)
{
	struct listing *l = arg;
	struct registry *reg = l->env->reg;
	int n = 0;

	if (!l->started) {
		l->started = true;
		if (buf_puts(out, l->summary ? "{\"jobs\":[" : "[") < 0)
			return -1;
	}
	for (; l->next < registry_slots(reg) && n < LIST_CHUNK; l->next++) {
		struct jobrec *rec = registry_slot(reg, l->next);
		if (rec == NULL)
			continue;
		if (l->emitted++ > 0 && buf_puts(out, ",") < 0)
			return -1;
		if (l->summary) {
			append_summary(l->env->control, out, rec);
		} else {
			char *text = job_to_json_string_compat(rec->job);
			int rc = buf_puts(out, text);
			free(text);
			if (rc < 0)
				return -1;
		}
		n++;
	}
	if (l->next < registry_slots(reg))
		return 1;
	return buf_puts(out, l->summary ? "]}" : "]") < 0 ? -1 : 0;
}

static void listing_free(void *arg)
{
	struct listing *l = arg;
	registry_release(l->env->reg);
	free(l);
}

static void respond_listing(struct api_env *env, struct http_request *req, bool summary)
{
	struct listing *l = xcalloc(1, sizeof(*l));
	l->env = env;
	l->summary = summary;
	registry_hold(env->reg);
	http_respond_stream(req, 200, "application/json", listing_next, l, listing_free);
}

void chronos_get_jobs(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	respond_listing(env, req, false);
}

void chronos_jobs_summary(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	respond_listing(env, req, true);
}

/* Parse a non-negative integer query parameter; returns 0, or -EINVAL after answering 400. */
static int query_count(struct http_request *req, const char *key, long long def, long long *out)
{
	const char *v = http_request_query(req, key);
	char *end;
	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (errno || *end != '\0' || *out < 0) {
		http_respond_error(req, 400, "%s: expected a non-negative integer, got '%s'", key, v);
		return -EINVAL;
	}
	return 0;
}

static bool contains(const char *haystack, const char *needle)
{
	return needle == NULL || *needle == '\0' || strcasestr(haystack, needle) != NULL;
}

/* Chronos's search: (name matches AND command matches) OR `any` in name or command; then offset/limit. */
void chronos_search_jobs(struct api_env *env, struct http_request *req, const char *const *args)
{
	const char *name = http_request_query(req, "name"), *command = http_request_query(req, "command");
	const char *any = http_request_query(req, "any");
	long long limit, offset, seen = 0;
	json_t *out;
	(void)args;

	if (query_count(req, "limit", 10, &limit) < 0 || query_count(req, "offset", 0, &offset) < 0)
		return;
	out = json_array();
	for (size_t i = 0; i < registry_slots(env->reg) && (long long)json_array_size(out) < limit; i++) {
		struct jobrec *rec = registry_slot(env->reg, i);
		if (rec == NULL)
			continue;
		const struct job *j = rec->job;
		bool hit = contains(j->name, name) && contains(j->command, command);
		if (!hit && any && *any)
			hit = strcasestr(j->name, any) || strcasestr(j->command, any);
		if (hit && seen++ >= offset)
			json_array_append_new(out, job_to_json_compat(j));
	}
	http_respond_json(req, 200, out);
}

/* Look a job up by the path's name; answers 404 when it does not exist. */
static struct jobrec *find_job(struct api_env *env, struct http_request *req, const char *name)
{
	struct jobrec *rec = registry_get(env->reg, name);
	if (rec == NULL)
		http_respond_error(req, 404, "Job '%s' not found", name);
	return rec;
}

void chronos_get_job(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct jobrec *rec = find_job(env, req, args[0]);
	/* The job as posted (a round trip is identical); only the listings add the uris/fetch mirror. */
	if (rec)
		http_respond_json(req, 200, job_to_json(rec->job));
}

/* Delete a job; its children are re-parented in the same transaction. */
void chronos_delete_job(struct api_env *env, struct http_request *req, const char *const *args)
{
	change_start(env, req, args[0], CONTROL_PUT_ANY);
}
