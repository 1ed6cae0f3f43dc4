/* struct job to Chronos 3.x JSON, in its serializer's exact field order, then gnomon's epsilon, async,
 * retryDelay, retryBackoff and notifyOn. */
#include <math.h>
#include <stdlib.h>

#include "job/job_internal.h"
#include "job/job_json.h"
#include "util/log.h"

static json_t *real_or_null(double d)
{
	return isfinite(d) ? json_real(d) : json_null();
}

static json_t *strv_json(char *const *v, size_t n)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < n; i++)
		jappend(arr, jstr(v[i]));
	return arr;
}

static json_t *fetch_entry_json(const char *uri, const char *output_file, bool executable, bool cache,
				bool extract)
{
	json_t *o = json_object();
	jset(o, "uri", jstr(uri));
	jset(o, "executable", json_boolean(executable));
	jset(o, "cache", json_boolean(cache));
	jset(o, "extract", json_boolean(extract));
	if (output_file[0] != '\0')
		jset(o, "output_file", jstr(output_file));
	return o;
}

/* `fetch`; with compat and no fetch entries, one entry per deprecated `uris` entry, as GET /jobs shows it. */
static json_t *fetch_json(const struct job *j, bool compat)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < j->n_fetch; i++) {
		const struct job_fetch *f = &j->fetch[i];
		jappend(arr, fetch_entry_json(f->uri, f->output_file, f->executable, f->cache, f->extract));
	}
	if (compat && j->n_fetch == 0)
		for (size_t i = 0; i < j->n_uris; i++)
			jappend(arr, fetch_entry_json(j->uris[i], "", false, false, true));
	return arr;
}

/* `uris`; with compat and no uris, the `fetch[].uri` values. */
static json_t *uris_json(const struct job *j, bool compat)
{
	json_t *arr = strv_json(j->uris, j->n_uris);
	if (compat && j->n_uris == 0)
		for (size_t i = 0; i < j->n_fetch; i++)
			jappend(arr, jstr(j->fetch[i].uri));
	return arr;
}

static json_t *env_json(const struct job *j, bool compat)
{
	(void)compat;
	json_t *arr = json_array();
	for (size_t i = 0; i < j->n_env; i++) {
		json_t *o = json_object();
		jset(o, "name", jstr(j->env[i].name));
		jset(o, "value", jstr(j->env[i].value));
		jappend(arr, o);
	}
	return arr;
}

static json_t *constraints_json(const struct job *j, bool compat)
{
	(void)compat;
	json_t *arr = json_array();
	for (size_t i = 0; i < j->n_constraints; i++) {
		json_t *c = json_array();
		jappend(c, jstr(j->constraints[i].attribute));
		jappend(c, jstr(j->constraints[i].op));
		jappend(c, jstr(j->constraints[i].value));
		jappend(arr, c);
	}
	return arr;
}

/* The object being written and its form. In the sparse form, fields at a fixed default are left out. */
struct writer {
	json_t *o;
	bool compat;
	bool sparse;
};

static void put_str(const struct writer *w, const char *key, const char *s)
{
	if (!w->sparse || s[0] != '\0')
		jset(w->o, key, jstr(s));
}

static void put_bool(const struct writer *w, const char *key, bool v, bool dflt)
{
	if (!w->sparse || v != dflt)
		jset(w->o, key, json_boolean(v));
}

static void put_int(const struct writer *w, const char *key, int64_t v, int64_t dflt)
{
	if (!w->sparse || v != dflt)
		jset(w->o, key, json_integer(v));
}

static void put_time(const struct writer *w, const char *key, int64_t ms)
{
	char when[JOB_TIME_BUFSZ];
	job_time_format(ms, when);
	put_str(w, key, when);
}

/* Put an array built only when it has entries or the form wants every field. */
static void put_array(const struct writer *w, const char *key, size_t n, json_t *(*build)(const struct job *, bool),
		      const struct job *j)
{
	if (!w->sparse || n > 0)
		jset(w->o, key, build(j, w->compat));
}

/* `arguments` with the signature put_array() wants. */
static json_t *arguments_json(const struct job *j, bool compat)
{
	(void)compat;
	return strv_json(j->arguments, j->n_arguments);
}

/* The fields from `name` to `errorsSinceLastSuccess`. cpus, mem and disk are always written: their defaults
 * are server flags, baked in when the job was first parsed. */
static void put_head(const struct writer *w, const struct job *j)
{
	jset(w->o, "name", jstr(j->name));
	put_str(w, "command", j->command);
	put_bool(w, "shell", j->shell, true);
	put_str(w, "executor", j->executor);
	put_str(w, "executorFlags", j->executor_flags);
	put_str(w, "taskInfoData", j->task_info_data);
	put_int(w, "retries", j->retries, 2);
	put_str(w, "owner", j->owner);
	put_str(w, "ownerName", j->owner_name);
	put_str(w, "description", j->description);
	if (!w->sparse) { /* the outcome: the job's state holds it (state/state.h), not its stored definition */
		put_int(w, "successCount", j->success_count, 0);
		put_int(w, "errorCount", j->error_count, 0);
		put_time(w, "lastSuccess", j->last_success_ms);
		put_time(w, "lastError", j->last_error_ms);
	}
	jset(w->o, "cpus", real_or_null(j->cpus));
	jset(w->o, "disk", real_or_null(j->disk));
	jset(w->o, "mem", real_or_null(j->mem));
	put_bool(w, "disabled", j->disabled, false);
	put_bool(w, "softError", j->soft_error, false);
	put_bool(w, "dataProcessingJobType", j->data_processing_job_type, false);
	if (!w->sparse)
		put_int(w, "errorsSinceLastSuccess", j->errors_since_last_success, 0);
}

/* The fields from `fetch` to the end. runAsUser, epsilon and the schedule (or parents, whose presence makes a
 * dependent job) are always written, as their defaults depend on server flags or the clock. */
static void put_tail(const struct writer *w, const struct job *j)
{
	put_array(w, "fetch", j->n_fetch, fetch_json, j);
	put_array(w, "uris", j->n_uris, uris_json, j);
	put_array(w, "environmentVariables", j->n_env, env_json, j);
	put_array(w, "arguments", j->n_arguments, arguments_json, j);
	put_bool(w, "highPriority", j->high_priority, false);
	jset(w->o, "runAsUser", jstr(j->run_as_user));
	put_bool(w, "concurrent", j->concurrent, false);
	put_int(w, "maxCompletionTime", j->max_completion_time, 0);
	if (j->container_json != NULL) {
		json_t *c = json_loads(j->container_json, 0, NULL);
		if (c != NULL)
			jset(w->o, "container", c);
	}
	put_array(w, "constraints", j->n_constraints, constraints_json, j);
	if (j->dependent) {
		jset(w->o, "parents", strv_json(j->parents, j->n_parents));
	} else {
		jset(w->o, "schedule", jstr(j->schedule));
		put_str(w, "scheduleTimeZone", j->schedule_time_zone);
	}
	jset(w->o, "epsilon", jstr(j->epsilon));
	put_bool(w, "async", j->async, false);
	put_str(w, "retryDelay", j->retry_delay);
	if (!w->sparse || j->retry_backoff != 1.0)
		jset(w->o, "retryBackoff", real_or_null(j->retry_backoff));
	if (!w->sparse || j->notify_on != JOB_NOTIFY_FAILURE)
		jset(w->o, "notifyOn", jstr(job_notify_on_name(j->notify_on)));
}

static json_t *to_json(const struct job *j, bool compat, bool sparse)
{
	struct writer w = {json_object(), compat, sparse};
	if (w.o == NULL)
		fatalx("out of memory building JSON");
	put_head(&w, j);
	put_tail(&w, j);
	return w.o;
}

json_t *job_to_json(const struct job *j)
{
	return to_json(j, false, false);
}

json_t *job_to_json_compat(const struct job *j)
{
	return to_json(j, true, false);
}

/* Dump and release o; returns text the caller frees. */
static char *dump(json_t *o)
{
	char *s = json_dumps(o, JOB_JSON_DUMP_FLAGS);
	json_decref(o);
	if (s == NULL)
		fatalx("out of memory dumping JSON");
	return s;
}

char *job_to_json_string(const struct job *j)
{
	return dump(to_json(j, false, false));
}

char *job_to_json_string_compat(const struct job *j)
{
	return dump(to_json(j, true, false));
}

json_t *job_to_json_sparse(const struct job *j)
{
	return to_json(j, false, true);
}

char *job_to_json_string_sparse(const struct job *j)
{
	return dump(to_json(j, false, true));
}

json_t *job_container_json(const struct job *j)
{
	return j->container_json != NULL ? json_loads(j->container_json, 0, NULL) : NULL;
}
