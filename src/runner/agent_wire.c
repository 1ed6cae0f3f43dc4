/* The assignment and the result as JSON (agent_wire.h). */
#include "runner/agent_wire.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/cgroup.h"
#include "util/xmalloc.h"

static const char *const end_names[] = {
	[RUNNER_END_EXITED] = "exited", [RUNNER_END_SIGNALLED] = "signalled", [RUNNER_END_TIMED_OUT] = "timed_out",
	[RUNNER_END_KILLED] = "killed", [RUNNER_END_LOST] = "lost", [RUNNER_END_START_FAILED] = "start_failed",
};
static const char *const outcome_names[] = {
	[RUNNER_OUTCOME_SUCCEEDED] = "succeeded", [RUNNER_OUTCOME_FAILED] = "failed",
	[RUNNER_OUTCOME_KILLED] = "killed", [RUNNER_OUTCOME_LOST] = "lost",
};

const char *agent_wire_end_name(enum runner_end e)
{
	return (size_t)e < sizeof(end_names) / sizeof(end_names[0]) ? end_names[e] : "lost";
}

const char *agent_wire_outcome_name(enum runner_outcome o)
{
	return (size_t)o < sizeof(outcome_names) / sizeof(outcome_names[0]) ? outcome_names[o] : "lost";
}

int agent_wire_outcome_parse(const char *s, enum runner_outcome *out)
{
	for (size_t i = 0; s && i < sizeof(outcome_names) / sizeof(outcome_names[0]); i++) {
		if (strcmp(s, outcome_names[i]) == 0) {
			*out = (enum runner_outcome)i;
			return 0;
		}
	}
	return -EINVAL;
}

bool agent_wire_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > AGENT_WIRE_ID_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || strchr("._:@-", c)))
			return false;
	}
	return true;
}

bool agent_wire_task_id_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n == 0 || n > 4096)
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

/* ---- encoding ---- */

json_t *agent_wire_spec_to_json(const struct runner_spec *s)
{
	json_t *args = json_array(), *env = json_array(), *container = json_null(), *j;

	for (size_t i = 0; i < s->n_args; i++)
		json_array_append_new(args, json_string(s->args[i]));
	for (size_t i = 0; i < s->n_env; i++)
		json_array_append_new(env, json_pack("{s:s, s:s}", "name", s->env[i].name, "value", s->env[i].value));
	if (s->container) {
		json_t *c = json_loads(s->container, JSON_DECODE_ANY, NULL);
		if (c)
			container = c;
	}
	j = json_pack("{s:s, s:I, s:s, s:s, s:I, s:i, s:s, s:s, s:o, s:b, s:o, s:o, s:s, s:f, s:f, s:f, s:I, s:I, s:I}",
	    "taskId", s->task_id, "epoch", (json_int_t)s->epoch, "job", s->job, "owner", s->owner ? s->owner : "",
	    "dueMs", (json_int_t)s->due_ms, "attempt", s->attempt, "parents", s->parents ? s->parents : "",
	    "command", s->command ? s->command : "", "args", args, "shell", s->shell, "container", container,
	    "env", env, "runAsUser", s->run_as_user ? s->run_as_user : "", "cpus", s->cpus, "mem", s->mem,
	    "disk", s->disk, "deadlineMs", (json_int_t)s->deadline_ms, "graceMs", (json_int_t)s->grace_ms,
	    "outputCap", (json_int_t)s->output_cap);
	if (j == NULL)
		abort(); /* only out of memory: every string above is valid UTF-8 from the job model */
	return j;
}

json_t *agent_wire_result_to_json(const struct runner_result *r)
{
	json_t *j = json_pack("{s:s, s:i, s:i, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:s}",
	    "end", agent_wire_end_name(r->end), "exitCode", r->exit_code, "signal", r->term_signal,
	    "coreDumped", r->core_dumped, "startMs", (json_int_t)r->start_ms, "endMs", (json_int_t)r->end_ms,
	    "durationUs", (json_int_t)r->duration_us, "stdoutBytes", (json_int_t)r->bytes[0],
	    "stderrBytes", (json_int_t)r->bytes[1], "userCpuUs", (json_int_t)r->user_cpu_us,
	    "systemCpuUs", (json_int_t)r->system_cpu_us, "maxRssKib", (json_int_t)r->max_rss_kib,
	    "peakMemoryBytes", (json_int_t)(r->peak_mem_bytes > 0 ? r->peak_mem_bytes : -1), "reason", r->reason);
	if (j == NULL)
		abort();
	return j;
}

json_t *agent_wire_cgroups_json(const struct cgroup_host *h)
{
	bool on = h->version != CGROUP_NONE;
	json_t *j = json_pack("{s:b, s:o, s:s, s:o}", "enforced", on, "version",
	    on ? json_string(h->version == CGROUP_V1 ? "v1" : "v2") : json_null(), "layout", h->layout, "reason",
	    on ? json_null() : json_string(h->why));

	if (j == NULL)
		abort();
	return j;
}

json_t *agent_wire_cgroups_check(json_t *j)
{
	json_t *v = json_object_get(j, "version"), *r = json_object_get(j, "reason");
	json_t *layout = json_object_get(j, "layout");

	if (!json_is_object(j) || !json_is_boolean(json_object_get(j, "enforced")) || !json_is_string(layout) ||
	    json_string_length(layout) > 16 || !(json_is_null(v) || (json_is_string(v) && json_string_length(v) <= 4)) ||
	    !(json_is_null(r) || (json_is_string(r) && json_string_length(r) <= 512)))
		return NULL;
	return json_pack("{s:O, s:O, s:O, s:O}", "enforced", json_object_get(j, "enforced"), "version", v, "layout",
	    layout, "reason", r);
}

/* ---- decoding ---- */

struct reader {
	const json_t *obj;
	const char *prefix;
	char *err;
	size_t errlen;
	int rc;
};

static const json_t *field(struct reader *rd, const char *name, json_type type, bool optional)
{
	const json_t *v = json_object_get(rd->obj, name);

	if (rd->rc < 0)
		return NULL;
	if (v == NULL || json_is_null(v)) {
		if (!optional) {
			snprintf(rd->err, rd->errlen, "%s%s: missing", rd->prefix, name);
			rd->rc = -EINVAL;
		}
		return NULL;
	}
	if (json_typeof(v) != type && !(type == JSON_REAL && json_is_integer(v)) &&
	    !(type == JSON_TRUE && json_is_boolean(v))) {
		static const char *const names[] = {[JSON_OBJECT] = "an object", [JSON_ARRAY] = "an array",
			[JSON_STRING] = "a string", [JSON_INTEGER] = "an integer", [JSON_REAL] = "a number",
			[JSON_TRUE] = "true or false", [JSON_FALSE] = "true or false", [JSON_NULL] = "null"};
		snprintf(rd->err, rd->errlen, "%s%s: must be %s", rd->prefix, name, names[type]);
		rd->rc = -EINVAL;
		return NULL;
	}
	return v;
}

static const char *str(struct reader *rd, const char *name, size_t max, const char *dflt)
{
	const json_t *v = field(rd, name, JSON_STRING, dflt != NULL);

	if (v == NULL)
		return dflt;
	if (json_string_length(v) > max || strlen(json_string_value(v)) != json_string_length(v)) {
		snprintf(rd->err, rd->errlen, "%s%s: at most %zu bytes, without NUL", rd->prefix, name, max);
		rd->rc = -EINVAL;
		return dflt;
	}
	return json_string_value(v);
}

static int64_t integer(struct reader *rd, const char *name, int64_t lo, int64_t hi, bool optional, int64_t dflt)
{
	const json_t *v = field(rd, name, JSON_INTEGER, optional);

	if (v == NULL)
		return dflt;
	if (json_integer_value(v) < lo || json_integer_value(v) > hi) {
		snprintf(rd->err, rd->errlen, "%s%s: must be between %lld and %lld", rd->prefix, name, (long long)lo,
		    (long long)hi);
		rd->rc = -EINVAL;
		return dflt;
	}
	return json_integer_value(v);
}

static double number(struct reader *rd, const char *name)
{
	const json_t *v = field(rd, name, JSON_REAL, true);
	double d;

	if (v == NULL)
		return 0;
	d = json_number_value(v);
	if (!isfinite(d) || d < 0 || d > 1e12) {
		snprintf(rd->err, rd->errlen, "%s%s: must be a number between 0 and 1e12", rd->prefix, name);
		rd->rc = -EINVAL;
		return 0;
	}
	return d;
}

static bool boolean(struct reader *rd, const char *name)
{
	const json_t *v = field(rd, name, JSON_TRUE, true);
	return v && json_is_true(v);
}

int agent_wire_spec_from_json(json_t *j, const char *prefix, struct agent_assignment *out, char *err,
    size_t errlen)
{
	struct reader rd = {.obj = j, .prefix = prefix, .err = err, .errlen = errlen};
	struct runner_spec *s = &out->spec;
	const json_t *args, *env, *container;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%.*s: must be an object", (int)(strlen(prefix) ? strlen(prefix) - 1 : 0), prefix);
		return -EINVAL;
	}
	out->json = json_incref(j);
	s->task_id = str(&rd, "taskId", 4096, NULL);
	if (rd.rc == 0 && !agent_wire_task_id_ok(s->task_id)) {
		snprintf(err, errlen, "%staskId: not a task id", prefix);
		rd.rc = -EINVAL;
	}
	s->epoch = (uint64_t)integer(&rd, "epoch", 0, INT64_MAX, false, 0);
	s->job = str(&rd, "job", 4096, NULL);
	s->owner = str(&rd, "owner", AGENT_WIRE_TEXT_MAX, "");
	s->due_ms = integer(&rd, "dueMs", INT64_MIN / 2, INT64_MAX / 2, false, 0);
	s->attempt = (int)integer(&rd, "attempt", 0, 1000000, false, 0);
	s->parents = str(&rd, "parents", AGENT_WIRE_TEXT_MAX, "");
	s->command = str(&rd, "command", AGENT_WIRE_TEXT_MAX, NULL);
	s->shell = boolean(&rd, "shell");
	s->run_as_user = str(&rd, "runAsUser", 256, "");
	s->cpus = number(&rd, "cpus");
	s->mem = number(&rd, "mem");
	s->disk = number(&rd, "disk");
	s->deadline_ms = (uint64_t)integer(&rd, "deadlineMs", 0, INT64_MAX / 2, true, 0);
	s->grace_ms = (uint64_t)integer(&rd, "graceMs", 0, 86400000LL * 7, true, 0);
	s->output_cap = (size_t)integer(&rd, "outputCap", 0, (int64_t)1 << 30, true, 0);
	args = field(&rd, "args", JSON_ARRAY, true);
	env = field(&rd, "env", JSON_ARRAY, true);
	container = json_object_get(j, "container");
	if (rd.rc == 0 && args) {
		if (json_array_size(args) > AGENT_WIRE_LIST_MAX) {
			snprintf(err, errlen, "%sargs: at most %d", prefix, AGENT_WIRE_LIST_MAX);
			rd.rc = -EINVAL;
		}
		out->args = xcalloc(json_array_size(args) + 1, sizeof(*out->args));
		for (size_t i = 0; rd.rc == 0 && i < json_array_size(args); i++) {
			const json_t *a = json_array_get(args, i);
			if (!json_is_string(a) || json_string_length(a) > AGENT_WIRE_TEXT_MAX) {
				snprintf(err, errlen, "%sargs[%zu]: must be a string of at most %d bytes", prefix, i,
				    AGENT_WIRE_TEXT_MAX);
				rd.rc = -EINVAL;
				break;
			}
			out->args[i] = json_string_value(a);
		}
		s->args = out->args;
		s->n_args = rd.rc == 0 ? json_array_size(args) : 0;
	}
	if (rd.rc == 0 && env) {
		if (json_array_size(env) > AGENT_WIRE_LIST_MAX) {
			snprintf(err, errlen, "%senv: at most %d", prefix, AGENT_WIRE_LIST_MAX);
			rd.rc = -EINVAL;
		}
		out->env = xcalloc(json_array_size(env) + 1, sizeof(*out->env));
		for (size_t i = 0; rd.rc == 0 && i < json_array_size(env); i++) {
			const json_t *e = json_array_get(env, i);
			const json_t *n = json_object_get(e, "name"), *v = json_object_get(e, "value");
			if (!json_is_string(n) || !json_is_string(v) || json_string_length(n) == 0 ||
			    json_string_length(n) > 4096 || json_string_length(v) > AGENT_WIRE_TEXT_MAX ||
			    strchr(json_string_value(n), '=') || strlen(json_string_value(n)) != json_string_length(n) ||
			    strlen(json_string_value(v)) != json_string_length(v)) {
				snprintf(err, errlen, "%senv[%zu]: must be {\"name\": NAME without '=', \"value\": string}",
				    prefix, i);
				rd.rc = -EINVAL;
				break;
			}
			out->env[i] = (struct runner_env){json_string_value(n), json_string_value(v)};
		}
		s->env = out->env;
		s->n_env = rd.rc == 0 ? json_array_size(env) : 0;
	}
	if (rd.rc == 0 && container && !json_is_null(container)) {
		if (!json_is_object(container)) {
			snprintf(err, errlen, "%scontainer: must be an object or null", prefix);
			rd.rc = -EINVAL;
		} else {
			out->container = json_dumps(container, JSON_COMPACT);
			s->container = out->container;
		}
	}
	if (rd.rc < 0) {
		agent_assignment_clear(out);
		return rd.rc;
	}
	return 0;
}

void agent_assignment_clear(struct agent_assignment *a)
{
	json_decref(a->json);
	free(a->args);
	free(a->env);
	free(a->container);
	memset(a, 0, sizeof(*a));
}

int agent_wire_result_from_json(const json_t *j, const char *prefix, struct runner_result *out, char *err,
    size_t errlen)
{
	struct reader rd = {.obj = j, .prefix = prefix, .err = err, .errlen = errlen};
	const char *end, *reason;
	bool found = false;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(j)) {
		snprintf(err, errlen, "%.*s: must be an object", (int)(strlen(prefix) ? strlen(prefix) - 1 : 0), prefix);
		return -EINVAL;
	}
	end = str(&rd, "end", 32, NULL);
	for (size_t i = 0; rd.rc == 0 && i < sizeof(end_names) / sizeof(end_names[0]); i++) {
		if (strcmp(end, end_names[i]) == 0) {
			out->end = (enum runner_end)i;
			found = true;
		}
	}
	if (rd.rc == 0 && !found) {
		snprintf(err, errlen, "%send: one of exited, signalled, timed_out, killed, lost, start_failed", prefix);
		return -EINVAL;
	}
	out->exit_code = (int)integer(&rd, "exitCode", -1, 255, true, -1);
	out->term_signal = (int)integer(&rd, "signal", 0, 128, true, 0);
	out->core_dumped = boolean(&rd, "coreDumped");
	out->start_ms = integer(&rd, "startMs", 0, INT64_MAX / 2, true, 0);
	out->end_ms = integer(&rd, "endMs", 0, INT64_MAX / 2, true, 0);
	out->duration_us = integer(&rd, "durationUs", -1, INT64_MAX / 2, true, -1);
	out->bytes[0] = integer(&rd, "stdoutBytes", 0, INT64_MAX / 2, true, 0);
	out->bytes[1] = integer(&rd, "stderrBytes", 0, INT64_MAX / 2, true, 0);
	out->user_cpu_us = integer(&rd, "userCpuUs", -1, INT64_MAX / 2, true, -1);
	out->system_cpu_us = integer(&rd, "systemCpuUs", -1, INT64_MAX / 2, true, -1);
	out->max_rss_kib = integer(&rd, "maxRssKib", -1, INT64_MAX / 2, true, -1);
	out->peak_mem_bytes = integer(&rd, "peakMemoryBytes", -1, INT64_MAX / 2, true, -1); /* optional: older agents */
	reason = str(&rd, "reason", 1u << 20, "");
	snprintf(out->reason, sizeof(out->reason), "%s", reason ? reason : "");
	return rd.rc;
}
