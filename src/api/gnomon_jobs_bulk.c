#include "api/gnomon_jobs_bulk.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "api/api_change.h"
#include "api/api_who.h"
#include "api/http.h"
#include "control/control.h"
#include "util/xmalloc.h"

struct bulk_change {
	struct api_env *env;
	struct api_change *ch;
	bool dry_run;
	struct api_who who;
};

static void bulk_answered(void *ctx, int status, const struct control_bulk_result *results, size_t n)
{
	struct bulk_change *bc = ctx;
	json_t *jobs;

	if (status < 0) {
		api_change_answered(bc->ch, status, NULL);
		return;
	}
	jobs = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(jobs, json_pack("{s:s, s:s}", "name", results[i].name, "result",
		    results[i].created ? "created" : "updated"));
	api_change_answered(bc->ch, status, json_pack("{s:o, s:b}", "jobs", jobs, "dryRun", bc->dry_run));
}

static int bulk_try(struct api_change *ch, void *ctx, const char *body, size_t len, char *err, size_t errlen)
{
	struct bulk_change *bc = ctx;

	bc->ch = ch;
	return control_put_jobs_then(bc->env->control, body, len, bc->dry_run, api_who_control(&bc->who), err, errlen,
	    bulk_answered, bc);
}

void gnomon_post_jobs(struct api_env *env, struct http_request *req, const char *const *args)
{
	struct bulk_change *bc = xcalloc(1, sizeof(*bc));
	const char *dry = http_request_query(req, "dryRun");

	(void)args;
	if (dry && strcmp(dry, "1") != 0 && strcmp(dry, "true") != 0 && strcmp(dry, "0") != 0 &&
	    strcmp(dry, "false") != 0) {
		free(bc);
		http_respond_error(req, 400, "dryRun: expected 1, true, 0 or false");
		return;
	}
	bc->env = env;
	bc->dry_run = dry && (strcmp(dry, "1") == 0 || strcmp(dry, "true") == 0);
	api_who_of(env, req, &bc->who);
	api_change_start(env, req, bulk_try, bc, free);
}
