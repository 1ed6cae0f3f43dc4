/* `gnomon agents [list|show|drain|undrain]`: the fleet of agents over the gnomon API (/api/v1/agents). */
#include <stdio.h>
#include <stdlib.h>

#include "cli/cli_agents_fmt.h"
#include "cli/cli_cmd.h"
#include "cli/cli_table.h"
#include "cli/cli_url.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024

static int agents_list(const struct cli_ctx *ctx);
static int agents_show(const struct cli_ctx *ctx);
static int agents_drain(const struct cli_ctx *ctx);
static int agents_undrain(const struct cli_ctx *ctx);

static const struct cli_cmd_entry agents_entries[] = {
    {"list", "", "List the agents (the default): name, state, hostname, cpus and memory used of total, running "
	"tasks, when last heard, attributes", 0, 0, agents_list},
    {"show", "NAME|ID", "Show one agent, with the task ids it runs", 1, 1, agents_show},
    {"drain", "NAME|ID", "Give an agent no new tasks (those it runs go on)", 1, 1, agents_drain},
    {"undrain", "NAME|ID", "Give a drained agent tasks again", 1, 1, agents_undrain},
};

const struct cli_cmd_family cli_agents_family = {
    .name = "agents",
    .help = "List, show, drain or undrain the agents that run the tasks",
    .entries = agents_entries,
    .n_entries = sizeof(agents_entries) / sizeof(agents_entries[0]),
    .bare = "list",
};

static int print_list(const struct cli_ctx *ctx, const json_t *answer)
{
	char err[ERR_MAX];
	struct cli_table *t = cli_agents_table(answer, err, sizeof(err));

	(void)ctx;
	if (!t) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	return cli_print_table(t, "agents");
}

static int agents_list(const struct cli_ctx *ctx)
{
	return cli_show(ctx, "/api/v1/agents", print_list);
}

static int print_show(const struct cli_ctx *ctx, const json_t *answer)
{
	char err[ERR_MAX];
	struct buf out;
	int rc = CLI_EXIT_OK;

	(void)ctx;
	buf_init(&out, 0);
	if (cli_agents_show_text(answer, &out, err, sizeof(err)) < 0) {
		cli_errorx("%s", err);
		rc = CLI_EXIT_FAIL;
	} else {
		fwrite(out.data, 1, out.len, stdout);
	}
	buf_free(&out);
	return rc;
}

static int agents_show(const struct cli_ctx *ctx)
{
	char *escaped = cli_url_escape(ctx->argv[0]);
	char *path = xasprintf("/api/v1/agents/%s", escaped);
	int rc = cli_show(ctx, path, print_show);

	free(path);
	free(escaped);
	return rc;
}

/* POST .../drain or .../undrain; prints "agent 'NAME' draining" (its new state), or the agent's JSON. */
static int set_drain(const struct cli_ctx *ctx, const char *verb)
{
	char *escaped = cli_url_escape(ctx->argv[0]);
	char *path = xasprintf("/api/v1/agents/%s/%s", escaped, verb);
	struct cli_http_response resp;
	char err[ERR_MAX];
	json_t *agent = NULL;
	int rc = CLI_EXIT_FAIL;

	if (cli_request(ctx, "POST", path, NULL, &resp, err, sizeof(err)) < 0) {
		cli_errorx("%s", err);
		goto out;
	}
	agent = json_loadb(resp.body, resp.len, 0, NULL);
	cli_http_response_free(&resp);
	if (!json_is_object(agent)) {
		cli_errorx("POST %s: the server sent no agent", path);
		goto out;
	}
	if (ctx->json)
		cli_print_json(agent);
	else
		printf("agent '%s' %s\n", json_string_value(json_object_get(agent, "name")) ?
		    json_string_value(json_object_get(agent, "name")) : ctx->argv[0],
		    json_string_value(json_object_get(agent, "state")) ? json_string_value(json_object_get(agent, "state")) :
		    "?");
	rc = CLI_EXIT_OK;
out:
	json_decref(agent);
	free(path);
	free(escaped);
	return rc;
}

static int agents_drain(const struct cli_ctx *ctx)
{
	return set_drain(ctx, "drain");
}

static int agents_undrain(const struct cli_ctx *ctx)
{
	return set_drain(ctx, "undrain");
}
