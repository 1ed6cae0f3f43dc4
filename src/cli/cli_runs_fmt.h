/* Text views of runs and schedule previews for `gnomon runs` and `gnomon schedule preview`. Pure: JSON in, text
 * out (times as cli_time.h writes them; a run's start in the process's TZ). */
#ifndef GNOMON_CLI_CLI_RUNS_FMT_H
#define GNOMON_CLI_CLI_RUNS_FMT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "cli/cli_table.h"
#include "util/buf.h"

#define CLI_RUNS_TASK_ID_MAX 60 /* TASK ID cells longer than this are cut with "..." */

/* A duration for people: "850ms", "4.2s", "42s", "1m05s", "2h03m07s", "3d04h05m"; "-" when negative. */
void cli_runs_duration(int64_t ms, char *out, size_t len);
/* The EXIT cell of a run: its exit code, else its signal's name ("SIGKILL") or number, else "-". */
void cli_runs_exit_text(const json_t *run, char *out, size_t len);
/* The CPU and MEM cells of a run: its CPU time, user and system, as a duration ("1.5s"), and its peak memory
 * ("50.0MiB", "1.2GiB", "640KiB"); "-" when not known. */
void cli_runs_usage_text(const json_t *run, char *cpu, size_t cpulen, char *mem, size_t memlen);
/* The `runs` table from the answer of GET /api/v1/jobs/NAME/runs ({"runs":[...], "next"}): TASK ID, TRIGGER,
 * ATTEMPT, STATUS, START (local, with its zone), DURATION, EXIT, CPU, MEM, AGENT (its name, "-" for none), newest first as answered. Returns a table the caller frees, or NULL with
 * a message in err when the answer has the wrong shape. */
struct cli_table *cli_runs_table(const json_t *answer, char *err, size_t errlen);
/* The task id of the newest run in a page of GET /api/v1/jobs/NAME/runs (newest first) that has or will have
 * output: any but a skipped one. NULL when there is none (borrowed from answer). */
const char *cli_runs_latest_task_id(const json_t *answer);
/* Append one line per fire time of a GET /api/v1/schedule/preview answer: "2030-01-01 09:00:00 +01:00
 * (2030-01-01 08:00:00 UTC)", the time in the schedule's zone then in UTC, or only the latter when they are the
 * same. Returns
 * 0, -EINVAL with a message in err when the answer has the wrong shape, or -E2BIG at out's limit. */
int cli_schedule_preview_text(const json_t *answer, struct buf *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
