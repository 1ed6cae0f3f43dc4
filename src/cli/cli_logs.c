/* `gnomon logs TASKID [--stream stdout|stderr] [-f]`: the captured output of a run, written to stdout byte for
 * byte as it arrives. The body is streamed rather than read whole, so a followed run's output shows while it is
 * produced. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_cmd.h"
#include "cli/cli_http.h"
#include "cli/cli_url.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024

enum { OPT_STREAM, OPT_FOLLOW, OPT_COUNT };

static const struct cli_opt logs_opts[OPT_COUNT] = {
    [OPT_STREAM] = {"--stream", NULL, "STREAM", "stdout (the default) or stderr"},
    [OPT_FOLLOW] = {"--follow", "-f", NULL, "keep printing while the run goes on"},
};

static int logs_set_opts(const char *const *values, char *err, size_t errlen);
static int logs_exec(const struct cli_ctx *ctx);

static const struct cli_cmd_entry logs_entry[] = {
    {NULL, "TASKID", "Print the captured output of a run", 1, 1, logs_exec},
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
		if (strcmp(values[OPT_STREAM], "stdout") != 0 && strcmp(values[OPT_STREAM], "stderr") != 0) {
			snprintf(err, errlen, "option '--stream' expects stdout or stderr, got '%s'", values[OPT_STREAM]);
			return -EINVAL;
		}
		opt_stream = values[OPT_STREAM];
	}
	opt_follow = values[OPT_FOLLOW] != NULL;
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

static int logs_exec(const struct cli_ctx *ctx)
{
	struct out out = {.failed = false};
	char *escaped, *path, err[ERR_MAX];
	int rc;

	if (!*ctx->argv[0]) {
		cli_errorx("the task id must not be empty");
		return CLI_EXIT_FAIL;
	}
	escaped = cli_url_escape(ctx->argv[0]);
	path = xasprintf("/api/v1/runs/%s/log?stream=%s%s", escaped, opt_stream, opt_follow ? "&follow=1" : "");
	rc = cli_get_stream(ctx, path, opt_follow ? CLI_HTTP_NO_STALL_TIMEOUT : 0, write_out, &out, err, sizeof(err));
	if (out.failed)
		cli_errorx("cannot write output: %s", strerror(out.errnum));
	else if (rc < 0)
		cli_errorx("%s", err);
	free(path);
	free(escaped);
	return rc < 0 ? CLI_EXIT_FAIL : CLI_EXIT_OK;
}
