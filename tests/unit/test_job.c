/* Job model and Chronos JSON: round trips over every field, field order, leniency, defaults, set semantics. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "job/job.h"
#include "job/job_json.h"

#define NOW_MS INT64_C(1767225600000) /* 2026-01-01T00:00:00.000Z */

/* A schedule-based job with every field set to a non-default value, in the serializer's exact form. */
static const char full_scheduled[] =
	"{\"name\":\"full-sched.job_1\",\"command\":\"echo hi\",\"shell\":false,\"executor\":\"/usr/bin/exec\","
	"\"executorFlags\":\"--flag\",\"taskInfoData\":\"data\",\"retries\":5,\"owner\":\"a@b.c,d@e.f\","
	"\"ownerName\":\"Team\",\"description\":\"d\xc3\xa9sc \\\"q\\\"\",\"successCount\":3,\"errorCount\":4,"
	"\"lastSuccess\":\"2014-03-08T16:57:17.507Z\",\"lastError\":\"2014-03-09T01:02:03.004Z\",\"cpus\":0.5,"
	"\"disk\":1024.0,\"mem\":256.5,\"disabled\":true,\"softError\":true,\"dataProcessingJobType\":true,"
	"\"errorsSinceLastSuccess\":1,"
	"\"fetch\":[{\"uri\":\"http://x/a.tgz\",\"executable\":false,\"cache\":true,\"extract\":true},"
	"{\"uri\":\"http://x/b\",\"executable\":true,\"cache\":false,\"extract\":false,\"output_file\":\"b.bin\"}],"
	"\"uris\":[],"
	"\"environmentVariables\":[{\"name\":\"FOO\",\"value\":\"bar\"},{\"name\":\"EMPTY\",\"value\":\"\"}],"
	"\"arguments\":[\"-a\",\"1 2\",\"x;y\"],\"highPriority\":true,\"runAsUser\":\"nobody\",\"concurrent\":true,"
	"\"maxCompletionTime\":3600,"
	"\"container\":{\"type\":\"MESOS\",\"image\":\"busybox:1.36\",\"network\":\"USER\",\"networkName\":\"net0\","
	"\"networkInfos\":[{\"name\":\"net1\",\"protocol\":\"IPv4\",\"labels\":[{\"key\":\"k\",\"value\":\"v\"}],"
	"\"portMappings\":[{\"hostPort\":\"8080\",\"containerPort\":\"80\",\"protocol\":\"tcp\"},"
	"{\"hostPort\":\"0\",\"containerPort\":\"443\"}]},{\"name\":\"net2\",\"labels\":[],\"portMappings\":[]}],"
	"\"volumes\":[{\"hostPath\":\"/data\",\"containerPath\":\"/mnt/data\",\"mode\":\"RW\"},"
	"{\"containerPath\":\"/scratch\"},{\"containerPath\":\"/ext\",\"mode\":\"RO\",\"external\":{\"name\":\"vol1\","
	"\"provider\":\"dvdi\",\"options\":[{\"key\":\"dvdi/driver\",\"value\":\"rexray\"}]}}],"
	"\"forcePullImage\":true,\"parameters\":[{\"key\":\"memory\",\"value\":\"1g\"}]},"
	"\"constraints\":[[\"rack\",\"EQUALS\",\"a\"],[\"hostname\",\"LIKE\",\"web-[0-9]+\"],"
	"[\"zone\",\"UNLIKE\",\"us-east-.*\"]],"
	"\"schedule\":\"R/2024-01-01T00:00:00.000Z/PT1H\",\"scheduleTimeZone\":\"Europe/Berlin\","
	"\"epsilon\":\"PT5M\",\"async\":true,\"retryDelay\":\"PT30S\",\"retryBackoff\":2.5,\"notifyOn\":\"always\"}";

/* A dependent job with uris (no fetch), docker container with bridge networking, and the 2.x defaults. */
static const char full_dependent[] =
	"{\"name\":\"full-dep\",\"command\":\"/bin/run\",\"shell\":true,\"executor\":\"\",\"executorFlags\":\"\","
	"\"taskInfoData\":\"\",\"retries\":0,\"owner\":\"\",\"ownerName\":\"\",\"description\":\"\","
	"\"successCount\":0,\"errorCount\":0,\"lastSuccess\":\"\",\"lastError\":\"\",\"cpus\":0.1,\"disk\":256.0,"
	"\"mem\":128.0,\"disabled\":false,\"softError\":false,\"dataProcessingJobType\":false,"
	"\"errorsSinceLastSuccess\":0,\"fetch\":[],\"uris\":[\"http://x/u1\",\"s3://b/u2\"],"
	"\"environmentVariables\":[],\"arguments\":[],\"highPriority\":false,\"runAsUser\":\"root\","
	"\"concurrent\":false,\"maxCompletionTime\":0,"
	"\"container\":{\"type\":\"DOCKER\",\"image\":\"alpine\",\"network\":\"BRIDGE\",\"networkInfos\":[],"
	"\"volumes\":[{\"hostPath\":\"/h\",\"containerPath\":\"/c\"}],\"forcePullImage\":false,\"parameters\":[]},"
	"\"constraints\":[],\"parents\":[\"p1\",\"p0\",\"p2\"],\"epsilon\":\"PT60S\",\"async\":false,"
	"\"retryDelay\":\"\",\"retryBackoff\":1.0,\"notifyOn\":\"failure\"}";

static struct job *parse_ok(const char *text)
{
	char err[512] = "";
	struct job *j = job_from_json(text, strlen(text), NULL, NOW_MS, err, sizeof(err));
	if (j == NULL)
		fail_msg("parse failed: %s\n  input: %s", err, text);
	return j;
}

/* Parse -> serialize -> parse -> serialize; both outputs must equal `expect` (the input when NULL). */
static void check_round_trip(const char *input, const char *expect)
{
	struct job *a = parse_ok(input), *b;
	char *s1 = job_to_json_string(a), *s2;
	char err[512];

	b = parse_ok(s1);
	s2 = job_to_json_string(b);
	assert_string_equal(s1, expect != NULL ? expect : input);
	assert_string_equal(s2, s1);
	if (job_validate(a, err, sizeof(err)) != 0)
		fail_msg("validate: %s", err);
	free(s1);
	free(s2);
	job_free(a);
	job_free(b);
}

static void test_round_trip_scheduled(void **state)
{
	(void)state;
	check_round_trip(full_scheduled, NULL);
}

static void test_round_trip_dependent(void **state)
{
	(void)state;
	check_round_trip(full_dependent, NULL);
}

/* The parsed values equal the input, field by field. */
static void test_values_scheduled(void **state)
{
	struct job *j = parse_ok(full_scheduled);
	const char *name, *value;
	json_t *c;
	(void)state;

	assert_string_equal(j->name, "full-sched.job_1");
	assert_string_equal(j->command, "echo hi");
	assert_false(j->shell);
	assert_string_equal(j->executor, "/usr/bin/exec");
	assert_string_equal(j->executor_flags, "--flag");
	assert_string_equal(j->task_info_data, "data");
	assert_int_equal(j->retries, 5);
	assert_string_equal(j->owner, "a@b.c,d@e.f");
	assert_string_equal(j->owner_name, "Team");
	assert_string_equal(j->description, "d\xc3\xa9sc \"q\"");
	assert_int_equal(j->success_count, 3);
	assert_int_equal(j->error_count, 4);
	assert_int_equal(j->last_success_ms, INT64_C(1394297837507));
	assert_int_equal(j->last_error_ms, INT64_C(1394326923004));
	assert_true(j->cpus == 0.5 && j->disk == 1024 && j->mem == 256.5);
	assert_true(j->disabled && j->soft_error && j->data_processing_job_type);
	assert_int_equal(j->errors_since_last_success, 1);
	assert_int_equal(j->n_fetch, 2);
	assert_string_equal(j->fetch[0].uri, "http://x/a.tgz");
	assert_true(!j->fetch[0].executable && j->fetch[0].cache && j->fetch[0].extract);
	assert_string_equal(j->fetch[0].output_file, "");
	assert_string_equal(j->fetch[1].output_file, "b.bin");
	assert_true(j->fetch[1].executable && !j->fetch[1].cache && !j->fetch[1].extract);
	assert_int_equal(j->n_uris, 0);
	assert_null(j->uris);
	assert_int_equal(j->n_env, 2);
	assert_true(job_env_get(j, 1, &name, &value));
	assert_string_equal(name, "EMPTY");
	assert_string_equal(value, "");
	assert_false(job_env_get(j, 2, &name, &value));
	assert_int_equal(j->n_arguments, 3);
	assert_string_equal(j->arguments[1], "1 2");
	assert_null(j->arguments[3]);
	assert_true(j->high_priority && j->concurrent && j->async);
	assert_string_equal(j->run_as_user, "nobody");
	assert_int_equal(j->max_completion_time, 3600);
	assert_int_equal(j->n_constraints, 3);
	assert_string_equal(j->constraints[1].attribute, "hostname");
	assert_string_equal(j->constraints[1].op, "LIKE");
	assert_string_equal(j->constraints[1].value, "web-[0-9]+");
	assert_false(job_is_dependent(j));
	assert_string_equal(j->schedule, "R/2024-01-01T00:00:00.000Z/PT1H");
	assert_string_equal(j->schedule_time_zone, "Europe/Berlin");
	assert_string_equal(j->epsilon, "PT5M");
	assert_string_equal(j->retry_delay, "PT30S");
	assert_true(j->retry_backoff == 2.5);
	c = job_container_json(j);
	assert_string_equal(json_string_value(json_object_get(c, "image")), "busybox:1.36");
	assert_int_equal(json_array_size(json_object_get(c, "volumes")), 3);
	json_decref(c);
	job_free(j);
}

static void test_values_dependent(void **state)
{
	struct job *j = parse_ok(full_dependent);
	(void)state;

	assert_true(job_is_dependent(j));
	assert_int_equal(j->n_parents, 3);
	assert_string_equal(j->parents[0], "p1");
	assert_string_equal(j->parents[2], "p2");
	assert_null(j->parents[3]);
	assert_string_equal(j->schedule, "");
	assert_int_equal(j->n_uris, 2);
	assert_string_equal(j->uris[1], "s3://b/u2");
	assert_int_equal(j->retries, 0);
	assert_int_equal(j->last_success_ms, JOB_TIME_NONE);
	assert_non_null(j->container_json);
	assert_string_equal(j->retry_delay, "");
	assert_true(j->retry_backoff == 1.0);
	job_free(j);
	j = parse_ok("{\"name\":\"n\"}");
	assert_null(job_container_json(j));
	job_free(j);
}

/* job_dup gives an independent deep copy that serializes identically. */
static void test_dup(void **state)
{
	const char *inputs[] = {full_scheduled, full_dependent, "{\"name\":\"tiny\"}"};
	(void)state;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct job *a = parse_ok(inputs[i]), *b = job_dup(a);
		char *sa = job_to_json_string(a);
		job_set_string(&a->command, "changed");
		job_free(a);
		char *sb = job_to_json_string(b);
		assert_string_equal(sb, sa);
		free(sa);
		free(sb);
		job_free(b);
	}
}

/* The sparse storage form parses back to the same job but its outcome (counters: the state's), and leaves out
 * only fixed defaults and the outcome. */
static void test_sparse(void **state)
{
	const char *inputs[] = {
		full_scheduled, full_dependent, "{\"name\":\"n\"}", "{\"name\":\"n\",\"parents\":[]}",
		"{\"name\":\"n\",\"shell\":false,\"retries\":0,\"lastError\":\"2020-01-01T00:00:00.000Z\"}",
		"{\"name\":\"n\",\"retryDelay\":\"PT0S\"}", "{\"name\":\"n\",\"retryBackoff\":\"1.5\"}",
		"{\"name\":\"n\",\"retryDelay\":\"\",\"retryBackoff\":1}", "{\"name\":\"n\",\"notifyOn\":\"never\"}",
		"{\"name\":\"n\",\"notifyOn\":\"failure\"}",
	};
	static const char small[] = "{\"name\":\"small\",\"command\":\"ls\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\"}";
	static const char small_sparse[] = "{\"name\":\"small\",\"command\":\"ls\",\"cpus\":0.1,\"disk\":256.0,"
					   "\"mem\":128.0,\"runAsUser\":\"root\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\","
					   "\"epsilon\":\"PT60S\"}";
	/* The retry extensions are kept, at the end, only when they differ from their defaults. */
	static const struct {
		const char *input;
		const char *sparse;
	} retry[] = {
		{"{\"name\":\"r\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"retryDelay\":\"PT2M\"}",
		 "{\"name\":\"r\",\"cpus\":0.1,\"disk\":256.0,\"mem\":128.0,\"runAsUser\":\"root\","
		 "\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"epsilon\":\"PT60S\",\"retryDelay\":\"PT2M\"}"},
		{"{\"name\":\"r\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"retryBackoff\":2,\"async\":true}",
		 "{\"name\":\"r\",\"cpus\":0.1,\"disk\":256.0,\"mem\":128.0,\"runAsUser\":\"root\","
		 "\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"epsilon\":\"PT60S\",\"async\":true,\"retryBackoff\":2.0}"},
		{"{\"name\":\"r\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"notifyOn\":\"always\"}",
		 "{\"name\":\"r\",\"cpus\":0.1,\"disk\":256.0,\"mem\":128.0,\"runAsUser\":\"root\","
		 "\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"epsilon\":\"PT60S\",\"notifyOn\":\"always\"}"},
		{"{\"name\":\"r\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"retryDelay\":\"\",\"retryBackoff\":1.0}",
		 "{\"name\":\"r\",\"cpus\":0.1,\"disk\":256.0,\"mem\":128.0,\"runAsUser\":\"root\","
		 "\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"epsilon\":\"PT60S\"}"},
	};
	const struct job_defaults other = {.cpus = 2, .mem = 1, .disk = 1, .user = "u", .epsilon_s = 1};
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		struct job *a = parse_ok(inputs[i]);
		char *sparse = job_to_json_string_sparse(a);
		/* Other server defaults and another clock must not change what comes back. */
		struct job *b = job_from_json(sparse, strlen(sparse), &other, 0, err, sizeof(err));
		if (b == NULL)
			fail_msg("%s: %s", sparse, err);
		/* the outcome is left out: the job's state holds it */
		assert_null(strstr(sparse, "Count"));
		assert_null(strstr(sparse, "lastError"));
		b->success_count = a->success_count;
		b->error_count = a->error_count;
		b->errors_since_last_success = a->errors_since_last_success;
		b->last_success_ms = a->last_success_ms;
		b->last_error_ms = a->last_error_ms;
		char *sa = job_to_json_string(a), *sb = job_to_json_string(b);
		assert_string_equal(sb, sa);
		assert_true(strlen(sparse) <= strlen(sa));
		free(sparse);
		free(sa);
		free(sb);
		job_free(a);
		job_free(b);
	}
	struct job *j = parse_ok(small);
	char *text = job_to_json_string_sparse(j);
	assert_string_equal(text, small_sparse);
	free(text);
	job_free(j);
	for (size_t i = 0; i < sizeof(retry) / sizeof(retry[0]); i++) {
		j = parse_ok(retry[i].input);
		text = job_to_json_string_sparse(j);
		assert_string_equal(text, retry[i].sparse);
		free(text);
		job_free(j);
	}
}

static void expect_keys(json_t *o, const char *const *keys, size_t n)
{
	const char *key;
	json_t *v;
	size_t i = 0;

	json_object_foreach(o, key, v) {
		if (i >= n)
			fail_msg("extra key %s", key);
		assert_string_equal(key, keys[i]);
		i++;
	}
	assert_int_equal(i, n);
}

/* Output keys in Chronos 3.x order for both job types; container and output_file only when set. */
static void test_field_order(void **state)
{
	static const char *const sched[] = {
		"name", "command", "shell", "executor", "executorFlags", "taskInfoData", "retries", "owner",
		"ownerName", "description", "successCount", "errorCount", "lastSuccess", "lastError", "cpus", "disk",
		"mem", "disabled", "softError", "dataProcessingJobType", "errorsSinceLastSuccess", "fetch", "uris",
		"environmentVariables", "arguments", "highPriority", "runAsUser", "concurrent", "maxCompletionTime",
		"constraints", "schedule", "scheduleTimeZone", "epsilon", "async", "retryDelay", "retryBackoff",
		"notifyOn"};
	static const char *const container[] = {"type", "image", "network", "networkInfos", "volumes",
						"forcePullImage", "parameters"};
	struct job *j = parse_ok("{\"parents\":[],\"container\":{\"parameters\":[],\"image\":\"i\"},\"name\":\"n\"}");
	json_t *o;
	const char *dep[sizeof(sched) / sizeof(sched[0])];
	size_t n = 0;
	(void)state;

	for (size_t i = 0; i < sizeof(sched) / sizeof(sched[0]); i++) {
		if (strcmp(sched[i], "constraints") == 0)
			dep[n++] = "container";
		if (strcmp(sched[i], "schedule") == 0)
			dep[n++] = "parents";
		else if (strcmp(sched[i], "scheduleTimeZone") != 0)
			dep[n++] = sched[i];
	}
	o = job_to_json(j);
	expect_keys(o, dep, n);
	expect_keys(json_object_get(o, "container"), container, sizeof(container) / sizeof(container[0]));
	json_decref(o);
	job_free(j);

	j = parse_ok("{\"name\":\"n\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\"}");
	o = job_to_json(j);
	expect_keys(o, sched, sizeof(sched) / sizeof(sched[0]));
	json_decref(o);
	job_free(j);
}

/* One parsed input and the value one output key must have (JSON text; NULL: the key must be absent). */
struct value_row {
	const char *what;
	const char *input;
	const char *key;
	const char *expect;
};

static void check_value_rows(const struct value_row *rows, size_t n, const struct job_defaults *d, bool compat)
{
	for (size_t i = 0; i < n; i++) {
		char err[512] = "";
		struct job *j = job_from_json(rows[i].input, strlen(rows[i].input), d, NOW_MS, err, sizeof(err));
		if (j == NULL)
			fail_msg("%s: parse failed: %s", rows[i].what, err);
		json_t *o = compat ? job_to_json_compat(j) : job_to_json(j), *v = json_object_get(o, rows[i].key);
		char *got = v != NULL ? json_dumps(v, JSON_ENCODE_ANY | JOB_JSON_DUMP_FLAGS) : NULL;
		if (rows[i].expect == NULL ? got != NULL : got == NULL || strcmp(got, rows[i].expect) != 0)
			fail_msg("%s: %s is %s, want %s", rows[i].what, rows[i].key, got ? got : "(absent)",
				 rows[i].expect ? rows[i].expect : "(absent)");
		free(got);
		json_decref(o);
		job_free(j);
	}
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void test_leniency(void **state)
{
	static const struct value_row rows[] = {
		{"cpus as string", "{\"name\":\"n\",\"cpus\":\"0.5\"}", "cpus", "0.5"},
		{"mem as string", "{\"name\":\"n\",\"mem\":\"64\"}", "mem", "64.0"},
		{"retries as string", "{\"name\":\"n\",\"retries\":\"3\"}", "retries", "3"},
		{"retries as integral real", "{\"name\":\"n\",\"retries\":3.0}", "retries", "3"},
		{"retries as real string", "{\"name\":\"n\",\"retries\":\"4.0\"}", "retries", "4"},
		{"count as string", "{\"name\":\"n\",\"successCount\":\"12\"}", "successCount", "12"},
		{"maxCompletionTime as string", "{\"name\":\"n\",\"maxCompletionTime\":\"60\"}", "maxCompletionTime",
		 "60"},
		{"shell as string false", "{\"name\":\"n\",\"shell\":\"false\"}", "shell", "false"},
		{"shell as string true", "{\"name\":\"n\",\"shell\":\"true\"}", "shell", "true"},
		{"disabled as 1", "{\"name\":\"n\",\"disabled\":1}", "disabled", "true"},
		{"unknown fields ignored", "{\"name\":\"n\",\"foo\":{\"bar\":[1]},\"baz\":null}", "name", "\"n\""},
		{"unknown field not echoed", "{\"name\":\"n\",\"foo\":1}", "foo", NULL},
		{"null is absent", "{\"name\":\"n\",\"command\":null,\"retries\":null}", "retries", "2"},
		{"cpus 0 gets default", "{\"name\":\"n\",\"cpus\":0}", "cpus", "0.1"},
		{"mem 0 gets default", "{\"name\":\"n\",\"mem\":0.0}", "mem", "128.0"},
		{"disk \"0\" gets default", "{\"name\":\"n\",\"disk\":\"0\"}", "disk", "256.0"},
		{"lastSuccess with offset", "{\"name\":\"n\",\"lastSuccess\":\"2014-03-08T17:57:17.507+01:00\"}",
		 "lastSuccess", "\"2014-03-08T16:57:17.507Z\""},
		{"lastError without millis", "{\"name\":\"n\",\"lastError\":\"2014-03-08T16:57:17Z\"}", "lastError",
		 "\"2014-03-08T16:57:17.000Z\""},
		{"container type lower-case", "{\"name\":\"n\",\"container\":{\"image\":\"i\",\"type\":\"mesos\"}}",
		 "container",
		 "{\"type\":\"MESOS\",\"image\":\"i\",\"network\":\"HOST\",\"networkInfos\":[],\"volumes\":[],"
		 "\"forcePullImage\":false,\"parameters\":[]}"},
		{"forcePullImage as string",
		 "{\"name\":\"n\",\"container\":{\"image\":\"i\",\"forcePullImage\":\"true\",\"network\":\"bridge\","
		 "\"volumes\":[{\"containerPath\":\"/c\",\"mode\":\"ro\"}],"
		 "\"networkInfos\":[{\"portMappings\":[{\"hostPort\":80,\"containerPort\":\"81\"}]}]}}",
		 "container",
		 "{\"type\":\"DOCKER\",\"image\":\"i\",\"network\":\"BRIDGE\",\"networkInfos\":[{\"name\":\"\","
		 "\"labels\":[],\"portMappings\":[{\"hostPort\":\"80\",\"containerPort\":\"81\"}]}],"
		 "\"volumes\":[{\"containerPath\":\"/c\",\"mode\":\"RO\"}],\"forcePullImage\":true,\"parameters\":[]}"},
		{"container without image ignored", "{\"name\":\"n\",\"container\":{\"type\":\"DOCKER\"}}",
		 "container", NULL},
		{"retryBackoff as string", "{\"name\":\"n\",\"retryBackoff\":\"2\"}", "retryBackoff", "2.0"},
		{"retryBackoff as integer", "{\"name\":\"n\",\"retryBackoff\":3}", "retryBackoff", "3.0"},
		{"retryBackoff fraction", "{\"name\":\"n\",\"retryBackoff\":\"1.25\"}", "retryBackoff", "1.25"},
		{"retryBackoff null is absent", "{\"name\":\"n\",\"retryBackoff\":null}", "retryBackoff", "1.0"},
		{"retryDelay kept as given", "{\"name\":\"n\",\"retryDelay\":\"PT0S\"}", "retryDelay", "\"PT0S\""},
		{"retryDelay null is absent", "{\"name\":\"n\",\"retryDelay\":null}", "retryDelay", "\"\""},
		{"notifyOn upper-case", "{\"name\":\"n\",\"notifyOn\":\"ALWAYS\"}", "notifyOn", "\"always\""},
		{"notifyOn padded", "{\"name\":\"n\",\"notifyOn\":\" Never \"}", "notifyOn", "\"never\""},
		{"notifyOn empty is the default", "{\"name\":\"n\",\"notifyOn\":\"\"}", "notifyOn", "\"failure\""},
		{"notifyOn null is absent", "{\"name\":\"n\",\"notifyOn\":null}", "notifyOn", "\"failure\""},
	};
	(void)state;
	check_value_rows(rows, N(rows), NULL, false);
}

static void test_defaults(void **state)
{
	static const char minimal[] = "{\"name\":\"n\",\"schedule\":\"R/2024-01-01T00:00:00Z/PT1M\"}";
	static const struct value_row rows[] = {
		{"command", minimal, "command", "\"\""},
		{"shell", minimal, "shell", "true"},
		{"retries", minimal, "retries", "2"},
		{"cpus", minimal, "cpus", "0.1"},
		{"mem", minimal, "mem", "128.0"},
		{"disk", minimal, "disk", "256.0"},
		{"runAsUser", minimal, "runAsUser", "\"root\""},
		{"epsilon", minimal, "epsilon", "\"PT60S\""},
		{"async", minimal, "async", "false"},
		{"retryDelay", minimal, "retryDelay", "\"\""},
		{"retryBackoff", minimal, "retryBackoff", "1.0"},
		{"notifyOn", minimal, "notifyOn", "\"failure\""},
		{"lastSuccess", minimal, "lastSuccess", "\"\""},
		{"fetch", minimal, "fetch", "[]"},
		{"arguments", minimal, "arguments", "[]"},
		{"container absent", minimal, "container", NULL},
		{"scheduleTimeZone", minimal, "scheduleTimeZone", "\"\""},
		{"fetch extract true", "{\"name\":\"n\",\"fetch\":[{\"uri\":\"u\"}]}", "fetch",
		 "[{\"uri\":\"u\",\"executable\":false,\"cache\":false,\"extract\":true}]"},
	};
	static const struct value_row custom[] = {
		{"custom cpus", "{\"name\":\"n\",\"cpus\":0}", "cpus", "1.0"},
		{"custom mem", "{\"name\":\"n\"}", "mem", "64.0"},
		{"custom disk", "{\"name\":\"n\"}", "disk", "32.0"},
		{"custom user", "{\"name\":\"n\"}", "runAsUser", "\"chronos\""},
		{"given user wins", "{\"name\":\"n\",\"runAsUser\":\"root\"}", "runAsUser", "\"root\""},
		{"custom epsilon", "{\"name\":\"n\"}", "epsilon", "\"PT30S\""},
		{"given epsilon wins", "{\"name\":\"n\",\"epsilon\":\"PT60S\"}", "epsilon", "\"PT60S\""},
	};
	const struct job_defaults d = {.cpus = 1, .mem = 64, .disk = 32, .user = "chronos", .epsilon_s = 30};
	struct job *j = job_new();
	char *s;
	(void)state;

	check_value_rows(rows, N(rows), NULL, false);
	check_value_rows(custom, N(custom), &d, false);
	/* job_new() and parsing {"name":""} differ only in name and the run-once schedule. */
	job_set_string(&j->name, "n");
	job_set_string(&j->schedule, "R1/2026-01-01T00:00:00.000Z/PT24H");
	s = job_to_json_string(j);
	check_round_trip("{\"name\":\"n\"}", s);
	free(s);
	job_free(j);
}

/* Key presence decides the job type; parents is a set in first-seen order. */
static void test_type_and_parents(void **state)
{
	static const struct value_row rows[] = {
		{"no schedule runs once now", "{\"name\":\"n\"}", "schedule", "\"R1/2026-01-01T00:00:00.000Z/PT24H\""},
		{"fallback has no parents", "{\"name\":\"n\"}", "parents", NULL},
		{"fallback drops time zone", "{\"name\":\"n\",\"scheduleTimeZone\":\"UTC\"}", "scheduleTimeZone", "\"\""},
		{"null schedule is absent", "{\"name\":\"n\",\"schedule\":null}", "schedule",
		 "\"R1/2026-01-01T00:00:00.000Z/PT24H\""},
		{"schedule kept", "{\"name\":\"n\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"scheduleTimeZone\":\"PST\"}",
		 "scheduleTimeZone", "\"PST\""},
		{"parents beat schedule", "{\"name\":\"n\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"parents\":[\"a\"]}",
		 "schedule", NULL},
		{"parents beat schedule (tz)", "{\"name\":\"n\",\"parents\":[\"a\"],\"scheduleTimeZone\":\"UTC\"}",
		 "scheduleTimeZone", NULL},
		{"parents kept", "{\"name\":\"n\",\"schedule\":\"R/2024-01-01T00:00Z/P1D\",\"parents\":[\"a\"]}",
		 "parents", "[\"a\"]"},
		{"parents deduplicated", "{\"name\":\"n\",\"parents\":[\"b\",\"a\",\"b\",\"c\",\"a\"]}", "parents",
		 "[\"b\",\"a\",\"c\"]"},
		{"empty parents is dependent", "{\"name\":\"n\",\"parents\":[]}", "parents", "[]"},
		{"null parents is absent", "{\"name\":\"n\",\"parents\":null}", "parents", NULL},
	};
	const char *many[40];
	char names[40][8];
	struct job *j;
	(void)state;

	check_value_rows(rows, N(rows), NULL, false);
	j = parse_ok("{\"name\":\"n\",\"parents\":[]}");
	assert_true(job_is_dependent(j));
	assert_int_equal(j->n_parents, 0);
	/* A long list takes the sort-based path: 40 names, 10 distinct, first-seen order 9, 8, ... 0. */
	for (int i = 0; i < 40; i++) {
		snprintf(names[i], sizeof(names[i]), "p%d", 9 - i % 10);
		many[i] = names[i];
	}
	job_set_parents(j, many, 40);
	assert_int_equal(j->n_parents, 10);
	for (int i = 0; i < 10; i++)
		assert_string_equal(j->parents[i], names[i]);
	/* Converting back to a schedule-based job, as deleting a scheduled parent does. */
	job_set_schedule(j, "R/2024-01-01T00:00Z/P1D", "UTC");
	assert_false(job_is_dependent(j));
	assert_int_equal(j->n_parents, 0);
	assert_string_equal(j->schedule_time_zone, "UTC");
	job_free(j);
}

/* GET /jobs fill: fetch from uris when fetch is empty, uris from fetch when uris is empty. */
static void test_compat(void **state)
{
	static const struct value_row rows[] = {
		{"fetch from uris", "{\"name\":\"n\",\"uris\":[\"a\",\"b\"]}", "fetch",
		 "[{\"uri\":\"a\",\"executable\":false,\"cache\":false,\"extract\":true},"
		 "{\"uri\":\"b\",\"executable\":false,\"cache\":false,\"extract\":true}]"},
		{"uris kept", "{\"name\":\"n\",\"uris\":[\"a\",\"b\"]}", "uris", "[\"a\",\"b\"]"},
		{"uris from fetch", "{\"name\":\"n\",\"fetch\":[{\"uri\":\"f\",\"output_file\":\"o\"}]}", "uris", "[\"f\"]"},
		{"fetch kept", "{\"name\":\"n\",\"fetch\":[{\"uri\":\"f\",\"cache\":true}]}", "fetch",
		 "[{\"uri\":\"f\",\"executable\":false,\"cache\":true,\"extract\":true}]"},
		{"neither", "{\"name\":\"n\"}", "uris", "[]"},
		{"retryDelay default", "{\"name\":\"n\"}", "retryDelay", "\"\""},
		{"retryBackoff default", "{\"name\":\"n\"}", "retryBackoff", "1.0"},
		{"retryDelay set", "{\"name\":\"n\",\"retryDelay\":\"PT5M\"}", "retryDelay", "\"PT5M\""},
		{"retryBackoff set", "{\"name\":\"n\",\"retryBackoff\":4}", "retryBackoff", "4.0"},
	};
	static const struct value_row plain[] = {
		{"stored form has no fill", "{\"name\":\"n\",\"uris\":[\"a\"]}", "fetch", "[]"},
	};
	(void)state;
	check_value_rows(rows, N(rows), NULL, true);
	check_value_rows(plain, N(plain), NULL, false);
}

/* Setters copy, replace and free; arguments join for task ids and shell commands. */
static void test_setters(void **state)
{
	struct job *j = job_new();
	const char *args[] = {"-a", "1", "b c"};
	const struct job_env env[] = {{"A", "1"}, {"B", ""}};
	const struct job_constraint cons[] = {{"rack", "EQUALS", "r1"}};
	const struct job_fetch fetch[] = {{.uri = "u", .output_file = "", .extract = true}};
	char *joined, buf[64];
	(void)state;

	snprintf(buf, sizeof(buf), "a command");
	job_set_string(&j->command, buf);
	buf[0] = 'X';
	assert_string_equal(j->command, "a command");
	job_set_string(&j->command, NULL);
	assert_string_equal(j->command, "");
	job_set_string(&j->command, j->command);
	joined = job_arguments_join(j);
	assert_string_equal(joined, "");
	free(joined);
	job_set_arguments(j, args, 3);
	job_set_arguments(j, args, 3);
	joined = job_arguments_join(j);
	assert_string_equal(joined, "-a 1 b c");
	free(joined);
	job_set_uris(j, args, 1);
	job_set_env(j, env, 2);
	job_set_constraints(j, cons, 1);
	job_set_fetch(j, fetch, 1);
	job_set_container_json(j, "{\"type\":\"DOCKER\",\"image\":\"i\",\"network\":\"HOST\"}");
	job_set_container_json(j, "{\"type\":\"DOCKER\",\"image\":\"j\",\"network\":\"HOST\"}");
	assert_int_equal(j->n_env, 2);
	assert_string_equal(j->env[1].name, "B");
	assert_string_equal(j->constraints[0].value, "r1");
	assert_string_equal(j->fetch[0].uri, "u");
	assert_string_equal(j->uris[0], "-a");
	job_set_arguments(j, NULL, 0);
	assert_null(j->arguments);
	job_set_container_json(j, NULL);
	assert_null(j->container_json);
	job_free(j);
	job_free(NULL);
}

struct time_row {
	const char *text;
	int64_t ms;
	const char *formatted; /* NULL: invalid */
};

static void test_time(void **state)
{
	static const struct time_row rows[] = {
		{"2014-03-08T16:57:17.507Z", INT64_C(1394297837507), "2014-03-08T16:57:17.507Z"},
		{"1970-01-01T00:00:00.000Z", 0, "1970-01-01T00:00:00.000Z"},
		{"1969-12-31T23:59:59.999Z", -1, "1969-12-31T23:59:59.999Z"},
		{"2024-02-29T12:00:00Z", INT64_C(1709208000000), "2024-02-29T12:00:00.000Z"},
		{"2026-01-01T01:00:00.5+01:00", INT64_C(1767225600500), "2026-01-01T00:00:00.500Z"},
		{"2026-01-01T00:00-0130", INT64_C(1767231000000), "2026-01-01T01:30:00.000Z"},
		{"2026-01-01T00:00:00", NOW_MS, "2026-01-01T00:00:00.000Z"},
		{"", JOB_TIME_NONE, ""},
		/* the years 0000-9999 in UTC, which is what is written back */
		{"0000-01-01T00:00:00Z", INT64_C(-62167219200000), "0000-01-01T00:00:00.000Z"},
		{"0000-01-01T00:00-00:01", INT64_C(-62167219140000), "0000-01-01T00:01:00.000Z"},
		{"9999-12-31T23:59:59.999Z", INT64_C(253402300799999), "9999-12-31T23:59:59.999Z"},
		{"9999-12-31T23:59+00:01", INT64_C(253402300680000), "9999-12-31T23:58:00.000Z"},
		{"0000-01-01T00:00+00:01", 0, NULL},
		{"9999-12-31T23:59-01:00", 0, NULL},
		{"2023-02-29T00:00:00Z", 0, NULL},
		{"2014-13-01T00:00:00Z", 0, NULL},
		{"2014-03-08 16:57:17Z", 0, NULL},
		{"2014-03-08T24:00:00Z", 0, NULL},
		{"2014-03-08T16:57:17.Z", 0, NULL},
		{"2014-03-08T16:57:17Zjunk", 0, NULL},
		{"yesterday", 0, NULL},
	};
	char out[JOB_TIME_BUFSZ];
	(void)state;

	for (size_t i = 0; i < N(rows); i++) {
		int64_t ms = 12345;
		int rc = job_time_parse(rows[i].text, &ms);
		if (rows[i].formatted == NULL) {
			if (rc == 0)
				fail_msg("%s: accepted", rows[i].text);
			continue;
		}
		if (rc != 0 || ms != rows[i].ms)
			fail_msg("%s: rc %d ms %lld", rows[i].text, rc, (long long)ms);
		job_time_format(ms, out);
		assert_string_equal(out, rows[i].formatted);
	}
}

struct duration_row {
	const char *text;
	int64_t ms; /* -1: invalid */
};

static void test_duration(void **state)
{
	static const struct duration_row rows[] = {
		{"PT60S", 60000}, {"PT5M", 300000}, {"P1D", 86400000}, {"PT1H", 3600000},
		{"P1W", 604800000}, {"P1Y", INT64_C(31536000000)}, {"P1M", INT64_C(2592000000)},
		{"P1DT2H3M4S", 93784000}, {"PT0.5S", 500}, {"PT1,25S", 1250}, {"PT0S", 0},
		{"", -1}, {"P", -1}, {"PT", -1}, {"P1DT", -1}, {"P1", -1}, {"PT1D", -1}, {"P1H", -1},
		{"PT1M1H", -1}, {"P1D1D", -1}, {"P-1D", -1}, {"60", -1}, {"PT1.5M", -1}, {"pt60s", -1},
		{"P99999999999999999999D", -1}, {"P9999999999999999D", -1},
	};
	(void)state;

	for (size_t i = 0; i < N(rows); i++) {
		int64_t ms = -7;
		int rc = job_duration_parse(rows[i].text, &ms);
		if (rows[i].ms < 0 ? rc == 0 : rc != 0 || ms != rows[i].ms)
			fail_msg("'%s': rc %d ms %lld, want %lld", rows[i].text, rc, (long long)ms,
				 (long long)rows[i].ms);
	}
}

struct retry_row {
	const char *delay;  /* retryDelay */
	double backoff;     /* retryBackoff */
	int attempt;
	int64_t default_ms; /* the server's --failure-retry */
	int64_t expect;
};

#define WEEK_MS JOB_RETRY_DELAY_MAX_MS

static void test_retry_delay(void **state)
{
	static const struct retry_row rows[] = {
		/* The server's default as base, constant or growing. */
		{"", 1, 1, 60000, 60000},
		{"", 1, 7, 60000, 60000},
		{"", 2, 1, 60000, 60000},
		{"", 2, 2, 60000, 120000},
		{"", 2, 3, 60000, 240000},
		{"", 2, 4, 60000, 480000},
		{"", 2, 5, 60000, 960000},
		/* The job's own base wins. */
		{"PT30S", 1, 1, 60000, 30000},
		{"PT30S", 1, 4, 60000, 30000},
		{"PT5M", 2, 3, 1000, 1200000},
		{"PT10S", 1.5, 3, 60000, 22500},
		{"PT0.1S", 1.1, 3, 60000, 121},
		{"PT0S", 2, 1, 60000, 0},
		{"PT0S", 2, 9, 60000, 0},
		/* The 7-day cap. */
		{"P6D", 2, 1, 60000, INT64_C(518400000)},
		{"P6D", 2, 2, 60000, WEEK_MS},
		{"P7D", 1, 1, 60000, WEEK_MS},
		{"P1Y", 1, 1, 60000, WEEK_MS},
		{"", 1, 1, INT64_MAX, WEEK_MS},
		{"", 2, 30, 60000, WEEK_MS},
		/* Huge backoffs and attempts do not overflow. */
		{"PT1S", 1e300, 3, 60000, WEEK_MS},
		{"PT1S", 1e308, 2, 60000, WEEK_MS},
		{"PT1S", 2, INT32_MAX, 60000, WEEK_MS},
		{"PT1S", 1.0000001, INT32_MAX, 60000, WEEK_MS},
		{"PT0S", 1e308, INT32_MAX, 60000, 0},
		/* Out-of-range inputs stay sane: never negative, attempts before the first count as the first, an
		 * unvalidated backoff below 1 or a bad duration falls back to constant / the default. */
		{"", 2, 1, -5, 0},
		{"", 2, 3, INT64_MIN, 0},
		{"PT1S", 2, 0, 60000, 1000},
		{"PT1S", 2, -3, 60000, 1000},
		{"PT1S", 0.5, 3, 60000, 1000},
		{"PT1S", -2, 3, 60000, 1000},
		{"bogus", 2, 2, 60000, 120000},
		{"P", 1, 1, 60000, 60000},
	};
	(void)state;

	for (size_t i = 0; i < N(rows); i++) {
		struct job *j = job_new();
		job_set_string(&j->retry_delay, rows[i].delay);
		j->retry_backoff = rows[i].backoff;
		int64_t got = job_retry_delay_ms(j, rows[i].attempt, rows[i].default_ms);
		if (got != rows[i].expect)
			fail_msg("row %zu ('%s' x%g attempt %d default %lld): got %lld, want %lld", i, rows[i].delay,
				 rows[i].backoff, rows[i].attempt, (long long)rows[i].default_ms, (long long)got,
				 (long long)rows[i].expect);
		job_free(j);
	}
}

/* Backoffs that JSON cannot carry: NaN and infinity. */
static void test_retry_delay_nonfinite(void **state)
{
	struct job *j = job_new();
	(void)state;

	job_set_string(&j->retry_delay, "PT1S");
	j->retry_backoff = NAN;
	assert_int_equal(job_retry_delay_ms(j, 3, 60000), 1000);
	j->retry_backoff = INFINITY;
	assert_int_equal(job_retry_delay_ms(j, 1, 60000), 1000);
	assert_int_equal(job_retry_delay_ms(j, 2, 60000), WEEK_MS);
	job_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_scheduled),
		cmocka_unit_test(test_round_trip_dependent),
		cmocka_unit_test(test_values_scheduled),
		cmocka_unit_test(test_values_dependent),
		cmocka_unit_test(test_dup),
		cmocka_unit_test(test_sparse),
		cmocka_unit_test(test_field_order),
		cmocka_unit_test(test_leniency),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_type_and_parents),
		cmocka_unit_test(test_compat),
		cmocka_unit_test(test_setters),
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_retry_delay),
		cmocka_unit_test(test_retry_delay_nonfinite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
