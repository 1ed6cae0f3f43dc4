/* Many jobs to the server at once (`gnomon job add` of an array, `gnomon import`): POST /api/v1/jobs in batches. */
#ifndef GNOMON_CLI_CLI_JOB_BULK_H
#define GNOMON_CLI_CLI_JOB_BULK_H

#include <stdbool.h>

#include <jansson.h>

#include "cli/cli_cmd.h"

#define CLI_PATH_JOBS_BULK "/api/v1/jobs"
#define CLI_BULK_BATCH_BYTES ((size_t)512 << 10) /* jobs in one request (the server takes 1 MiB by default) */

/* Print what happened to a job: "job 'NAME' <verb>", or {"name", "result": verb} with --json. */
void cli_job_print_done(const struct cli_ctx *ctx, const char *name, const char *verb);
/* Send jobs (an array, parents before children: cli_job_order) in batches of about CLI_BULK_BATCH_BYTES, each
 * checked whole and written in one transaction by the server (each batch's parents in it or in one before);
 * print each job's result ("saved"; dry_run: "would be created" or "would be replaced", nothing written).
 * Errors are reported, naming label and how many jobs earlier batches saved. Returns an exit code. */
int cli_job_put_many(const struct cli_ctx *ctx, const char *label, const json_t *jobs, bool dry_run);

#endif
