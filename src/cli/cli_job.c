/* `gnomon job add|list|show|rm|run|kill`: job definitions, manual runs and kills over the Chronos v1 API. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_cmd.h"
#include "cli/cli_input.h"
#include "cli/cli_job_bulk.h"
#include "cli/cli_job_fmt.h"
#include "cli/cli_job_util.h"
#include "cli/cli_table.h"
#include "cli/cli_url.h"
#include "util/buf.h"
#include "util/log.h"
#include "util/xmalloc.h"

#define JOB_FILE_MAX ((size_t)1 << 30) /* an export of a million jobs fits */
#define CLI_PATH_TASK_KILL "/v1/scheduler/task/kill/"
#define ERR_MAX 1024

static int job_add(const struct cli_ctx *ctx);
static int job_list(const struct cli_ctx *ctx);
static int job_show(const struct cli_ctx *ctx);
static int job_rm(const struct cli_ctx *ctx);
static int job_run(const struct cli_ctx *ctx);
static int job_kill(const struct cli_ctx *ctx);

static const struct cli_cmd_entry job_entries[] = {
    {"add", "FILE|-", "Add or replace the job, or array of jobs, in a JSON file ('-' reads standard input)", 1, 1,
	job_add},
    {"list", "", "List jobs with their schedule, zone, last result, state, owner and command", 0, 0, job_list},
    {"show", "NAME", "Show one job", 1, 1, job_show},
    {"rm", "NAME", "Delete a job", 1, 1, job_rm},
    {"run", "NAME [-- ARGS...]", "Run a job now, with ARGS as its arguments if given (the schedule is unchanged)", 1,
	-1, job_run},
    {"kill", "NAME", "Kill the running tasks of a job", 1, 1, job_kill},
};

const struct cli_cmd_family cli_job_family = {
    .name = "job",
    .help = "Add, list, show, delete, run or kill jobs",
    .entries = job_entries,
    .n_entries = sizeof(job_entries) / sizeof(job_entries[0]),
};

/* POST one job to the endpoint its keys select. In a batch, errors name the job. */
static int add_one(const struct cli_ctx *ctx, const char *label, json_t *job, bool batch)
{
	const char *name = json_string_value(json_object_get(job, "name"));
	struct cli_http_response resp;
	char err[ERR_MAX];
	char *body;
	int rc;

	if (!name || !*name) {
		cli_errorx("%s: the job has no \"name\"", label);
		return CLI_EXIT_FAIL;
	}
	if (!(body = json_dumps(job, JSON_COMPACT)))
		fatalx("json_dumps: out of memory");
	rc = cli_request(ctx, "POST", cli_job_endpoint(job), body, &resp, err, sizeof(err));
	free(body);
	if (rc < 0) {
		if (batch)
			cli_errorx("job '%s': %s", name, err);
		else
			cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	cli_http_response_free(&resp);
	cli_job_print_done(ctx, name, "saved");
	return CLI_EXIT_OK;
}

static int job_add(const struct cli_ctx *ctx)
{
	const char *label = cli_input_label(ctx->argv[0]);
	json_t *root, *ordered = NULL;
	char err[ERR_MAX];
	int rc = CLI_EXIT_FAIL;

	if (!(root = cli_input_load_json(ctx->argv[0], JOB_FILE_MAX, err, sizeof(err)))) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	if (json_is_object(root)) {
		rc = add_one(ctx, label, root, false);
	} else if (!json_is_array(root)) {
		cli_errorx("%s: expected a job object or an array of jobs", label);
	} else if (!(ordered = cli_job_order(root, err, sizeof(err)))) {
		cli_errorx("%s: %s", label, err);
	} else {
		rc = cli_job_put_many(ctx, label, ordered, false);
	}
	json_decref(ordered);
	json_decref(root);
	return rc;
}

/* Render the list table from the two answers and print it. */
static int print_list(const json_t *summary, const json_t *jobs)
{
	char err[ERR_MAX];
	struct cli_table *t = cli_job_list_table(summary, jobs, err, sizeof(err));

	if (!t) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	return cli_print_table(t, "job");
}

static int job_list(const struct cli_ctx *ctx)
{
	json_t *summary = NULL, *jobs = NULL;
	char err[ERR_MAX];
	int rc = CLI_EXIT_FAIL;

	if (!ctx->json && !(summary = cli_get_json(ctx, CLI_PATH_JOBS_SUMMARY, err, sizeof(err))))
		goto fail;
	if (!(jobs = cli_get_json(ctx, CLI_PATH_JOBS, err, sizeof(err))))
		goto fail;
	if (ctx->json) {
		cli_print_json(jobs);
		rc = CLI_EXIT_OK;
	} else {
		rc = print_list(summary, jobs);
	}
	goto out;
fail:
	cli_errorx("%s", err);
out:
	json_decref(jobs);
	json_decref(summary);
	return rc;
}

/* Reject an empty job name, which would address a different resource. */
static bool check_name(const char *name)
{
	if (*name)
		return true;
	cli_errorx("the job name must not be empty");
	return false;
}

/* A job as text, one field a line. */
static int print_job(const struct cli_ctx *ctx, const json_t *job)
{
	struct buf out;
	int rc = CLI_EXIT_OK;

	(void)ctx;
	buf_init(&out, 0);
	if (!json_is_object(job) || cli_job_describe(job, &out) < 0) {
		cli_errorx("unexpected answer from the server: the job is not a JSON object");
		rc = CLI_EXIT_FAIL;
	} else {
		fwrite(out.data, 1, out.len, stdout);
	}
	buf_free(&out);
	return rc;
}

static int job_show(const struct cli_ctx *ctx)
{
	char *path;
	int rc;

	if (!check_name(ctx->argv[0]))
		return CLI_EXIT_FAIL;
	path = cli_url_path(CLI_PATH_JOB, ctx->argv[0]);
	rc = cli_show(ctx, path, print_job);
	free(path);
	return rc;
}

static int job_rm(const struct cli_ctx *ctx)
{
	struct cli_http_response resp;
	char *path, err[ERR_MAX];
	int rc;

	if (!check_name(ctx->argv[0]))
		return CLI_EXIT_FAIL;
	path = cli_url_path(CLI_PATH_JOB, ctx->argv[0]);
	rc = cli_request(ctx, "DELETE", path, NULL, &resp, err, sizeof(err));
	free(path);
	if (rc < 0) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	cli_http_response_free(&resp);
	cli_job_print_done(ctx, ctx->argv[0], "deleted");
	return CLI_EXIT_OK;
}

/* Send METHOD path (no body) and report "job 'NAME' <verb>". */
static int job_action(const struct cli_ctx *ctx, const char *method, const char *path, const char *verb)
{
	struct cli_http_response resp;
	char err[ERR_MAX];

	if (cli_request(ctx, method, path, NULL, &resp, err, sizeof(err)) < 0) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	cli_http_response_free(&resp);
	cli_job_print_done(ctx, ctx->argv[0], verb);
	return CLI_EXIT_OK;
}

/* PUT /v1/scheduler/job/NAME?arguments=ARGS, the ARGS shell-quoted and joined by spaces. */
static int job_run(const struct cli_ctx *ctx)
{
	char *path;
	int rc;

	if (!check_name(ctx->argv[0]))
		return CLI_EXIT_FAIL;
	path = cli_url_path(CLI_PATH_JOB, ctx->argv[0]);
	if (ctx->argc > 1) {
		char *args = cli_job_join_args(ctx->argc - 1, (const char *const *)ctx->argv + 1);
		char *escaped = cli_url_escape(args);
		char *full = xasprintf("%s?arguments=%s", path, escaped);
		free(escaped);
		free(args);
		free(path);
		path = full;
	}
	rc = job_action(ctx, "PUT", path, "started");
	free(path);
	return rc;
}

static int job_kill(const struct cli_ctx *ctx)
{
	char *path;
	int rc;

	if (!check_name(ctx->argv[0]))
		return CLI_EXIT_FAIL;
	path = cli_url_path(CLI_PATH_TASK_KILL, ctx->argv[0]);
	rc = job_action(ctx, "DELETE", path, "killed");
	free(path);
	return rc;
}
