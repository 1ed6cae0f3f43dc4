/* libFuzzer target: the agent protocol's shared shapes (src/runner/agent_wire.c), fed JSON. The first byte picks
 * the decoder (an assignment or a result), the rest is parsed as JSON and decoded: a refusal names a field under
 * its prefix; an accepted assignment or result encodes and decodes again to the same values. */
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "fuzz_check.h"
#include "runner/agent_wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same_str(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static void check_spec(json_t *j)
{
	struct agent_assignment a, b;
	char err[512];
	json_t *again;

	if (agent_wire_spec_from_json(j, "task.", &a, err, sizeof(err)) != 0) {
		CHECK(strncmp(err, "task", 4) == 0 && strchr(err, ':'), "a refusal that names no field: '%s'", err);
		return;
	}
	again = agent_wire_spec_to_json(&a.spec);
	CHECK(agent_wire_spec_from_json(again, "task.", &b, err, sizeof(err)) == 0, "its encoding is refused: %s", err);
	CHECK(same_str(a.spec.task_id, b.spec.task_id) && a.spec.epoch == b.spec.epoch &&
	    same_str(a.spec.job, b.spec.job) && same_str(a.spec.owner, b.spec.owner) && a.spec.due_ms == b.spec.due_ms &&
	    a.spec.attempt == b.spec.attempt && same_str(a.spec.parents, b.spec.parents) &&
	    same_str(a.spec.command, b.spec.command) && a.spec.shell == b.spec.shell &&
	    same_str(a.spec.run_as_user, b.spec.run_as_user) && a.spec.cpus == b.spec.cpus && a.spec.mem == b.spec.mem &&
	    a.spec.disk == b.spec.disk && a.spec.deadline_ms == b.spec.deadline_ms && a.spec.grace_ms == b.spec.grace_ms &&
	    a.spec.output_cap == b.spec.output_cap && a.spec.n_args == b.spec.n_args && a.spec.n_env == b.spec.n_env &&
	    (a.spec.container == NULL) == (b.spec.container == NULL), "the assignment changed through its encoding");
	for (size_t i = 0; i < a.spec.n_args; i++)
		CHECK(strcmp(a.spec.args[i], b.spec.args[i]) == 0, "args[%zu] changed", i);
	for (size_t i = 0; i < a.spec.n_env; i++)
		CHECK(strcmp(a.spec.env[i].name, b.spec.env[i].name) == 0 &&
		    strcmp(a.spec.env[i].value, b.spec.env[i].value) == 0, "env[%zu] changed", i);
	agent_assignment_clear(&b);
	json_decref(again);
	agent_assignment_clear(&a);
}

static void check_result(const json_t *j)
{
	struct runner_result r, back;
	char err[512];
	json_t *again;

	if (agent_wire_result_from_json(j, "result.", &r, err, sizeof(err)) != 0) {
		CHECK(strncmp(err, "result", 6) == 0 && strchr(err, ':'), "a refusal that names no field: '%s'", err);
		return;
	}
	again = agent_wire_result_to_json(&r);
	CHECK(agent_wire_result_from_json(again, "result.", &back, err, sizeof(err)) == 0, "its encoding is refused: %s",
	    err);
	CHECK(r.end == back.end && r.exit_code == back.exit_code && r.term_signal == back.term_signal &&
	    r.core_dumped == back.core_dumped && r.start_ms == back.start_ms && r.end_ms == back.end_ms &&
	    r.duration_us == back.duration_us && r.bytes[0] == back.bytes[0] && r.bytes[1] == back.bytes[1] &&
	    r.user_cpu_us == back.user_cpu_us && r.system_cpu_us == back.system_cpu_us &&
	    r.max_rss_kib == back.max_rss_kib && strcmp(r.reason, back.reason) == 0,
	    "the result changed through its encoding");
	json_decref(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *j;

	if (size < 1)
		return 0;
	j = json_loadb((const char *)data + 1, size - 1, JSON_DECODE_ANY, NULL);
	if (j == NULL)
		return 0;
	if (data[0] & 1)
		check_result(j);
	else
		check_spec(j);
	json_decref(j);
	return 0;
}
