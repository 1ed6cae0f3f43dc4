#include "cli/cli_runs_fmt.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_time.h"

#define MS_PER_S INT64_C(1000)
#define MS_PER_MIN (60 * MS_PER_S)
#define MS_PER_HOUR (60 * MS_PER_MIN)
#define MS_PER_DAY (24 * MS_PER_HOUR)

void cli_runs_duration(int64_t ms, char *out, size_t len)
{
	if (ms < 0)
		snprintf(out, len, "-");
	else if (ms < MS_PER_S)
		snprintf(out, len, "%" PRId64 "ms", ms);
	else if (ms < 10 * MS_PER_S)
		snprintf(out, len, "%" PRId64 ".%" PRId64 "s", ms / MS_PER_S, ms % MS_PER_S / 100);
	else if (ms < MS_PER_MIN)
		snprintf(out, len, "%" PRId64 "s", ms / MS_PER_S);
	else if (ms < MS_PER_HOUR)
		snprintf(out, len, "%" PRId64 "m%02" PRId64 "s", ms / MS_PER_MIN, ms % MS_PER_MIN / MS_PER_S);
	else if (ms < MS_PER_DAY)
		snprintf(out, len, "%" PRId64 "h%02" PRId64 "m%02" PRId64 "s", ms / MS_PER_HOUR,
		    ms % MS_PER_HOUR / MS_PER_MIN, ms % MS_PER_MIN / MS_PER_S);
	else
		snprintf(out, len, "%" PRId64 "d%02" PRId64 "h%02" PRId64 "m", ms / MS_PER_DAY,
		    ms % MS_PER_DAY / MS_PER_HOUR, ms % MS_PER_HOUR / MS_PER_MIN);
}

void cli_runs_exit_text(const json_t *run, char *out, size_t len)
{
	const json_t *code = json_object_get(run, "exitCode"), *sig = json_object_get(run, "signal");
	const char *name = json_string_value(json_object_get(run, "signalName"));

	if (json_is_integer(code))
		snprintf(out, len, "%" JSON_INTEGER_FORMAT, json_integer_value(code));
	else if (name && *name)
		snprintf(out, len, "%s", name);
	else if (json_is_integer(sig))
		snprintf(out, len, "signal %" JSON_INTEGER_FORMAT, json_integer_value(sig));
	else
		snprintf(out, len, "-");
}

/* A string member, or "" when missing or not a string. */
static const char *str_of(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

void cli_runs_usage_text(const json_t *run, char *cpu, size_t cpulen, char *mem, size_t memlen)
{
	const json_t *u = json_object_get(run, "cpuUserSeconds"), *s = json_object_get(run, "cpuSystemSeconds");
	const json_t *m = json_object_get(run, "peakMemoryBytes");
	double bytes = json_is_integer(m) ? (double)json_integer_value(m) : -1;

	snprintf(cpu, cpulen, "-");
	snprintf(mem, memlen, "-");
	if (json_is_number(u) && json_is_number(s))
		cli_runs_duration((int64_t)((json_number_value(u) + json_number_value(s)) * 1000 + 0.5), cpu, cpulen);
	if (bytes >= 1024.0 * 1048576)
		snprintf(mem, memlen, "%.1fGiB", bytes / (1024.0 * 1048576));
	else if (bytes >= 1048576)
		snprintf(mem, memlen, "%.1fMiB", bytes / 1048576);
	else if (bytes >= 0)
		snprintf(mem, memlen, "%.0fKiB", bytes / 1024);
}

static void add_run_row(struct cli_table *t, const json_t *run)
{
	char attempt[24] = "-", start[CLI_TIME_MAX], duration[32] = "-", exit_text[48], cpu[32], mem[32];
	const json_t *a = json_object_get(run, "attempt"), *d = json_object_get(run, "durationMs");
	const char *cells[10];

	if (json_is_integer(a))
		snprintf(attempt, sizeof(attempt), "%" JSON_INTEGER_FORMAT, json_integer_value(a));
	cli_time_local(json_string_value(json_object_get(run, "start")), start, sizeof(start));
	if (json_is_integer(d))
		cli_runs_duration((int64_t)json_integer_value(d), duration, sizeof(duration));
	cli_runs_exit_text(run, exit_text, sizeof(exit_text));
	cells[0] = str_of(run, "taskId");
	cells[1] = str_of(run, "trigger");
	cells[2] = attempt;
	cells[3] = str_of(run, "status");
	cells[4] = start;
	cells[5] = duration;
	cells[6] = exit_text;
	cli_runs_usage_text(run, cpu, sizeof(cpu), mem, sizeof(mem));
	cells[7] = cpu;
	cells[8] = mem;
	cells[9] = *str_of(run, "agent") ? str_of(run, "agent") : "-";
	cli_table_add_row(t, cells);
}

struct cli_table *cli_runs_table(const json_t *answer, char *err, size_t errlen)
{
	static const char *const headers[] = {"TASK ID", "TRIGGER", "ATTEMPT", "STATUS", "START", "DURATION", "EXIT",
		"CPU", "MEM", "AGENT"};
	const json_t *runs = json_object_get(answer, "runs");
	struct cli_table *t;

	if (!json_is_array(runs)) {
		snprintf(err, errlen, "unexpected answer from the server: no \"runs\" array");
		return NULL;
	}
	t = cli_table_new(sizeof(headers) / sizeof(headers[0]), headers);
	cli_table_set_max_width(t, 0, CLI_RUNS_TASK_ID_MAX);
	for (size_t i = 0; i < json_array_size(runs); i++) {
		const json_t *run = json_array_get(runs, i);
		if (json_is_object(run))
			add_run_row(t, run);
	}
	return t;
}

const char *cli_runs_latest_task_id(const json_t *answer)
{
	const json_t *runs = json_object_get(answer, "runs");

	for (size_t i = 0; i < json_array_size(runs); i++) {
		const json_t *run = json_array_get(runs, i);
		const char *status = json_string_value(json_object_get(run, "status"));
		const char *task_id = json_string_value(json_object_get(run, "taskId"));

		if (task_id && *task_id && status && strcmp(status, "skipped") != 0)
			return task_id;
	}
	return NULL;
}

int cli_schedule_preview_text(const json_t *answer, struct buf *out, char *err, size_t errlen)
{
	const json_t *local = json_object_get(answer, "times"), *utc = json_object_get(answer, "utc");

	if (!json_is_array(local) || !json_is_array(utc) || json_array_size(local) != json_array_size(utc)) {
		snprintf(err, errlen, "unexpected answer from the server: %s",
		    "no \"times\" and \"utc\" arrays of one length");
		return -EINVAL;
	}
	for (size_t i = 0; i < json_array_size(local); i++) {
		const char *l = json_string_value(json_array_get(local, i));
		const char *u = json_string_value(json_array_get(utc, i));
		char zoned[CLI_TIME_MAX], in_utc[CLI_TIME_MAX];
		int rc;

		if (!l || !u) {
			snprintf(err, errlen, "unexpected answer from the server: fire time #%zu is not a string",
			    i + 1);
			return -EINVAL;
		}
		cli_time_as_written(l, zoned, sizeof(zoned));
		cli_time_as_written(u, in_utc, sizeof(in_utc));
		if (strcmp(zoned, in_utc) == 0)
			rc = buf_printf(out, "%s\n", zoned);
		else
			rc = buf_printf(out, "%s (%s)\n", zoned, in_utc);
		if (rc < 0)
			return rc;
	}
	return 0;
}
