#include "cli/cli_job_bulk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"
#include "util/log.h"

#define ERR_MAX 4096 /* the server names every refused job of a batch */

void cli_job_print_done(const struct cli_ctx *ctx, const char *name, const char *verb)
{
	json_t *line;

	if (!ctx->json) {
		printf("job '%s' %s\n", name, verb);
		return;
	}
	if (!(line = json_pack("{s:s, s:s}", "name", name, "result", verb)))
		fatalx("json_pack: out of memory");
	json_dumpf(line, stdout, JSON_COMPACT);
	fputc('\n', stdout);
	json_decref(line);
}

/* POST one batch (a JSON array text) to the bulk endpoint, which checks it whole and writes it in one transaction;
 * print each job's result. */
static int add_batch(const struct cli_ctx *ctx, const char *label, const char *body, bool dry_run, size_t *saved)
{
	struct cli_http_response resp;
	char err[ERR_MAX];
	json_t *answer, *jobs;
	int rc = CLI_EXIT_FAIL;

	if (cli_request(ctx, "POST", dry_run ? CLI_PATH_JOBS_BULK "?dryRun=1" : CLI_PATH_JOBS_BULK, body, &resp, err,
		sizeof(err)) < 0) {
		if (*saved)
			cli_errorx("%s: %s (the %zu jobs before were saved)", label, err, *saved);
		else
			cli_errorx("%s: %s (no job was saved)", label, err);
		return CLI_EXIT_FAIL;
	}
	answer = json_loadb(resp.body, resp.len, 0, NULL);
	cli_http_response_free(&resp);
	if (!json_is_array(jobs = json_object_get(answer, "jobs"))) {
		cli_errorx("unexpected answer from the server: no \"jobs\" array");
	} else {
		for (size_t i = 0; i < json_array_size(jobs); i++) {
			json_t *r = json_array_get(jobs, i);
			const char *name = json_string_value(json_object_get(r, "name"));
			const char *result = json_string_value(json_object_get(r, "result"));
			bool created = result && strcmp(result, "created") == 0;
			cli_job_print_done(ctx, name ? name : "?",
			    !dry_run ? "saved" : created ? "would be created" : "would be replaced");
		}
		*saved += json_array_size(jobs);
		rc = CLI_EXIT_OK;
	}
	json_decref(answer);
	return rc;
}

/* An array of jobs, parents first, in batches of about CLI_BULK_BATCH_BYTES: one batch is checked and written whole (all
 * or nothing); each batch's parents are in it or in one before. */
int cli_job_put_many(const struct cli_ctx *ctx, const char *label, const json_t *ordered, bool dry_run)
{
	struct buf batch;
	size_t saved = 0;
	int rc = CLI_EXIT_OK;

	buf_init(&batch, 0);
	for (size_t i = 0; i <= json_array_size(ordered) && rc == CLI_EXIT_OK; i++) {
		char *text = i < json_array_size(ordered) ? json_dumps(json_array_get(ordered, i), JSON_COMPACT) : NULL;
		if (i < json_array_size(ordered) && text == NULL)
			fatalx("json_dumps: out of memory");
		if (batch.len > 0 && (text == NULL || batch.len + strlen(text) + 2 > CLI_BULK_BATCH_BYTES)) {
			if (buf_puts(&batch, "]") < 0)
				fatalx("out of memory");
			rc = add_batch(ctx, label, batch.data, dry_run, &saved);
			buf_reset(&batch);
		}
		if (text && (buf_puts(&batch, batch.len ? "," : "[") < 0 || buf_puts(&batch, text) < 0))
			fatalx("out of memory");
		free(text);
	}
	buf_free(&batch);
	return rc;
}

