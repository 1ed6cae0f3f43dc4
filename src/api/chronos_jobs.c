#include "api/chronos_jobs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/api_json.h"
#include "api/http.h"
#include "job/job.h"
#include "job/job_json.h"
#include "schedule/schedule.h"
#include "scheduler/engine.h"
#include "scheduler/events.h"
#include "scheduler/registry.h"
#include "store/store.h"
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

const char *chronos_current_state(const struct jobrec *rec, char *buf, size_t len)
{
	return engine_job_state(rec, buf, len);
}

/* A job re-posted from GET /jobs carries the compatibility mirror (uris filled from fetch[].uri): when uris is
 * exactly that mirror, drop it, so the job reads as it was posted and is not refused for having both. */
static void drop_uris_mirror(struct job *job)
{
	if (job->n_uris == 0 || job->n_uris != job->n_fetch)
		return;
	for (uint32_t i = 0; i < job->n_uris; i++)
		if (strcmp(job->uris[i], job->fetch[i].uri) != 0)
			return;
	job_set_uris(job, NULL, 0);
}

/* Parse and check a posted job; returns the job or NULL after answering 400. */
static struct job *parse_posted(struct api_env *env, struct http_request *req, bool dependency_endpoint)
{
	char err[1024];
	size_t len;
	const char *body = http_request_body(req, &len);
	struct job *job = job_from_json(body, len, env->defaults, clock_now_ms(), err, sizeof(err));
	struct schedule sched;

	if (job == NULL)
		goto bad;
	drop_uris_mirror(job);
	if (job_validate(job, err, sizeof(err)) < 0)
		goto bad;
	if (dependency_endpoint && !job->dependent) {
		snprintf(err, sizeof(err), "parents: required: a dependent job names the jobs it runs after");
		goto bad;
	}
	if (job->dependent) {
		if (job->n_parents == 0) {
			snprintf(err, sizeof(err), "parents: a dependent job needs at least one parent");
			goto bad;
		}
		if (registry_check_parents(env->reg, job, err, sizeof(err)) < 0)
			goto bad;
	} else if (schedule_parse(env->zones, job->schedule, job->schedule_time_zone, clock_now_ms(), &sched, err,
		       sizeof(err)) < 0) {
		goto bad;
	}
	return job;
bad:
	job_free(job);
	http_respond_error(req, 400, "%s", err);
	return NULL;
}

static void tell_job(struct api_env *env, enum event_type type, const struct job *job)
{
	struct event ev = {.type = type, .job = job, .job_name = job->name};
	events_emit(env->events, &ev);
}

/* Create or replace a job: stored (committed) before it is acknowledged. */
static void put_job(struct api_env *env, struct http_request *req, bool dependency_endpoint)
{
	struct job *job = parse_posted(env, req, dependency_endpoint);
	struct jobrec *rec;
	enum event_type type;
	char *json, peer[HTTP_PEER_MAX];
	int rc;

	if (job == NULL)
		return;
	json = job_to_json_string_sparse(job);
	if ((rc = store_put_job(env->store, job->name, json)) < 0) {
		free(json);
		job_free(job);
		http_respond_error(req, api_store_status(rc), "store: could not save the job: %s",
		    store_errmsg(env->store));
		return;
	}
	free(json);
	type = registry_get(env->reg, job->name) ? EVENT_JOB_UPDATED : EVENT_JOB_CREATED;
	http_request_peer(req, peer, sizeof(peer));
	log_info_kv(LOG_FIELDS(.event = type == EVENT_JOB_CREATED ? "job.created" : "job.updated", .job = job->name,
			.remote = peer), "job '%s' %s by %s", job->name, type == EVENT_JOB_CREATED ? "created" : "updated",
	    peer);
	rec = registry_put(env->reg, job);
	engine_job_changed(env->engine, rec);
	tell_job(env, type, rec->job);
	http_respond(req, 204, NULL, NULL, 0);
}

void chronos_post_iso8601(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	put_job(env, req, false);
}

void chronos_post_dependency(struct api_env *env, struct http_request *req, const char *const *args)
{
	(void)args;
	put_job(env, req, true);
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

static void append_summary(struct buf *out, const struct jobrec *rec)
{
	const struct job *j = rec->job;
	char state[32];
	json_t *parents = json_array();
	for (uint32_t i = 0; i < j->n_parents; i++)
		json_array_append_new(parents, json_string(j->parents[i]));
	json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "name", j->name, "status", chronos_last_state(j),
	    "state", chronos_current_state(rec, state, sizeof(state)), "schedule", j->dependent ? "" : j->schedule,
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
			append_summary(out, rec);
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

/* The job a child becomes when its parent `gone` is deleted (Chronos's re-parenting): a dependent parent's
 * parents are inherited; a scheduled parent's schedule and zone are taken over, whatever other parents the child
 * had (Chronos turns every dependency child of a deleted schedule-based job into a schedule-based one). */
static struct job *reparented(const struct job *child, const struct job *gone)
{
	struct job *j = job_dup(child);
	const char **parents;
	size_t n = 0;

	if (!gone->dependent) {
		job_set_schedule(j, gone->schedule, gone->schedule_time_zone);
		return j;
	}
	parents = xcalloc(child->n_parents + gone->n_parents + 1, sizeof(*parents));
	for (uint32_t i = 0; i < child->n_parents; i++)
		if (strcmp(child->parents[i], gone->name) != 0)
			parents[n++] = child->parents[i];
	for (uint32_t i = 0; i < gone->n_parents; i++)
		parents[n++] = gone->parents[i];
	job_set_parents(j, parents, n);
	free(parents);
	return j;
}

/* Delete a job; its children are re-parented in the same transaction. */
void chronos_delete_job(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct jobrec *rec = find_job(env, req, args[0]);
	struct job **children = NULL;
	uint32_t n = 0;
	int rc = 0;
	char peer[HTTP_PEER_MAX];

	if (rec == NULL)
		return;
	http_request_peer(req, peer, sizeof(peer));
	if (rec->node.nchildren)
		children = xcalloc(rec->node.nchildren, sizeof(*children));
	if ((rc = store_begin(env->store)) < 0)
		goto out;
	for (; n < rec->node.nchildren && rc == 0; n++) {
		char *json;
		children[n] = reparented(registry_rec(rec->node.children[n])->job, rec->job);
		json = job_to_json_string_sparse(children[n]);
		rc = store_put_job(env->store, children[n]->name, json);
		free(json);
	}
	if (rc == 0)
		rc = store_delete_job(env->store, rec->job->name);
	if (rc == 0)
		rc = store_commit(env->store);
out:
	if (rc < 0) {
		store_rollback(env->store);
		for (uint32_t i = 0; i < n; i++)
			job_free(children[i]);
		free(children);
		http_respond_error(req, api_store_status(rc), "store: could not delete the job: %s",
		    store_errmsg(env->store));
		return;
	}
	for (uint32_t i = 0; i < n; i++) {
		struct job *c = children[i];
		const struct log_fields *f = LOG_FIELDS(.event = "job.updated", .job = c->name, .remote = peer);
		if (c->dependent)
			log_info_kv(f, "job '%s' deleted: its child '%s' now runs after %u parent(s)", rec->job->name,
			    c->name, c->n_parents);
		else
			log_info_kv(f, "job '%s' deleted: its child '%s' takes over its schedule '%s'", rec->job->name,
			    c->name, c->schedule);
	}
	/* Re-parent from the copy: registry_put changes rec's child list. */
	for (uint32_t i = 0; i < n; i++) {
		struct jobrec *child = registry_put(env->reg, children[i]);
		engine_job_changed(env->engine, child);
		tell_job(env, EVENT_JOB_UPDATED, child->job);
	}
	free(children);
	log_info_kv(LOG_FIELDS(.event = "job.deleted", .job = args[0], .remote = peer), "job '%s' deleted by %s",
	    args[0], peer);
	tell_job(env, EVENT_JOB_DELETED, rec->job);
	engine_job_removed(env->engine, rec);
	registry_remove(env->reg, args[0]);
	http_respond(req, 204, NULL, NULL, 0);
}
