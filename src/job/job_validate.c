/* Checks on one job that need neither other jobs nor schedule parsing; messages start with the field. */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>

#include "job/job.h"
#include "job/job_internal.h"

/* Java's `[\w.-]+` without Unicode classes: ASCII letters, digits, '_', '.' and '-'. */
static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '-';
}

static int check_name(const char *name, char *err, size_t errlen)
{
	size_t len = strlen(name);

	if (len == 0) {
		snprintf(err, errlen, "name: required");
		return -EINVAL;
	}
	if (len > JOB_NAME_MAX) {
		snprintf(err, errlen, "name: longer than %d bytes", JOB_NAME_MAX);
		return -EINVAL;
	}
	for (const char *c = name; *c; c++) {
		if (!name_char(*c)) {
			snprintf(err, errlen, "name: '%s' is invalid: use letters, digits, '_', '.' and '-'", name);
			return -EINVAL;
		}
	}
	return 0;
}

static int check_resource(const char *field, double v, char *err, size_t errlen)
{
	if (isfinite(v) && v >= 0)
		return 0;
	snprintf(err, errlen, "%s: must be a finite number >= 0, got %g", field, v);
	return -EINVAL;
}

static int check_constraint(const struct job_constraint *c, size_t i, char *err, size_t errlen)
{
	regex_t re;
	char msg[128], clip[96];
	int rc;

	if (strcmp(c->op, "EQUALS") == 0)
		return 0;
	if (strcmp(c->op, "LIKE") != 0 && strcmp(c->op, "UNLIKE") != 0) {
		snprintf(err, errlen, "constraints[%zu]: unknown operator '%s' (EQUALS, LIKE, UNLIKE)", i,
			 job_clip(c->op, clip, sizeof(clip)));
		return -EINVAL;
	}
	rc = regcomp(&re, c->value, REG_EXTENDED | REG_NOSUB);
	if (rc != 0) {
		regerror(rc, &re, msg, sizeof(msg));
		snprintf(err, errlen, "constraints[%zu]: invalid regular expression '%s': %s", i,
			 job_clip(c->value, clip, sizeof(clip)), msg);
		return -EINVAL;
	}
	regfree(&re);
	return 0;
}

/* The fields that hold numbers: retries, resources, completion time. */
static int check_numbers(const struct job *j, char *err, size_t errlen)
{
	if (j->retries < 0) {
		snprintf(err, errlen, "retries: must be >= 0, got %d", (int)j->retries);
		return -EINVAL;
	}
	if (check_resource("cpus", j->cpus, err, errlen) < 0 || check_resource("mem", j->mem, err, errlen) < 0 ||
	    check_resource("disk", j->disk, err, errlen) < 0)
		return -EINVAL;
	if (j->max_completion_time < 0) {
		snprintf(err, errlen, "maxCompletionTime: must be >= 0, got %lld", (long long)j->max_completion_time);
		return -EINVAL;
	}
	return 0;
}

int job_validate(const struct job *j, char *err, size_t errlen)
{
	char clip[96];
	int64_t ms;

	if (check_name(j->name, err, errlen) < 0)
		return -EINVAL;
	if (j->n_uris > 0 && j->n_fetch > 0) {
		snprintf(err, errlen, "fetch: Tried to add both uri (deprecated) and fetch parameters on %s", j->name);
		return -EINVAL;
	}
	if (check_numbers(j, err, errlen) < 0)
		return -EINVAL;
	for (size_t i = 0; i < j->n_constraints; i++)
		if (check_constraint(&j->constraints[i], i, err, errlen) < 0)
			return -EINVAL;
	if (j->container_json != NULL && job_container_validate(j->container_json, err, errlen) < 0)
		return -EINVAL;
	if (job_duration_parse(j->epsilon, &ms) < 0) {
		snprintf(err, errlen, "epsilon: '%s' is not an ISO 8601 duration such as PT60S",
			 job_clip(j->epsilon, clip, sizeof(clip)));
		return -EINVAL;
	}
	return 0;
}
