/* Text views of jobs for `gnomon job list` and `gnomon job show`. Pure: JSON in, text out. */
#ifndef GNOMON_CLI_CLI_JOB_FMT_H
#define GNOMON_CLI_CLI_JOB_FMT_H

#include <stddef.h>

#include <jansson.h>

#include "cli/cli_table.h"
#include "util/buf.h"

/* The SCHEDULE cell of a job or of a summary entry: "after: p1,p2" when it has non-empty "parents", else its
 * "schedule" (or ""). Returns a string the caller frees. */
char *cli_job_schedule_text(const json_t *job);
/* The COMMAND cell of a job: its "command", followed for an argv job (shell false) by its "arguments"
 * shell-quoted; "-" without a command. Returns a string the caller frees. */
char *cli_job_command_text(const json_t *job);
/* The `job list` table from the answers of GET /v1/scheduler/jobs/summary ({"jobs":[...]}) and GET
 * /v1/scheduler/jobs ([...], for time zone, owner and command): NAME, SCHEDULE, TZ, LAST, STATE, DISABLED, OWNER,
 * COMMAND, sorted by name. Returns a table the caller frees, or NULL with a message in err when an answer has the wrong shape. */
struct cli_table *cli_job_list_table(const json_t *summary, const json_t *jobs, char *err, size_t errlen);
/* Append `job show` lines "field: value" for a job: name, command, schedule or parents, owner, counts, last
 * success and error (in the local zone, with the zone), disabled, resources, and every other field that is set to
 * a non-default value. Returns 0
 * or -E2BIG when out's limit is reached. */
int cli_job_describe(const json_t *job, struct buf *out) __attribute__((warn_unused_result));

#endif
