/* `gnomon runs NAME [--limit N] [--before CURSOR]`: a job's run history, newest first, over the gnomon API. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_cmd.h"
#include "cli/cli_runs_fmt.h"
#include "cli/cli_table.h"
#include "cli/cli_url.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024

enum { OPT_LIMIT, OPT_BEFORE, OPT_COUNT };

static const struct cli_opt runs_opts[OPT_COUNT] = {
    [OPT_LIMIT] = {"--limit", NULL, "N", "how many runs to show (default 20, at most 1000)"},
    [OPT_BEFORE] = {"--before", NULL, "CURSOR", "show the next page of older runs (paging: the cursor the last line "
	"shows)"},
};

static int runs_set_opts(const char *const *values, char *err, size_t errlen);
static int runs_exec(const struct cli_ctx *ctx);

static const struct cli_cmd_entry runs_entry[] = {
    {NULL, "NAME", "List the runs of a job, newest first: task id, trigger, attempt, status, start, duration, exit, CPU time, peak memory, agent",
	1, 1, runs_exec},
};

const struct cli_cmd_family cli_runs_family = {
    .name = "runs",
    .help = "List the runs of a job",
    .entries = runs_entry,
    .n_entries = 1,
    .opts = runs_opts,
    .n_opts = OPT_COUNT,
    .set_opts = runs_set_opts,
};

/* The values of runs_opts, checked: 0 when absent. */
static long long opt_limit;
static const char *opt_before; /* the server's opaque cursor, NULL when absent */

static int runs_set_opts(const char *const *values, char *err, size_t errlen)
{
	if (values[OPT_LIMIT] && cli_opt_int("--limit", values[OPT_LIMIT], 1, 1000000, &opt_limit, err, errlen) < 0)
		return -EINVAL;
	if (values[OPT_BEFORE] && !*values[OPT_BEFORE]) {
		snprintf(err, errlen, "--before: expected the cursor that the last line of a page shows");
		return -EINVAL;
	}
	opt_before = values[OPT_BEFORE];
	return 0;
}

/* GET /api/v1/jobs/NAME/runs with the paging options. Returns a path the caller frees. */
static char *runs_path(const char *name)
{
	char *escaped = cli_url_escape(name);
	char *path = xasprintf("/api/v1/jobs/%s/runs", escaped);
	char *full, *before;

	free(escaped);
	if (opt_limit == 0 && opt_before == NULL)
		return path;
	before = opt_before ? cli_url_escape(opt_before) : NULL;
	if (opt_limit && before)
		full = xasprintf("%s?limit=%lld&before=%s", path, opt_limit, before);
	else if (opt_limit)
		full = xasprintf("%s?limit=%lld", path, opt_limit);
	else
		full = xasprintf("%s?before=%s", path, before);
	free(before);
	free(path);
	return full;
}

/* Print the table, then how to get the next page when there is one. */
static int print_runs(const struct cli_ctx *ctx, const json_t *answer)
{
	char err[ERR_MAX];
	struct cli_table *t = cli_runs_table(answer, err, sizeof(err));
	const json_t *next = json_object_get(answer, "next");
	int rc;

	if (!t) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	rc = cli_print_table(t, "runs");
	if (rc == CLI_EXIT_OK && json_is_string(next))
		printf("(more: gnomon runs %s --before %s)\n", ctx->argv[0], json_string_value(next));
	else if (rc == CLI_EXIT_OK && json_is_integer(next)) /* a server of an earlier release */
		printf("(more: gnomon runs %s --before %" JSON_INTEGER_FORMAT ")\n", ctx->argv[0], json_integer_value(next));
	return rc;
}

static int runs_exec(const struct cli_ctx *ctx)
{
	char *path;
	int rc;

	if (!*ctx->argv[0]) {
		cli_errorx("the job name must not be empty");
		return CLI_EXIT_FAIL;
	}
	path = runs_path(ctx->argv[0]);
	rc = cli_show(ctx, path, print_runs);
	free(path);
	return rc;
}
