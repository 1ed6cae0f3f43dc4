#include "cli/cli_opt.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli_http.h"
#include "cli/cli_url.h"

#define PROG "gnomon"
#define SERVER_ENV "GNOMON_SERVER" /* as in cli_cmd.c */

/* The option of opts that arg spells, with *inline_value set for "--name=value"; NULL when none. */
static const struct cli_opt *find_opt(const struct cli_opt *opts, size_t n, const char *arg, const char **inline_value,
    size_t *index)
{
	*inline_value = NULL;
	for (size_t i = 0; i < n; i++) {
		const char *names[] = {opts[i].name, opts[i].alias};
		for (size_t k = 0; k < 2; k++) {
			size_t len = names[k] ? strlen(names[k]) : 0;
			if (len == 0 || strncmp(arg, names[k], len) != 0)
				continue;
			if (arg[len] == '\0' || (arg[len] == '=' && strncmp(arg, "--", 2) == 0)) {
				*inline_value = arg[len] == '=' ? arg + len + 1 : NULL;
				*index = i;
				return &opts[i];
			}
		}
	}
	return NULL;
}

int cli_opt_extract(const struct cli_opt *opts, size_t n, int argc, char **argv, const char **values, char *err,
    size_t errlen)
{
	int out = argc > 0 ? 1 : 0, i;

	for (size_t k = 0; k < n; k++)
		values[k] = NULL;
	for (i = out; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *inline_value;
		size_t index = 0;
		const struct cli_opt *o = find_opt(opts, n, argv[i], &inline_value, &index);

		if (o == NULL) {
			argv[out++] = argv[i];
		} else if (o->arg == NULL) {
			if (inline_value) {
				snprintf(err, errlen, "option '%s' takes no value", o->name);
				return -EINVAL;
			}
			values[index] = "1";
		} else if (inline_value) {
			values[index] = inline_value;
		} else if (i + 1 < argc) {
			values[index] = argv[++i];
		} else {
			snprintf(err, errlen, "option '%s' needs a value", argv[i]);
			return -EINVAL;
		}
	}
	for (; i < argc; i++)
		argv[out++] = argv[i];
	return out;
}

int cli_opt_int(const char *name, const char *value, long long min, long long max, long long *out, char *err,
    size_t errlen)
{
	char *end;

	errno = 0;
	*out = strtoll(value, &end, 10);
	if (errno == 0 && *value >= '0' && *value <= '9' && *end == '\0' && *out >= min && *out <= max)
		return 0;
	snprintf(err, errlen, "option '%s' expects an integer from %lld to %lld, got '%s'", name, min, max, value);
	return -EINVAL;
}

/* "usage: gnomon runs [options] NAME ..." for a single-command family, "... schedule preview ..." otherwise. */
static void print_usage(FILE *f, const char *family, const struct cli_cmd_entry *entry)
{
	bool single = strcmp(family, entry->name) == 0;

	fprintf(f, "usage: " PROG " %s%s%s [options]%s%s\n", family, single ? "" : " ", single ? "" : entry->name,
	    *entry->args ? " " : "", entry->args);
}

int cli_opt_usage_error(const char *family, const struct cli_cmd_entry *entry, const char *msg)
{
	cli_errorx("%s", msg);
	print_usage(stderr, family, entry);
	return CLI_EXIT_USAGE;
}

static void print_help(const struct cli_cmd_entry *entry, const struct cli_opt *opts, size_t nopts)
{
	print_usage(stdout, entry->name, entry);
	printf("\n%s.\n\noptions:\n", entry->help);
	for (size_t i = 0; i < nopts; i++) {
		char synopsis[64];
		snprintf(synopsis, sizeof(synopsis), "%s%s%s%s%s", opts[i].alias ? opts[i].alias : "",
		    opts[i].alias ? ", " : "", opts[i].name, opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		printf("  %-18s %s\n", synopsis, opts[i].help);
	}
	printf("  %-18s the gnomon server (default: $" SERVER_ENV ", else " CLI_URL_DEFAULT ")\n"
	       "  %-18s print JSON instead of text\n"
	       "  %-18s print this help\n",
	    "--server URL", "--json", "-h, --help");
}

/* Run the command with a client for the chosen server (cli_cmd.c's run_entry). */
static int run_single(const struct cli_cmd_entry *entry, const struct cli_args *a)
{
	char *server = cli_url_base(a->server, getenv(SERVER_ENV));
	struct cli_ctx ctx = {.json = a->json, .argc = a->npos, .argv = a->pos};
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

int cli_cmd_single_main(const struct cli_cmd_entry *entry, const struct cli_opt *opts, size_t nopts, int argc,
    char **argv)
{
	struct cli_args a;
	char msg[512];
	int rc;

	if (cli_args_parse(argc - 1, argv + 1, &a, msg, sizeof(msg)) < 0) {
		rc = cli_opt_usage_error(entry->name, entry, msg);
	} else if (a.help) {
		print_help(entry, opts, nopts);
		rc = CLI_EXIT_OK;
	} else if (a.npos < entry->args_min) {
		snprintf(msg, sizeof(msg), "%s: missing argument %s", entry->name, entry->args);
		rc = cli_opt_usage_error(entry->name, entry, msg);
	} else if (entry->args_max >= 0 && a.npos > entry->args_max) {
		snprintf(msg, sizeof(msg), "%s: unexpected argument '%s'", entry->name, a.pos[entry->args_max]);
		rc = cli_opt_usage_error(entry->name, entry, msg);
	} else {
		rc = run_single(entry, &a);
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		cli_errorx("cannot write output: %s", strerror(errno));
		rc = CLI_EXIT_FAIL;
	}
	cli_args_free(&a);
	return rc;
}
