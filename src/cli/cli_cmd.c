#include "cli/cli_cmd.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_table.h"
#include "cli/cli_url.h"
#include "util/buf.h"
#include "util/xmalloc.h"

#define PROG "gnomon"
#define ERR_MAX 1024

/* --json was given: errors are {"error": "..."} lines, and usage errors come without where help is. */
static bool json_errors;

void cli_set_json_errors(bool on)
{
	json_errors = on;
}

void cli_errorx(const char *fmt, ...)
{
	va_list ap, again;
	char *msg, *text = NULL;
	int n;

	fflush(stdout);
	va_start(ap, fmt);
	va_copy(again, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	msg = xmalloc(n > 0 ? (size_t)n + 1 : 1);
	vsnprintf(msg, n > 0 ? (size_t)n + 1 : 1, fmt, again);
	va_end(again);
	if (json_errors) {
		json_t *obj = json_pack("{s:s}", "error", msg); /* NULL if msg is not UTF-8: then plain text */
		text = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
		json_decref(obj);
	}
	if (text)
		fprintf(stderr, "%s\n", text);
	else
		fprintf(stderr, PROG ": %s\n", msg);
	free(text);
	free(msg);
}

/* Whether argv (argv[0] the family name) asks for --json before a "--": how to report an error in parsing it. */
static bool wants_json(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--json") == 0)
			return true;
	return false;
}

/* Whether the family is its one command, run without a command word (`gnomon runs NAME`). */
static bool is_single(const struct cli_cmd_family *family)
{
	return family->n_entries == 1 && family->entries[0].name == NULL;
}

/* "usage: gnomon job add [options] FILE|-", or "usage: gnomon runs [options] NAME" without a command word. */
static void print_entry_usage(FILE *f, const char *lead, const struct cli_cmd_family *family,
    const struct cli_cmd_entry *entry)
{
	fprintf(f, "%s" PROG " %s%s%s [options]%s%s\n", lead, family->name, entry->name ? " " : "",
	    entry->name ? entry->name : "", *entry->args ? " " : "", entry->args);
}

static void print_family_usage(FILE *f, const struct cli_cmd_family *family)
{
	for (size_t i = 0; i < family->n_entries; i++)
		print_entry_usage(f, i == 0 ? "usage: " : "       ", family, &family->entries[i]);
}

static void print_opts(FILE *f, const struct cli_opt *opts, size_t n, int width)
{
	for (size_t i = 0; i < n; i++) {
		char synopsis[64];
		snprintf(synopsis, sizeof(synopsis), "%s%s%s%s%s", opts[i].alias ? opts[i].alias : "",
		    opts[i].alias ? ", " : "", opts[i].name, opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		fprintf(f, "  %-*s %s\n", width, synopsis, opts[i].help);
	}
}

/* --help for a family (entry NULL) or one of its commands, on stdout: usage, what it does, its options, the
 * global options. */
static void print_help(const struct cli_cmd_family *family, const struct cli_cmd_entry *entry)
{
	const int width = 16;

	if (entry) {
		print_entry_usage(stdout, "usage: ", family, entry);
		printf("\n%s.\n", entry->help);
	} else {
		int cmd_width = 0;

		print_family_usage(stdout, family);
		printf("\n%s.\n\ncommands:\n", family->help);
		for (size_t i = 0; i < family->n_entries; i++) {
			int w = (int)(strlen(family->entries[i].name) + 1 + strlen(family->entries[i].args));
			cmd_width = w > cmd_width ? w : cmd_width;
		}
		for (size_t i = 0; i < family->n_entries; i++) {
			const struct cli_cmd_entry *e = &family->entries[i];
			char *synopsis = xasprintf("%s %s", e->name, e->args);
			printf("  %-*s  %s\n", cmd_width, synopsis, e->help);
			free(synopsis);
		}
	}
	if (family->n_opts > 0) {
		fputs("\noptions:\n", stdout);
		print_opts(stdout, family->opts, family->n_opts, width);
	}
	fputs("\nglobal options (before or after the command):\n", stdout);
	print_opts(stdout, cli_global_opts, cli_n_global_opts, width);
}

/* Report a usage error in one line, "gnomon: <msg> (see gnomon job list --help)"; with --json the
 * {"error": "<msg>"} line. */
static int usage_error(const struct cli_cmd_family *family, const struct cli_cmd_entry *entry, const char *msg)
{
	if (json_errors)
		cli_errorx("%s", msg);
	else
		cli_errorx("%s (see " PROG " %s%s%s --help)", msg, family->name, entry && entry->name ? " " : "",
		    entry && entry->name ? entry->name : "");
	return CLI_EXIT_USAGE;
}

/* The command the arguments run: the family's one command when it has no command words, else the one the first
 * positional argument names, or the family's bare command when there is none (NULL when unknown or none). */
static const struct cli_cmd_entry *find_entry(const struct cli_cmd_family *family, const struct cli_args *a)
{
	const char *word = a->npos > 0 ? a->pos[0] : family->bare;

	if (is_single(family))
		return &family->entries[0];
	for (size_t i = 0; word && i < family->n_entries; i++)
		if (strcmp(family->entries[i].name, word) == 0)
			return &family->entries[i];
	return NULL;
}

/* Check the argument count of a command, whose arguments follow `words` command words; returns 0 or fills msg. */
static int check_arg_count(const struct cli_cmd_family *family, const struct cli_cmd_entry *entry,
    const struct cli_args *a, int words, char *msg, size_t len)
{
	const char *name = entry->name ? entry->name : family->name;
	int nargs = a->npos - words;

	if (nargs < entry->args_min) {
		snprintf(msg, len, "%s: missing argument %s", name, entry->args);
		return -EINVAL;
	}
	if (entry->args_max >= 0 && nargs > entry->args_max) {
		snprintf(msg, len, "%s: unexpected argument '%s'", name, a->pos[words + entry->args_max]);
		return -EINVAL;
	}
	return 0;
}

/* Run one command with a client for the chosen server. */
static int run_entry(const struct cli_cmd_entry *entry, const struct cli_args *a, int words)
{
	char *server = cli_url_base(a->g.server, getenv(CLI_SERVER_ENV));
	struct cli_ctx ctx = {.json = a->g.json, .argc = a->npos - words, .argv = a->pos + words};
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_errorx("cannot initialise libcurl");
		free(server);
		return CLI_EXIT_FAIL;
	}
	ctx.http = cli_http_new(server);
	cli_http_set_ca(ctx.http, a->g.tls_ca ? a->g.tls_ca : getenv(CLI_TLS_CA_ENV));
	cli_http_set_token(ctx.http, a->g.token ? a->g.token : getenv(CLI_TOKEN_ENV));
	rc = entry->exec(&ctx);
	cli_http_free(ctx.http);
	curl_global_cleanup();
	free(server);
	return rc;
}

int cli_cmd_main(const struct cli_cmd_family *family, const struct cli_globals *given, int argc, char **argv)
{
	const struct cli_cmd_entry *entry = NULL;
	int words = is_single(family) ? 0 : 1; /* command words before the command's arguments */
	struct cli_args a;
	char msg[512];
	int rc;

	json_errors = (given && given->json) || wants_json(argc, argv);
	if (cli_args_parse(family->opts, family->n_opts, given, argc, argv, &a, msg, sizeof(msg)) < 0 ||
	    (family->set_opts && family->set_opts(a.values, msg, sizeof(msg)) < 0)) {
		rc = usage_error(family, find_entry(family, &a), msg);
		goto out;
	}
	json_errors = a.g.json; /* as parsed: "--js" too */
	entry = find_entry(family, &a);
	if (a.npos == 0 && family->bare)
		words = 0; /* `gnomon agents`: the bare command, without its word */
	if (a.npos > 0 && !entry) {
		snprintf(msg, sizeof(msg), "unknown %s command '%s'", family->name, a.pos[0]);
		rc = usage_error(family, NULL, msg);
		goto out;
	}
	if (a.g.help) {
		print_help(family, a.npos > 0 || is_single(family) ? entry : NULL); /* `agents --help`: the family's */
		rc = CLI_EXIT_OK;
	} else if (!entry) {
		snprintf(msg, sizeof(msg), "missing %s command", family->name);
		rc = usage_error(family, NULL, msg);
	} else if (check_arg_count(family, entry, &a, words, msg, sizeof(msg)) < 0) {
		rc = usage_error(family, entry, msg);
	} else {
		rc = run_entry(entry, &a, words);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_errorx("cannot write output: %s", strerror(errno));
		rc = CLI_EXIT_FAIL;
	}
out:
	cli_args_free(&a);
	return rc;
}

/* 0 for a 2xx answer; else -1 with the server's reason in err, and resp freed. */
static int require_2xx(struct cli_http_response *resp, char *err, size_t errlen)
{
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	cli_http_error_text(resp->status, resp->body, resp->len, err, errlen);
	cli_http_response_free(resp);
	return -1;
}

int cli_request(const struct cli_ctx *ctx, const char *method, const char *path, const char *body,
    struct cli_http_response *resp, char *err, size_t errlen)
{
	if (cli_http_request(ctx->http, method, path, body, resp, err, errlen) < 0)
		return -1;
	return require_2xx(resp, err, errlen);
}

int cli_get_stream(const struct cli_ctx *ctx, const char *path, unsigned flags, cli_http_write_fn writer, void *arg,
    char *err, size_t errlen)
{
	struct cli_http_response resp;

	if (cli_http_stream(ctx->http, "GET", path, flags, writer, arg, &resp, err, errlen) < 0 ||
	    require_2xx(&resp, err, errlen) < 0)
		return -1;
	cli_http_response_free(&resp);
	return 0;
}

json_t *cli_get_json(const struct cli_ctx *ctx, const char *path, char *err, size_t errlen)
{
	struct cli_http_response resp;
	json_error_t jerr;
	json_t *root;

	if (cli_request(ctx, "GET", path, NULL, &resp, err, errlen) < 0)
		return NULL;
	root = json_loadb(resp.body, resp.len, 0, &jerr);
	if (!root)
		snprintf(err, errlen, "GET %s: the server sent invalid JSON (line %d: %s)", path, jerr.line, jerr.text);
	cli_http_response_free(&resp);
	return root;
}

void cli_print_json(const json_t *value)
{
	json_dumpf(value, stdout, JSON_INDENT(2) | JSON_REAL_PRECISION(15) | JSON_ENCODE_ANY);
	fputc('\n', stdout);
}

int cli_show(const struct cli_ctx *ctx, const char *path,
    int (*print_text)(const struct cli_ctx *ctx, const json_t *answer))
{
	char err[ERR_MAX];
	json_t *answer = cli_get_json(ctx, path, err, sizeof(err));
	int rc = CLI_EXIT_OK;

	if (!answer) {
		cli_errorx("%s", err);
		return CLI_EXIT_FAIL;
	}
	if (ctx->json)
		cli_print_json(answer);
	else
		rc = print_text(ctx, answer);
	json_decref(answer);
	return rc;
}

int cli_print_table(struct cli_table *t, const char *what)
{
	struct buf out;
	int rc;

	buf_init(&out, 0);
	rc = cli_table_render(t, &out);
	if (rc == 0)
		fwrite(out.data, 1, out.len, stdout);
	else
		cli_errorx("cannot render the %s table", what);
	buf_free(&out);
	cli_table_free(t);
	return rc == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
