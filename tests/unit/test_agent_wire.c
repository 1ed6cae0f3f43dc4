/* The agent protocol's shared shapes (runner/agent_wire.h): an assignment and a result survive the trip through
 * JSON field for field; every malformed field is refused with its name; names, task ids and outcomes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/cgroup.h"
#include "runner/agent_wire.h"

static void test_spec_round_trip(void **state)
{
	const char *args[] = {"a b", "c;d"};
	struct runner_env env[] = {{"X", "1"}, {"PATH", "/opt/bin"}};
	struct runner_spec s = {
		.task_id = "ct:1700000000000:2:job one:x y", .epoch = 7, .job = "job one", .owner = "o@example.com",
		.due_ms = 1700000000000, .attempt = 2, .parents = "ct:1:0:p:", .command = "echo", .args = args,
		.n_args = 2, .shell = true, .container = "{\"type\":\"DOCKER\",\"image\":\"busybox\"}", .env = env,
		.n_env = 2, .run_as_user = "nobody", .cpus = 0.5, .mem = 256, .disk = 1024, .deadline_ms = 60000,
		.grace_ms = 5000, .output_cap = 65536,
	};
	struct agent_assignment a;
	char err[256];
	json_t *j = agent_wire_spec_to_json(&s);
	char *text = json_dumps(j, JSON_COMPACT);
	json_t *back = json_loads(text, 0, NULL);
	(void)state;

	assert_int_equal(agent_wire_spec_from_json(back, "task.", &a, err, sizeof(err)), 0);
	assert_string_equal(a.spec.task_id, s.task_id);
	assert_int_equal(a.spec.epoch, 7);
	assert_string_equal(a.spec.job, "job one");
	assert_string_equal(a.spec.owner, "o@example.com");
	assert_int_equal(a.spec.due_ms, s.due_ms);
	assert_int_equal(a.spec.attempt, 2);
	assert_string_equal(a.spec.parents, "ct:1:0:p:");
	assert_string_equal(a.spec.command, "echo");
	assert_int_equal(a.spec.n_args, 2);
	assert_string_equal(a.spec.args[0], "a b");
	assert_string_equal(a.spec.args[1], "c;d");
	assert_true(a.spec.shell);
	assert_string_equal(a.spec.container, "{\"type\":\"DOCKER\",\"image\":\"busybox\"}");
	assert_int_equal(a.spec.n_env, 2);
	assert_string_equal(a.spec.env[1].name, "PATH");
	assert_string_equal(a.spec.env[1].value, "/opt/bin");
	assert_string_equal(a.spec.run_as_user, "nobody");
	assert_true(a.spec.cpus == 0.5 && a.spec.mem == 256 && a.spec.disk == 1024);
	assert_int_equal(a.spec.deadline_ms, 60000);
	assert_int_equal(a.spec.grace_ms, 5000);
	assert_int_equal(a.spec.output_cap, 65536);
	assert_null(a.spec.ctx);
	agent_assignment_clear(&a);
	json_decref(back);
	free(text);
	json_decref(j);
}

static void test_spec_errors(void **state)
{
	static const struct {
		const char *json, *err;
	} rows[] = {
		{"[]", "task: must be an object"},
		{"{\"epoch\": 1}", "task.taskId: missing"},
		{"{\"taskId\": \"a\\u0001b\", \"epoch\": 1}", "task.taskId: not a task id"},
		{"{\"taskId\": \"t\", \"epoch\": -1}", "task.epoch: must be between 0 and 9223372036854775807"},
		{"{\"taskId\": \"t\", \"epoch\": \"1\"}", "task.epoch: must be an integer"},
		{"{\"taskId\": \"t\", \"epoch\": 1}", "task.job: missing"},
		{"{\"taskId\": \"t\", \"epoch\": 1, \"job\": \"j\", \"dueMs\": 1, \"attempt\": 0, \"command\": \"c\", "
		 "\"cpus\": -1}", "task.cpus: must be a number between 0 and 1e12"},
		{"{\"taskId\": \"t\", \"epoch\": 1, \"job\": \"j\", \"dueMs\": 1, \"attempt\": 0, \"command\": \"c\", "
		 "\"args\": [1]}", "task.args[0]: must be a string of at most 65536 bytes"},
		{"{\"taskId\": \"t\", \"epoch\": 1, \"job\": \"j\", \"dueMs\": 1, \"attempt\": 0, \"command\": \"c\", "
		 "\"env\": [{\"name\": \"A=B\", \"value\": \"x\"}]}", "task.env[0]: must be {\"name\": NAME without '=', "
		 "\"value\": string}"},
		{"{\"taskId\": \"t\", \"epoch\": 1, \"job\": \"j\", \"dueMs\": 1, \"attempt\": 0, \"command\": \"c\", "
		 "\"container\": 3}", "task.container: must be an object or null"},
		{"{\"taskId\": \"t\", \"epoch\": 1, \"job\": \"j\", \"dueMs\": 1, \"attempt\": 0, \"command\": \"c\", "
		 "\"shell\": 1}", "task.shell: must be true or false"},
	};
	(void)state;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		struct agent_assignment a;
		char err[256] = "";
		json_t *j = json_loads(rows[i].json, JSON_DECODE_ANY, NULL);
		assert_non_null(j);
		assert_int_equal(agent_wire_spec_from_json(j, "task.", &a, err, sizeof(err)), -EINVAL);
		assert_string_equal(err, rows[i].err);
		json_decref(j);
	}
}

static void test_result_round_trip_and_errors(void **state)
{
	struct runner_result r = {.end = RUNNER_END_SIGNALLED, .exit_code = -1, .term_signal = 9, .core_dumped = true,
		.start_ms = 10, .end_ms = 20, .duration_us = 10000, .bytes = {5, 6}, .user_cpu_us = 1, .system_cpu_us = 2,
		.max_rss_kib = 3, .reason = "why"};
	struct runner_result back;
	char err[256];
	json_t *j = agent_wire_result_to_json(&r), *bad;
	(void)state;

	assert_int_equal(agent_wire_result_from_json(j, "result.", &back, err, sizeof(err)), 0);
	assert_int_equal(back.end, r.end);
	assert_int_equal(back.exit_code, -1);
	assert_int_equal(back.term_signal, 9);
	assert_true(back.core_dumped);
	assert_int_equal(back.start_ms, 10);
	assert_int_equal(back.end_ms, 20);
	assert_int_equal(back.duration_us, 10000);
	assert_int_equal(back.bytes[0], 5);
	assert_int_equal(back.bytes[1], 6);
	assert_int_equal(back.user_cpu_us, 1);
	assert_int_equal(back.system_cpu_us, 2);
	assert_int_equal(back.max_rss_kib, 3);
	assert_string_equal(back.reason, "why");
	json_decref(j);
	bad = json_pack("{s:s}", "end", "vanished");
	assert_int_equal(agent_wire_result_from_json(bad, "events[3].result.", &back, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "events[3].result.end: one of exited, signalled, timed_out, killed, lost, start_failed");
	json_decref(bad);
	bad = json_pack("{s:s, s:i}", "end", "exited", "exitCode", 256);
	assert_int_equal(agent_wire_result_from_json(bad, "r.", &back, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "r.exitCode: must be between -1 and 255");
	json_decref(bad);
}

static void test_names(void **state)
{
	enum runner_outcome o;
	char long_name[AGENT_WIRE_ID_MAX + 2];
	(void)state;

	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_true(agent_wire_name_ok("build-7.example:a@b_c"));
	assert_false(agent_wire_name_ok(""));
	assert_false(agent_wire_name_ok(NULL));
	assert_false(agent_wire_name_ok("a b"));
	assert_false(agent_wire_name_ok("a/b"));
	assert_false(agent_wire_name_ok(long_name));
	long_name[AGENT_WIRE_ID_MAX] = '\0';
	assert_true(agent_wire_name_ok(long_name));
	assert_true(agent_wire_task_id_ok("ct:1:0:job:with spaces/and;odd"));
	assert_false(agent_wire_task_id_ok("ct:1:0:job:\n"));
	assert_false(agent_wire_task_id_ok(""));
	for (int i = RUNNER_OUTCOME_SUCCEEDED; i <= RUNNER_OUTCOME_LOST; i++) {
		assert_int_equal(agent_wire_outcome_parse(agent_wire_outcome_name((enum runner_outcome)i), &o), 0);
		assert_int_equal(o, i);
	}
	assert_int_equal(agent_wire_outcome_parse("won", &o), -EINVAL);
	assert_string_equal(agent_wire_end_name(RUNNER_END_SKIPPED), "lost");
}

/* An agent's cgroups in its registration: written, then checked as the server reads them (a bad shape is
 * dropped). */
static void test_cgroups(void **state)
{
	static const struct {
		const char *in, *want; /* want NULL: dropped */
	} rows[] = {
		{"{\"enforced\":true,\"version\":\"v1\",\"layout\":\"hybrid\",\"reason\":null}",
		    "{\"enforced\":true,\"version\":\"v1\",\"layout\":\"hybrid\",\"reason\":null}"},
		{"{\"enforced\":false,\"version\":null,\"layout\":\"none\",\"reason\":\"not root\",\"extra\":1}",
		    "{\"enforced\":false,\"version\":null,\"layout\":\"none\",\"reason\":\"not root\"}"},
		{"{\"enforced\":\"yes\",\"version\":null,\"layout\":\"none\",\"reason\":null}", NULL},
		{"{\"enforced\":true,\"version\":\"v1\",\"reason\":null}", NULL},
		{"{\"enforced\":true,\"version\":\"version-9\",\"layout\":\"v1\",\"reason\":null}", NULL},
		{"{\"enforced\":true,\"version\":1,\"layout\":\"v1\",\"reason\":null}", NULL},
		{"[]", NULL},
	};
	struct cgroup_host h = {.version = CGROUP_V2, .layout = "v2"};
	json_t *j = agent_wire_cgroups_json(&h);
	char *text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	(void)state;

	assert_string_equal(text, "{\"enforced\":true,\"version\":\"v2\",\"layout\":\"v2\",\"reason\":null}");
	free(text);
	json_decref(j);
	h.version = CGROUP_NONE;
	snprintf(h.why, sizeof(h.why), "--enforce-resources=false");
	j = agent_wire_cgroups_json(&h);
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
	assert_string_equal(text, "{\"enforced\":false,\"version\":null,\"layout\":\"v2\",\"reason\":\"--enforce-resources=false\"}");
	free(text);
	json_decref(j);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		json_t *in = json_loads(rows[i].in, 0, NULL), *got = agent_wire_cgroups_check(in);
		assert_non_null(in);
		if (!rows[i].want) {
			assert_null(got);
		} else {
			text = json_dumps(got, JSON_COMPACT | JSON_PRESERVE_ORDER);
			assert_string_equal(text, rows[i].want);
			free(text);
		}
		json_decref(got);
		json_decref(in);
	}
	assert_null(agent_wire_cgroups_check(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_round_trip),
		cmocka_unit_test(test_spec_errors),
		cmocka_unit_test(test_result_round_trip_and_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_cgroups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
