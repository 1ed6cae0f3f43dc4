/* libFuzzer target: the Chronos job JSON parser and checks, on the path a POSTed body takes in
 * src/api/chronos_jobs.c (job_from_json, the uris mirror of GET /jobs dropped, job_validate, a dependent job's
 * parents, schedule_parse through a zone cache; only the registry's look-up of the parents is left out). Input:
 * the body. A refusal has a message that starts with the field at fault ("retries: ...", "fetch[1].uri: ...";
 * "job: ..." for the whole body, "invalid JSON at ..." for text that is not JSON). An accepted job serializes
 * in each form without loss: the full form (job_to_json) parses back to an equal job (numbers as printed: 15
 * significant digits) that serializes the same and is accepted again; the stored sparse form parses back, with
 * other server defaults and another clock, to exactly that job but its outcome (the counters: the state's);
 * GET /jobs' compatibility form, posted again, is accepted and shows the same. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "job/job.h"
#include "job/job_json.h"
#include "schedule/schedule.h"

#define INPUT_MAX 16384
#define RENEW_EVERY 4096
#define NOW_MS INT64_C(1717200000000) /* 2024-06-01T00:00:00Z */

/* The keys job_from_json reads (src/job/job_parse.c), which start every message about a field. */
static const char *const KEYS[] = { "arguments", "async", "command", "concurrent", "constraints", "container", "cpus",
	"dataProcessingJobType", "description", "disabled", "disk", "environmentVariables", "epsilon", "errorCount",
	"errorsSinceLastSuccess", "executor", "executorFlags", "fetch", "highPriority", "lastError", "lastSuccess",
	"maxCompletionTime", "mem", "name", "notifyOn", "owner", "ownerName", "parents", "retries", "retryBackoff",
	"retryDelay", "runAsUser", "schedule", "scheduleTimeZone", "shell", "softError", "successCount", "taskInfoData",
	"uris", "job" };

static struct schedule_zones *zones;
static unsigned uses;

/* A message names the field at fault: "<key>[.sub|[i]...]: ...", or it is about text that is not JSON. */
static bool names_a_field(const char *err)
{
	size_t n = strcspn(err, ".[:");

	if (strncmp(err, "invalid JSON at line ", 21) == 0)
		return true;
	if (strstr(err, ": ") == NULL)
		return false;
	for (size_t i = 0; i < sizeof(KEYS) / sizeof(KEYS[0]); i++)
		if (strlen(KEYS[i]) == n && strncmp(err, KEYS[i], n) == 0)
			return true;
	return false;
}

/* Accept or refuse a posted job as the API does (without the registry); 0, or -EINVAL with err. */
static int accept_job(struct job *j, char *err, size_t errlen)
{
	struct schedule s;

	job_drop_uris_mirror(j); /* as control_put_job does */
	if (job_validate(j, err, errlen) < 0)
		return -EINVAL;
	if (j->dependent) {
		if (j->n_parents > 0)
			return 0;
		snprintf(err, errlen, "parents: a dependent job needs at least one parent");
		return -EINVAL;
	}
	return schedule_parse(zones, j->schedule, j->schedule_time_zone, NOW_MS, &s, err, errlen) < 0 ? -EINVAL : 0;
}

/* Two doubles are the same job value: equal, or (loose) printed alike with the serializer's 15 digits. */
static bool same_double(double a, double b, bool loose)
{
	char x[64], y[64];

	if (a == b)
		return true;
	if (!loose)
		return false;
	snprintf(x, sizeof(x), "%.15g", a);
	snprintf(y, sizeof(y), "%.15g", b);
	return strcmp(x, y) == 0;
}

static bool same_strv(char *const *a, char *const *b, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if (strcmp(a[i], b[i]) != 0)
			return false;
	return n == 0 || (a[n] == NULL && b[n] == NULL);
}

/* The first field in which a and b differ, or NULL. */
static const char *job_diff(const struct job *a, const struct job *b, bool loose)
{
#define STR(f, key) \
	if (strcmp(a->f, b->f) != 0) \
		return key;
#define VAL(f, key) \
	if (a->f != b->f) \
		return key;
	STR(name, "name") STR(command, "command") STR(executor, "executor") STR(executor_flags, "executorFlags")
	STR(task_info_data, "taskInfoData") STR(owner, "owner") STR(owner_name, "ownerName")
	STR(description, "description") STR(run_as_user, "runAsUser") STR(schedule, "schedule")
	STR(schedule_time_zone, "scheduleTimeZone") STR(epsilon, "epsilon") STR(retry_delay, "retryDelay")
	if ((a->container_json == NULL) != (b->container_json == NULL) ||
	    (a->container_json != NULL && strcmp(a->container_json, b->container_json) != 0))
		return "container";
	VAL(n_arguments, "arguments") VAL(n_uris, "uris") VAL(n_parents, "parents") VAL(n_fetch, "fetch")
	VAL(n_env, "environmentVariables") VAL(n_constraints, "constraints")
	if (!same_strv(a->arguments, b->arguments, a->n_arguments))
		return "arguments";
	if (!same_strv(a->uris, b->uris, a->n_uris))
		return "uris";
	if (!same_strv(a->parents, b->parents, a->n_parents))
		return "parents";
	for (uint32_t i = 0; i < a->n_fetch; i++) {
		const struct job_fetch *x = &a->fetch[i], *y = &b->fetch[i];
		if (strcmp(x->uri, y->uri) != 0 || strcmp(x->output_file, y->output_file) != 0 ||
		    x->executable != y->executable || x->cache != y->cache || x->extract != y->extract)
			return "fetch";
	}
	for (uint32_t i = 0; i < a->n_env; i++)
		if (strcmp(a->env[i].name, b->env[i].name) != 0 || strcmp(a->env[i].value, b->env[i].value) != 0)
			return "environmentVariables";
	for (uint32_t i = 0; i < a->n_constraints; i++) {
		const struct job_constraint *x = &a->constraints[i], *y = &b->constraints[i];
		if (strcmp(x->attribute, y->attribute) != 0 || strcmp(x->op, y->op) != 0 || strcmp(x->value, y->value) != 0)
			return "constraints";
	}
	VAL(success_count, "successCount") VAL(error_count, "errorCount")
	VAL(errors_since_last_success, "errorsSinceLastSuccess") VAL(last_success_ms, "lastSuccess")
	VAL(last_error_ms, "lastError") VAL(max_completion_time, "maxCompletionTime") VAL(retries, "retries")
	if (!same_double(a->cpus, b->cpus, loose))
		return "cpus";
	if (!same_double(a->mem, b->mem, loose))
		return "mem";
	if (!same_double(a->disk, b->disk, loose))
		return "disk";
	if (!same_double(a->retry_backoff, b->retry_backoff, loose))
		return "retryBackoff";
	VAL(dependent, "dependent") VAL(shell, "shell") VAL(disabled, "disabled") VAL(soft_error, "softError")
	VAL(data_processing_job_type, "dataProcessingJobType") VAL(high_priority, "highPriority")
	VAL(concurrent, "concurrent") VAL(async, "async") VAL(notify_on, "notifyOn")
#undef STR
#undef VAL
	return NULL;
}

/* Parse serialized text of an accepted job; it must parse. Returns the job, which the caller frees. */
static struct job *reparse(const char *text, const struct job_defaults *d, int64_t now, const char *form)
{
	char err[1024] = "";
	struct job *j = job_from_json(text, strlen(text), d, now, err, sizeof(err));

	CHECK(j != NULL, "the %s form of an accepted job does not parse: %s\n  %s", form, err, text);
	return j;
}

/* The forms of an accepted job read back as it. */
static void check_round_trip(const struct job *j)
{
	static const struct job_defaults other = { .cpus = 2, .mem = 1, .disk = 1, .user = "u", .epsilon_s = 1 };
	char *full = job_to_json_string(j), *sparse = job_to_json_string_sparse(j), *compat, *again, *text;
	struct job *b = reparse(full, NULL, NOW_MS, "full"), *c, *d;
	char err[1024] = "";
	const char *diff;

	diff = job_diff(j, b, true);
	CHECK(diff == NULL, "%s differs after the full form's round trip\n  %s", diff, full);
	again = job_to_json_string(b);
	CHECK(strcmp(full, again) == 0, "the full form changes when read back:\n  %s\n  %s", full, again);
	CHECK(accept_job(b, err, sizeof(err)) == 0, "the full form is refused: %s\n  %s", err, full);
	/* storage: a server with other flags, started on another day, reads back the same job */
	c = reparse(sparse, &other, NOW_MS + INT64_C(86400000) * 400, "sparse");
	/* without the outcome (counters), which the job's state holds */
	c->success_count = b->success_count;
	c->error_count = b->error_count;
	c->errors_since_last_success = b->errors_since_last_success;
	c->last_success_ms = b->last_success_ms;
	c->last_error_ms = b->last_error_ms;
	diff = job_diff(b, c, false);
	CHECK(diff == NULL, "%s differs after the sparse form's round trip\n  %s\n  %s", diff, full, sparse);
	CHECK(strlen(sparse) <= strlen(full), "the sparse form is longer than the full one:\n  %s\n  %s", sparse, full);
	/* GET /jobs, posted again */
	compat = job_to_json_string_compat(j);
	d = reparse(compat, NULL, NOW_MS, "compat");
	CHECK(accept_job(d, err, sizeof(err)) == 0, "the GET /jobs form is refused: %s\n  %s", err, compat);
	text = job_to_json_string_compat(d);
	CHECK(strcmp(compat, text) == 0, "the GET /jobs form changes when posted again:\n  %s\n  %s", compat, text);
	free(text);
	free(compat);
	free(again);
	free(sparse);
	free(full);
	job_free(b);
	job_free(c);
	job_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[1024] = "";
	struct job *j;
	char *text;

	if (size > INPUT_MAX)
		return 0;
	if (zones == NULL || ++uses % RENEW_EVERY == 0) {
		schedule_zones_free(zones);
		zones = schedule_zones_new();
	}
	j = job_from_json((const char *)data, size, NULL, NOW_MS, err, sizeof(err));
	if (j == NULL) {
		CHECK(err[0] != '\0' && names_a_field(err), "refused without naming a field: '%s'", err);
		return 0;
	}
	/* any parsed job, accepted or not, can be shown */
	text = job_to_json_string_compat(j);
	free(text);
	text = job_to_json_string_sparse(j);
	free(text);
	if (accept_job(j, err, sizeof(err)) < 0) {
		CHECK(err[0] != '\0' && names_a_field(err), "refused without naming a field: '%s'", err);
		job_free(j);
		return 0;
	}
	check_round_trip(j);
	job_free(j);
	return 0;
}
