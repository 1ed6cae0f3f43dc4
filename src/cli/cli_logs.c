/* `gnomon logs TASKID|JOB [--stream stdout|stderr|both] [-f]`: the captured output of a run, or of a job's latest
 * run, written to stdout byte for byte as it arrives (both: the server's merged lines, "1 " or "2 " and the line, in
 * the order they came; not followed). The body is streamed rather than read whole, so a followed run's output shows
 * while it is produced. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_cmd.h"
#include "cli/cli_http.h"
#include "cli/cli_runs_fmt.h"
#include "cli/cli_url.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024
#define RUNS_PAGE 100 /* runs read at a time while looking for a job's latest one */

enum { OPT_STREAM, OPT_FOLLOW, OPT_COUNT };

static const struct cli_opt logs_opts[OPT_COUNT] = {
    [OPT_STREAM] = {"--stream", NULL, "STREAM", "stdout (the default), stderr, or both (lines in their order)"},
    [OPT_FOLLOW] = {"--follow", "-f", NULL, "keep printing while the run goes on"},
};

static int logs_set_opts(const char *const *values, char *err, size_t errlen);
static int logs_exec(const struct cli_ctx *ctx);

static const struct cli_cmd_entry logs_entry[] = {
    {NULL, "TASKID|JOB",
	"Print the captured output of a run, by task id, or of a job's latest run (not a skipped one)", 1, 1,
	logs_exec},
};

const struct cli_cmd_family cli_logs_family = {
    .name = "logs",
    .help = "Print the output of a run, or of a job's latest run",
    .entries = logs_entry,
    .n_entries = 1,
    .opts = logs_opts,
    .n_opts = OPT_COUNT,
    .set_opts = logs_set_opts,
};

static const char *opt_stream = "stdout";
static bool opt_follow;

static int logs_set_opts(const char *const *values, char *err, size_t errlen)
{
	if (values[OPT_STREAM]) {
		if (strcmp(values[OPT_STREAM], "stdout") != 0 && strcmp(values[OPT_STREAM], "stderr") != 0 &&
		    strcmp(values[OPT_STREAM], "both") != 0) {
			snprintf(err, errlen, "option '--stream' expects stdout, stderr or both, got '%s'",
			    values[OPT_STREAM]);
			return -EINVAL;
		}
		opt_stream = values[OPT_STREAM];
	}
	opt_follow = values[OPT_FOLLOW] != NULL;
	if (opt_follow && strcmp(opt_stream, "both") == 0) {
		snprintf(err, errlen, "option '--stream both' cannot be followed (-f): the server answers it as it is now");
		return -EINVAL;
	}
	return 0;
}

/* Whether stdout refused the log, and why. */
struct out {
	bool failed;
	int errnum;
};

/* Write a piece of the log to stdout, flushed at once when following. */
static int write_out(const char *data, size_t len, void *arg)
{
	struct out *out = arg;

	if (fwrite(data, 1, len, stdout) != len || (opt_follow && fflush(stdout) != 0)) {
		out->failed = true;
		out->errnum = errno;
		return -1;
	}
	return 0;
}

/* The task id of the job's latest run that was not skipped, paging back through its history. Returns a string
 * the caller frees, or NULL after reporting why (unknown job, no such run, the server unreachable). */
static char *latest_task_id(const struct cli_ctx *ctx, const char *job)
{
	char *escaped = cli_url_escape(job), *task_id = NULL, err[ERR_MAX];
	char *before = NULL; /* the server's cursor of the next page, URL-escaped */

	for (;;) {
		char *path = before ? xasprintf("/api/v1/jobs/%s/runs?limit=%d&before=%s", escaped, RUNS_PAGE, before) :
				      xasprintf("/api/v1/jobs/%s/runs?limit=%d", escaped, RUNS_PAGE);
		json_t *page = cli_get_json(ctx, path, err, sizeof(err)), *next;
		const char *found;

		free(path);
		free(before);
		before = NULL;
		if (!page) {
			cli_errorx("%s", err);
			break;
		}
		if ((found = cli_runs_latest_task_id(page)))
			task_id = xstrdup(found);
		next = json_object_get(page, "next");
		if (json_is_string(next))
			before = cli_url_escape(json_string_value(next));
		else if (json_is_integer(next)) /* a server of an earlier release */
			before = xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(next));
		json_decref(page);
		if (task_id)
			break;
		if (before == NULL) {
			cli_errorx("job '%s' has not run yet", job);
			break;
		}
	}
	free(before);
	free(escaped);
	return task_id;
}

static int logs_exec(const struct cli_ctx *ctx)
{
	struct out out = {.failed = false};
	char *task_id, *escaped, *path, err[ERR_MAX];
	int rc;

	if (!*ctx->argv[0]) {
		cli_errorx("the task id or job name must not be empty");
		return CLI_EXIT_FAIL;
	}
	/* Task ids are ct:<due>:<attempt>:<job>:<args>; a job's name has no ':'. */
	if (strchr(ctx->argv[0], ':'))
		task_id = xstrdup(ctx->argv[0]);
	else if (!(task_id = latest_task_id(ctx, ctx->argv[0])))
		return CLI_EXIT_FAIL;
	escaped = cli_url_escape(task_id);
	path = xasprintf("/api/v1/runs/%s/log?stream=%s%s", escaped, opt_stream, opt_follow ? "&follow=1" : "");
	rc = cli_get_stream(ctx, path, opt_follow ? CLI_HTTP_NO_STALL_TIMEOUT : 0, write_out, &out, err, sizeof(err));
	if (out.failed)
		cli_errorx("cannot write output: %s", strerror(out.errnum));
	else if (rc < 0)
		cli_errorx("%s", err);
	free(path);
	free(escaped);
	free(task_id);
	return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
