#include "cli/cli_cmd.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_url.h"
#include "util/xmalloc.h"

#define PROG "gnomon"
#define SERVER_ENV "GNOMON_SERVER"

void cli_errorx(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs(PROG ": ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_args_parse(int argc, char **argv, struct cli_args *a, char *err, size_t errlen)
{
	bool options_done = false;

	memset(a, 0, sizeof(*a));
	a->pos = xcalloc((size_t)(argc > 0 ? argc : 1), sizeof(*a->pos));
	for (int i = 0; i < argc; i++) {
		const char *arg = argv[i];

		if (options_done || arg[0] != '-' || strcmp(arg, "-") == 0) {
			a->pos[a->npos++] = argv[i];
		} else if (strcmp(arg, "--") == 0) {
			options_done = true;
		} else if (strcmp(arg, "--json") == 0) {
			a->json = true;
		} else if (strcmp(arg, "-h") == 0 || strcmp(arg, "--help") == 0) {
			a->help = true;
		} else if (strcmp(arg, "--server") == 0) {
			if (i + 1 == argc) {
				snprintf(err, errlen, "option '--server' needs a URL");
				return -EINVAL;
			}
			a->server = argv[++i];
		} else if (strncmp(arg, "--server=", 9) == 0) {
			a->server = arg + 9;
		} else {
			snprintf(err, errlen, "unknown option '%s'", arg);
			return -EINVAL;
		}
	}
	if (a->server && !*a->server) {
		snprintf(err, errlen, "option '--server' needs a URL");
		return -EINVAL;
	}
	return 0;
}

void cli_args_free(struct cli_args *a)
{
	free(a->pos);
	memset(a, 0, sizeof(*a));
}

static void print_entry_usage(FILE *f, const char *lead, const struct cli_cmd_family *family,
    const struct cli_cmd_entry *entry)
{
	fprintf(f, "%s" PROG " %s %s [options]%s%s\n", lead, family->name, entry->name, *entry->args ? " " : "",
	    entry->args);
}

static void print_family_usage(FILE *f, const struct cli_cmd_family *family)
{
	for (size_t i = 0; i < family->n_entries; i++)
		print_entry_usage(f, i == 0 ? "usage: " : "       ", family, &family->entries[i]);
}

static void print_options(FILE *f)
{
	fputs("\noptions:\n"
	      "  --server URL  the gnomon server (default: $" SERVER_ENV ", else " CLI_URL_DEFAULT ")\n"
	      "  --json        print JSON instead of text\n"
	      "  -h, --help    print this help\n",
	    f);
}

/* --help for a family (entry NULL) or one of its commands, on stdout. */
static void print_help(const struct cli_cmd_family *family, const struct cli_cmd_entry *entry)
{
	if (entry) {
		print_entry_usage(stdout, "usage: ", family, entry);
		printf("\n%s.\n", entry->help);
	} else {
		print_family_usage(stdout, family);
		printf("\n%s.\n\ncommands:\n", family->help);
		for (size_t i = 0; i < family->n_entries; i++) {
			const struct cli_cmd_entry *e = &family->entries[i];
			char *synopsis = xasprintf("%s %s", e->name, e->args);
			printf("  %-14s %s\n", synopsis, e->help);
			free(synopsis);
		}
	}
	print_options(stdout);
}

/* Report a usage error: one "gnomon: ..." line, then the usage of the command (or of the family). */
static int usage_error(const struct cli_cmd_family *family, const struct cli_cmd_entry *entry, const char *msg)
{
	cli_errorx("%s", msg);
	if (entry)
		print_entry_usage(stderr, "usage: ", family, entry);
	else
		print_family_usage(stderr, family);
	return CLI_EXIT_USAGE;
}

static const struct cli_cmd_entry *find_entry(const struct cli_cmd_family *family, const char *name)
{
	for (size_t i = 0; i < family->n_entries; i++)
		if (strcmp(family->entries[i].name, name) == 0)
			return &family->entries[i];
	return NULL;
}

/* Check the argument count of a command; returns 0 or fills msg. */
static int check_arg_count(const struct cli_cmd_entry *entry, const struct cli_args *a, char *msg, size_t len)
{
	int nargs = a->npos - 1;

	if (nargs < entry->args_min) {
		snprintf(msg, len, "%s: missing argument %s", entry->name, entry->args);
		return -EINVAL;
	}
	if (entry->args_max >= 0 && nargs > entry->args_max) {
		snprintf(msg, len, "%s: unexpected argument '%s'", entry->name, a->pos[1 + entry->args_max]);
		return -EINVAL;
	}
	return 0;
}

/* Run one command with a client for the chosen server, then check that stdout was written. */
static int run_entry(const struct cli_cmd_entry *entry, const struct cli_args *a)
{
	char *server = cli_url_base(a->server, getenv(SERVER_ENV));
	struct cli_ctx ctx = {.json = a->json, .argc = a->npos - 1, .argv = a->pos + 1};
	int rc;

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_errorx("cannot initialise libcurl");
		free(server);
		return CLI_EXIT_FAIL;
	}
	ctx.http = cli_http_new(server);
	rc = entry->exec(&ctx);
	cli_http_free(ctx.http);
	curl_global_cleanup();
	free(server);
	return rc;
}

int cli_cmd_main(const struct cli_cmd_family *family, int argc, char **argv)
{
	const struct cli_cmd_entry *entry = NULL;
	struct cli_args a;
	char msg[512];
	int rc;

	if (cli_args_parse(argc - 1, argv + 1, &a, msg, sizeof(msg)) < 0) {
		rc = usage_error(family, a.npos > 0 ? find_entry(family, a.pos[0]) : NULL, msg);
		goto out;
	}
	if (a.npos > 0 && !(entry = find_entry(family, a.pos[0]))) {
		snprintf(msg, sizeof(msg), "unknown %s command '%s'", family->name, a.pos[0]);
		rc = usage_error(family, NULL, msg);
		goto out;
	}
	if (a.help) {
		print_help(family, entry);
		rc = CLI_EXIT_OK;
	} else if (!entry) {
		snprintf(msg, sizeof(msg), "missing %s command", family->name);
		rc = usage_error(family, NULL, msg);
	} else if (check_arg_count(entry, &a, msg, sizeof(msg)) < 0) {
		rc = usage_error(family, entry, msg);
	} else {
		rc = run_entry(entry, &a);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_errorx("cannot write output: %s", strerror(errno));
		rc = CLI_EXIT_FAIL;
	}
out:
	cli_args_free(&a);
	return rc;
}

int cli_request(const struct cli_ctx *ctx, const char *method, const char *path, const char *body,
    struct cli_http_response *resp, char *err, size_t errlen)
{
	if (cli_http_request(ctx->http, method, path, body, resp, err, errlen) < 0)
		return -1;
	if (resp->status >= 200 && resp->status < 300)
		return 0;
	cli_http_error_text(resp->status, resp->body, resp->len, err, errlen);
	cli_http_response_free(resp);
	return -1;
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
