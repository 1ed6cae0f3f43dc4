/* libFuzzer target: `gnomon import crontab`'s parser (src/cli/cli_crontab.c). Input: a byte of flags (the system
 * format, a user), then the crontab. A crontab is refused with messages that each name a line ("line N: ..."),
 * or gives jobs, each named PREFIX-N for one of its lines, with a command and a schedule that gnomon's cron
 * parser takes, in line order; a job's standard input (from '%') comes in one printf, quoted. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_crontab.h"
#include "fuzz_check.h"
#include "schedule/cron.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cli_crontab_opts o = {.prefix = "c", .label = "fuzz"};
	char err[2048], msg[256];
	size_t lines = 1, i, last = 0;
	json_t *jobs, *job;

	if (size < 1)
		return 0;
	o.system = data[0] & 1;
	o.user = data[0] & 2 ? "alice" : NULL;
	for (size_t k = 1; k < size; k++)
		lines += data[k] == '\n';
	jobs = cli_crontab_jobs((const char *)data + 1, size - 1, &o, err, sizeof(err));
	if (jobs == NULL) {
		CHECK(strncmp(err, "line ", 5) == 0, "a refusal that names no line: %s", err);
		return 0;
	}
	CHECK(json_array_size(jobs) <= lines, "%zu jobs from %zu lines", json_array_size(jobs), lines);
	json_array_foreach(jobs, i, job) {
		const char *name = json_string_value(json_object_get(job, "name"));
		const char *cmd = json_string_value(json_object_get(job, "command"));
		const char *sched = json_string_value(json_object_get(job, "schedule"));
		struct schedule s;
		char *end;
		size_t no;

		CHECK(name && strncmp(name, "c-", 2) == 0, "a job's name: %s", name ? name : "(none)");
		no = strtoul(name + 2, &end, 10);
		CHECK(*end == '\0' && no > last && no <= lines, "job %s after line %zu of %zu", name, last, lines);
		last = no;
		CHECK(cmd && *cmd, "job %s has no command", name);
		CHECK(sched && cron_parse(sched, &s, msg, sizeof(msg)) == 0, "job %s: schedule '%s'", name,
		    sched ? sched : "(none)");
		CHECK(!o.system || json_is_string(json_object_get(job, "runAsUser")), "job %s: no user", name);
	}
	json_decref(jobs);
	return 0;
}
