/* `gnomon runs NAME [--limit N] [--before ID]`: a job's run history, newest first, over the gnomon API. */
#include "cli/cli.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_cmd.h"
#include "cli/cli_opt.h"
#include "cli/cli_runs_fmt.h"
#include "cli/cli_table.h"
#include "cli/cli_url.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024

enum { OPT_LIMIT, OPT_BEFORE, OPT_COUNT };

static const struct cli_opt runs_opts[OPT_COUNT] = {
    [OPT_LIMIT] = {"--limit", NULL, "N", "how many runs to show (default 20, at most 1000)"},
    [OPT_BEFORE] = {"--before", NULL, "ID", "show the runs older than run ID (paging; see the last line)"},
};

static int runs_exec(const struct cli_ctx *ctx);

static const struct cli_cmd_entry runs_entry = {
    "runs", "NAME", "List the runs of a job, newest first: task id, trigger, attempt, status, start, duration, exit",
    1, 1, runs_exec};

/* The values of runs_opts, checked: 0 when absent. */
static long long opt_limit, opt_before;

int cli_runs_main(int argc, char **argv)
{
	const char *values[OPT_COUNT];
	char err[ERR_MAX];

	argc = cli_opt_extract(runs_opts, OPT_COUNT, argc, argv, values, err, sizeof(err));
	if (argc < 0)
		return cli_opt_usage_error(runs_entry.name, &runs_entry, err);
	if ((values[OPT_LIMIT] &&
	        cli_opt_int("--limit", values[OPT_LIMIT], 1, 1000000, &opt_limit, err, sizeof(err)) < 0) ||
	    (values[OPT_BEFORE] &&
	        cli_opt_int("--before", values[OPT_BEFORE], 1, INT64_MAX, &opt_before, err, sizeof(err)) < 0))
		return cli_opt_usage_error(runs_entry.name, &runs_entry, err);
	return cli_cmd_single_main(&runs_entry, runs_opts, OPT_COUNT, argc, argv);
}

/* GET /api/v1/jobs/NAME/runs with the paging options. Returns a path the caller frees. */
static char *runs_path(const char *name)
{
	char *escaped = cli_url_escape(name);
	char *path = xasprintf("/api/v1/jobs/%s/runs", escaped);
	char *full;

	free(escaped);
	if (opt_limit == 0 && opt_before == 0)
		return path;
	if (opt_limit && opt_before)
		full = xasprintf("%s?limit=%lld&before=%lld", path, opt_limit, opt_before);
	else if (opt_limit)
		full = xasprintf("%s?limit=%lld", path, opt_limit);
	else
		full = xasprintf("%s?before=%lld", path, opt_before);
	free(path);
	return full;
}

/* Print the table, then how to get the next page when there is one. */
static int print_runs(const char *name, const json_t *answer)
{
	char err[ERR_MAX];
	struct cli_table *t = cli_runs_table(answer, err, sizeof(err));
	const json_t *next = json_object_get(answer, "next");
	struct buf out;
	int rc;

	if (!t) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	buf_init(&out, 0);
	rc = cli_table_render(t, &out);
	if (rc == 0 && json_is_integer(next))
		rc = buf_printf(&out, "(more: gnomon runs %s --before %" JSON_INTEGER_FORMAT ")\n", name,
		    json_integer_value(next));
	if (rc == 0)
		fwrite(out.data, 1, out.len, stdout);
	else
		cli_errorx("cannot render the runs table");
	buf_free(&out);
	cli_table_free(t);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}

static int runs_exec(const struct cli_ctx *ctx)
{
	const char *name = ctx->argv[0];
	char *path, err[ERR_MAX];
	json_t *answer;
	int rc = CLI_EXIT_OK;

	if (!*name) {
		cli_errorx("the job name must not be empty");
		return CLI_EXIT_FAIL;
	}
	path = runs_path(name);
	answer = cli_get_json(ctx, path, err, sizeof(err));
	free(path);
	if (!answer) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	if (ctx->json)
		cli_print_json(answer);
	else
		rc = print_runs(name, answer);
	json_decref(answer);
	return rc;
}
