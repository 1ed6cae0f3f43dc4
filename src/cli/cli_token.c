/* `gnomon token create|list|revoke`: API tokens (README, "Access") over the gnomon API (/api/v1/tokens), or, for
 * the first admin token, written straight into a standalone server's SQLite store (--data-dir), which store_open
 * locks: the server must not be running on it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "auth/auth_token.h"
#include "cli/cli_cmd.h"
#include "cli/cli_table.h"
#include "cli/cli_url.h"
#include "state/state.h"
#include "state/state_sqlite.h"
#include "store/store.h"
#include "util/xmalloc.h"

#define ERR_MAX 1024

enum { OPT_ROLE, OPT_DATA_DIR };

static const struct cli_opt token_opts[] = {
    [OPT_ROLE] = {"--role", NULL, "ROLE", "create: viewer (reads), operator (reads, run now, kill, mark success) "
	"admin (everything), or agent (an agent's own, for gnomon agent --agent-token-file: the agents' protocol "
	"only)"},
    [OPT_DATA_DIR] = {"--data-dir", NULL, "DIR", "create: write the token into the SQLite store in DIR (a standalone "
	"server's, not running) instead of asking the server: how the first admin token is made"},
};

static int token_create(const struct cli_ctx *ctx);
static int token_list(const struct cli_ctx *ctx);
static int token_revoke(const struct cli_ctx *ctx);

static const struct cli_cmd_entry token_entries[] = {
    {"create", "NAME --role ROLE", "Create an API token and print it (it is shown this once)", 1, 1, token_create},
    {"list", "", "List the tokens: name, role, created, last used (never their secrets)", 0, 0, token_list},
    {"revoke", "NAME", "Revoke a token: it stops working at once", 1, 1, token_revoke},
};

static const char *opt_role, *opt_data_dir;

static int token_set_opts(const char *const *values, char *err, size_t errlen)
{
	enum auth_role role;

	if (values[OPT_ROLE] && auth_role_parse(values[OPT_ROLE], &role) < 0) {
		snprintf(err, errlen, "--role: '%s' is not a role (viewer, operator, admin or agent)", values[OPT_ROLE]);
		return -EINVAL;
	}
	opt_role = values[OPT_ROLE];
	opt_data_dir = values[OPT_DATA_DIR];
	return 0;
}

const struct cli_cmd_family cli_token_family = {
    .name = "token",
    .help = "Create, list or revoke the API tokens (access control)",
    .entries = token_entries,
    .n_entries = sizeof(token_entries) / sizeof(token_entries[0]),
    .opts = token_opts,
    .n_opts = sizeof(token_opts) / sizeof(token_opts[0]),
    .set_opts = token_set_opts,
};

/* Print a new token: the secret alone on stdout (or the JSON), a reminder on stderr. */
static int print_created(const struct cli_ctx *ctx, json_t *answer)
{
	const char *token = json_string_value(json_object_get(answer, "token"));

	if (token == NULL) {
		cli_errorx("the server's answer has no token");
		return CLI_EXIT_FAIL;
	}
	if (ctx->json) {
		cli_print_json(answer);
	} else {
		printf("%s\n", token);
		fprintf(stderr, "gnomon: token '%s' (%s) created: keep it now, it is not shown again\n",
		    json_string_value(json_object_get(answer, "name")), json_string_value(json_object_get(answer, "role")));
	}
	return CLI_EXIT_OK;
}

static int name_taken(void *ctx, const struct state_token *tok)
{
	return strcmp(tok->name, ctx) == 0;
}

/* Write the token into the store in opt_data_dir. */
static int create_in_store(const struct cli_ctx *ctx, const char *name)
{
	char err[ERR_MAX], secret[AUTH_TOKEN_LEN + 1], hash[AUTH_HASH_LEN + 1], *name_copy = xstrdup(name);
	struct store *store = NULL;
	struct state *state = NULL;
	struct state_txn *t;
	struct timespec now;
	int rc = CLI_EXIT_FAIL;

	if (store_open(opt_data_dir, &store, err, sizeof(err)) < 0) {
		cli_errorx("--data-dir %s: %s", opt_data_dir, err);
		goto out;
	}
	state = state_sqlite_new(store);
	if (state_load_tokens(state, name_taken, name_copy) == 1) {
		cli_errorx("a token called '%s' exists (revoke it first)", name);
		goto out;
	}
	if (auth_token_new(secret) < 0 || state_begin(state, &t) < 0) {
		cli_errorx("--data-dir %s: cannot make the token (%s)", opt_data_dir, strerror(errno));
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	auth_hash(secret, strlen(secret), hash);
	if (state_put_token(t, &(struct state_token){name, opt_role, hash,
		(int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000}) < 0) {
		state_abort(t);
		cli_errorx("--data-dir %s: cannot store the token (%s)", opt_data_dir, state_errmsg(state));
		goto out;
	}
	if (state_commit_now(t) < 0) {
		cli_errorx("--data-dir %s: cannot store the token (%s)", opt_data_dir, state_errmsg(state));
		goto out;
	}
	json_t *answer = json_pack("{s:s, s:s, s:s}", "name", name, "role", opt_role, "token", secret);
	rc = print_created(ctx, answer);
	json_decref(answer);
out:
	state_free(state);
	store_close(store);
	free(name_copy);
	return rc;
}

static int token_create(const struct cli_ctx *ctx)
{
	char err[ERR_MAX], *body;
	struct cli_http_response resp;
	json_t *answer;
	int rc;

	if (opt_role == NULL) {
		cli_errorx("token create: --role is required (viewer, operator, admin or agent)");
		return CLI_EXIT_USAGE;
	}
	if (!auth_name_valid(ctx->argv[0])) {
		cli_errorx("token create: '%s' is not a token's name (1 to %d of A-Z a-z 0-9 . _ -)", ctx->argv[0],
		    AUTH_NAME_MAX);
		return CLI_EXIT_USAGE;
	}
	if (opt_data_dir)
		return create_in_store(ctx, ctx->argv[0]);
	answer = json_pack("{s:s, s:s}", "name", ctx->argv[0], "role", opt_role);
	body = json_dumps(answer, JSON_COMPACT);
	json_decref(answer);
	rc = cli_request(ctx, "POST", "/api/v1/tokens", body, &resp, err, sizeof(err));
	free(body);
	if (rc < 0) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	answer = json_loadb(resp.body, resp.len, 0, NULL);
	cli_http_response_free(&resp);
	rc = print_created(ctx, answer);
	json_decref(answer);
	return rc;
}

static int print_list(const struct cli_ctx *ctx, const json_t *answer)
{
	static const char *const headers[] = {"NAME", "ROLE", "CREATED", "LAST USED"};
	struct cli_table *t = cli_table_new(4, headers);
	const json_t *tok;
	size_t i;

	(void)ctx;
	json_array_foreach(json_object_get(answer, "tokens"), i, tok) {
		const char *used = json_string_value(json_object_get(tok, "lastUsed"));
		const char *cells[] = {json_string_value(json_object_get(tok, "name")),
			json_string_value(json_object_get(tok, "role")), json_string_value(json_object_get(tok, "created")),
			used ? used : "-"};
		cli_table_add_row(t, cells);
	}
	return cli_print_table(t, "tokens");
}

static int token_list(const struct cli_ctx *ctx)
{
	return cli_show(ctx, "/api/v1/tokens", print_list);
}

static int token_revoke(const struct cli_ctx *ctx)
{
	char err[ERR_MAX], *path = cli_url_path("/api/v1/tokens/", ctx->argv[0]);
	struct cli_http_response resp;
	int rc = cli_request(ctx, "DELETE", path, NULL, &resp, err, sizeof(err));

	free(path);
	if (rc < 0) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	cli_http_response_free(&resp);
	if (!ctx->json)
		fprintf(stderr, "gnomon: token '%s' revoked\n", ctx->argv[0]);
	return CLI_EXIT_OK;
}
