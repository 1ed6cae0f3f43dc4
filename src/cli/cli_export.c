/* `gnomon export`: every job as Chronos JSON, parents before children, on standard output: what `gnomon job add`
 * restores (through POST /api/v1/jobs), or a Chronos takes one by one. */
#include <stdio.h>

#include "cli/cli_cmd.h"
#include "cli/cli_job_util.h"
#include "cli/cli_url.h"
#include "util/log.h"

#define ERR_MAX 1024

static int export_jobs(const struct cli_ctx *ctx)
{
	json_t *jobs, *ordered;
	char err[ERR_MAX];
	int rc = CLI_EXIT_FAIL;

	if (!(jobs = cli_get_json(ctx, CLI_PATH_JOBS, err, sizeof(err)))) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	if (!json_is_array(jobs)) {
		cli_errorx("unexpected answer from the server: the jobs are not a JSON array");
	} else if (!(ordered = cli_job_order(jobs, err, sizeof(err)))) {
		cli_errorx("the server's jobs: %s", err);
	} else {
		if (json_dumpf(ordered, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) < 0 || fputc('\n', stdout) == EOF ||
		    fflush(stdout) == EOF)
			cli_errorx("standard output: cannot write the jobs");
		else
			rc = CLI_EXIT_OK;
		json_decref(ordered);
	}
	json_decref(jobs);
	return rc;
}

static const struct cli_cmd_entry export_entry[] = {
    {NULL, "", "Print every job as Chronos JSON, parents first (`gnomon job add FILE` restores them)", 0, 0,
	export_jobs},
};

const struct cli_cmd_family cli_export_family = {
    .name = "export",
    .help = "Print every job as Chronos JSON, parents first, for `gnomon job add` to restore",
    .entries = export_entry,
    .n_entries = 1,
};
