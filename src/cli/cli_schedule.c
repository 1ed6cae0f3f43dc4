/* `gnomon schedule preview SCHEDULE [--tz ZONE] [-n N]`: the next fire times of a schedule, as the server
 * computes them (the systemd-analyze calendar of gnomon). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_cmd.h"
#include "cli/cli_runs_fmt.h"
#include "cli/cli_url.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024
#define PREVIEW_MAX 1000

enum { OPT_TZ, OPT_COUNT_N, OPT_COUNT };

static const struct cli_opt schedule_opts[OPT_COUNT] = {
    [OPT_TZ] = {"--tz", NULL, "ZONE", "the schedule's time zone (scheduleTimeZone), e.g. Europe/Paris"},
    [OPT_COUNT_N] = {"--count", "-n", "N", "how many fire times (default 10, at most 1000)"},
};

static int schedule_set_opts(const char *const *values, char *err, size_t errlen);
static int schedule_preview(const struct cli_ctx *ctx);

static const struct cli_cmd_entry schedule_entries[] = {
    {"preview", "SCHEDULE",
	"Print the next fire times of an ISO 8601 or cron schedule, in its zone and in UTC (--tz ZONE, -n N)", 1,
	1, schedule_preview},
};

const struct cli_cmd_family cli_schedule_family = {
    .name = "schedule",
    .help = "Preview the fire times of a schedule",
    .entries = schedule_entries,
    .n_entries = sizeof(schedule_entries) / sizeof(schedule_entries[0]),
    .opts = schedule_opts,
    .n_opts = OPT_COUNT,
    .set_opts = schedule_set_opts,
};

static const char *opt_tz;
static long long opt_count;

static int schedule_set_opts(const char *const *values, char *err, size_t errlen)
{
	if (values[OPT_COUNT_N] && cli_opt_int("-n", values[OPT_COUNT_N], 1, PREVIEW_MAX, &opt_count, err, errlen) < 0)
		return -EINVAL;
	opt_tz = values[OPT_TZ];
	return 0;
}

/* GET /api/v1/schedule/preview with the options. Returns a path the caller frees. */
static char *preview_path(const char *schedule)
{
	char *sched = cli_url_escape(schedule), *tz = opt_tz ? cli_url_escape(opt_tz) : NULL, *path;
	char count[32] = "";

	if (opt_count > 0)
		snprintf(count, sizeof(count), "&count=%lld", opt_count);
	path = xasprintf("/api/v1/schedule/preview?schedule=%s%s%s%s", sched, tz ? "&tz=" : "", tz ? tz : "", count);
	free(tz);
	free(sched);
	return path;
}

/* The fire times as text lines. */
static int print_preview(const struct cli_ctx *ctx, const json_t *answer)
{
	char err[ERR_MAX];
	struct buf out;
	int rc = CLI_EXIT_OK;

	(void)ctx;
	buf_init(&out, 0);
	if (cli_schedule_preview_text(answer, &out, err, sizeof(err)) < 0) {
		cli_errorx("%s", err);
		rc = CLI_EXIT_FAIL;
	} else {
		fwrite(out.data ? out.data : "", 1, out.len, stdout);
	}
	buf_free(&out);
	return rc;
}

static int schedule_preview(const struct cli_ctx *ctx)
{
	char *path = preview_path(ctx->argv[0]);
	int rc = cli_show(ctx, path, print_preview);

	free(path);
	return rc;
}
