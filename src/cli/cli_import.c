/* `gnomon import crontab FILE|-` and `gnomon import chronos URL`: jobs from elsewhere, checked together and created
 * through POST /api/v1/jobs (cli_job_bulk.h): a crontab with a refused line creates nothing, and says which lines. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_cmd.h"
#include "cli/cli_crontab.h"
#include "cli/cli_input.h"
#include "cli/cli_job_bulk.h"
#include "cli/cli_job_util.h"
#include "util/buf.h"

#define ERR_MAX 4096
#define CRONTAB_MAX ((size_t)16 << 20)
#define PREFIX_MAX 100

enum { OPT_SYSTEM, OPT_USER, OPT_PREFIX, OPT_DRY_RUN, OPT_COUNT };

static const struct cli_opt import_opts[OPT_COUNT] = {
    [OPT_SYSTEM] = {"--system", NULL, NULL, "crontab: the system format (/etc/crontab, /etc/cron.d): a user field "
	"after the time fields, each job's runAsUser"},
    [OPT_USER] = {"--user", NULL, "NAME", "crontab: the runAsUser of a user crontab's jobs (default: the server's "
	"default user)"},
    [OPT_PREFIX] = {"--prefix", NULL, "NAME", "crontab: the jobs' names are PREFIX-LINE (default: the file's name "
	"without its extension; crontab for stdin)"},
    [OPT_DRY_RUN] = {"--dry-run", NULL, NULL, "print the jobs as JSON and have the server check them; create none"},
};

/* The values of import_opts, checked. */
static bool opt_system, opt_dry_run;
static const char *opt_user, *opt_prefix;

static int import_set_opts(const char *const *values, char *err, size_t errlen)
{
	opt_system = values[OPT_SYSTEM] != NULL;
	opt_dry_run = values[OPT_DRY_RUN] != NULL;
	opt_user = values[OPT_USER];
	opt_prefix = values[OPT_PREFIX];
	if (opt_user && !*opt_user) {
		snprintf(err, errlen, "option '--user' expects a user name");
		return -1;
	}
	if (opt_prefix && (!*opt_prefix || strspn(opt_prefix, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
						   "0123456789_.-") != strlen(opt_prefix))) {
		snprintf(err, errlen, "option '--prefix' expects letters, digits, '_', '.' and '-', got '%s'", opt_prefix);
		return -1;
	}
	if (opt_system && opt_user) {
		snprintf(err, errlen, "options '--system' and '--user' exclude each other: a system crontab names each "
			 "line's user");
		return -1;
	}
	return 0;
}

/* Print the jobs (--dry-run), then have the server check or create them, parents first. */
static int put_jobs(const struct cli_ctx *ctx, const char *label, json_t *jobs)
{
	char err[ERR_MAX];
	json_t *ordered = cli_job_order(jobs, err, sizeof(err));
	int rc;

	if (ordered == NULL) {
		cli_errorx("%s: %s", label, err);
		return CLI_EXIT_FAIL;
	}
	if (opt_dry_run && !ctx->json) {
		json_dumpf(ordered, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', stdout);
	}
	rc = cli_job_put_many(ctx, label, ordered, opt_dry_run);
	json_decref(ordered);
	return rc;
}

static int import_crontab(const struct cli_ctx *ctx)
{
	const char *path = ctx->argv[0], *label = cli_input_label(path);
	char err[ERR_MAX], prefix[PREFIX_MAX + 1];
	struct cli_crontab_opts o = {.system = opt_system, .user = opt_user, .label = label};
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct buf text;
	json_t *jobs;
	int rc;

	if (f == NULL) {
		cli_errorx("%s: %s", path, strerror(errno));
		return CLI_EXIT_FAIL;
	}
	buf_init(&text, CRONTAB_MAX);
	rc = cli_input_read(f, &text);
	if (f != stdin)
		fclose(f);
	if (rc < 0) {
		cli_errorx("%s: %s", label, rc == -E2BIG ? "larger than 16 MiB" : strerror(-rc));
		buf_free(&text);
		return CLI_EXIT_FAIL;
	}
	if (opt_prefix)
		snprintf(prefix, sizeof(prefix), "%s", opt_prefix);
	else
		cli_crontab_prefix(path, prefix, sizeof(prefix));
	o.prefix = prefix;
	jobs = cli_crontab_jobs(text.data ? text.data : "", text.len, &o, err, sizeof(err));
	buf_free(&text);
	if (jobs == NULL) {
		cli_errorx("%s: %s (no job was created)", label, err);
		return CLI_EXIT_FAIL;
	}
	rc = put_jobs(ctx, label, jobs);
	json_decref(jobs);
	return rc;
}

static int import_chronos(const struct cli_ctx *ctx)
{
	struct cli_ctx chronos = *ctx;
	char err[ERR_MAX], base[2048];
	json_t *jobs;
	int rc;

	if (opt_system || opt_user || opt_prefix) {
		cli_errorx("options '--system', '--user' and '--prefix' are for `import crontab`");
		return CLI_EXIT_USAGE;
	}
	snprintf(base, sizeof(base), "%s", ctx->argv[0]);
	for (size_t n = strlen(base); n > 0 && base[n - 1] == '/'; n--)
		base[n - 1] = '\0';
	if (strncmp(base, "http://", 7) != 0 && strncmp(base, "https://", 8) != 0) {
		cli_errorx("'%s': expected the Chronos server's URL (http://HOST:PORT)", ctx->argv[0]);
		return CLI_EXIT_USAGE;
	}
	chronos.http = cli_http_new(base);
	jobs = cli_get_json(&chronos, CLI_PATH_JOBS, err, sizeof(err));
	cli_http_free(chronos.http);
	if (jobs == NULL) {
		cli_errorx("Chronos %s: %s", base, err);
		return CLI_EXIT_FAIL;
	}
	if (!json_is_array(jobs)) {
		cli_errorx("Chronos %s: GET %s did not answer a JSON array of jobs", base, CLI_PATH_JOBS);
		json_decref(jobs);
		return CLI_EXIT_FAIL;
	}
	rc = put_jobs(ctx, base, jobs);
	json_decref(jobs);
	return rc;
}

static const struct cli_cmd_entry import_entries[] = {
    {"crontab", "FILE|-", "Create a job for each line of a crontab (--system: /etc/crontab's format); a refused "
	"line creates nothing", 1, 1, import_crontab},
    {"chronos", "URL", "Create the jobs of a running Chronos (or gnomon) server, parents first", 1, 1,
	import_chronos},
};

const struct cli_cmd_family cli_import_family = {
    .name = "import",
    .help = "Create jobs from a crontab or from a running Chronos",
    .entries = import_entries,
    .n_entries = sizeof(import_entries) / sizeof(import_entries[0]),
    .opts = import_opts,
    .n_opts = OPT_COUNT,
    .set_opts = import_set_opts,
};
