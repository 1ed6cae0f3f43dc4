/* `gnomon [global options] COMMAND ...`: the table of client command families, the global options before the
 * command word, and the locale the tables are measured in. */
#include "cli/cli.h"

#include <langinfo.h>
#include <locale.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli_args.h"
#include "cli/cli_cmd.h"

#define PROG "gnomon"

static const struct cli_cmd_family *const families[] = {
    &cli_job_family,
    &cli_runs_family,
    &cli_logs_family,
    &cli_schedule_family,
    &cli_agents_family,
    &cli_export_family,
    &cli_backup_family,
    &cli_import_family,
    &cli_token_family,
};
#define N_FAMILIES (sizeof(families) / sizeof(families[0]))

static const struct cli_cmd_family *find_family(const char *word)
{
	for (size_t i = 0; i < N_FAMILIES; i++)
		if (strcmp(families[i]->name, word) == 0)
			return families[i];
	return NULL;
}

void cli_print_usage(FILE *out)
{
	for (size_t i = 0; i < N_FAMILIES; i++)
		fprintf(out, "  %-10s %s\n", families[i]->name, families[i]->help);
	fputs("\nglobal options of these commands (before or after the command):\n", out);
	for (size_t i = 0; i < cli_n_global_opts; i++) {
		const struct cli_opt *o = &cli_global_opts[i];
		char synopsis[64];
		snprintf(synopsis, sizeof(synopsis), "%s%s%s%s%s", o->alias ? o->alias : "", o->alias ? ", " : "",
		    o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(out, "  %-14s %s\n", synopsis, o->help);
	}
}

/* Measure text in a UTF-8 locale, since everything the server sends is UTF-8: the user's own when it is one,
 * else C.UTF-8. Only LC_CTYPE: numbers and messages stay as in C. */
static void set_utf8_ctype(void)
{
	const char *codeset;

	if (setlocale(LC_CTYPE, "") && (codeset = nl_langinfo(CODESET)) && strcmp(codeset, "UTF-8") == 0)
		return;
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "C"); /* the table falls back to counting code points */
}

/* One line for a usage error before the command word: "gnomon: <msg> (see gnomon --help)", or the {"error": ...}
 * line with --json. */
static int early_error(bool json, const char *msg)
{
	cli_set_json_errors(json);
	if (json)
		cli_errorx("%s", msg);
	else
		cli_errorx("%s (see " PROG " --help)", msg);
	return CLI_EXIT_USAGE;
}

int cli_main(int argc, char **argv, void (*usage)(FILE *out))
{
	const struct cli_cmd_family *family;
	struct cli_globals g;
	char msg[512];
	int first;

	set_utf8_ctype();
	if ((first = cli_globals_parse(argc, argv, &g, msg, sizeof(msg))) < 0)
		return early_error(g.json, msg);
	if (first >= argc && g.help) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (first >= argc)
		return early_error(g.json, "missing command");
	if (!(family = find_family(argv[first]))) {
		if (strcmp(argv[first], "server") == 0)
			snprintf(msg, sizeof(msg), "options before 'server' are for the client commands; "
			    "give the server's after it");
		else
			snprintf(msg, sizeof(msg), "unknown command '%s'", argv[first]);
		return early_error(g.json, msg);
	}
	return cli_cmd_main(family, &g, argc - first, argv + first);
}
