/* struct job to Chronos 3.x JSON, in its serializer's exact field order, then gnomon's epsilon and async. */
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

static json_t *env_json(const struct job *j)
{
	json_t *arr = json_array();
	for (size_t i = 0; i < j->n_env; i++) {
		json_t *o = json_object();
		jset(o, "name", jstr(j->env[i].name));
		jset(o, "value", jstr(j->env[i].value));
		jappend(arr, o);
	}
	return arr;
}

static json_t *constraints_json(const struct job *j)
{
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

/* The fields from `name` to `errorsSinceLastSuccess`. */
static void put_head(json_t *o, const struct job *j)
{
	char when[JOB_TIME_BUFSZ];

	jset(o, "name", jstr(j->name));
	jset(o, "command", jstr(j->command));
	jset(o, "shell", json_boolean(j->shell));
	jset(o, "executor", jstr(j->executor));
	jset(o, "executorFlags", jstr(j->executor_flags));
	jset(o, "taskInfoData", jstr(j->task_info_data));
	jset(o, "retries", json_integer(j->retries));
	jset(o, "owner", jstr(j->owner));
	jset(o, "ownerName", jstr(j->owner_name));
	jset(o, "description", jstr(j->description));
	jset(o, "successCount", json_integer(j->success_count));
	jset(o, "errorCount", json_integer(j->error_count));
	job_time_format(j->last_success_ms, when);
	jset(o, "lastSuccess", jstr(when));
	job_time_format(j->last_error_ms, when);
	jset(o, "lastError", jstr(when));
	jset(o, "cpus", real_or_null(j->cpus));
	jset(o, "disk", real_or_null(j->disk));
	jset(o, "mem", real_or_null(j->mem));
	jset(o, "disabled", json_boolean(j->disabled));
	jset(o, "softError", json_boolean(j->soft_error));
	jset(o, "dataProcessingJobType", json_boolean(j->data_processing_job_type));
	jset(o, "errorsSinceLastSuccess", json_integer(j->errors_since_last_success));
}

/* The fields from `fetch` to the end. */
static void put_tail(json_t *o, const struct job *j, bool compat)
{
	jset(o, "fetch", fetch_json(j, compat));
	jset(o, "uris", uris_json(j, compat));
	jset(o, "environmentVariables", env_json(j));
	jset(o, "arguments", strv_json(j->arguments, j->n_arguments));
	jset(o, "highPriority", json_boolean(j->high_priority));
	jset(o, "runAsUser", jstr(j->run_as_user));
	jset(o, "concurrent", json_boolean(j->concurrent));
	jset(o, "maxCompletionTime", json_integer(j->max_completion_time));
	if (j->container_json != NULL) {
		json_t *c = json_loads(j->container_json, 0, NULL);
		if (c != NULL)
			jset(o, "container", c);
	}
	jset(o, "constraints", constraints_json(j));
	if (j->dependent) {
		jset(o, "parents", strv_json(j->parents, j->n_parents));
	} else {
		jset(o, "schedule", jstr(j->schedule));
		jset(o, "scheduleTimeZone", jstr(j->schedule_time_zone));
	}
	jset(o, "epsilon", jstr(j->epsilon));
	jset(o, "async", json_boolean(j->async));
}

static json_t *to_json(const struct job *j, bool compat)
{
	json_t *o = json_object();
	if (o == NULL)
		fatalx("out of memory building JSON");
	put_head(o, j);
	put_tail(o, j, compat);
	return o;
}

json_t *job_to_json(const struct job *j)
{
	return to_json(j, false);
}

json_t *job_to_json_compat(const struct job *j)
{
	return to_json(j, true);
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
	return dump(to_json(j, false));
}

char *job_to_json_string_compat(const struct job *j)
{
	return dump(to_json(j, true));
}

json_t *job_container_json(const struct job *j)
{
	return j->container_json != NULL ? json_loads(j->container_json, 0, NULL) : NULL;
}
