/* Text views of runs and schedule previews for `gnomon runs` and `gnomon schedule preview`. Pure: JSON in, text
 * out (local times follow the process's TZ). */
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
/* An instant as the server writes it ("2026-01-01T09:00:00.000Z") in local time, "2026-01-01 10:00:00"; "-" for
 * NULL or "", the text itself when it does not parse. */
void cli_runs_local_time(const char *iso, char *out, size_t len);
/* The EXIT cell of a run: its exit code, else its signal's name ("SIGKILL") or number, else "-". */
void cli_runs_exit_text(const json_t *run, char *out, size_t len);
/* The `runs` table from the answer of GET /api/v1/jobs/NAME/runs ({"runs":[...], "next"}): TASK ID, TRIGGER,
 * ATTEMPT, STATUS, START, DURATION, EXIT, newest first as answered. Returns a table the caller frees, or NULL with
 * a message in err when the answer has the wrong shape. */
struct cli_table *cli_runs_table(const json_t *answer, char *err, size_t errlen);
/* Append one line per fire time of a GET /api/v1/schedule/preview answer: "<zone time> (<UTC time>)". Returns
 * 0, -EINVAL with a message in err when the answer has the wrong shape, or -E2BIG at out's limit. */
int cli_schedule_preview_text(const json_t *answer, struct buf *out, char *err, size_t errlen)
    __attribute__((warn_unused_result));

#endif
